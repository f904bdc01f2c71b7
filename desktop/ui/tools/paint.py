"""Paint tool: colour strokes with the round brush, for a rough sketch that an edit with a
Strength below 1 then turns into a picture (Krita AI's way of guiding the model).

Strokes never touch the photo or an edit layer: with one of those selected, the first stroke
makes a "Paint" layer right above it, which the next strokes paint on. Alt+click picks a colour from
the picture. Each stroke is one undo step.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen

from desktop.document import DocumentError
from desktop.ui.tools.brush import MaskBrushTool, _pressure


# Amber: it reads on the dark theme's panels and canvas (a near-black did not) and is unlike the
# red tint of the edit mask.
DEFAULT_COLOR = (245, 166, 35)


class PaintTool(MaskBrushTool):
    """A colour brush (``size``, ``hardness``, ``color``, ``opacity``)."""

    def __init__(self, current_layer: Callable[[], object], size: int = 24, hardness: float = 0.7,
                 parent=None) -> None:
        super().__init__("paint", size, hardness, parent)
        self.name, self.label = "paint", "Paint"
        self._current_layer = current_layer
        self._color = DEFAULT_COLOR
        self._opacity = 1.0
        self._points: list[tuple[float, float, float]] = []
        self._made = (None, None)  # (the layer selected then, the Paint layer a stroke made)

    @property
    def color(self) -> tuple[int, int, int]:
        return self._color

    @color.setter
    def color(self, value) -> None:
        rgb = tuple(int(min(255, max(0, c))) for c in tuple(value)[:3])
        if rgb != self._color:
            self._color = rgb
            self.changed.emit()

    @property
    def opacity(self) -> float:
        return self._opacity

    @opacity.setter
    def opacity(self, value) -> None:
        value = float(min(1.0, max(0.01, value)))
        if value != self._opacity:
            self._opacity = value
            self.changed.emit()

    def target_layer(self):
        """The layer a stroke goes on: the selected one unless it is the bottom (photo) layer or an
        edit; then None, which makes a new Paint layer."""
        layer, doc = self._current_layer(), self.document
        if doc is None:
            return None
        layers = doc.layers
        made_from, made = self._made
        if (made is not None and layer is made_from and any(item is made for item in layers)
                and getattr(made, "provenance", None) is None):
            return made  # the Paint layer the last stroke made (the list may not show it yet)
        if layer is None or getattr(layer, "provenance", None) is not None:
            return None
        return layer if any(item is layer for item in layers[1:]) else None

    def press(self, pt, event) -> None:
        if event.button() != Qt.LeftButton or self.document is None:
            return
        if event.modifiers() & Qt.AltModifier:  # eyedropper
            x, y = int(pt.x()), int(pt.y())
            if 0 <= x < self.document.width and 0 <= y < self.document.height:
                self.color = tuple(self.document.flatten((x, y, 1, 1))[0, 0, :3])
            return
        self._points = [(pt.x(), pt.y(), _pressure(event))]
        self._update_stroke()
        self.hover(pt, event)

    def move(self, pt, event) -> None:
        if self._points:
            self._points.append((pt.x(), pt.y(), _pressure(event)))
            self._update_stroke(last_only=True)
        self.hover(pt, event)

    def release(self, pt, event) -> None:
        if not self._points:
            return
        points, self._points = self._points, []
        self._update_stroke(points)
        target, selected = self.target_layer(), self._current_layer()
        try:
            # A new Paint layer goes right above the selected layer, where the user is working.
            above = selected if target is None and any(item is selected for item in self.document.layers) else None
            painted = self.document.paint_stroke(target, points, size=self.size, hardness=self.hardness,
                                                 color=self._color, opacity=self._opacity, above=above)
        except DocumentError:
            return
        if target is None and painted is not None:
            self._made = (selected, painted)

    def deactivate(self) -> None:
        self._points = []
        super().deactivate()

    # --- the stroke while it is drawn (committed to the document on release) -------------------
    def _stroke_rect(self, points) -> QRectF | None:
        if not points or self.canvas is None:
            return None
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        r = self.size / 2 + 2
        a = self.canvas.image_to_widget(QPointF(min(xs) - r, min(ys) - r))
        b = self.canvas.image_to_widget(QPointF(max(xs) + r, max(ys) + r))
        return QRectF(a, b)

    def _update_stroke(self, points=None, last_only: bool = False) -> None:
        points = self._points if points is None else points
        rect = self._stroke_rect(points[-2:] if last_only else points)
        if rect is not None:
            self.canvas.update(rect.toAlignedRect().adjusted(-2, -2, 2, 2))

    def paint(self, painter, canvas) -> None:
        if self._points:
            path = QPainterPath(canvas.image_to_widget(QPointF(*self._points[0][:2])))
            for x, y, _ in self._points[1:]:
                path.lineTo(canvas.image_to_widget(QPointF(x, y)))
            painter.setRenderHint(painter.RenderHint.Antialiasing, True)
            color = QColor(*self._color, int(round(255 * self._opacity)))
            pen = QPen(color, max(1.0, self.size * canvas.zoom()), Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
            painter.strokePath(path, pen)
        super().paint(painter, canvas)
