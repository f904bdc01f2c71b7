"""Issue 14's broken items in the main window, each driven as a user meets it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication, QMessageBox


def _flush_deletes():
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QApplication.processEvents()


def test_a_second_message_box_shows_after_the_first_was_closed(make_window, qtbot):
    w = make_window()
    w.show_error("First", "one")
    first = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert len(first) == 1
    first[0].close()  # WA_DeleteOnClose: the C++ box goes away
    _flush_deletes()
    w.show_error("Second", "two")  # raised "Internal C++ object already deleted"
    visible = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert [b.windowTitle() for b in visible] == ["Second"]
    w.show_message("Third", "three")
    assert w.messages[-1] == ("Third", "three")


def _w(canvas, x, y):
    return canvas.image_to_widget(QPointF(x, y))


def _accept_an_edit(w, qtbot, rect=(100, 100, 60, 60)):
    w.document.mask_op("box", rect=rect)
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000):
        w.controller.run("a rose")
    w.controller.accept([0])
    qtbot.waitUntil(lambda: len(w.layers_panel.layer_items()) == len(w.document.layers))
    return w.document.layers[-1]


def test_paint_never_touches_an_edit_layer_and_a_new_paint_layer_sits_above_the_selection(
        make_window, photo_path, drag, qtbot):
    w = make_window()
    w.open_path(photo_path)
    w.canvas.actual_size()
    doc = w.document
    lower = _accept_an_edit(w, qtbot, (100, 100, 60, 60))
    upper = _accept_an_edit(w, qtbot, (250, 50, 40, 40))
    w.layers_panel.select_layer(lower)
    assert w.layers_panel.current_layer() is lower
    kept = lower.pixels.copy()
    w.set_tool("paint")
    for row in (120, 130):  # twice: the second stroke goes on the Paint layer the first made
        drag(w.canvas, [_w(w.canvas, 110 + 5 * i, row) for i in range(8)])
        qtbot.wait(20)
    assert np.array_equal(lower.pixels, kept)
    names = [layer.name for layer in doc.layers]
    assert names.count("Paint") == 1
    assert doc.layers.index(lower) + 1 == names.index("Paint")  # right above the selected layer
    assert doc.layers[-1] is upper


def test_tool_keys_come_back_after_editing_a_parameters_field(make_window, photo_path, qtbot, send_mouse):
    w = make_window()
    w.open_path(photo_path)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    w.set_tool("brush")
    steps = w.instruction_panel.steps
    steps.setFocus()
    qtbot.waitUntil(steps.hasFocus)
    steps.selectAll()
    qtbot.keyClicks(steps, "30")
    qtbot.keyClick(steps, Qt.Key_E)  # typed into the field: not a tool key there
    assert w.current_tool().name == "brush"
    qtbot.keyClick(steps, Qt.Key_Escape)
    assert w.canvas.hasFocus() and steps.value() == 30
    qtbot.keyClick(w.canvas, Qt.Key_E)
    assert w.current_tool().name == "eraser"
    for _ in range(2):  # Enter keeps the value and gives the keys back too; twice in a row
        steps.setFocus()
        steps.selectAll()
        qtbot.keyClicks(steps, "25")
        qtbot.keyClick(steps, Qt.Key_Return)
        assert w.canvas.hasFocus() and steps.value() == 25
    qtbot.keyClick(w.canvas, Qt.Key_B)
    assert w.current_tool().name == "brush"
    strength = w.instruction_panel.findChildren(type(steps))[0]
    strength.setFocus()
    c = w.canvas
    send_mouse(c, "press", c.rect().center(), Qt.MiddleButton)  # a click on the canvas (a pan, no paint)
    send_mouse(c, "release", c.rect().center(), Qt.MiddleButton)
    assert c.hasFocus()


def test_no_stale_state_after_accept_close_or_open(make_window, photo_path, qtbot, tmp_path):
    from PIL import Image

    w = make_window()
    w.open_path(photo_path)
    panel = w.instruction_panel
    # An old failure's banner...
    w.banner.hide()
    w.client.failed.emit(99, "this edit needs BrushEdit and its weights are missing: brushnet-x",
                         "run: brushedit models download brushnet-x", "missing-models")
    assert w.banner.isVisible()
    panel.instruction.setPlainText("remove the cat")
    # ...then a run that works.
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000):
        w.controller.run("a rose")
    assert not w.banner.isVisible()  # the later success hides the old failure
    assert panel.stage.text() == "Done"
    w.candidate_strip.accept_one(0)
    # Accept: no full bar saying "Done", and the kept result is not hidden under the mask's tint.
    assert panel.progress.value() == panel.progress.minimum() and panel.stage.text() != "Done"
    assert w.canvas.mask_visible and not w.canvas.mask_tint_shown
    assert w.document.mask.any()  # the mask stays for the next run, outlined by its ants
    w.document.mask_op("dilate", 3)  # touching the mask shows it again
    assert w.canvas.mask_tint_shown
    # Open another photo: nothing of the previous document's instruction or log.
    other = tmp_path / "other.png"
    Image.fromarray(np.full((80, 120, 3), 90, np.uint8)).save(other)
    assert panel.transcript.toPlainText()
    w.open_path(other)
    assert panel.transcript.toPlainText() == "" and panel.instruction.toPlainText() == ""
    assert panel.plan is None and not panel.plan_box.isVisible()
    assert panel.progress.value() == panel.progress.minimum() and panel.stage.text() == "Ready"
    # Close it: nothing to cancel.
    w.actions["close"].trigger()
    assert w.document is None
    assert not panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    assert panel.progress.value() == panel.progress.minimum()


def test_closing_the_document_while_a_job_runs_cancels_it(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    w.controller.run("a rose")
    qtbot.waitUntil(lambda: w.controller.busy)
    w.actions["close"].trigger()
    assert w.document is None
    assert not w.instruction_panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not w.controller.busy, timeout=5000)


def _entries(installed=()):
    from desktop.engine_client import ModelEntry

    names = ("brushnet-x", "sd15-realistic-vision", "grounding-dino-tiny", "sam-vit-h", "sam-vit-b")
    return [ModelEntry(name=n, size_bytes=1, installed=n in installed, status="", enables="", description="",
                       default=True) for n in names]


def test_run_with_an_instruction_and_no_mask_says_what_is_missing(make_window, photo_path, qtbot, monkeypatch):
    monkeypatch.setattr("desktop.engine_client.model_entries", lambda *a, **k: _entries())
    w = make_window()
    w.open_path(photo_path)
    w.banner.hide()
    panel = w.instruction_panel
    errors = []
    w.controller.error.connect(lambda m, h: errors.append((m, h)))
    panel.instruction.setPlainText("remove the cat")
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    message, hint = errors[-1]
    assert "Plan" not in message + hint  # the user did type an instruction
    assert "GroundingDINO + SAM" in message and "“cat”" in message
    assert "grounding-dino-tiny" in hint and "sam-vit-h" in hint and "paint the mask" in hint
    assert w.banner.isVisible() and "Models…" in w.banner_text.text()  # the download, offered
    # With SAM and GroundingDINO installed the fix is Plan.
    monkeypatch.setattr("desktop.engine_client.model_entries",
                        lambda *a, **k: _entries(("grounding-dino-tiny", "sam-vit-b")))
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert "press Plan to find “cat”" in errors[-1][0]


def test_the_status_bar_keeps_sentences_apart(make_window):
    w = make_window()
    w.show_error("The edit did not run", "Out of memory: CUDA\nTry fewer candidates")
    assert w.statusBar().currentMessage() == "The edit did not run: Out of memory: CUDA. Try fewer candidates"


def test_the_fill_engine_is_announced_before_it_ignores_a_prompt(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    panel = w.instruction_panel
    notices = []
    w.controller.notice.connect(notices.append)
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    panel.engine.setCurrentIndex(panel.engine.findData("fill"))
    panel.instruction.setPlainText("a red rose")
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert notices and "only removes" in notices[0] and "a red rose" in notices[0]
    transcript = panel.transcript.toPlainText()
    assert transcript.index("only removes") < transcript.index("candidate")  # said before it ran
    assert transcript.count("fill engine") == 1  # once, not again after the run
    assert "only removes" in w.statusBar().currentMessage()
    # A re-run of a fill layer with a changed prompt is announced too.
    w.candidate_strip.accept_one(0)
    layer = w.document.layers[-1]
    notices.clear()
    w.controller.rerun_layer(layer, prompt="a blue rose")
    assert notices and "a blue rose" in notices[0]
    # A removal says nothing.
    notices.clear()
    w.controller.run("empty background", category="removal")
    assert notices == []


def test_a_removal_re_run_with_a_new_prompt_is_no_longer_a_removal(make_window, photo_path, qtbot, send_mouse):
    """"auto" gives removals to the fill engine: a Remove layer re-run with "a red rose" must not
    come back as another texture fill."""
    w = make_window()
    w.open_path(photo_path)
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    with qtbot.waitSignal(w.controller.accepted, timeout=5000):
        w.controller.quick_remove()
    layer = w.document.layers[-1]
    assert layer.provenance.category == "removal"
    submitted = []
    real_submit = w.client.submit
    w.client.submit = lambda request: submitted.append(request) or real_submit(request)
    with qtbot.waitSignal(w.controller.accepted, timeout=5000):
        w.controller.rerun_layer(layer, prompt="a red rose")
    assert submitted[-1].prompt == "a red rose" and submitted[-1].category != "removal"
    assert layer.provenance.prompt == "a red rose" and layer.provenance.category != "removal"
    with qtbot.waitSignal(w.controller.accepted, timeout=5000):
        w.controller.rerun_layer(layer, seed=5)  # a new seed keeps what the layer is
    assert submitted[-1].prompt == "a red rose"


def test_a_fill_layer_does_not_claim_it_painted_its_prompt():
    from desktop.document import EditLayer, Provenance
    from desktop.ui.panels.layers_panel import provenance_text

    fill = EditLayer(np.zeros((4, 4, 4), np.uint8), Provenance(prompt="a red rose", engine="fill", seed=1))
    text = provenance_text(fill, rich=False)
    assert "Caption: a red rose" not in text and "not painted by the fill engine" in text and "Engine: fill" in text
    painted = EditLayer(np.zeros((4, 4, 4), np.uint8), Provenance(prompt="a red rose", engine="brushedit", seed=1))
    assert "Caption: a red rose" in provenance_text(painted, rich=False)


def test_recovered_work_knows_its_file_and_says_when_it_was_saved(make_window, photo_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w = make_window()
    w.open_path(photo_path)
    w.document.mask_op("box", rect=(10, 10, 30, 30))
    qtbot.waitUntil(lambda: w._autosaver is not None)
    assert w._autosaver.save_now() is not None
    w.hide()  # "crash"
    w2 = make_window()
    qtbot.waitUntil(lambda: getattr(w2, "recovery_box", None) is not None, timeout=3000)
    box = w2.recovery_box
    assert "Recover chelsea.png, autosaved today at " in box.text()
    assert box.button(QMessageBox.Open).text() == "Recover chelsea.png"
    box.accept()
    assert "chelsea.png" in w2.windowTitle()
    proposed = []

    def ask(parent, caption, start, filters):
        proposed.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    w2.actions["save"].trigger()  # Ctrl+S
    assert proposed == [str(photo_path.with_suffix(".ora"))]  # beside the photo, not Untitled.ora


def test_recovery_time_in_words():
    import time

    from desktop.ui.autosave import recovery_time

    now = time.mktime((2026, 3, 5, 15, 0, 0, 0, 0, -1))
    assert recovery_time({"time": now - 3600}, now) == "today at 14:00"
    assert recovery_time({"time": now - 86400}, now) == "yesterday at 15:00"
    assert recovery_time({"time": now - 3 * 86400}, now) == "2 Mar 2026 at 15:00"
    assert recovery_time({}, now) == ""


def test_brush_size_follows_the_image_from_photo_to_photo(make_window, photo_path, tmp_path, qtbot):
    from PIL import Image

    big = tmp_path / "big.png"
    Image.fromarray(np.full((1500, 2400, 3), 120, np.uint8)).save(big)
    w = make_window()
    w.open_path(big)
    w.set_tool("brush")
    w.tools["brush"].size = 540  # a big brush on the big photo
    w.tools["eraser"].size = 100
    w.open_path(photo_path)  # 451 px wide
    assert w.tools["brush"].size <= 451 // 4  # its cursor fits the small photo
    assert w.tools["eraser"].size == round(100 * 451 / 2400)  # relative to the image
    w.tools["brush"].size = 40
    w.open_path(big)
    assert w.tools["brush"].size == round(40 * 2400 / 451)
