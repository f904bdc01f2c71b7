"""The Layers panel's list: a flat tree whose rows reorder by drag and drop, reported as
``row_dropped(source_row, target_row)`` for the panel to apply to the document."""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QDragMoveEvent
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget

LAYER_ROW_MIME = "application/x-brushedit-layer-row"


class LayerTree(QTreeWidget):
    """The flat layer list, with drag-to-reorder that never moves its own items.

    A drag carries only "which row of which list" (never the layer: pickling its pixels would stall
    the GUI). A drop is accepted with ``IgnoreAction`` so Qt neither moves nor removes items, and is
    reported as ``row_dropped(source_row, target_row)``: the row the dragged layer should end up on
    (0 = top). The owner applies it to the document and rebuilds the list. Drops from elsewhere
    (files, another list, another process) are ignored here so they reach the window.
    """

    row_dropped = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._token = f"{os.getpid()}:{id(self)}"
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        # DragDrop, not InternalMove: we filter foreign drags ourselves and never let Qt move items.
        self.setDragDropMode(QAbstractItemView.DragDrop)
        self.setDefaultDropAction(Qt.MoveAction)
        self.setDropIndicatorShown(True)
        self.setDragDropOverwriteMode(False)

    # --- what a drag carries ------------------------------------------------------------
    def mimeTypes(self) -> list[str]:
        return [LAYER_ROW_MIME]

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        rows = [self.indexOfTopLevelItem(item) for item in items]
        if len(rows) == 1 and rows[0] >= 0:
            mime.setData(LAYER_ROW_MIME, QByteArray(f"{self._token}:{rows[0]}".encode()))
        return mime

    def dragged_row(self, mime) -> int | None:
        """The row a drag from this very list carries; None for anything else."""
        if mime is None or not mime.hasFormat(LAYER_ROW_MIME):
            return None
        token, _, row = bytes(mime.data(LAYER_ROW_MIME)).decode(errors="replace").rpartition(":")
        if token != self._token or not row.isdigit():
            return None
        row = int(row)
        return row if row < self.topLevelItemCount() else None

    # --- where it lands -----------------------------------------------------------------
    def target_row(self, source: int, row: int, position) -> int | None:
        """The final row of the layer dragged from ``source`` when dropped at ``position``
        (a ``DropIndicatorPosition``) of ``row``; None when it would not move."""
        n = self.topLevelItemCount()
        if not (0 <= source < n and 0 <= row < n):
            return None
        Pos = QAbstractItemView.DropIndicatorPosition
        if position == Pos.OnItem:
            target = row  # "place here": take that row's place, never become its child
        elif position in (Pos.AboveItem, Pos.BelowItem):
            gap = row + (position == Pos.BelowItem)  # the line between rows gap-1 and gap
            target = gap - 1 if gap > source else gap
        else:
            return None
        return target if target != source else None

    def _drop_at(self, pos):
        """(row, indicator position) under the viewport point ``pos``; row -1 when nowhere.

        Rows are not drop targets, so Qt shows a line above or below the row under the cursor
        (split at the middle); this is the same rule, so the drop lands where the line was. The
        empty space under the last row means "to the bottom", like in Krita."""
        Pos = QAbstractItemView.DropIndicatorPosition
        item = self.itemAt(pos)
        if item is None:
            n = self.topLevelItemCount()
            last = self.topLevelItem(n - 1) if n else None
            if last is not None and pos.y() > self.visualItemRect(last).bottom():
                return n - 1, Pos.BelowItem
            return -1, Pos.OnViewport
        rect = self.visualItemRect(item)
        return self.indexOfTopLevelItem(item), Pos.AboveItem if pos.y() < rect.center().y() else Pos.BelowItem

    # --- drag and drop events -----------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if self.dragged_row(event.mimeData()) is None:
            event.ignore()  # files from the desktop: the main window's job
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if self.dragged_row(event.mimeData()) is None:
            event.ignore()
            return
        pos = event.position().toPoint()
        row, position = self._drop_at(pos)
        if row >= 0 and self.itemAt(pos) is None:
            # Under the last row: let Qt draw the line below it, not a frame round the list.
            rect = self.visualItemRect(self.topLevelItem(row))
            moved = QDragMoveEvent(QPoint(pos.x(), rect.bottom() - 1), event.possibleActions(),
                                   event.mimeData(), event.buttons(), event.modifiers())
            super().dragMoveEvent(moved)
        else:
            super().dragMoveEvent(event)  # draws the indicator line
        if row < 0:
            event.ignore()
        else:
            event.setDropAction(Qt.MoveAction)
            event.accept()

    def dropEvent(self, event) -> None:
        source = self.dragged_row(event.mimeData())
        if source is None:
            event.ignore()
            return
        row, position = self._drop_at(event.position().toPoint())
        target = self.target_row(source, row, position)
        # IgnoreAction: Qt must not move (or, after the drag, remove) any item itself.
        event.setDropAction(Qt.IgnoreAction)
        event.accept()
        self.stopAutoScroll()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()  # clear the indicator line
        if target is not None:
            self.row_dropped.emit(source, target)
