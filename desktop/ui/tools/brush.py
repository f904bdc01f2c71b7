"""Mask brush and eraser: a round dab of ``size`` px and ``hardness``; one undo step per stroke."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen

from desktop.ui.tools.base import Tool

MIN_SIZE, MAX_SIZE = 1, 1000


def _pressure(event) -> float:
    """The stylus pressure of ``event`` (1.0 for a mouse)."""
    try:
        from PySide6.QtGui import QPointingDevice

        if event.pointingDevice().type() in (QPointingDevice.DeviceType.Stylus, QPointingDevice.DeviceType.Airbrush):
            return max(0.05, float(event.points()[0].pressure()))
    except Exception:
        pass
    return 1.0


class MaskBrushTool(Tool):
    """Paints (``mode="paint"``) or erases (``mode="erase"``) the edit mask."""

    def __init__(self, mode: str = "paint", size: int = 60, hardness: float = 0.8, parent=None) -> None:
        super().__init__(parent)
        self.mode = mode
        self.name = "brush" if mode == "paint" else "eraser"
        self.label = "Brush" if mode == "paint" else "Eraser"
        self._size = size
        self._hardness = hardness
        self._hover: QPointF | None = None
        self._stroking = False

    @property
    def size(self) -> int:
        return self._size

    @size.setter
    def size(self, value) -> None:
        value = int(min(MAX_SIZE, max(MIN_SIZE, round(value))))
        if value != self._size:
            self._size = value
            self.changed.emit()
            self._refresh_outline()

    @property
    def hardness(self) -> float:
        return self._hardness

    @hardness.setter
    def hardness(self, value) -> None:
        value = float(min(1.0, max(0.0, value)))
        if value != self._hardness:
            self._hardness = value
            self.changed.emit()

    def grow(self) -> None:
        """``]``: a bigger brush (steps scale with the size, like Photoshop)."""
        self.size = self._size + max(1, int(self._size * 0.15))

    def shrink(self) -> None:
        """``[``: a smaller brush."""
        self.size = self._size - max(1, int(self._size * 0.15))

    def cursor(self):
        return Qt.BlankCursor  # the outline is the cursor

    def press(self, pt, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        doc = self.document
        doc.begin_mask_stroke(mode=self.mode, size=self._size, hardness=self._hardness)
        self._stroking = True
        doc.mask_stroke_to(pt.x(), pt.y(), _pressure(event))
        self.hover(pt, event)

    def move(self, pt, event) -> None:
        if self._stroking:
            self.document.mask_stroke_to(pt.x(), pt.y(), _pressure(event))
        self.hover(pt, event)

    def release(self, pt, event) -> None:
        if self._stroking:
            self._stroking = False
            self.document.end_mask_stroke()

    def deactivate(self) -> None:
        if self._stroking and self.document is not None:
            self._stroking = False
            self.document.end_mask_stroke()
        self._hover = None
        super().deactivate()

    def hover(self, pt, event) -> None:
        self._refresh_outline()
        self._hover = QPointF(pt) if pt is not None else None
        self._refresh_outline()

    def _outline_rect(self) -> QRectF | None:
        if self._hover is None or self.canvas is None:
            return None
        c = self.canvas.image_to_widget(self._hover)
        r = max(1.5, self._size * self.canvas.zoom() / 2)
        return QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r)

    def _refresh_outline(self) -> None:
        rect = self._outline_rect()
        if rect is not None:
            self.canvas.update(rect.toAlignedRect().adjusted(-3, -3, 3, 3))

    def paint(self, painter, canvas) -> None:
        rect = self._outline_rect()
        if rect is None:
            return
        painter.setRenderHint(painter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 200), 1.5))
        painter.drawEllipse(rect)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
        painter.drawEllipse(rect.adjusted(1, 1, -1, -1))
        if self._hardness < 1.0 and rect.width() > 12:
            inner = rect.width() / 2 * self._hardness
            c = rect.center()
            pen = QPen(QColor(255, 255, 255, 120), 1.0, Qt.DashLine)
            painter.setPen(pen)
            painter.drawEllipse(c, inner, inner)
        if self.mode == "erase":
            c = rect.center()
            painter.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
            painter.drawLine(c + QPointF(-4, 0), c + QPointF(4, 0))
