"""The candidate strip: thumbnails of the painted results, hover to preview, accept or discard."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.theme import THUMBNAIL_CHOICES_QSS

THUMB = 96
SMALL_THUMB = 48  # on a short screen (1920x1080 at 200 % is 540 px): the strip must leave room for the field


def thumb_size(screen_height: int) -> int:
    """The candidates' thumbnail size for a screen ``screen_height`` logical px tall (available area)."""
    return THUMB if screen_height >= 700 else SMALL_THUMB


def screen_height(widget) -> int:
    """The available height of the screen ``widget`` is on (the primary screen before it is shown)."""
    from PySide6.QtGui import QGuiApplication

    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry().height() if screen is not None else 1080


def thumbnail(image: np.ndarray, size: int = THUMB, ratio: float = 1.0) -> QPixmap:
    """A ``size``-px (long side, logical) pixmap of an ``H x W x 3|4`` uint8 array, drawn with ``ratio``
    device pixels per logical pixel so that it stays crisp on a 200 % display."""
    ratio = max(1.0, float(ratio))
    logical, size = size, max(1, round(size * ratio))
    h, w = image.shape[:2]
    step = max(1, max(h, w) // (size * 3))
    if step > 1:  # subsample first: area-resizing a full photo costs tens of ms on the GUI thread
        image = image[::step, ::step]
        h, w = image.shape[:2]
    scale = size / max(h, w)
    if scale < 1:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if image.shape[2] == 4 else QImage.Format.Format_RGB888
    qimage = QImage(image.data, w, h, image.strides[0], fmt).copy()  # copy: own the buffer
    pixmap = QPixmap.fromImage(qimage)
    if size != logical:
        pixmap.setDevicePixelRatio(ratio)
    return pixmap


def _region(cand) -> np.ndarray:
    """The part of a candidate worth a thumbnail: its changed box with some context around it."""
    image = cand.image
    h, w = image.shape[:2]
    if not cand.bbox:
        return image
    x, y, bw, bh = cand.bbox
    side = max(bw, bh) * 1.5  # a square-ish view with context
    cx, cy = x + bw / 2, y + bh / 2
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    return image[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else image


class CandidateStrip(QWidget):
    """Thumbnails of the controller's candidates.

    Hover shows a candidate on the canvas (``controller.preview_candidate``); a click selects it
    alone, Ctrl/Shift-click (or Space) adds it, a double click accepts it. "Accept" adds the selected candidates (or the only one) as separate
    edit layers; "Discard" drops them all. While an edit runs, the live step preview shows here.

    Signals
    -------
    row_shown(): the row of thumbnails (or the live preview) appeared, taking height from the panel above.
    """

    row_shown = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.buttons: list[QToolButton] = []
        self._shown: list = []  # the candidates the buttons show
        self._hovered: int | None = None
        self._plain_click = False  # the button's click came from a mouse release without Ctrl/Shift

        root = QVBoxLayout(self)
        root.setContentsMargins(6, 0, 6, 6)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Room for the thumbnail, its seed label and the horizontal scroll bar that several
        # candidates bring in a narrow dock (without it the bar would cover the labels).
        bar = self.scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.thumb = thumb_size(screen_height(self))
        self.scroll.setFixedHeight(self._button_height() + 2 + bar)
        self.row_widget = QWidget()
        self.row_widget.setStyleSheet(THUMBNAIL_CHOICES_QSS)
        self.row = QHBoxLayout(self.row_widget)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.live = QLabel()
        self.live.setFixedSize(self.thumb, self.thumb)
        self.live.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.live.setToolTip("Live preview of the running edit")
        self.live.setVisible(False)
        self.row.addWidget(self.live)
        self.row.addStretch(1)
        self.scroll.setWidget(self.row_widget)
        root.addWidget(self.scroll)

        self.hint = QLabel("Candidates appear here after Run. Hover to preview, click to select, Ctrl-click to add.")
        self.hint.setWordWrap(True)
        root.addWidget(self.hint)

        actions = QHBoxLayout()
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Keep the selected candidates, each as its own edit layer "
                                      "(or double-click a thumbnail)")
        self.more_button = QPushButton("More")
        self.more_button.setToolTip("Paint as many candidates again with the next seeds and add them here "
                                    "(the ones shown are kept)")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Drop every candidate; the image stays as it was")
        actions.addWidget(self.accept_button)
        actions.addWidget(self.more_button)
        actions.addWidget(self.discard_button)
        root.addLayout(actions)

        self.accept_button.clicked.connect(self.accept_selected)
        self.discard_button.clicked.connect(controller.discard)
        self.more_button.clicked.connect(controller.more)
        controller.candidates_changed.connect(self.set_candidates)
        controller.step_preview.connect(self._on_step_preview)
        controller.busy_changed.connect(self._on_busy)
        self._update_actions()

    def _button_height(self) -> int:
        """The height a candidate's button takes (thumbnail, its seed line, border and padding), measured
        on a button styled as the real ones: no guessed room for a second line of text."""
        probe = QToolButton()
        probe.setStyleSheet(THUMBNAIL_CHOICES_QSS)
        probe.setFont(self.font())
        probe.setIcon(QIcon(QPixmap(self.thumb, self.thumb)))
        probe.setIconSize(QSize(self.thumb, self.thumb))
        probe.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        probe.setText("seed 0000000000")
        height = probe.sizeHint().height()
        probe.deleteLater()
        return height

    # --- public ---------------------------------------------------------------------------------------

    def set_candidates(self, candidates: list) -> None:
        # More appends to the same list: keep what the user had selected among the first ones.
        shown = self._shown
        appended = bool(shown) and len(candidates) > len(shown) and all(
            a is b for a, b in zip(shown, candidates))
        checked = [b.isChecked() for b in self.buttons] if appended else []
        self._shown = list(candidates)
        for b in self.buttons:
            b.removeEventFilter(self)
            b.hide()  # now: deleteLater waits for the event loop, the strip must look empty at once
            self.row.removeWidget(b)
            b.deleteLater()
        self.buttons = []
        self._hovered = None
        for i, cand in enumerate(candidates):
            b = QToolButton()
            b.setCheckable(True)
            b.setIcon(QIcon(thumbnail(_region(cand), self.thumb, self.devicePixelRatioF())))
            b.setIconSize(QSize(self.thumb, self.thumb))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setText(f"seed {cand.seed}")
            b.setToolTip(f"Candidate {i + 1}, seed {cand.seed}. Click to select it, Ctrl-click to add it; "
                         "double-click or Enter to accept; ← → to look through, Space to add")
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            b.installEventFilter(self)
            b.toggled.connect(self._update_actions)
            b.clicked.connect(lambda _on=False, i=i: self._clicked(i))
            self.row.insertWidget(self.row.count() - 1, b)
            self.buttons.append(b)
        if checked:
            for b, on in zip(self.buttons, checked):
                b.setChecked(on)
        elif self.buttons:
            # The first candidate is what the canvas shows when the edit ends: selected, so Accept
            # keeps what the user sees (Photoshop's first variation), and others can be added.
            self.buttons[0].setChecked(True)
        self.live.setVisible(False)
        self._update_actions()

    def selected(self) -> list[int]:
        return [i for i, b in enumerate(self.buttons) if b.isChecked()]

    def accept_selected(self) -> list:
        indices = self.selected()
        if not indices and len(self.buttons) == 1:
            indices = [0]
        if not indices:
            return []
        return self.controller.accept(indices)

    def accept_one(self, index: int) -> list:
        return self.controller.accept([index])

    # --- events ----------------------------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj in self.buttons:
            i = self.buttons.index(obj)
            t = event.type()
            if t == QEvent.Type.Enter:
                self._hover(i)
            elif t == QEvent.Type.Leave:
                self._hover(None)
            elif t == QEvent.Type.MouseButtonRelease:
                adding = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
                self._plain_click = not (event.modifiers() & adding)
            elif t == QEvent.Type.MouseButtonDblClick:
                self.accept_one(i)
                return True
            elif t == QEvent.Type.FocusIn:
                self._hover(i)  # looking through with the keyboard previews like hovering
            elif t == QEvent.Type.KeyPress:
                return self._key(i, event.key())
        return super().eventFilter(obj, event)

    def _clicked(self, index: int) -> None:
        """A plain click selects that candidate alone (as designers expect); Ctrl- or Shift-click,
        and Space, add it to (or take it from) the selection."""
        plain, self._plain_click = self._plain_click, False
        if not plain:
            return
        for i, b in enumerate(self.buttons):
            b.setChecked(i == index)

    def _key(self, index: int, key: int) -> bool:
        """Arrows move through the candidates (previewing each), Enter accepts the selected ones
        (or the focused one when none is selected); Space (the button's own) toggles selection."""
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            j = index + (1 if key == Qt.Key.Key_Right else -1)
            if 0 <= j < len(self.buttons):
                self.buttons[j].setFocus(Qt.FocusReason.OtherFocusReason)
                self.scroll.ensureWidgetVisible(self.buttons[j])
                self._hover(j)
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.selected():
                self.accept_selected()
            else:
                self.accept_one(index)
            return True
        return False

    def _hover(self, index: int | None) -> None:
        if index == self._hovered:
            return
        self._hovered = index
        if index is None:
            # Back to the first selected candidate (what Accept would keep), else the document.
            sel = self.selected()
            self.controller.preview_candidate(sel[0] if sel else None)
        else:
            self.controller.preview_candidate(index)

    def _on_step_preview(self, image) -> None:
        self.live.setPixmap(thumbnail(np.asarray(image), self.thumb, self.devicePixelRatioF()))
        self.live.setVisible(True)
        self._show_row(True)
        self.hint.setVisible(False)  # the preview is in its place (and a short window has no room for both)

    def _on_busy(self, busy: bool) -> None:
        if not busy:
            self.live.setVisible(False)
        self._update_actions()

    def _update_actions(self, *_args) -> None:
        have = bool(self.buttons)
        n = len(self.selected())
        self.accept_button.setEnabled(have and (n > 0 or len(self.buttons) == 1))
        self.accept_button.setText(f"Accept {n} as layers" if n > 1 else "Accept")
        self.discard_button.setEnabled(have)
        self.more_button.setEnabled(have and not getattr(self.controller, "busy", False))
        self.hint.setVisible(not have and self.live.isHidden())
        # No empty box: the strip shows only with candidates or a live preview.
        self._show_row(have or not self.live.isHidden())

    def _show_row(self, on: bool) -> None:
        was = self.scroll.isVisibleTo(self)
        self.scroll.setVisible(on)
        if on and not was:
            self.row_shown.emit()
