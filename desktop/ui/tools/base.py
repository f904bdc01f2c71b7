"""The tool interface the canvas drives: gestures arrive in image coordinates."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal


class Tool(QObject):
    """A canvas tool. Subclasses override the gesture methods they need.

    ``press``/``move``/``release`` get the image point (``QPointF``) and the Qt mouse event;
    ``hover`` gets the image point or ``None`` when the mouse leaves the canvas; ``paint`` draws
    the tool's overlay (cursor outline, rubber band) in widget coordinates.
    """

    name = "tool"
    label = "Tool"
    changed = Signal()  # options changed (the options panel refreshes)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.canvas = None

    @property
    def document(self):
        return self.canvas.document if self.canvas is not None else None

    def activate(self, canvas) -> None:
        self.canvas = canvas

    def deactivate(self) -> None:
        if self.canvas is not None:
            self.canvas.update()

    def cursor(self):
        return Qt.CrossCursor

    def press(self, pt, event) -> None:
        pass

    def move(self, pt, event) -> None:
        pass

    def release(self, pt, event) -> None:
        pass

    def hover(self, pt, event) -> None:
        pass

    def key_press(self, event) -> bool:
        """A key pressed on the canvas (auto-repeats included); True when the tool used it."""
        return False

    def paint(self, painter, canvas) -> None:
        pass
