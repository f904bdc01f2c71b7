"""History.squash: several applied commands become one undo step (a Remove-brush stroke)."""

from __future__ import annotations

import numpy as np

from desktop.document import Document


def test_squash_makes_the_commands_since_a_state_one_step():
    doc = Document.from_array(np.full((40, 40, 3), 100, np.uint8))
    doc.mask_op("box", rect=(0, 0, 5, 5))
    start = doc.history.state_id
    doc.mask_op("clear")
    doc.mask_op("box", rect=(10, 10, 10, 10))
    doc.add_edit(np.full((10, 10, 4), 200, np.uint8), offset=(10, 10))
    doc.mask_op("clear")
    assert doc.history.squash(start, "Edit: Remove")
    assert len(doc.history.entries) == 2 and doc.history.entries[-1] == "Edit: Remove"
    assert doc.undo()
    assert len(doc.layers) == 1 and doc.mask[2, 2] == 255 and doc.mask[15, 15] == 0
    assert doc.redo()
    assert len(doc.layers) == 2 and not doc.mask.any()
    assert not doc.history.squash(12345678, "x")  # a state not in the history: nothing happens


def test_discard_since_takes_back_and_forgets_the_commands_after_a_state():
    doc = Document.from_array(np.full((40, 40, 3), 100, np.uint8))
    doc.mask_op("box", rect=(0, 0, 5, 5))
    start = doc.history.state_id
    doc.mask_op("clear")
    doc.mask_op("box", rect=(10, 10, 10, 10))
    assert doc.history.discard_since(start)
    assert doc.history.entries == ["Box mask"] and not doc.history.can_redo
    assert doc.history.state_id == start and doc.mask[2, 2] == 255 and doc.mask[15, 15] == 0
    assert not doc.history.discard_since(12345678)  # a state not in the history: nothing happens
    assert doc.history.entries == ["Box mask"]
