"""Engine hints in the editor's words."""

from __future__ import annotations

from desktop.ui.error_text import for_display, missing_model_names


def test_download_commands_become_the_models_menu():
    message, hint = for_display("this edit needs BrushEdit and its weights are missing: brushnet-x",
                                "run: brushedit models download brushnet-x sd15-realistic-vision")
    assert message.startswith("This edit needs")
    assert hint == "Download brushnet-x and sd15-realistic-vision in Engine ▸ Models…"
    _, hint = for_display("x", "run: brushedit models download sam-vit-h (or paint the mask yourself)")
    assert hint == "Download sam-vit-h in Engine ▸ Models… (or paint the mask yourself)"
    assert "--device" not in for_display("x", "pass --device cpu (slow) or use a removal with the fill engine")[1]


def test_other_hints_are_kept_and_names_are_parsed():
    assert for_display("out of memory", "try fewer candidates") == ("Out of memory", "Try fewer candidates")
    assert for_display("", "") == ("", "")
    assert missing_model_names("run: brushedit models download a-1 b.2") == ["a-1", "b.2"]
    assert missing_model_names("check the network") == []


def test_a_broken_copy_is_downloaded_again_from_the_models_dialog():
    from desktop.ui.error_text import for_display, missing_model_names

    hint = "run: brushedit models download --force sam-vit-h (or paint the mask yourself)"
    assert missing_model_names(hint) == ["sam-vit-h"]
    _, shown = for_display("sam-vit-h is corrupt: sam_vit_h_4b8939.pth: all zero bytes", hint)
    assert shown == "Download sam-vit-h again in Engine ▸ Models… (or paint the mask yourself)"


def test_no_gpu_names_where_to_choose_the_cpu():
    from desktop.ui.error_text import for_display

    _, shown = for_display("this edit needs BrushEdit and there is no CUDA GPU",
                           "pass --device cpu (slow) or use a removal with the fill engine")
    assert "Preferences ▸ Engine ▸ Run on" in shown and "--device" not in shown
