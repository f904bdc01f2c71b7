"""Canvas tools driven with real mouse events: brush/eraser strokes (one undo step each), [ ] size,
box/ellipse/lasso masks with add/subtract, SAM clicks through the edit controller and the fake engine."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from desktop.ui.tools.brush import MaskBrushTool


@pytest.fixture
def window(make_window, photo_path):
    w = make_window()
    w.open_path(photo_path)
    w.canvas.actual_size()
    return w


def _w(canvas, x, y):
    return canvas.image_to_widget(QPointF(x, y))


def test_brush_stroke_paints_the_mask_as_one_undo_step(window, drag):
    c = window.canvas
    window.set_tool("brush")
    drag(c, [_w(c, 100 + 10 * i, 150) for i in range(12)])
    doc = window.document
    assert doc.mask[150, 100:210].min() > 0
    assert doc.mask[10, 10] == 0
    assert len(doc.history.entries) == 1
    assert doc.undo() and doc.mask.max() == 0


def test_eraser_removes_from_the_mask(window, drag):
    c, doc = window.canvas, window.document
    doc.mask_op("fill")
    window.set_tool("eraser")
    drag(c, [_w(c, 200, 100 + 5 * i) for i in range(20)])
    assert doc.mask[150, 200] == 0 and doc.mask[150, 50] == 255
    assert len(doc.history.entries) == 2


def test_bracket_keys_resize_the_brush_and_options_follow(window, qtbot):
    window.set_tool("brush")
    tool = window.current_tool()
    size = tool.size
    window.actions["grow"].trigger()
    assert tool.size > size
    assert window.tool_options.size_spin.value() == tool.size
    window.actions["shrink"].trigger()
    window.actions["shrink"].trigger()
    assert tool.size < size
    window.tool_options.hardness.setValue(25)
    assert tool.hardness == pytest.approx(0.25)


def test_brush_size_is_bounded():
    t = MaskBrushTool()
    t.size = 0
    assert t.size == 1
    t.size = 10**6
    assert t.size == 1000


def test_tool_shortcuts_switch_tools(window):
    for name in ("eraser", "remove", "sam", "box", "ellipse", "lasso", "move_layer", "paint", "brush"):
        window.actions[name].trigger()
        assert window.current_tool().name == name
        assert window.actions[name].isChecked()


def test_box_and_ellipse_masks_with_add_and_subtract(window, drag):
    c, doc = window.canvas, window.document
    window.set_tool("box")
    drag(c, [_w(c, 20, 30), _w(c, 80, 60), _w(c, 120, 90)])
    m = doc.mask
    assert m[60, 70] == 255 and m[29, 70] == 0 and m[60, 121] == 0
    window.set_tool("ellipse")
    drag(c, [_w(c, 200, 100), _w(c, 300, 200)], modifiers=Qt.ShiftModifier)
    m = doc.mask
    assert m[60, 70] == 255 and m[150, 250] == 255 and m[101, 201] == 0  # corner of the ellipse's box
    window.set_tool("box")
    drag(c, [_w(c, 0, 0), _w(c, 100, 70)], modifiers=Qt.AltModifier)
    assert doc.mask[60, 70] == 0 and doc.mask[80, 110] == 255
    assert len(doc.history.entries) == 3


def _circle(c, cx, cy, r, n=48):
    return [_w(c, cx + r * np.cos(t), cy + r * np.sin(t)) for t in np.linspace(0, 2 * np.pi, n, endpoint=False)]


def test_lasso_masks_the_enclosed_area_with_add_subtract_and_esc(window, drag, send_mouse, qtbot):
    from PySide6.QtTest import QTest

    c, doc = window.canvas, window.document
    window.actions["lasso"].trigger()
    assert window.current_tool().name == "lasso"
    drag(c, _circle(c, 150, 150, 60))
    m = doc.mask
    assert m[150, 150] == 255 and m[150, 205] == 255 and m[150, 215] == 0 and m[95, 95] == 0
    assert abs(m.sum() / 255 - np.pi * 60 ** 2) < 0.05 * np.pi * 60 ** 2
    assert doc.history.entries[-1] == "Lasso mask"
    drag(c, _circle(c, 300, 150, 30), modifiers=Qt.ShiftModifier)
    assert doc.mask[150, 150] == 255 and doc.mask[150, 300] == 255
    drag(c, _circle(c, 150, 150, 20), modifiers=Qt.AltModifier)
    assert doc.mask[150, 150] == 0 and doc.mask[150, 200] == 255
    n = len(doc.history.entries)
    drag(c, [_w(c, 10, 10), _w(c, 40, 10)])  # a line encloses nothing: no step
    assert len(doc.history.entries) == n
    # Esc while drawing drops the outline: the release then does nothing
    tool = window.current_tool()
    pts = _circle(c, 100, 100, 30)
    send_mouse(c, "press", pts[0], Qt.LeftButton)
    for p in pts[1:]:
        send_mouse(c, "move", p, buttons=Qt.LeftButton)
    assert tool.drawing
    c.setFocus()
    qtbot.waitUntil(c.hasFocus)
    QTest.keyClick(c, Qt.Key_Escape)
    assert not tool.drawing
    send_mouse(c, "release", pts[-1], Qt.LeftButton)
    assert len(doc.history.entries) == n


def test_move_tool_drags_the_selected_layer_one_step_per_drag(window, drag, qtbot):
    from desktop.document import RasterLayer

    c, doc = window.canvas, window.document
    layer = doc.add_layer(RasterLayer(np.full((20, 30, 4), 255, np.uint8), name="sticker", offset=(50, 40)))
    qtbot.waitUntil(lambda: window.layers_panel.current_layer() is layer)
    window.actions["move_layer"].trigger()
    bounds = window.current_tool().bounds()
    assert bounds == c.image_rect_to_widget((50, 40, 30, 20))  # the layer it moves is outlined
    n = len(doc.history.entries)
    drag(c, [_w(c, 60, 50), _w(c, 80, 55), _w(c, 100, 70)])
    assert layer.offset == (90, 60) and len(doc.history.entries) == n + 1
    assert doc.history.entries[-1] == "Move layer content"
    drag(c, [_w(c, 100, 70), _w(c, 130, 78)], modifiers=Qt.ShiftModifier)  # mostly right: straight
    assert layer.offset == (120, 60) and len(doc.history.entries) == n + 2
    doc.undo()
    doc.undo()
    assert layer.offset == (50, 40)
    # the arrow keys nudge; a run of nudges is one step
    from PySide6.QtTest import QTest

    c.setFocus()
    qtbot.waitUntil(c.hasFocus)
    n = doc.history.index
    QTest.keyClick(c, Qt.Key_Right)
    QTest.keyClick(c, Qt.Key_Right)
    QTest.keyClick(c, Qt.Key_Down, Qt.ShiftModifier)
    assert layer.offset == (52, 50) and doc.history.index == n + 1
    doc.undo()
    assert layer.offset == (50, 40)
    doc.set_layer_props(layer, visible=False)
    drag(c, [_w(c, 60, 50), _w(c, 90, 90)])
    assert layer.offset == (50, 40) and "Show the layer" in window.statusBar().currentMessage()


def test_paint_tool_sketches_on_a_paint_layer_never_on_the_photo(window, drag, send_mouse, qtbot):
    c, doc = window.canvas, window.document
    photo = doc.layers[0].pixels
    window.actions["paint"].trigger()
    tool = window.current_tool()
    assert tool.name == "paint" and window.tool_options.color_button.isVisible()
    tool.color, tool.size, tool.hardness = (250, 10, 10), 12, 1.0
    drag(c, [_w(c, 100 + 10 * i, 150) for i in range(10)])
    assert len(doc.layers) == 2 and doc.layers[1].name == "Paint" and doc.layers[0].pixels is photo
    assert tuple(doc.flatten()[150, 150, :3]) == (250, 10, 10)
    assert doc.history.entries[-1] == "Add layer"
    drag(c, [_w(c, 150, 100 + 10 * i) for i in range(10)])  # the next stroke: the same layer, even
    # before the Layers list has caught up with the first
    assert len(doc.layers) == 2 and doc.history.entries[-1] == "Paint stroke"
    assert tuple(doc.flatten()[120, 150, :3]) == (250, 10, 10)
    qtbot.waitUntil(lambda: window.layers_panel.current_layer() is doc.layers[1])
    # Alt+click picks the colour of the picture
    send_mouse(c, "press", _w(c, 20, 20), Qt.LeftButton, modifiers=Qt.AltModifier)
    send_mouse(c, "release", _w(c, 20, 20), Qt.LeftButton, modifiers=Qt.AltModifier)
    assert tool.color == tuple(int(v) for v in doc.flatten()[20, 20, :3])
    assert doc.history.entries[-1] == "Paint stroke"  # picking a colour is no step
    # the mask brush hides the colour row
    window.actions["brush"].trigger()
    assert not window.tool_options.color_button.isVisible()


def test_paint_tool_colour_and_opacity_persist(make_window, photo_path, ini_settings):
    w = make_window()
    tool = w.tools["paint"]
    tool.color, tool.opacity, tool.size = (1, 2, 3), 0.4, 33
    w.close()
    w2 = make_window(settings=ini_settings)
    t2 = w2.tools["paint"]
    assert (t2.color, t2.opacity, t2.size) == ((1, 2, 3), 0.4, 33)
    w2.set_tool("paint")
    assert w2.tool_options.opacity.value() == 40


def test_remove_brush_removes_on_release_and_clears_the_mask_for_the_next_stroke(window, drag, send_mouse, qtbot):
    c, doc = window.canvas, window.document
    doc.mask_op("box", rect=(0, 0, 20, 20))  # an earlier selection: the stroke starts afresh
    window.actions["remove"].trigger()
    assert window.current_tool().name == "remove"
    send_mouse(c, "press", _w(c, 50, 50), Qt.RightButton)  # not a stroke: the selection stays
    send_mouse(c, "release", _w(c, 50, 50), Qt.RightButton)
    assert doc.mask[10, 10] == 255
    with qtbot.waitSignal(window.controller.accepted, timeout=5000):
        drag(c, [_w(c, 100 + 10 * i, 150) for i in range(12)])
    layer = doc.layers[-1]
    assert layer.name == "Remove" and layer.provenance.category == "removal"
    assert layer.bbox[0] > 60 and layer.bbox[1] > 100  # the stroke, not the old box
    assert not doc.mask.any()
    # One stroke, one step (issue 14): the cleared selection, the stroke, the layer, the clear.
    assert doc.history.entries[-1] == "Edit: Remove" and doc.history.entries.count("Edit: Remove") == 1
    assert "Paint mask" not in doc.history.entries and "Clear mask" not in doc.history.entries
    before = len(doc.history.entries)
    window.actions["undo"].trigger()
    assert doc.layers[-1] is not layer and doc.mask[10, 10] == 255 and doc.mask[150, 150] == 0
    window.actions["redo"].trigger()
    assert doc.layers[-1] is layer and not doc.mask.any() and len(doc.history.entries) == before


def test_a_remove_stroke_that_paints_nothing_keeps_the_selection(window, send_mouse):
    """Found under Xvfb: a Remove-brush click beside the picture (on the grey canvas) cleared the user's
    mask and left a "Clear mask" step, with nothing removed."""
    c, doc = window.canvas, window.document
    doc.mask_op("box", rect=(0, 0, 20, 20))
    entries = list(doc.history.entries[:doc.history.index])
    window.actions["remove"].trigger()
    outside = _w(c, -200, -200)  # beside the picture: the stroke covers no pixel
    send_mouse(c, "press", outside, Qt.LeftButton)
    send_mouse(c, "release", outside, Qt.LeftButton)
    assert doc.mask[10, 10] == 255  # the selection is as it was
    assert list(doc.history.entries[:doc.history.index]) == entries  # and no step was added


def test_mask_operations_in_tool_options(window):
    doc = window.document
    opts = window.tool_options
    window.set_tool("box")
    doc.mask_op("box", rect=(100, 100, 50, 50))
    area = int((doc.mask > 0).sum())
    opts.amount.setValue(5)
    opts.op_buttons["dilate"].click()
    assert (doc.mask > 0).sum() > area
    opts.op_buttons["erode"].click()
    opts.op_buttons["erode"].click()
    assert (doc.mask > 0).sum() < area
    opts.op_buttons["move_right"].click()
    ys, xs = np.nonzero(doc.mask)
    assert xs.min() > 100
    opts.op_buttons["invert"].click()
    assert doc.mask[0, 0] == 255
    opts.op_buttons["clear"].click()
    assert doc.mask.max() == 0
    assert len(doc.history.entries) == 7


def test_sam_clicks_select_through_the_engine(window, qtbot, send_mouse):
    c, doc = window.canvas, window.document
    window.set_tool("sam")
    send_mouse(c, "press", _w(c, 220, 150), Qt.LeftButton)
    send_mouse(c, "release", _w(c, 220, 150), Qt.LeftButton)
    qtbot.waitUntil(lambda: doc.mask[150, 220] > 0, timeout=5000)
    assert len(doc.history.entries) == 1
    tool = window.current_tool()
    assert tool.labels == [1]
    with qtbot.waitSignal(window.controller.segment_ready, timeout=5000) as blocker:
        send_mouse(c, "press", _w(c, 300, 150), Qt.RightButton)
        send_mouse(c, "release", _w(c, 300, 150), Qt.RightButton)
    assert tool.labels == [1, 0]  # right click subtracts
    assert blocker.args[0].mask.shape == (doc.height, doc.width)
    window.actions["reset_selection"].trigger()
    assert tool.points == []
