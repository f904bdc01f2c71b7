"""Every dialog fits the screen it opens on: its size bounded by the screen's available area (less a
window manager's frame), its frame moved inside that area.

Preferences asked for 820x600 and opened 1640x1200 device pixels on a 1920x1080 screen at 200 %,
with OK/Cancel/Apply off the screen. One application-wide filter (:func:`install`) fits every
``QDialog`` when it is shown (ours, message boxes, input and file dialogs), so a new dialog cannot
forget to; :func:`fit_to_screen` is the one helper it calls.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from desktop.ui.window_geometry import FRAME_ALLOWANCE

log = logging.getLogger(__name__)
_RESIZED = Qt.WidgetAttribute.WA_Resized  # the dialog asked for a size (resize()) before it was shown


def room_on(avail: QRect) -> QSize:
    """The largest client size whose frame (title bar and borders) fits ``avail``."""
    return QSize(max(1, avail.width() - FRAME_ALLOWANCE.width()),
                 max(1, avail.height() - FRAME_ALLOWANCE.height()))


def screen_of(widget: QWidget):
    """The screen ``widget`` opens on: its parent window's when it has one, else its own."""
    parent = widget.parentWidget()
    window = parent.window() if parent is not None else None
    screen = (window.screen() if window is not None else None) or widget.screen()
    return screen or QGuiApplication.primaryScreen()


def fit_to_screen(dialog: QWidget, screen=None) -> QRect:
    """Bound ``dialog``'s size to ``screen``'s available area (less a frame) and move its frame
    inside it; returns the client geometry given. The content's minimum is kept where it fits; a
    dialog whose content needs more than the screen has must scroll (a test checks that none does)."""
    screen = screen or screen_of(dialog)
    if screen is None:
        return dialog.geometry()
    avail = screen.availableGeometry()
    room = room_on(avail)
    size = dialog.size() if dialog.testAttribute(_RESIZED) else dialog.sizeHint()
    size = size.expandedTo(dialog.minimumSizeHint()).expandedTo(dialog.minimumSize())
    size = size.boundedTo(room).boundedTo(dialog.maximumSize())
    if size != dialog.size():
        dialog.resize(size)
    frame_w = dialog.frameGeometry().width() - dialog.width()
    frame_h = dialog.frameGeometry().height() - dialog.height()
    frame = QSize(max(frame_w, FRAME_ALLOWANCE.width()), max(frame_h, FRAME_ALLOWANCE.height()))
    top_left = dialog.frameGeometry().topLeft()
    x = min(max(top_left.x(), avail.left()), avail.right() + 1 - (size.width() + frame.width()))
    y = min(max(top_left.y(), avail.top()), avail.bottom() + 1 - (size.height() + frame.height()))
    target = QPoint(max(x, avail.left()), max(y, avail.top()))
    if target != top_left:
        dialog.move(target)
    return dialog.geometry()


class _DialogFitter(QObject):
    """Fits each dialog as it is shown (QDialog.setVisible has placed it over its parent by then)."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Show and isinstance(watched, QDialog) and watched.isWindow():
            try:
                fit_to_screen(watched)
            except Exception:  # noqa: BLE001 - a placement problem must never stop a dialog opening
                log.exception("could not fit %s to its screen", type(watched).__name__)
        return False


_fitter: _DialogFitter | None = None


def install(app: QApplication | None = None) -> None:
    """Fit every dialog of ``app`` (default: the running one) to its screen; once per application."""
    global _fitter
    app = app or QApplication.instance()
    if app is None or _fitter is not None and _fitter.parent() is app:
        return
    _fitter = _DialogFitter(app)
    app.installEventFilter(_fitter)
