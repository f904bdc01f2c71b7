"""History.group: several applied commands become one entry that one undo takes back."""

import numpy as np

from desktop.document import Document


def _doc():
    return Document.from_array(np.zeros((32, 32, 3), np.uint8))


def _edit(doc, value, x):
    pixels = np.full((8, 8, 3), value, np.uint8)
    doc.add_edit(pixels, offset=(x, 0), name=f"edit {value}")
    return doc.history.top


def test_grouped_edits_undo_and_redo_as_one_entry():
    doc = _doc()
    before = len(doc.layers)
    commands = [_edit(doc, 100, 0), _edit(doc, 200, 10)]
    state = doc.history.state_id
    assert doc.history.group(commands, "Instruction: a and b")
    assert doc.history.entries[-1] == "Instruction: a and b" and doc.history.state_id == state
    assert len(doc.layers) == before + 2
    doc.undo()
    assert len(doc.layers) == before
    doc.redo()
    assert len(doc.layers) == before + 2 and doc.flatten()[0, 12, 0] == 200


def test_group_refuses_commands_that_are_not_the_newest():
    doc = _doc()
    first = _edit(doc, 100, 0)
    _edit(doc, 200, 10)  # the user did something after it
    entries = list(doc.history.entries)
    assert not doc.history.group([first], "Instruction: x")
    assert doc.history.entries == entries
    doc.undo()  # with a redo tail, nothing is grouped either
    assert not doc.history.group([first], "Instruction: x")


def test_one_command_is_relabelled():
    doc = _doc()
    c = _edit(doc, 100, 0)
    assert doc.history.group([c], "Instruction: only one")
    assert doc.history.entries[-1] == "Instruction: only one"
