"""The main window's size and place: fitted to the screen it opens on, remembered per screen.

A first window gets the default size where the screen's available area holds it with its frame,
and is maximized where it does not (a 1366x768 laptop, 1920x1080 at 200 %): never cut off. The
last geometry is kept per screen (its name and available size in logical pixels, so a change of
scale factor counts as another screen) and restored only where it still fits.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication

DEFAULT_SIZE = QSize(1400, 900)
FRAME_ALLOWANCE = QSize(16, 48)  # a window manager's title bar and borders, before the first show
LEGACY_KEY = "window/geometry"


def screen_key(screen) -> str:
    """``"window/geometry/NAME-WxH"``: the settings key of the geometry last used on ``screen``."""
    avail = screen.availableGeometry()
    name = (screen.name() or "screen").replace("/", "_")
    return f"{LEGACY_KEY}/{name}-{avail.width()}x{avail.height()}"


def first_geometry(avail: QRect, default: QSize = DEFAULT_SIZE) -> tuple[QRect, bool]:
    """``(rect, maximize)``: the default size centred in ``avail``, or ``avail`` itself and
    ``maximize`` when the default (with a frame) does not fit."""
    need_w = default.width() + FRAME_ALLOWANCE.width()
    need_h = default.height() + FRAME_ALLOWANCE.height()
    if need_w <= avail.width() and need_h <= avail.height():
        rect = QRect(0, 0, default.width(), default.height())
        rect.moveCenter(avail.center())
        return rect, False
    inner = QRect(avail.x(), avail.y(), max(1, avail.width() - FRAME_ALLOWANCE.width()),
                  max(1, avail.height() - FRAME_ALLOWANCE.height()))
    return inner, True


def _screen(window):
    return window.screen() or QGuiApplication.primaryScreen()


def restore(window, settings) -> None:
    """Give ``window`` the geometry last used on its screen, or a first one that fits it."""
    screen = _screen(window)
    if screen is None:
        window.resize(DEFAULT_SIZE)
        return
    avail = screen.availableGeometry()
    for key in (screen_key(screen), LEGACY_KEY):
        data = settings.value(key)
        if data is not None and window.restoreGeometry(data):
            frame = window.geometry()
            if window.isMaximized() or window.isFullScreen() or avail.contains(frame):
                return
            break  # saved on a larger screen (or off this one): fit it again
    rect, maximize = first_geometry(avail)
    window.setGeometry(rect)
    if maximize:
        window.setWindowState(window.windowState() | Qt.WindowMaximized)


def save(window, settings) -> None:
    """Remember ``window``'s geometry for its screen (and as the default for screens not seen)."""
    data = window.saveGeometry()
    screen = _screen(window)
    if screen is not None:
        settings.setValue(screen_key(screen), data)
    settings.setValue(LEGACY_KEY, data)
