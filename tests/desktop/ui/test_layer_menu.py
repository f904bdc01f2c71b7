"""The Layer menu: erase / keep the masked area with Del on the canvas, merge down, flatten, raise
and lower, and its items greyed out when the selected layer cannot do them."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.document import Provenance


@pytest.fixture
def win(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    doc = w.document
    layer = doc.add_edit(np.full((100, 120, 3), (0, 200, 0), np.uint8), offset=(100, 80),
                         provenance=Provenance(prompt="green paint", seed=3),
                         mask=np.full((100, 120), 255, np.uint8))
    qtbot.waitUntil(lambda: w.layers_panel.current_layer() is layer)
    return w, doc, layer


def _menu_texts(w, title):
    menu = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == title)
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def test_the_layer_menu_lists_the_operations_with_shortcuts_in_tooltips(win):
    w, _, _ = win
    assert _menu_texts(w, "Layer") == [
        "New empty layer", "Duplicate layer", "Delete layer", "Raise layer", "Lower layer", "Mask from layer pixels",
        "Erase masked area",
        "Keep only masked area", "Merge down", "Flatten image", "Re-run with a new seed",
        "Re-run with a changed prompt…", "Show its mask"]
    a = w.actions
    assert a["erase_masked"].toolTip() == "Erase masked area from the selected layer (Del)"
    assert a["duplicate_layer"].toolTip() == "Duplicate layer (Ctrl+J)"
    assert not a["erase_masked"].icon().isNull() and not a["merge_down"].icon().isNull()


def test_del_on_the_canvas_erases_the_masked_area_from_the_selected_layer(win, qtbot):
    w, doc, layer = win
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[100:140, 150:200] = 255
    doc.set_mask(mask)
    w.canvas.setFocus()
    qtbot.waitUntil(w.canvas.hasFocus)
    n = len(doc.history.entries)
    QTest.keyClick(w.canvas, Qt.Key_Delete)
    assert doc.history.entries[-1] == "Erase masked area" and len(doc.history.entries) == n + 1
    a = layer.pixels[..., 3]
    assert (a[20:60, 50:100] == 0).all() and a.sum() == 255 * (100 * 120 - 40 * 50)
    assert "Erased the masked area" in w.statusBar().currentMessage()
    # the photo shows through where the edit was erased
    assert np.array_equal(doc.flatten()[120, 170, :3], doc.layers[0].pixels[120, 170, :3])
    w.undo()
    assert (layer.pixels[..., 3] == 255).all()


def test_del_in_the_layers_list_still_deletes_the_layer_not_pixels(win, qtbot):
    w, doc, layer = win
    doc.set_mask(np.full((doc.height, doc.width), 255, np.uint8))
    w.layers_panel.tree.setFocus()
    qtbot.waitUntil(w.layers_panel.tree.hasFocus)
    QTest.keyClick(w.layers_panel.tree, Qt.Key_Delete)
    assert layer not in doc.layers and doc.history.entries[-1] == "Delete layer"


def test_erase_with_no_mask_says_what_to_do_and_changes_nothing(win):
    w, doc, layer = win
    n = len(doc.history.entries)
    w.actions["erase_masked"].trigger()
    assert len(doc.history.entries) == n
    assert "mask first" in w.statusBar().currentMessage()


def test_keep_only_masked_area(win):
    w, doc, layer = win
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[80:120, 100:130] = 255  # the layer's top-left corner
    doc.set_mask(mask)
    w.actions["keep_masked"].trigger()
    a = layer.pixels[..., 3]
    assert (a[:40, :30] == 255).all() and a.sum() == 255 * 40 * 30
    assert doc.history.entries[-1] == "Keep masked area"


def test_merge_down_and_flatten_from_the_menu_one_undo_step_each(win, qtbot):
    from desktop.document import RasterLayer

    w, doc, layer = win
    before = doc.flatten()
    assert w.actions["merge_down"].isEnabled() and w.actions["flatten"].isEnabled()
    w.actions["merge_down"].trigger()
    assert len(doc.layers) == 1 and doc.layers[0].name == "Background"
    assert np.abs(doc.flatten().astype(int) - before.astype(int)).max() <= 1
    qtbot.waitUntil(lambda: w.layers_panel.current_layer() is doc.layers[0])
    # nothing below the only layer, nothing to flatten; not an edit layer
    for name in ("merge_down", "flatten", "layer_new_seed", "delete_layer", "lower_layer", "raise_layer"):
        assert not w.actions[name].isEnabled(), name
    w.undo()
    assert doc.layers[1] is layer
    hidden = doc.add_layer(RasterLayer(np.zeros((10, 10, 4), np.uint8), name="hidden"))
    doc.set_layer_props(hidden, visible=False)  # flatten drops hidden layers
    qtbot.waitUntil(lambda: w.actions["flatten"].isEnabled())
    w.actions["flatten"].trigger()
    assert len(doc.layers) == 1 and doc.history.entries[-1] == "Flatten image"
    assert np.abs(doc.flatten().astype(int) - before.astype(int)).max() == 0
    w.undo()
    assert [x.name for x in doc.layers] == ["Background", layer.name, "hidden"]


def test_merge_down_is_greyed_out_over_a_hidden_layer_and_raise_lower_move(win, qtbot):
    from desktop.document import RasterLayer

    w, doc, layer = win
    top = doc.add_layer(RasterLayer(np.zeros((10, 10, 4), np.uint8), name="top"))
    qtbot.waitUntil(lambda: w.layers_panel.current_layer() is top)
    assert w.actions["merge_down"].isEnabled() and not w.actions["raise_layer"].isEnabled()
    doc.set_layer_props(layer, visible=False)
    qtbot.waitUntil(lambda: not w.actions["merge_down"].isEnabled())
    w.actions["lower_layer"].trigger()
    assert doc.layers.index(top) == 1
    qtbot.waitUntil(lambda: w.actions["raise_layer"].isEnabled())
    w.actions["raise_layer"].trigger()
    assert doc.layers.index(top) == 2


def test_ctrl_click_on_a_layer_row_masks_its_pixels_and_keeps_the_selection(win, qtbot):
    w, doc, layer = win
    tree = w.layers_panel.tree
    item = next(i for i in w.layers_panel.layer_items() if i.data(0, Qt.UserRole) is layer)
    rect = tree.visualItemRect(item)
    pos = rect.center()
    pos.setX(tree.columnViewportPosition(1) + 20)
    QTest.mouseClick(tree.viewport(), Qt.LeftButton, Qt.ControlModifier, pos)
    assert doc.history.entries[-1] == f"Mask from {layer.name}"
    assert doc.mask.sum() == 255 * 100 * 120 and doc.mask[80:180, 100:220].all()
    assert w.layers_panel.current_layer() is layer and item.isSelected()
    w.undo()
    assert not doc.mask.any()
    w.actions["mask_from_layer"].trigger()  # the menu item does the same
    assert doc.mask[80:180, 100:220].all()
