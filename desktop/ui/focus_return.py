"""Give the keyboard back to the canvas from a value field: Esc, Enter or Return in a spin box or a
drop-down of a panel moves the focus to the canvas, so tool shortcuts (B, E, [ ], ...) work again
at once instead of being typed into the field (a click on the canvas does the same)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget

_KEYS = (Qt.Key_Escape, Qt.Key_Return, Qt.Key_Enter)


class FocusReturn(QObject):
    """An event filter on the value fields under some panels; ``target`` takes the focus back."""

    def __init__(self, target: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._target = target

    def watch(self, *roots: QWidget) -> None:
        """Watch every spin box and drop-down under ``roots`` (call again for fields added later)."""
        for root in roots:
            for field in root.findChildren(QAbstractSpinBox) + root.findChildren(QComboBox):
                field.removeEventFilter(self)  # once each, however often watch() runs
                field.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.KeyPress and event.key() in _KEYS:
            if isinstance(obj, QComboBox) and obj.view().isVisible():
                return False  # the open list takes Esc/Enter itself
            if isinstance(obj, QAbstractSpinBox):
                obj.interpretText()  # keep what was typed, as leaving the field would
            if event.key() == Qt.Key_Escape or isinstance(obj, QAbstractSpinBox):
                self._target.setFocus(Qt.ShortcutFocusReason)
                return event.key() == Qt.Key_Escape
        return False
