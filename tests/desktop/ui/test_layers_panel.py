"""The Layers panel on a real document: rows, thumbnails, visibility, opacity, rename, reorder,
duplicate, delete, provenance tooltip, and the edit-layer requests."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.document import Document, Provenance
from desktop.ui.panels.layers_panel import LayersPanel


def _panel_on(qtbot, photo_array):
    """A shown Layers panel on a new document of ``photo_array``."""
    doc = Document.from_array(photo_array)
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_document(doc)
    return doc, panel


@pytest.fixture
def setup(qtbot, photo_array):
    doc, panel = _panel_on(qtbot, photo_array)
    green = np.full((60, 80, 3), (0, 255, 0), np.uint8)
    prov = Provenance(instruction="make the nose green", category="local", prompt="a green nose", seed=42,
                      engine="brushedit", model="brushnet-x")
    mask = np.full((60, 80), 255, np.uint8)
    layer = doc.add_edit(green, offset=(100, 100), provenance=prov, name="Green nose", mask=mask)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)
    return doc, panel, layer


def test_rows_are_top_first_with_thumbnails_and_provenance(setup):
    doc, panel, layer = setup
    top = panel.tree.topLevelItem(0)
    assert top.text(1) == "Green nose" and top.data(0, Qt.UserRole) is layer
    assert panel.current_layer() is layer  # a new edit layer becomes the selection
    assert not top.icon(1).isNull()
    tip = top.toolTip(1)
    assert "make the nose green" in tip and "42" in tip and "brushnet-x" in tip
    panel.select_layer(layer)
    assert "a green nose" in panel.inspector.text()
    assert panel.buttons["new_seed"].isEnabled()
    panel.select_layer(doc.layers[0])
    assert not panel.buttons["new_seed"].isEnabled() and panel.buttons["delete"].isEnabled()


def test_hiding_and_deleting_an_edit_layer_reverts_it(setup, qtbot):
    doc, panel, layer = setup
    assert tuple(doc.flatten()[120, 120][:3]) == (0, 255, 0)
    item = panel.tree.topLevelItem(0)
    panel._on_item_clicked(item, 0)  # the eye column
    assert not layer.visible
    assert tuple(doc.flatten()[120, 120][:3]) != (0, 255, 0)
    panel.select_layer(layer)
    panel.buttons["delete"].click()
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1)
    assert len(doc.layers) == 1
    doc.undo()
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)


def test_opacity_rename_reorder_duplicate(setup, qtbot):
    doc, panel, layer = setup
    panel.select_layer(layer)
    panel.opacity.setValue(40)
    assert layer.opacity == pytest.approx(0.4)
    item = panel.tree.topLevelItem(0)
    item.setText(1, "Nose")
    assert layer.name == "Nose"
    panel.select_layer(layer)
    panel.buttons["down"].click()
    assert doc.layers.index(layer) == 0
    qtbot.waitUntil(lambda: panel.tree.topLevelItem(1).data(0, Qt.UserRole) is layer)
    panel.select_layer(layer)
    panel.buttons["up"].click()
    assert doc.layers[-1] is layer
    panel.select_layer(layer)
    panel.buttons["duplicate"].click()
    assert len(doc.layers) == 3
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 3)


def test_edit_layer_requests_are_emitted(setup, qtbot):
    doc, panel, layer = setup
    panel.select_layer(layer)
    for name, signal in (("new_seed", panel.rerun_seed_requested), ("new_prompt", panel.rerun_prompt_requested),
                         ("show_mask", panel.show_mask_requested)):
        with qtbot.waitSignal(signal) as blocker:
            panel.buttons[name].click()
        assert blocker.args[0] is layer


def test_window_shows_an_edit_layers_mask_and_reruns_it(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    doc = w.document
    layer = doc.add_edit(np.zeros((30, 40, 3), np.uint8), offset=(10, 20), mask=np.full((30, 40), 255, np.uint8),
                         provenance=Provenance(prompt="a hat", seed=1))
    w.show_layer_mask(layer)
    assert doc.mask[25, 15] == 255 and doc.mask[5, 5] == 0 and doc.mask.sum() == 255 * 30 * 40
    calls = []
    w.controller.rerun_layer = lambda lay, **kw: calls.append((lay, kw))
    w.rerun_with_new_seed(layer)
    assert calls[-1][0] is layer and isinstance(calls[-1][1]["seed"], int)
    w.rerun_with_new_prompt(layer)
    assert w._prompt_dialog.textValue() == "a hat" and w._prompt_dialog.isVisible()  # open() returned: nothing blocked
    w._prompt_dialog.setTextValue("a red hat")
    w._prompt_dialog.accept()
    assert calls[-1][1] == {"prompt": "a red hat"}


def test_fill_layers_do_not_list_diffusion_settings_and_del_deletes(qtbot):
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from desktop.document import Document
    from desktop.ui.edit_controller import make_provenance
    from desktop.ui.panels.layers_panel import LayersPanel, provenance_text

    doc = Document.from_array(np.zeros((32, 32, 3), np.uint8))
    fill = doc.add_edit(np.full((8, 8, 4), 255, np.uint8), offset=(2, 2), name="fill",
                        provenance=make_provenance(engine="fill", model="opencv-telea", steps=50, guidance=7.5, seed=0))
    text = provenance_text(fill)
    assert "opencv-telea" in text and "Steps" not in text and "Guidance" not in text
    painted = make_provenance(engine="brushedit", model="brushnet-x", steps=30, guidance=7.5, seed=1)
    assert "Steps" in provenance_text(type("L", (), {"provenance": painted})())
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    panel.show()
    panel.select_layer(fill)
    panel.tree.setFocus()
    QTest.keyClick(panel.tree, Qt.Key_Delete)
    assert [layer.name for layer in doc.layers] == ["Background"]
    assert "(Del)" in panel.buttons["delete"].toolTip()


# --- drag to reorder -------------------------------------------------------------------------
# Drops are simulated with the tree's own drag data and real drag events sent to its viewport at a
# row's upper or lower half (no mouse), which is what Qt delivers at the end of a real drag.


@pytest.fixture
def stack(qtbot):
    """A panel on a document of four layers: Background, A, B, C (C on top)."""
    doc = Document.from_array(np.zeros((40, 60, 3), np.uint8))
    for i, name in enumerate("ABC"):
        doc.add_edit(np.full((10, 10, 3), 60 * (i + 1), np.uint8), offset=(5 * i, 5 * i), name=name)
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 520)  # every row visible, no scrolling
    panel.show()
    panel.set_document(doc)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 4)
    return doc, panel


def _names(doc):
    return [layer.name for layer in doc.layers]


def _rows_match(panel, doc):
    return [item.data(0, Qt.UserRole) for item in panel.layer_items()] == list(reversed(doc.layers))


def _point(tree, row, where):
    """A viewport point on ``row``: "above" / "below" its middle, or "empty" under the last row."""
    from PySide6.QtCore import QPoint

    if where == "empty":
        rect = tree.visualItemRect(tree.topLevelItem(tree.topLevelItemCount() - 1))
        assert rect.bottom() + 20 < tree.viewport().height()
        return QPoint(rect.center().x(), rect.bottom() + 20)
    rect = tree.visualItemRect(tree.topLevelItem(row))
    return QPoint(rect.center().x(), rect.top() + 3 if where == "above" else rect.bottom() - 3)


def _drop(tree, mime, point):
    """Enter, move and drop ``mime`` at ``point``; returns the (enter, move, drop) events."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    args = (Qt.MoveAction | Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    enter = QDragEnterEvent(point, *args)
    QApplication.sendEvent(tree.viewport(), enter)
    move = QDragMoveEvent(point, *args)
    QApplication.sendEvent(tree.viewport(), move)
    drop = QDropEvent(QPointF(point), *args)
    QApplication.sendEvent(tree.viewport(), drop)
    return enter, move, drop


def _drag_row(panel, row, target_row, where):
    tree = panel.tree
    item = tree.topLevelItem(row)
    tree.setCurrentItem(item)  # pressing a row to drag it selects it
    return _drop(tree, tree.mimeData([item]), _point(tree, target_row, where))


def test_dragging_the_bottom_layer_to_the_top_and_back_one_undo_step_each(stack, qtbot):
    doc, panel = stack
    bg = doc.layers[0]
    steps = doc.history.index
    enter, move, drop = _drag_row(panel, 3, 0, "above")  # the Background row onto the top of the list
    assert enter.isAccepted() and move.isAccepted() and drop.isAccepted()
    assert drop.dropAction() == Qt.IgnoreAction  # Qt itself must not move or remove the item
    assert _names(doc) == ["A", "B", "C", "Background"]
    assert doc.history.index == steps + 1
    qtbot.waitUntil(lambda: _rows_match(panel, doc))
    assert panel.current_layer() is bg and panel.tree.currentItem() is panel.tree.topLevelItem(0)
    assert panel.tree.topLevelItemCount() == 4  # nothing became a child of another row
    assert all(panel.tree.topLevelItem(i).childCount() == 0 for i in range(4))

    _drag_row(panel, 0, 3, "below")  # and back: the top row below the bottom one
    assert _names(doc) == ["Background", "A", "B", "C"]
    assert doc.history.index == steps + 2
    qtbot.waitUntil(lambda: _rows_match(panel, doc))
    assert panel.current_layer() is bg

    doc.undo()  # one undo per drop
    assert _names(doc) == ["A", "B", "C", "Background"]
    doc.undo()
    assert _names(doc) == ["Background", "A", "B", "C"]
    qtbot.waitUntil(lambda: _rows_match(panel, doc))


def test_dragging_the_top_layer_to_the_bottom(stack, qtbot):
    doc, panel = stack
    c = doc.layers[-1]
    _drag_row(panel, 0, 3, "below")
    assert _names(doc) == ["C", "Background", "A", "B"]
    qtbot.waitUntil(lambda: _rows_match(panel, doc))
    assert panel.current_layer() is c
    assert panel.buttons["down"].isEnabled() is False and panel.buttons["up"].isEnabled()
    doc.undo()
    assert _names(doc) == ["Background", "A", "B", "C"]


@pytest.mark.parametrize(("row", "target", "where", "expected"), [
    (0, 1, "below", ["Background", "A", "C", "B"]),  # C under B
    (0, 2, "above", ["Background", "A", "C", "B"]),  # the same line, from the other side
    (0, 2, "below", ["Background", "C", "A", "B"]),
    (3, 2, "above", ["A", "Background", "B", "C"]),  # Background just over A
    (1, 0, "above", ["Background", "A", "C", "B"]),  # B to the top
    (1, 3, "empty", ["B", "Background", "A", "C"]),  # the empty space under the rows = bottom
])
def test_a_drop_lands_where_the_indicator_line_is(stack, qtbot, row, target, where, expected):
    doc, panel = stack
    dragged = panel.layer_items()[row].data(0, Qt.UserRole)
    steps = doc.history.index
    _drag_row(panel, row, target, where)
    assert _names(doc) == expected and doc.history.index == steps + 1
    qtbot.waitUntil(lambda: _rows_match(panel, doc))
    assert panel.current_layer() is dragged


@pytest.mark.parametrize(("row", "target", "where"), [
    (1, 1, "above"), (1, 1, "below"),  # onto itself
    (1, 0, "below"), (1, 2, "above"),  # the lines right above and below it
    (3, 3, "empty"),  # the bottom layer under the rows
])
def test_a_drop_on_the_same_place_does_nothing(stack, qtbot, row, target, where):
    doc, panel = stack
    dragged = panel.layer_items()[row].data(0, Qt.UserRole)
    steps, before = doc.history.index, _names(doc)
    *_, drop = _drag_row(panel, row, target, where)
    assert drop.isAccepted() and drop.dropAction() == Qt.IgnoreAction
    assert _names(doc) == before and doc.history.index == steps
    assert _rows_match(panel, doc) and panel.current_layer() is dragged


def test_onto_a_row_means_place_here_and_qt_never_moves_items(stack, qtbot):
    from PySide6.QtWidgets import QAbstractItemView

    doc, panel = stack
    tree = panel.tree
    on = QAbstractItemView.DropIndicatorPosition.OnItem
    assert tree.target_row(3, 0, on) == 0 and tree.target_row(0, 3, on) == 3 and tree.target_row(1, 2, on) == 2
    assert tree.target_row(2, 2, on) is None
    assert tree.target_row(1, 0, QAbstractItemView.DropIndicatorPosition.OnViewport) is None
    # No row takes drops into itself: Qt draws a line between rows, never a child slot.
    assert not any(item.flags() & Qt.ItemIsDropEnabled for item in panel.layer_items())
    assert tree.showDropIndicator() and tree.dragEnabled()
    items = panel.layer_items()
    _drag_row(panel, 3, 0, "above")
    assert panel.layer_items() == items  # the drop itself left the rows alone...
    qtbot.waitUntil(lambda: _rows_match(panel, doc))  # ...the refresh rebuilds them from the document
    assert panel.tree.topLevelItemCount() == 4


def test_foreign_drops_are_ignored_here(stack, qtbot, photo_path):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDragMoveEvent

    doc, panel = stack
    tree = panel.tree
    steps, before = doc.history.index, _names(doc)
    files = QMimeData()
    files.setUrls([QUrl.fromLocalFile(str(photo_path))])
    other = LayersPanel()  # a row dragged from another list (another document) is not ours either
    qtbot.addWidget(other)
    other.set_document(Document.from_array(np.zeros((8, 8, 3), np.uint8)))
    for mime in (files, other.tree.mimeData([other.tree.topLevelItem(0)])):
        enter, move, drop = _drop(tree, mime, _point(tree, 0, "above"))
        assert not enter.isAccepted() and not move.isAccepted() and not drop.isAccepted()
        move = QDragMoveEvent(_point(tree, 0, "above"), Qt.MoveAction, mime, Qt.LeftButton, Qt.NoModifier)
        tree.dragMoveEvent(move)  # even if a move came without an accepted enter
        assert not move.isAccepted()
    stale = tree.mimeData([tree.topLevelItem(3)])
    doc.remove_layer(doc.layers[-1])  # the rows are stale until the refresh runs: do not guess
    _drop(tree, stale, _point(tree, 0, "above"))
    assert _names(doc) == ["Background", "A", "B"]
    doc.undo()
    qtbot.waitUntil(lambda: _rows_match(panel, doc))
    assert _names(doc) == before and doc.history.index == steps


def test_files_dragged_over_the_layers_list_still_reach_the_window(make_window, photo_path):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDragEnterEvent
    from PySide6.QtWidgets import QApplication

    w = make_window()
    w.open_path(photo_path)
    tree = w.layers_panel.tree
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_path))])
    enter = QDragEnterEvent(tree.visualItemRect(tree.topLevelItem(0)).center(), Qt.CopyAction, mime,
                            Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(tree.viewport(), enter)
    assert enter.isAccepted()  # the tree ignored it, the window (which opens files) took it
    assert "drag" in w.layers_panel.buttons["up"].toolTip() and "drag" in tree.toolTip().lower()


def test_an_edit_kept_from_several_candidates_offers_its_variations(qtbot, photo_array):
    doc, panel = _panel_on(qtbot, photo_array)
    variants = []
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
        px = np.zeros((30, 40, 4), np.uint8)
        px[...] = (*colour, 255)
        variants.append((px, (50, 40), np.full((30, 40), 255, np.uint8), Provenance(prompt="paint", seed=20 + i)))
    px, off, mask, prov = variants[1]
    layer = doc.add_edit(px, off, prov, mask=mask, variants=variants, variant=1)
    # current_layer() is the document's active layer at once; the row follows on the refresh
    qtbot.waitUntil(lambda: panel.current_layer() is layer and panel.tree.currentItem().data(0, Qt.UserRole) is layer)
    assert panel.variations.isVisible()
    buttons = panel.variation_buttons
    assert [b.text() for b in buttons] == ["seed 20", "seed 21", "seed 22"]
    assert [b.isChecked() for b in buttons] == [False, True, False]
    qtbot.mouseClick(buttons[2], Qt.LeftButton)
    assert layer.variant == 2 and tuple(doc.flatten()[50, 60, :3]) == (0, 0, 255)
    assert doc.history.entries[-1] == "Use variation 3"
    qtbot.waitUntil(lambda: [b.isChecked() for b in panel.variation_buttons] == [False, False, True])
    doc.undo()
    qtbot.waitUntil(lambda: [b.isChecked() for b in panel.variation_buttons] == [False, True, False])
    assert tuple(doc.flatten()[50, 60, :3]) == (0, 255, 0)
    # A re-run shows none of them: no variation stays highlighted
    doc.replace_layer_pixels(layer, np.zeros((30, 40, 3), np.uint8))
    qtbot.waitUntil(lambda: not any(b.isChecked() for b in panel.variation_buttons))
    # the background layer has none: the row hides
    panel.select_layer(doc.layers[0])
    assert not panel.variations.isVisible() and panel.variation_buttons == []


def test_thumbnails_are_remade_only_when_a_layers_pixels_change(qtbot, photo_array, monkeypatch):
    from desktop.document import RasterLayer
    from desktop.ui.panels import layers_panel

    made = []
    real = layers_panel.thumbnail
    monkeypatch.setattr(layers_panel, "thumbnail", lambda layer, *a: made.append(layer.name) or real(layer, *a))
    doc, panel = _panel_on(qtbot, photo_array)
    layer = doc.add_layer(RasterLayer(np.full((20, 20, 4), 255, np.uint8), name="sticker"))
    panel.refresh()
    made.clear()
    doc.move_layer_content(layer, 30, 30)
    doc.set_layer_props(layer, opacity=0.5)
    panel.refresh()
    assert made == []  # a move or an opacity change keeps the pixels: no thumbnail work
    doc.paint_stroke(layer, [(5, 5)], size=4, color=(0, 0, 0))
    panel.refresh()
    assert made == ["sticker"]


def test_blend_mode_combo_sets_the_layer_mode_undoably(setup, qtbot):
    doc, panel, layer = setup
    panel.select_layer(layer)
    assert panel.blend.currentData() == "normal" and panel.blend.isEnabled()
    before = doc.flatten()[120, 120].copy()
    panel.blend.setFocus()
    qtbot.keyClick(panel.blend, Qt.Key_Down)  # a real key press: Normal -> Multiply
    assert layer.blend_mode == "multiply"
    assert doc.history.entries[-1] == "Blend mode"
    assert not np.array_equal(doc.flatten()[120, 120], before)
    doc.undo()
    assert layer.blend_mode == "normal"
    qtbot.waitUntil(lambda: panel.blend.currentData() == "normal")
    doc.redo()
    qtbot.waitUntil(lambda: panel.blend.currentData() == "multiply")
    panel.select_layer(doc.layers[0])
    assert panel.blend.currentData() == "normal"
