"""A notice banner above the canvas that stays compact on a narrow canvas.

Wide, its text and buttons share one row. Narrower than the text needs beside the buttons (the canvas
of 1920x1080 at 200 % is about 290 px wide; the text wrapped one word per line there and the banner
took a third of the canvas's height), the text takes the whole width and the buttons go below it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget


class Banner(QFrame):
    """``Banner(text, action, dismiss)``: a word-wrapped ``text`` label, an ``action`` button and a
    small ``dismiss`` button, beside or below the text by the banner's width."""

    TEXT_MIN = 360  # px of text width below which the buttons go under the text

    def __init__(self, text: QLabel, action: QWidget, dismiss: QWidget, parent=None):
        super().__init__(parent)
        self.text, self.action, self.dismiss = text, action, dismiss
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(12, 6, 8, 6)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(4)
        self.stacked: bool | None = None
        self._arrange(False)

    def _beside_width(self) -> int:
        m = self._grid.contentsMargins()
        return (m.left() + m.right() + self.TEXT_MIN + 2 * self._grid.horizontalSpacing()
                + self.action.sizeHint().width() + self.dismiss.sizeHint().width())

    def _arrange(self, stacked: bool) -> None:
        if stacked == self.stacked:
            return
        self.stacked = stacked
        for w in (self.text, self.action, self.dismiss):
            self._grid.removeWidget(w)
        for col in range(3):
            self._grid.setColumnStretch(col, 0)
        if stacked:  # the text over the whole width; the action below it, the ✕ at the right
            self._grid.addWidget(self.text, 0, 0, 1, 3)
            self._grid.addWidget(self.action, 1, 0)
            self._grid.addWidget(self.dismiss, 1, 2)
            self._grid.setColumnStretch(1, 1)
        else:
            self._grid.addWidget(self.text, 0, 0)
            self._grid.addWidget(self.action, 0, 1)
            self._grid.addWidget(self.dismiss, 0, 2)
            self._grid.setColumnStretch(0, 1)

    def minimumSizeHint(self):  # noqa: N802 (Qt's name)
        hint = super().minimumSizeHint()
        # Never ask for the side-by-side width: stacked, the banner fits any canvas.
        hint.setWidth(min(hint.width(), self.action.sizeHint().width() + self.dismiss.sizeHint().width() + 40))
        return hint

    def resizeEvent(self, event):  # noqa: N802 (Qt's name)
        self._arrange(event.size().width() < self._beside_width())
        super().resizeEvent(event)
