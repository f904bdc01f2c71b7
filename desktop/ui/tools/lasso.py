"""Lasso mask tool: drag a freehand outline; on release the mask becomes the enclosed area (one
undo step). Shift adds it to the mask, Alt subtracts it; without a modifier it replaces it, as
the box and ellipse tools do."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen, QPolygonF

from desktop.ui.tools.base import Tool
from desktop.ui.tools.shapes import combine

MIN_STEP_PX = 2.0  # widget pixels between two recorded points: enough for a smooth outline


class LassoMaskTool(Tool):
    """Drag to draw; release closes the outline and applies it (``mask_op("polygon")``)."""

    name = "lasso"
    label = "Lasso mask"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.points: list[QPointF] = []  # image coordinates
        self._modifiers = Qt.NoModifier

    @property
    def drawing(self) -> bool:
        return bool(self.points)

    def press(self, pt, event) -> None:
        if event.button() == Qt.LeftButton:
            self.points = [QPointF(pt)]
            self._modifiers = event.modifiers()

    def move(self, pt, event) -> None:
        if not self.points:
            return
        last = self.points[-1]
        step = MIN_STEP_PX / max(1e-6, self.canvas.zoom())
        if abs(pt.x() - last.x()) + abs(pt.y() - last.y()) >= step:
            self.points.append(QPointF(pt))
            self._update_outline()

    def release(self, pt, event) -> None:
        if not self.points:
            return
        self.points.append(QPointF(pt))
        points = [(p.x(), p.y()) for p in self.points]
        self._update_outline()
        self.points = []
        if len(points) < 3 or _area(points) < 4.0:
            return  # a click or a line encloses nothing
        self.document.mask_op("polygon", points=points, **combine(self._modifiers))

    def cancel(self) -> None:
        """Drop the outline being drawn (Esc)."""
        if self.points:
            self._update_outline()
            self.points = []

    def deactivate(self) -> None:
        self.points = []
        super().deactivate()

    def _widget_polygon(self) -> QPolygonF:
        return QPolygonF([self.canvas.image_to_widget(p) for p in self.points])

    def _update_outline(self) -> None:
        if self.canvas is not None and self.points:
            self.canvas.update(self._widget_polygon().boundingRect().toAlignedRect().adjusted(-3, -3, 3, 3))

    def paint(self, painter, canvas) -> None:
        if len(self.points) < 2:
            return
        poly = self._widget_polygon()
        path = QPainterPath()
        path.addPolygon(poly)
        painter.setRenderHint(painter.RenderHint.Antialiasing, True)
        painter.fillPath(path, QColor(61, 142, 240, 40))
        painter.setPen(QPen(QColor(0, 0, 0, 170), 3.0))  # a dark edge keeps it visible on white
        painter.drawPolyline(poly)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
        painter.drawPolyline(poly)
        painter.setPen(QPen(QColor(255, 255, 255, 160), 1.0, Qt.DashLine))  # where release closes it
        painter.drawLine(poly[poly.size() - 1], poly[0])


def _area(points) -> float:
    """The polygon's area in image pixels (shoelace)."""
    s = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2
