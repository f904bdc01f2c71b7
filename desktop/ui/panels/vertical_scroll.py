"""A scroll area that scrolls vertically only and is never narrower than its widget needs."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class VerticalScrollArea(QScrollArea):
    """Scrolls its widget vertically only, and is never narrower than the widget needs (also once
    hidden parts such as the parameters are shown)."""

    def __init__(self, widget: QWidget, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setWidget(widget)
        widget.installEventFilter(self)

    def sizeHint(self) -> QSize:
        # QScrollArea caches its widget's size hint once; this one follows the widget as parts of it
        # are shown or hidden, so a layout gives the area all it needs when there is room.
        inner = self.widget().sizeHint()
        frame = 2 * self.frameWidth()
        return QSize(inner.width() + self.verticalScrollBar().sizeHint().width() + frame, inner.height() + frame)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        inner = self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2
        # Never taller than the content either (a scroll area asks for ~70 px even for one button).
        return QSize(max(hint.width(), inner), min(hint.height(), self.sizeHint().height()))

    def eventFilter(self, obj, event) -> bool:
        if obj is self.widget() and event.type() == QEvent.LayoutRequest:
            self.updateGeometry()  # the panel's minimum width may have changed: let the dock follow
        return super().eventFilter(obj, event)
