"""Run start-up work once the window has been drawn, not before: the first frame comes first.

``QTimer.singleShot(0, ...)`` from a constructor fires before the window server has exposed the
window (under X11 the expose is a round trip away), so whatever it does delays the first paint.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class AfterFirstPaint(QObject):
    """Call ``callback`` once, on the event loop's turn after ``widget`` first paints, or after
    ``fallback_ms`` if it never does (a window that is built but not shown)."""

    def __init__(self, widget: QWidget, callback: Callable[[], None], fallback_ms: int = 1000) -> None:
        super().__init__(widget)
        self._widget, self._callback, self._done = widget, callback, False
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self.run)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if not self._done and event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self, self.run)
        return False

    def run(self) -> None:
        """Run the callback now unless it already ran."""
        if self._done:
            return
        self._done = True
        self._widget.removeEventFilter(self)
        self._callback()
