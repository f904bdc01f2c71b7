"""Help ▸ Keyboard shortcuts: every shortcut of the window in one searchable table.

The rows come from the window's own actions (so the table cannot drift from what the keys do) plus
the few shortcuts that belong to a widget rather than an action (the instruction box, the canvas,
the layers list).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

# Shortcuts handled by a widget, not by a window action: (where, what, keys).
WIDGET_SHORTCUTS: tuple[tuple[str, str, str], ...] = (
    ("Instruction", "Plan the instruction", "Ctrl+Enter"),
    ("Instruction", "Run the edit", "Ctrl+Shift+Enter"),
    ("Instruction", "Recall an earlier instruction", "↑ / ↓ on the first / last line"),
    ("Canvas", "Pan", "Space + drag, or middle-drag"),
    ("Canvas", "Zoom at the cursor", "Mouse wheel"),
    ("Canvas", "Compare with the original while held", "\\"),
    ("Layers", "Delete the selected layer", "Del / Backspace"),
    ("Layers", "Mask the pixels of a layer", "Ctrl+click its row"),
    ("Layers", "Rename the selected layer", "F2, or double-click"),
    ("Candidates", "Accept a candidate", "Double-click its thumbnail, or Enter"),
    ("Candidates", "Look through the candidates", "← →"),
    ("Candidates", "Select / unselect the focused candidate", "Space"),
)


def _group_of(action: QAction) -> str:
    """The menu an action sits in, so the table groups like the menu bar does."""
    for widget in action.associatedObjects():
        title = getattr(widget, "title", None)
        if callable(title) and title():
            return title().replace("&", "")
    return "Other"


def shortcut_rows(actions: dict[str, QAction]) -> list[tuple[str, str, str]]:
    """``(group, text, keys)`` for every action with a shortcut, then the widget shortcuts.

    ``keys`` is in the platform's native notation (⌘ on macOS), alternatives separated by ", "."""
    rows = []
    for action in actions.values():
        seqs = [s for s in action.shortcuts() if not s.isEmpty()]
        if not seqs:
            continue
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs)
        text = action.text().replace("&", "").rstrip("…").strip()
        rows.append((_group_of(action), text, keys))
    rows.sort(key=lambda r: (r[0], r[1].lower()))
    return rows + list(WIDGET_SHORTCUTS)


class ShortcutsDialog(QDialog):
    """A read-only table of shortcuts with a filter box (type "mask", "zoom", "Ctrl+Z"…)."""

    def __init__(self, actions: dict[str, QAction], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 520)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: type a command or a key")
        self.filter.setClearButtonEnabled(True)
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Command", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
                self.table.setItem(r, c, item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self.apply_filter)
        self.filter.setFocus()

    def apply_filter(self, text: str) -> None:
        """Show only the rows whose cells contain ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        for r in range(self.table.rowCount()):
            cells = (self.table.item(r, c).text().lower() for c in range(3))
            self.table.setRowHidden(r, bool(needle) and not any(needle in cell for cell in cells))

    def visible_rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.table.item(r, c).text() for c in range(3))
                for r in range(self.table.rowCount()) if not self.table.isRowHidden(r)]
