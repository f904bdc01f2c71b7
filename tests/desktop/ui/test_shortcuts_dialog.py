"""Help ▸ Keyboard shortcuts lists what the keys really do, grouped by menu, and filters."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence


def test_f1_opens_a_table_of_every_action_shortcut(make_window, qtbot):
    w = make_window()
    assert w.actions["shortcuts"].shortcut() == QKeySequence("F1")
    w.actions["shortcuts"].trigger()
    dialog = w._shortcuts_dialog
    qtbot.waitExposed(dialog)
    assert not dialog.isModal()
    rows = dialog.visible_rows()
    native = lambda s: QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText)  # noqa: E731
    assert ("Edit", "Undo", native("Ctrl+Z")) in rows
    assert ("Tools", "Brush", "B") in rows
    assert ("Mask", "Invert mask", native("Ctrl+I")) in rows
    assert any(r[1] == "Redo" and native("Ctrl+Shift+Z") in r[2] and native("Ctrl+Y") in r[2] for r in rows)
    assert ("Instruction", "Run the edit", "Ctrl+Shift+Enter") in rows
    # Every action that has a shortcut is listed: the table is built from the actions themselves.
    listed = {r[1] for r in rows}
    for action in w.actions.values():
        if not action.shortcut().isEmpty():
            assert action.text().replace("&", "").rstrip("…").strip() in listed


def test_the_filter_keeps_matching_rows_only(make_window, qtbot):
    w = make_window()
    w.show_shortcuts()
    dialog = w._shortcuts_dialog
    total = len(dialog.visible_rows())
    dialog.filter.setText("mask")
    rows = dialog.visible_rows()
    assert rows and len(rows) < total
    assert all("mask" in " ".join(r).lower() for r in rows)
    dialog.filter.setText("zzz-nothing")
    assert dialog.visible_rows() == []
    dialog.filter.clear()
    assert len(dialog.visible_rows()) == total
