"""A scroll area that scrolls vertically only and is never narrower than its widget needs."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class VerticalScrollArea(QScrollArea):
    """Scrolls its widget vertically only, and is never narrower than the widget needs (also once
    hidden parts such as the parameters are shown)."""

    resized = Signal(int)  # the viewport's new height, after each resize

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
            self._fit_height()
        return super().eventFilter(obj, event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()
        self.resized.emit(self.viewport().height())

    def _fit_height(self) -> None:
        """QScrollArea sizes its widget by its minimum size alone: with a wrapped label inside (its
        height depends on the width) the widget would be squeezed and its parts overlap or scroll
        twice. Keep the widget at least as tall as its layout needs at the viewport's width."""
        widget = self.widget()
        layout = widget.layout() if widget is not None else None
        if layout is None or not layout.hasHeightForWidth():
            return
        width = self.viewport().width()
        # The part the layout cannot shrink at this width (not the preferred size: the rest may scroll).
        needed = _min_height_for_width(layout, width) if width > 0 else 0
        if needed != widget.minimumHeight():
            widget.setMinimumHeight(needed)


def _min_height_for_width(layout, width: int) -> int:
    """The height ``layout`` cannot do without at ``width``: its minimum, with each wrapped label at
    the height its text takes at that width."""
    extra = 0
    for i in range(layout.count()):
        item = layout.itemAt(i)
        child = item.widget()
        if child is not None and child.isVisible() and child.hasHeightForWidth():
            inner = width - layout.contentsMargins().left() - layout.contentsMargins().right()
            extra += max(0, child.heightForWidth(max(1, inner)) - child.minimumSizeHint().height())
    return layout.totalMinimumSize().height() + extra
