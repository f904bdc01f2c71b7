"""SAM click-to-select: left click adds, Alt+click or right click subtracts.

Each click sends all clicks so far to ``segment(points, labels)`` (the edit controller's
``segment_click``); its answer replaces the mask as one undo step, so the mask preview updates
live after every click. Escape or a new document starts a fresh selection.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen

from desktop.ui.tools.base import Tool


class SamClickTool(Tool):
    name = "sam"
    label = "SAM select"

    def __init__(self, segment=None, parent=None) -> None:
        super().__init__(parent)
        self.segment = segment  # callable(points, labels) set by the window
        self.points: list[tuple[float, float]] = []
        self.labels: list[int] = []
        self._doc_id = None

    def reset(self) -> None:
        self.points.clear()
        self.labels.clear()
        if self.canvas is not None:
            self.canvas.update()

    def cursor(self):
        return Qt.PointingHandCursor

    def press(self, pt, event) -> None:
        doc = self.document
        if doc is None or not (0 <= pt.x() < doc.width and 0 <= pt.y() < doc.height):
            return
        if id(doc) != self._doc_id:
            self._doc_id = id(doc)
            self.points.clear()
            self.labels.clear()
        subtract = event.button() == Qt.RightButton or bool(event.modifiers() & Qt.AltModifier)
        if event.button() not in (Qt.LeftButton, Qt.RightButton):
            return
        if subtract and not self.points:
            return  # nothing selected yet to subtract from
        self.points.append((float(pt.x()), float(pt.y())))
        self.labels.append(0 if subtract else 1)
        self.canvas.update()
        if self.segment is not None:
            self.segment(list(self.points), list(self.labels))

    def paint(self, painter, canvas) -> None:
        painter.setRenderHint(painter.RenderHint.Antialiasing, True)
        for (x, y), label in zip(self.points, self.labels):
            c = canvas.image_to_widget(QPointF(x, y))
            painter.setPen(QPen(QColor(0, 0, 0, 200), 2))
            painter.setBrush(QColor(60, 200, 90) if label else QColor(230, 70, 70))
            painter.drawEllipse(c, 6, 6)
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(c + QPointF(-3, 0), c + QPointF(3, 0))
            if label:
                painter.drawLine(c + QPointF(0, -3), c + QPointF(0, 3))
