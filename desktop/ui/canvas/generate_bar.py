"""The Generate bar: a prompt field and Run floating on the canvas next to the mask, where the
user is looking (Photoshop's contextual task bar). Shown while a mask exists; placed below the
mask, else above it, else beside it, and over it only when the view leaves no other room.

It reads the canvas (its document and geometry) and hands the prompt to ``on_run``; it never
changes the document itself.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QRect, QRectF, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QToolButton

from desktop.ui.icons import icon

GAP = 10  # px between the mask's box and the bar
MARGIN = 6  # px kept free at the canvas's edges
PROMPT_WIDTH = 260  # px of the prompt field when the canvas has room
SETTLE_MS = 120  # the mask's box is measured once a stroke pauses, not at every dab


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x, y, w, h)`` of the non-zero pixels of ``mask``, or None."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def place(bar_w: int, bar_h: int, target: QRectF, view_w: int, view_h: int) -> QRect:
    """Where a ``bar_w x bar_h`` bar goes beside ``target`` (widget coordinates) in the view:
    below, above, right or left of it, the first that fits; else at the view's bottom edge."""
    def clamp(v, lo, hi):
        return int(max(lo, min(hi, v)))

    cx = clamp(target.center().x() - bar_w / 2, MARGIN, view_w - bar_w - MARGIN)
    cy = clamp(target.center().y() - bar_h / 2, MARGIN, view_h - bar_h - MARGIN)
    below, above = target.bottom() + GAP, target.top() - GAP - bar_h
    right, left = target.right() + GAP, target.left() - GAP - bar_w
    for x, y, fits in ((cx, below, below + bar_h <= view_h - MARGIN),
                       (cx, above, above >= MARGIN),
                       (right, cy, right + bar_w <= view_w - MARGIN),
                       (left, cy, left >= MARGIN)):
        if fits:
            return QRect(int(x), int(y), bar_w, bar_h)
    return QRect(cx, max(MARGIN, view_h - bar_h - MARGIN), bar_w, bar_h)  # no room: over the mask


class _Prompt(QLineEdit):
    """The prompt field; Esc gives the keyboard back to the canvas (the text is kept), as Esc does
    in the panels' value fields, instead of the window's Esc (start the selection over)."""

    def __init__(self, canvas) -> None:
        super().__init__()
        self._canvas = canvas

    PLACEHOLDERS = ("What to paint here (empty: remove)", "What to paint (empty: remove)", "Paint what?")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_placeholder()

    def fit_placeholder(self) -> None:
        """The longest placeholder that shows whole at the field's width (at 200 % the long one was
        cut over the picture); the tooltip says it all."""
        margins = self.textMargins()
        room = self.width() - margins.left() - margins.right() - 12  # the frame and text margins
        metrics = self.fontMetrics()
        text = next((t for t in self.PLACEHOLDERS if metrics.horizontalAdvance(t) <= room), self.PLACEHOLDERS[-1])
        if self.placeholderText() != text:
            self.setPlaceholderText(text)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        super().keyPressEvent(event)


class GenerateBar(QFrame):
    """A prompt field + Run over ``canvas``; ``on_run(prompt)`` is called on Run or Enter."""

    def __init__(self, canvas, on_run: Callable[[str], None]) -> None:
        super().__init__(canvas)
        self.setObjectName("generateBar")
        self.canvas = canvas
        self._on_run = on_run
        self._doc = None
        self._box = None  # the mask's box in image pixels
        self._placed = None  # what the last placement was computed from
        self.setStyleSheet(
            "#generateBar { background: rgb(37, 37, 40); border: 1px solid #3d8ef0;"
            " border-radius: 8px; }")
        self.prompt = _Prompt(canvas)
        self.prompt.setObjectName("generatePrompt")
        self.prompt.setPlaceholderText("What to paint here (empty: remove)")
        self.prompt.setToolTip("What the masked area should show; Enter runs")
        self.prompt.setMinimumWidth(PROMPT_WIDTH)
        self.prompt.returnPressed.connect(self.run)
        self.run_button = QToolButton()
        self.run_button.setObjectName("generateRun")
        self.run_button.setText("Generate")
        self.run_button.setIcon(icon("mdi6.creation"))
        self.run_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.run_button.setToolTip("Generate in the mask (Enter)")
        self.run_button.clicked.connect(self.run)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.prompt, 1)
        layout.addWidget(self.run_button)
        self.adjustSize()
        self.hide()
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._measure)
        canvas.repainting.connect(self._on_canvas_repainting)

    # --- following the canvas ---------------------------------------------------------------
    def _on_canvas_repainting(self) -> None:
        if self.canvas.document is not self._doc:
            self._follow(self.canvas.document)
        self.reposition()

    def _follow(self, doc) -> None:
        if self._doc is not None:
            self._doc.events.disconnect(self._on_document_event)
        self._doc = doc
        if doc is not None:
            doc.events.connect(self._on_document_event)
        self._measure()

    def _on_document_event(self, event) -> None:
        if event.kind in ("mask", "size"):
            self._settle.start()

    def _measure(self) -> None:
        doc = self._doc
        self._box = mask_box(np.asarray(doc.mask)) if doc is not None else None
        self.reposition()

    def reposition(self) -> None:
        """Show the bar beside the mask, or hide it when there is none."""
        if self._box is None or self._doc is None:
            self.hide()
            return
        target = self.canvas.image_rect_to_widget(self._box)
        key = (target.getRect(), self.canvas.width(), self.canvas.height())
        if key == self._placed and self.isVisible():
            return  # the canvas repaints often (previews, ants): nothing moved, nothing to do
        self._placed = key
        self.adjustSize()
        room = self.canvas.width() - 2 * MARGIN
        if self.width() > room:  # a narrow canvas (200 % on a laptop): the prompt gives way, Generate stays
            self.prompt.setMinimumWidth(max(60, self.prompt.minimumWidth() - (self.width() - room)))
            self.adjustSize()
            self.resize(min(self.width(), room), self.height())
        elif self.prompt.minimumWidth() < PROMPT_WIDTH:
            self.prompt.setMinimumWidth(min(PROMPT_WIDTH, self.prompt.minimumWidth() + room - self.width()))
            self.adjustSize()
        rect = place(self.width(), self.height(), target, self.canvas.width(), self.canvas.height())
        if rect.topLeft() != self.pos():
            self.move(rect.topLeft())
        if not self.isVisible():
            self.show()
            self.raise_()

    # --- running -----------------------------------------------------------------------------
    def run(self) -> None:
        # The canvas takes the keys back: Ctrl+Z, B, J, [ ] would otherwise edit the prompt's text.
        self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        self._on_run(self.prompt.text().strip())
