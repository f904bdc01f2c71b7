"""File ▸ New, Layer ▸ New empty layer, Image ▸ Resize / Rotate / Flip and the export quality,
driven through the window's menus and dialogs with real clicks and keys."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox


@pytest.fixture
def win(make_window, photo_path):
    w = make_window()
    w.open_path(photo_path)  # chelsea: 451 x 300
    return w


def _ok(dialog):
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok)


def _menu_action(w, menu_title, name):
    menu = next(m for m in (a.menu() for a in w.menuBar().actions()) if m and m.title() == menu_title)
    assert w.actions[name] in menu.actions()
    return w.actions[name]


def test_file_new_makes_a_blank_image_of_the_chosen_size_and_colour(make_window, qtbot):
    w = make_window()
    assert w.actions["new_image"].isEnabled() and "Ctrl+N" in w.actions["new_image"].toolTip()
    _menu_action(w, "&File", "new_image").trigger()
    dialog = w._new_dialog
    assert dialog.isVisible() and w.isEnabled()  # non-blocking: the call returned
    dialog.width_spin.selectAll()
    qtbot.keyClicks(dialog.width_spin, "640")
    dialog.height_spin.selectAll()
    qtbot.keyClicks(dialog.height_spin, "480")
    dialog.background.setCurrentIndex(1)  # black
    qtbot.mouseClick(_ok(dialog), Qt.LeftButton)
    doc = w.document
    assert doc.size == (640, 480) and len(doc.layers) == 1
    assert tuple(doc.flatten()[10, 10]) == (0, 0, 0, 255)
    assert not doc.dirty and w.size_label.text() == "640 × 480 px"


def test_file_new_transparent_has_a_layer_to_paint_on(make_window):
    w = make_window()
    assert w.new_image(64, 32, None)
    assert w.document.size == (64, 32) and not w.document.flatten()[..., 3].any()
    assert len(w.document.layers) == 1 and not w.document.dirty


def test_new_empty_layer_goes_above_the_selected_one_and_undoes(win, qtbot):
    doc = win.document
    win.new_empty_layer()
    first = doc.layers[-1]
    win.layers_panel.select_layer(doc.layers[0])
    _menu_action(win, "&Layer", "new_layer").trigger()
    assert [layer.name for layer in doc.layers] == ["Background", "Layer 2", "Layer 1"]
    assert doc.layers[2] is first and win.layers_panel.current_layer() is doc.layers[1]
    assert not doc.layers[1].pixels[..., 3].any() and doc.layers[1].bbox == (0, 0, 451, 300)
    win.undo()
    assert len(doc.layers) == 2


def test_rotate_and_flip_from_the_image_menu(win, qtbot):
    doc = win.document
    before = doc.flatten().copy()
    _menu_action(win, "&Image", "rotate_cw").trigger()
    assert doc.size == (300, 451) and np.array_equal(doc.flatten(), np.rot90(before, -1))
    assert win.size_label.text() == "300 × 451 px"
    win.actions["rotate_ccw"].trigger()
    assert np.array_equal(doc.flatten(), before)
    win.actions["flip_h"].trigger()
    assert np.array_equal(doc.flatten(), before[:, ::-1])
    win.actions["flip_v"].trigger()
    win.actions["rotate_180"].trigger()
    assert np.array_equal(doc.flatten(), before)
    for _ in range(5):
        win.undo()
    assert np.array_equal(doc.flatten(), before) and doc.size == (451, 300)


def test_resize_dialog_keeps_the_ratio_and_resizes_in_one_step(win, qtbot):
    doc = win.document
    steps = len(doc.history.entries)
    _menu_action(win, "&Image", "resize_image").trigger()
    dialog = win._resize_dialog
    assert dialog.isVisible()
    dialog.percent.selectAll()
    qtbot.keyClicks(dialog.percent, "50")
    assert (dialog.width_spin.value(), dialog.height_spin.value()) == (226, 150)
    dialog.width_spin.selectAll()
    qtbot.keyClicks(dialog.width_spin, "902")
    assert dialog.height_spin.value() == 600
    qtbot.mouseClick(_ok(dialog), Qt.LeftButton)
    assert doc.size == (902, 600) and len(doc.history.entries) == steps + 1
    assert win.size_label.text() == "902 × 600 px"


def test_image_actions_are_greyed_out_without_a_document(make_window):
    w = make_window()
    for name in ("new_layer", "resize_image", "rotate_cw", "flip_h"):
        assert not w.actions[name].isEnabled(), name


def test_export_asks_jpeg_quality_without_blocking(win, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    out = tmp_path / "small.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "JPEG (*.jpg *.jpeg)"))
    win.actions["export"].trigger()
    dialog = win._export_dialog
    assert dialog.isVisible() and not out.exists() and not dialog.lossless.isVisible()
    dialog.quality.setFocus()
    qtbot.keyClick(dialog.quality, Qt.Key_Home)  # quality 1
    assert dialog.quality.value() == 1
    qtbot.mouseClick(_ok(dialog), Qt.LeftButton)
    assert out.exists()
    small = out.stat().st_size
    assert win.export_quality() == 1
    big = tmp_path / "big.jpg"
    assert win.export(big, quality=100)
    assert big.stat().st_size > 2 * small
    with Image.open(big) as im:
        assert im.size == (451, 300)
