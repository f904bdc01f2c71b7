"""Image menu: Expand canvas (a dialog that never blocks, the new area masked for a generative
expand) and Crop to mask; the canvas, status bar and pending candidates follow the new size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.engine_client import EditParams


@pytest.fixture
def win(make_window, photo_path):
    w = make_window()
    w.open_path(photo_path)  # chelsea: 451 x 300
    return w


def test_expand_dialog_sets_sides_shows_the_new_size_and_expands_in_one_step(win, qtbot):
    w = win
    doc = w.document
    w.actions["expand_canvas"].trigger()
    dialog = w._canvas_dialog
    assert dialog.isVisible() and not dialog.ok.isEnabled()  # nothing to add yet
    dialog.set_percent(10)
    assert dialog.values() == {"left": 45, "top": 30, "right": 45, "bottom": 30}
    assert "541 × 360" in dialog.new_size.text() and dialog.ok.isEnabled()
    dialog.spins["bottom"].setValue(0)
    qtbot.mouseClick(dialog.ok, Qt.LeftButton)
    assert doc.size == (541, 330) and doc.history.entries[-1] == "Expand canvas"
    assert w.size_label.text() == "541 × 330 px"
    assert doc.mask[:30].all() and doc.mask[:, :45].all() and not doc.mask[30:, 45:496].any()
    assert "masked" in w.statusBar().currentMessage()
    # the view's caches follow the new canvas and it refits
    assert all(c.size == (541, 330) for c in w.canvas._caches())
    frame = w.canvas.image_rect_to_widget((0, 0, 541, 330))
    assert frame.left() >= 0 and frame.right() <= w.canvas.width()
    w.canvas.render_all()
    w.undo()
    assert doc.size == (451, 300) and w.size_label.text() == "451 × 300 px"
    assert all(c.size == (451, 300) for c in w.canvas._caches())


def test_expand_then_fill_paints_the_new_area(win, qtbot):
    """The generative-expand flow on the fake engine: expand with the area masked, Run, accept."""
    w = win
    doc = w.document
    w.expand_canvas(left=40, mask_new_area=True)
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000, check_params_cb=bool):
        w.controller.run("", params=EditParams(num_candidates=1, seed=1))
    [layer] = w.controller.accept([0])
    flat = doc.flatten()
    assert (flat[:, :40, 3] == 255).all()  # the transparent border is painted now
    assert layer.offset[0] == 0


def _mask_a_square(doc):
    m = np.zeros((doc.height, doc.width), np.uint8)
    m[50:100, 50:100] = 255
    doc.set_mask(m)


def test_pending_candidates_are_dropped_when_the_canvas_changes_size(win, qtbot):
    w = win
    doc = w.document
    _mask_a_square(doc)
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000, check_params_cb=bool):
        w.controller.run("a hat", params=EditParams(num_candidates=2, seed=1))
    w.actions["crop_to_mask"].trigger()
    assert doc.size == (50, 50) and doc.history.entries[-1] == "Crop to mask"
    assert w.controller.candidates == [] and w.controller.accept([0]) == []


def test_crop_to_mask_without_a_mask_says_so(win):
    w = win
    n = len(w.document.history.entries)
    w.crop_to_mask()
    assert len(w.document.history.entries) == n and "mask is empty" in w.statusBar().currentMessage().lower()


def test_a_result_painted_for_the_old_canvas_is_dropped_with_a_message(win, qtbot):
    w = win
    doc = w.document
    _mask_a_square(doc)
    errors = []
    w.controller.error.connect(lambda msg, hint: errors.append(msg))
    w.controller.run("a hat", params=EditParams(num_candidates=1, seed=1))
    doc.expand_canvas(right=20)  # while the fake engine paints
    qtbot.waitUntil(lambda: not w.controller.busy, timeout=5000)
    assert w.controller.candidates == [] and any("changed size" in e for e in errors)


def test_image_menu_is_greyed_out_without_a_document(make_window):
    w = make_window()
    assert not w.actions["expand_canvas"].isEnabled() and not w.actions["crop_to_mask"].isEnabled()
    assert not w.actions["copy"].isEnabled() and w.actions["paste"].isEnabled()
