"""Box and ellipse mask tools: drag a rectangle; the mask becomes that shape (one undo step).

Shift adds the shape to the current mask, Alt subtracts it; without a modifier it replaces it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen

from desktop.ui.tools.base import Tool


def combine(modifiers) -> dict[str, bool]:
    """How a drawn shape meets the mask: Shift adds it, Alt subtracts it (Shift wins), neither
    replaces; ``mask_op``'s ``add`` / ``subtract`` keywords."""
    add = bool(modifiers & Qt.ShiftModifier)
    return {"add": add, "subtract": bool(modifiers & Qt.AltModifier) and not add}


class ShapeMaskTool(Tool):
    """Drag to set the mask to a box (``shape="box"``) or an ellipse (``shape="ellipse"``)."""

    def __init__(self, shape: str = "box", parent=None) -> None:
        super().__init__(parent)
        self.shape = shape
        self.name = shape
        self.label = "Box mask" if shape == "box" else "Ellipse mask"
        self._start: QPointF | None = None
        self._end: QPointF | None = None

    def press(self, pt, event) -> None:
        if event.button() == Qt.LeftButton:
            self._start = self._end = QPointF(pt)
            self._modifiers = event.modifiers()

    def move(self, pt, event) -> None:
        if self._start is not None:
            self._update_band()
            self._end = QPointF(pt)
            self._update_band()

    def release(self, pt, event) -> None:
        if self._start is None:
            return
        self._end = QPointF(pt)
        rect = self.image_rect()
        self._update_band()
        self._start = self._end = None
        if rect is None:
            return
        self.document.mask_op(self.shape, rect=rect, **combine(self._modifiers))

    def image_rect(self) -> tuple[int, int, int, int] | None:
        """The dragged rectangle in image pixels, clipped to the image (``None`` when empty)."""
        if self._start is None or self._end is None or self.document is None:
            return None
        doc = self.document
        x0 = int(round(max(0, min(self._start.x(), self._end.x()))))
        y0 = int(round(max(0, min(self._start.y(), self._end.y()))))
        x1 = int(round(min(doc.width, max(self._start.x(), self._end.x()))))
        y1 = int(round(min(doc.height, max(self._start.y(), self._end.y()))))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return x0, y0, x1 - x0, y1 - y0

    def _band(self) -> QRectF | None:
        if self._start is None or self._end is None or self.canvas is None:
            return None
        return QRectF(self.canvas.image_to_widget(self._start), self.canvas.image_to_widget(self._end)).normalized()

    def _update_band(self) -> None:
        band = self._band()
        if band is not None:
            self.canvas.update(band.toAlignedRect().adjusted(-3, -3, 3, 3))

    def paint(self, painter, canvas) -> None:
        band = self._band()
        if band is None:
            return
        painter.setRenderHint(painter.RenderHint.Antialiasing, True)
        painter.setBrush(QColor(61, 142, 240, 40))
        painter.setPen(QPen(QColor(255, 255, 255, 220), 1.0, Qt.DashLine))
        if self.shape == "box":
            painter.drawRect(band)
        else:
            painter.drawEllipse(band)
