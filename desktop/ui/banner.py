"""A notice banner above the canvas that stays compact on a narrow canvas.

Wide, its text and buttons share one row. Narrower than the text needs beside the buttons (the canvas
of 1920x1080 at 200 % is about 290 px wide; the text wrapped one word per line there and the banner
took a third of the canvas's height), the text takes the whole width and the buttons go below it.

:func:`first_run_banner` is the one the main window shows: no models installed yet, or a job's
missing models, next to a Download button.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QToolButton, QWidget

from desktop.ui.icons import icon

FIRST_RUN_TEXT = ("<b>No AI models installed yet.</b> Painting, masks and the fill engine work now; generative "
                  "fill, click-to-select and instructions need models.")
FEATURE_NEEDS = (
    "Painting, masks and the classic <b>fill</b> engine work now. "
    "<b>Generative fill</b> needs BrushNet + Stable Diffusion 1.5 (brushnet-x, sd15-realistic-vision); "
    "<b>click-to-select</b> needs SAM (sam-vit-h, or -l/-b); <b>instructions</b> need GroundingDINO "
    "(grounding-dino-tiny) and, for the full instructor, Qwen2-VL (qwen2-vl-7b or -2b)."
)


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


def first_run_banner(on_download: Callable[[], None], on_dismiss: Callable[[], None]) -> Banner:
    """The models banner above the canvas, hidden: its text (``banner.text``) says what is missing,
    "Download models…" calls ``on_download``, the ✕ ``on_dismiss``."""
    # Short (one line on a laptop screen); what each feature needs is in the tooltip and the
    # Models dialog.
    text = QLabel(FIRST_RUN_TEXT)
    text.setWordWrap(True)
    text.setToolTip(FEATURE_NEEDS)
    download = QPushButton(icon("models"), "Download models…")
    download.clicked.connect(on_download)
    # A small ✕ (not a word button): the banner must fit the canvas of a 200 % laptop screen.
    dismiss = QToolButton()
    dismiss.setText("✕")
    dismiss.setAutoRaise(True)
    dismiss.setToolTip("Dismiss this notice")
    dismiss.setAccessibleName("Dismiss")
    dismiss.clicked.connect(on_dismiss)
    # The buttons go below the text on a narrow canvas (200 %): two or three lines, not one word a line.
    banner = Banner(text, download, dismiss)
    banner.setObjectName("firstRunBanner")
    banner.setStyleSheet("#firstRunBanner { background: #2c3a4f; border-bottom: 1px solid #3d8ef0; }")
    banner.hide()
    return banner
