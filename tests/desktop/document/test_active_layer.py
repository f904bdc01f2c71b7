"""The active layer is the document's (napari's ``layers.selection.active``): it follows adds,
deletes, undo and redo, and is announced on ``active_events``, never on the pixel ``events``."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Document, DocumentError
from desktop.document.layers import RasterLayer


@pytest.fixture
def doc():
    return Document.from_array(np.zeros((40, 60, 3), np.uint8))


def _layer(name: str, value: int = 100) -> RasterLayer:
    return RasterLayer(np.full((10, 10, 4), value, np.uint8), name=name, offset=(5, 5))


def _record(doc):
    seen, pixel_kinds = [], []
    doc.active_events.connect(lambda e: seen.append((e.kind, doc.active_layer)))
    doc.events.connect(lambda e: pixel_kinds.append(e.kind))
    return seen, pixel_kinds


def test_a_new_document_has_its_top_layer_active_and_an_empty_one_none(doc):
    assert doc.active_layer is doc.layers[-1]
    assert Document(8, 8).active_layer is None
    empty = Document(8, 8)
    first = empty.add_layer(_layer("first"))
    assert empty.active_layer is first  # the only layer there is


def test_active_follows_add_remove_undo_and_redo(doc):
    bg = doc.layers[0]
    seen, pixel_kinds = _record(doc)
    a = doc.add_layer(_layer("A"))
    assert doc.active_layer is a and seen == [("active", a)]
    b = doc.add_layer(_layer("B"), index=1)  # added below A: still the one added
    assert doc.active_layer is b
    doc.set_active_layer(bg)
    doc.remove_layer(a)  # not the active one: stays
    assert doc.active_layer is bg
    doc.remove_layer(bg)  # the active one: the top layer takes over
    assert doc.active_layer is b
    assert doc.undo() and doc.active_layer is bg  # the deleted layer is back, and active again
    assert doc.undo() and doc.active_layer is a
    assert doc.redo() and doc.active_layer is b  # A left again: the top layer takes over
    assert "active" not in pixel_kinds  # the views of the pixels never hear of it


def test_undo_of_an_add_falls_back_to_the_top_layer_and_redo_brings_it_back(doc):
    bg = doc.layers[0]
    a = doc.add_layer(_layer("A"))
    doc.undo()
    assert doc.active_layer is bg
    doc.redo()
    assert doc.active_layer is a


def test_duplicate_merge_down_and_flatten_make_their_result_active(doc):
    a = doc.add_layer(_layer("A"))
    copy = doc.duplicate_layer(a)
    assert doc.active_layer is copy
    merged = doc.merge_down(copy)
    assert doc.active_layer is merged
    doc.undo()  # two layers come back at once: neither is "the one added"; the top one is active
    assert doc.active_layer is doc.layers[-1] is copy
    flat = doc.flatten_image()
    assert doc.active_layer is flat and doc.layers == [flat]


def test_moves_property_changes_and_canvas_operations_keep_the_active_layer(doc):
    a = doc.add_layer(_layer("A"))
    doc.set_active_layer(doc.layers[0])
    bg = doc.active_layer
    seen, _ = _record(doc)
    doc.move_layer(bg, 1)
    doc.set_layer_props(a, name="renamed", opacity=0.5)
    doc.rotate(90)
    doc.expand_canvas(left=3)
    doc.undo()
    doc.undo()
    assert doc.active_layer is bg and seen == []


def test_set_active_layer_by_layer_or_id_and_only_for_its_own_layers(doc):
    a = doc.add_layer(_layer("A"))
    bg = doc.layers[0]
    seen, _ = _record(doc)
    n = len(doc.history.entries)
    doc.set_active_layer(bg.id)
    assert doc.active_layer is bg
    doc.set_active_layer(bg)  # no change: no event
    doc.set_active_layer(a)
    assert [layer for _, layer in seen] == [bg, a]
    with pytest.raises(DocumentError):
        doc.set_active_layer(_layer("stranger"))
    with pytest.raises(DocumentError):
        doc.set_active_layer("no-such-id")
    with pytest.raises(DocumentError):
        doc.set_active_layer(None)
    assert doc.active_layer is a
    assert len(doc.history.entries) == n  # choosing a layer is no undo step


def test_a_new_paint_layer_and_an_accepted_edit_become_active(doc):
    painted = doc.paint_stroke(None, [(10, 10), (30, 20)], size=6, color=(255, 0, 0))
    assert doc.active_layer is painted and painted.name == "Paint"
    edit = doc.add_edit(np.zeros((5, 5, 3), np.uint8), (2, 2))
    assert doc.active_layer is edit
