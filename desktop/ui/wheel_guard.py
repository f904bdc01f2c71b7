"""Value fields in a scrolling panel leave the mouse wheel to the panel until they have focus.

Scrolling the Instruction panel with the wheel over Steps or Guidance changed the value under the
pointer (50 steps became 47 without a click), the way Qt's spin boxes and combo boxes take every
wheel event. Krita's and Photoshop's panels scroll instead; a field takes the wheel once it is clicked
(focused). :func:`guard_wheel` gives a field that behaviour: without focus, its wheel events go to the
scroll bar of the panel around it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget


class _WheelGuard(QObject):
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            area = _scroll_area_of(obj)
            if area is not None:
                QApplication.sendEvent(area.verticalScrollBar(), event)  # the panel scrolls
            return True  # and the value stays as it is
        return False


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


_guard: _WheelGuard | None = None


def guard_wheel(widget: QWidget) -> QWidget:
    """``widget`` (a spin box, combo box, slider) takes wheel events only when focused; returns it."""
    global _guard
    if _guard is None:
        _guard = _WheelGuard()
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel turn does not focus it either
    widget.installEventFilter(_guard)
    return widget
