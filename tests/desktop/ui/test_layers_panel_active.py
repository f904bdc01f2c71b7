"""The Layers panel's selection is the document's active layer, both ways: a selected row makes
its layer active; the document's change of it (a new layer, a delete, undo, redo, anyone's
``set_active_layer``) selects the row; ``current_layer()`` answers the document's active layer."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.document import Document
from desktop.document.layers import RasterLayer
from desktop.ui.panels.layers_panel import LayersPanel


@pytest.fixture
def bound(qtbot):
    doc = Document.from_array(np.zeros((40, 60, 3), np.uint8))
    for i, name in enumerate("AB"):
        doc.add_edit(np.full((10, 10, 3), 60 * (i + 1), np.uint8), offset=(5 * i, 5 * i), name=name)
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 520)
    panel.show()
    panel.set_document(doc)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 3)
    return doc, panel


def _selected(panel):
    item = panel.tree.currentItem()
    return None if item is None else item.data(0, Qt.UserRole)


def _follows(qtbot, panel, layer):
    """The document answers at once; the row follows on the panel's refresh (the next loop turn)."""
    assert panel.current_layer() is layer
    qtbot.waitUntil(lambda: _selected(panel) is layer)


def _row(panel, layer):
    return next(item for item in panel.layer_items() if item.data(0, Qt.UserRole) is layer)


def test_the_panel_opens_on_the_documents_active_layer(qtbot):
    doc = Document.from_array(np.zeros((20, 20, 3), np.uint8))
    doc.add_layer(RasterLayer(np.zeros((5, 5, 4), np.uint8), name="top"))
    doc.set_active_layer(doc.layers[0])  # not the top one
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    assert _selected(panel) is doc.layers[0] and panel.current_layer() is doc.layers[0]


def test_clicking_a_row_makes_its_layer_active(bound, qtbot):
    doc, panel = bound
    bg = doc.layers[0]
    rect = panel.tree.visualItemRect(_row(panel, bg))
    qtbot.mouseClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert doc.active_layer is bg and panel.current_layer() is bg
    panel.tree.setCurrentItem(_row(panel, doc.layers[1]))  # the keyboard, a drag's press
    assert doc.active_layer is doc.layers[1]


def test_the_documents_change_selects_the_row(bound, qtbot):
    doc, panel = bound
    a, b = doc.layers[1], doc.layers[2]
    changed = []
    panel.current_changed.connect(changed.append)
    doc.set_active_layer(a)
    assert _selected(panel) is a and changed[-1] is a
    # The buttons follow it: A, in the middle, can go up and down
    assert panel.buttons["up"].isEnabled() and panel.buttons["down"].isEnabled()
    doc.remove_layer(a)  # the active one: the top layer takes over, and its row
    _follows(qtbot, panel, b)
    doc.undo()  # A is back, and active again
    _follows(qtbot, panel, a)
    doc.redo()
    _follows(qtbot, panel, b)
    painted = doc.paint_stroke(None, [(3, 3), (20, 20)], size=4, color=(255, 0, 0))
    _follows(qtbot, panel, painted)
    assert changed[-1] is painted
    doc.undo()
    _follows(qtbot, panel, doc.layers[-1])
    assert doc.layers[-1] is b
    assert [item.data(0, Qt.UserRole) for item in panel.layer_items()] == list(reversed(doc.layers))


def test_select_layer_and_buttons_act_on_the_active_layer(bound, qtbot):
    doc, panel = bound
    bg = doc.layers[0]
    panel.select_layer(bg)
    assert doc.active_layer is bg and _selected(panel) is bg
    panel.select_layer(RasterLayer(np.zeros((2, 2, 4), np.uint8)))  # not the document's: ignored
    assert doc.active_layer is bg
    panel.duplicate_current()
    copy = doc.layers[1]
    assert copy.name == "Background copy"
    _follows(qtbot, panel, copy)
    panel.move_current(+1)
    assert doc.layers[2] is copy and doc.active_layer is copy
    qtbot.waitUntil(lambda: _selected(panel) is copy and panel.tree.indexOfTopLevelItem(_row(panel, copy)) == 1)


def test_a_new_document_disconnects_the_old_one(bound, qtbot):
    doc, panel = bound
    other = Document.from_array(np.zeros((10, 10, 3), np.uint8))
    panel.set_document(other)
    doc.set_active_layer(doc.layers[0])  # the old document's change no longer reaches the panel
    assert panel.current_layer() is other.layers[0] and _selected(panel) is other.layers[0]
    panel.set_document(None)
    assert panel.current_layer() is None and panel.tree.topLevelItemCount() == 0
