"""Move tool: drag to move the selected layer (a pasted image, an edit) on the canvas; each drag
is one undo step. Shift keeps the move horizontal or vertical. The arrow keys nudge it by one
pixel (Shift: ten); a run of nudges is one undo step."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen

from desktop.document import DocumentError
from desktop.ui.tools.base import Tool


class MoveTool(Tool):
    name = "move_layer"
    label = "Move layer"

    def __init__(self, current_layer: Callable[[], object], parent=None) -> None:
        super().__init__(parent)
        self._current_layer = current_layer
        self._drag = None  # (layer, start point, start offset, key) during a drag

    def cursor(self):
        return Qt.SizeAllCursor

    def press(self, pt, event) -> None:
        layer = self._current_layer()
        if event.button() != Qt.LeftButton or layer is None or self.document is None:
            return
        if not layer.visible:
            bar = getattr(self.canvas.window(), "statusBar", None)
            if bar is not None:
                bar().showMessage("Show the layer before moving it", 3000)
            return
        self._drag = (layer, QPointF(pt), layer.offset, object())

    def move(self, pt, event) -> None:
        if self._drag is None:
            return
        layer, start, (x, y), key = self._drag
        dx, dy = pt.x() - start.x(), pt.y() - start.y()
        if event.modifiers() & Qt.ShiftModifier:  # constrain to the main axis
            if abs(dx) >= abs(dy):
                dy = 0.0
            else:
                dx = 0.0
        try:
            self.document.move_layer_content(layer, x + round(dx), y + round(dy), drag=key)
        except DocumentError:
            pass  # too far away: stay where the last valid move put it

    def release(self, pt, event) -> None:
        if self._drag is not None:
            self.move(pt, event)
            self._drag = None

    NUDGE_KEYS = {Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0), Qt.Key_Up: (0, -1), Qt.Key_Down: (0, 1)}

    def key_press(self, event) -> bool:
        step = self.NUDGE_KEYS.get(event.key())
        layer = self._current_layer()
        if step is None or layer is None or self.document is None or self._drag is not None:
            return False
        n = 10 if event.modifiers() & Qt.ShiftModifier else 1
        x, y = layer.offset
        try:
            self.document.move_layer_content(layer, x + step[0] * n, y + step[1] * n, drag=("nudge", id(layer)))
        except DocumentError:
            pass
        return True

    def activate(self, canvas) -> None:
        super().activate(canvas)
        canvas.update()  # show the selected layer's bounds

    def deactivate(self) -> None:
        self._drag = None
        super().deactivate()

    def bounds(self):
        """The selected layer's box in widget coordinates (None without one)."""
        layer = self._current_layer()
        if layer is None or self.canvas is None or self.document is None:
            return None
        return self.canvas.image_rect_to_widget(layer.bbox)

    def paint(self, painter, canvas) -> None:
        rect = self.bounds()
        if rect is None:
            return
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 160), 3.0))
        painter.drawRect(rect)
        painter.setPen(QPen(QColor(61, 142, 240), 1.0, Qt.DashLine))
        painter.drawRect(rect)
