"""The History panel bound to the document's history: rows, current state, click to go back."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.document import Document
from desktop.ui.panels.history_panel import HistoryPanel


def test_history_rows_follow_the_document_and_clicks_travel(qtbot, photo_array):
    doc = Document.from_array(photo_array)
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    assert panel.list.count() == 1 and not panel.undo_button.isEnabled()
    doc.mask_op("box", rect=(10, 10, 50, 50))
    doc.mask_op("dilate", px=4)
    doc.mask_op("invert")
    assert [panel.list.item(i).text() for i in range(1, 4)] == doc.history.entries
    assert panel.list.currentRow() == 3
    panel._on_clicked(panel.list.item(1))
    assert doc.history.index == 1
    assert doc.mask[30, 30] == 255 and doc.mask[0, 0] == 0
    assert panel.list.currentRow() == 1
    assert panel.list.item(3).font().italic()  # undone entries are shown greyed
    assert panel.redo_button.isEnabled()
    panel.redo_button.click()
    assert doc.history.index == 2
    panel._on_clicked(panel.list.item(0))
    assert doc.mask.max() == 0
    doc.mask_op("fill")  # a new change drops the redo tail
    assert panel.list.count() == 2
    assert panel.list.item(1).data(Qt.UserRole) == 1
