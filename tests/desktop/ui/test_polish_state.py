"""Integration QA fixes (stale state, export names, New image presets, no-op gestures), each with
the real window and real events where a user would click."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def _fail_with_banner(w):
    w.banner.hide()
    w.client.failed.emit(99, "this edit needs BrushEdit and its weights are missing: brushnet-x",
                         "run: brushedit models download brushnet-x", "missing-models")
    assert w.banner.isVisible()


@pytest.mark.parametrize("how", ["close", "new", "open"])
def test_another_or_no_document_clears_the_old_failure_banner(make_window, photo_path, tmp_path, how):
    w = make_window()
    w.open_path(photo_path)
    _fail_with_banner(w)
    if how == "close":
        w.actions["close"].trigger()
        assert w.document is None
    elif how == "new":
        assert w.new_image(64, 48)
    else:
        other = tmp_path / "other.png"
        Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(other)
        assert w.open_path(other)
    assert not w.banner.isVisible()


def test_a_cancelled_close_keeps_the_banner(make_window, photo_path):
    w = make_window(unsaved="cancel")
    w.open_path(photo_path)
    w.document.mask_op("box", rect=(10, 10, 20, 20))  # unsaved work: Close asks, the user cancels
    _fail_with_banner(w)
    w.actions["close"].trigger()
    assert w.document is not None and w.banner.isVisible()


def test_new_image_preset_follows_the_size_fields(make_window, qtbot):
    from PySide6.QtWidgets import QApplication

    w = make_window()
    w.actions["new_image"].trigger()
    dialog = w._new_dialog
    qtbot.waitExposed(dialog)
    assert (dialog.width_spin.value(), dialog.height_spin.value()) == (1920, 1080)
    assert dialog.preset.currentText().startswith("1920 × 1080")  # its own preset, not "Custom"
    # Typing another width: no preset has it.
    spin = dialog.width_spin
    spin.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is spin.lineEdit() or spin.hasFocus())
    spin.selectAll()
    qtbot.keyClicks(spin, "1000")
    assert spin.value() == 1000 and dialog.preset.currentText() == "Custom"
    # Typing a preset's size by hand names it.
    spin.selectAll()
    qtbot.keyClicks(spin, "1080")
    dialog.height_spin.selectAll()
    qtbot.keyClicks(dialog.height_spin, "1920")
    assert dialog.preset.currentText().startswith("1080 × 1920")
    # Choosing a preset sets both fields, and the combo keeps the choice.
    dialog.preset.setFocus()
    index = next(i for i in range(dialog.preset.count()) if dialog.preset.itemText(i).startswith("512"))
    dialog.preset.setCurrentIndex(index)
    assert (dialog.width_spin.value(), dialog.height_spin.value()) == (512, 512)
    assert dialog.preset.currentIndex() == index
    dialog.reject()


@pytest.mark.parametrize("tool", ["remove", "brush"])
def test_a_stroke_beside_the_picture_leaves_no_history_entry(make_window, photo_path, send_mouse, tool):
    """Found under Xvfb: a Remove-brush click beside the picture gave the selection back by undoing,
    which left a greyed "Clear mask" entry to redo in History. A gesture that changed nothing
    leaves no entry at all, neither to undo nor to redo."""
    from PySide6.QtCore import QPointF, Qt

    w = make_window()
    w.open_path(photo_path)
    c, doc = w.canvas, w.document
    doc.mask_op("box", rect=(0, 0, 20, 20))
    entries, rows = list(doc.history.entries), w.history_panel.list.count()
    w.set_tool(tool)
    outside = c.image_to_widget(QPointF(-200, -200))  # on the grey canvas: covers no pixel
    send_mouse(c, "press", outside, Qt.LeftButton)
    send_mouse(c, "release", outside, Qt.LeftButton)
    assert doc.mask[10, 10] == 255  # the selection is as it was
    assert list(doc.history.entries) == entries and not doc.history.can_redo
    assert w.history_panel.list.count() == rows
    assert not w.actions["redo"].isEnabled()


def _ask_save(monkeypatch, answer):
    from PySide6.QtWidgets import QFileDialog

    asked = []

    def ask(parent, caption, start, filters, *args, **kwargs):
        asked.append((start, args, kwargs))
        return (answer(start) if callable(answer) else answer), "PNG (*.png)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    return asked


def test_export_suggests_an_edited_name_beside_the_photo(make_window, photo_path, monkeypatch):
    w = make_window()
    w.open_path(photo_path)
    original = photo_path.read_bytes()
    w.document.mask_op("box", rect=(10, 10, 20, 20))
    asked = _ask_save(monkeypatch, lambda start: start)  # the user accepts the suggestion
    w.actions["export"].trigger()
    start, args, kwargs = asked[0]
    assert start == str(photo_path.with_name("chelsea-edited.png"))
    # Qt's own confirm-overwrite stays on: no options that turn it off.
    assert not args and "options" not in kwargs
    assert photo_path.with_name("chelsea-edited.png").exists()
    assert photo_path.read_bytes() == original  # the photo itself is untouched


def test_export_asks_before_replacing_a_file_the_dialog_did_not_check(make_window, photo_path, monkeypatch):
    """The name typed without an extension ("chelsea") is what the dialog checked; ".png" is added
    after it: writing over chelsea.png needs its own question."""
    w = make_window()
    w.open_path(photo_path)
    original = photo_path.read_bytes()
    w.document.mask_op("box", rect=(10, 10, 20, 20))
    _ask_save(monkeypatch, str(photo_path.with_suffix("")))
    questions = []
    w.ask_overwrite = lambda path: questions.append(path) or False  # the user says no
    assert not w.export()
    assert questions == [photo_path] and photo_path.read_bytes() == original
    w.ask_overwrite = lambda path: True  # then yes
    assert w.export()
    assert photo_path.read_bytes() != original
    # A new name needs no question.
    _ask_save(monkeypatch, str(photo_path.with_name("fresh")))
    w.ask_overwrite = lambda path: pytest.fail("asked about a new file")
    assert w.export() and photo_path.with_name("fresh.png").exists()


def test_export_of_a_project_suggests_its_name(make_window, photo_path, tmp_path, monkeypatch):
    w = make_window()
    w.open_path(photo_path)
    project = tmp_path / "work.ora"
    assert w.save_as(project)
    asked = _ask_save(monkeypatch, "")
    w.actions["export"].trigger()
    # NAME-edited.png every time (issue 25): a project's NAME.png may be the photo it was made from.
    assert asked[0][0] == str(tmp_path / "work-edited.png")
