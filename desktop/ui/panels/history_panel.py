"""The History panel: the document's undo history; click an entry to go back (or forward) to it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QToolButton, QVBoxLayout, QWidget

from desktop.ui.icons import icon


class HistoryPanel(QWidget):
    """Lists ``doc.history.entries``; the current state is selected, undone ones are greyed."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.document = None
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.itemClicked.connect(self._on_clicked)
        self.undo_button = QToolButton()
        self.undo_button.setIcon(icon("undo"))
        self.undo_button.setToolTip("Undo (Ctrl+Z)")
        self.undo_button.clicked.connect(lambda: self.document and self.document.undo())
        self.redo_button = QToolButton()
        self.redo_button.setIcon(icon("redo"))
        self.redo_button.setToolTip("Redo (Ctrl+Shift+Z)")
        self.redo_button.clicked.connect(lambda: self.document and self.document.redo())
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.refresh()

    def set_document(self, doc) -> None:
        if self.document is not None:
            self.document.events.disconnect(self._on_event)  # a no-op if not connected
        self.document = doc
        if doc is not None:
            doc.events.connect(self._on_event)
        self.refresh()

    def _on_event(self, event) -> None:
        if event.kind == "history":
            self.refresh()

    def refresh(self) -> None:
        doc = self.document
        self.list.blockSignals(True)
        self.list.clear()
        if doc is not None:
            # Row 0 is the state with nothing applied; row i is after entries[i - 1]
            # (doc.history.index counts the applied entries, so it is also the current row).
            entries = [self.base_label(doc)] + list(doc.history.entries)
            index = doc.history.index
            for i, label in enumerate(entries):
                item = QListWidgetItem(str(label))
                item.setData(Qt.UserRole, i)
                if i > index:
                    item.setForeground(QBrush(QColor(120, 120, 124)))
                    f = QFont(item.font())
                    f.setItalic(True)
                    item.setFont(f)
                self.list.addItem(item)
            if 0 <= index < self.list.count():
                self.list.setCurrentRow(index)
                self.list.scrollToItem(self.list.item(index))
        self.list.blockSignals(False)
        self.undo_button.setEnabled(bool(doc is not None and doc.can_undo))
        self.redo_button.setEnabled(bool(doc is not None and doc.can_redo))

    @staticmethod
    def base_label(doc) -> str:
        from pathlib import Path

        src = getattr(doc, "path", None) or getattr(doc, "source_path", None)
        return f"Open {Path(src).name}" if src else "Original"

    def _on_clicked(self, item: QListWidgetItem) -> None:
        if self.document is not None:
            self.document.history.goto(int(item.data(Qt.UserRole)))
