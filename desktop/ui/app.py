"""The editor's entry: QApplication with the dark theme, the qasync event loop and the main window.

``BRUSHEDIT_SCREENSHOT=<path>`` makes the window save a grab of itself once it is shown (with the
photo given on the command line open) and quit: the Xvfb screenshot test and the README use it.
With ``BRUSHEDIT_SCREENSHOT_SCENE=candidates`` it first masks a region, types an instruction and
runs the fill engine, and shoots with the candidates showing (the README's picture).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

# Before PySide6, on purpose: once PySide6 is imported, its ``__feature__`` import hook reads the
# source of every module imported after it (``inspect.getsource``, looking for "PySide6"), about
# 0.3 ms a module here. The engine's api (with numpy and OpenCV through the mask operations) and
# Pillow with the plugins it opens a photo with are some 250 modules that never use Qt.
from PIL import Image  # noqa: I001 - the order is the point

from desktop.engine_client import APP_VERSION  # imports engine.api before PySide6.QtCore

Image.preinit()  # BMP, GIF, JPEG, PPM, PNG: what Image.open loads first, loaded here

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.ui.theme import apply_dark_theme  # noqa: E402

SCREENSHOT_ENV = "BRUSHEDIT_SCREENSHOT"
SCREENSHOT_DELAY_MS = 1500
SCENE_ENV = "BRUSHEDIT_SCREENSHOT_SCENE"
SCENE_TIMEOUT_MS = 30000


def _application(argv: list[str]) -> QApplication:
    app = QApplication.instance()
    if app is None:
        from PySide6.QtCore import Qt

        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "brushedit-studio", *argv])
    app.setApplicationName("BrushEdit Studio")
    app.setApplicationVersion(APP_VERSION)
    app.setOrganizationName("BrushEdit")
    app.setDesktopFileName("brushedit-studio")
    apply_dark_theme(app)
    return app


def create_app(argv: list[str] | None = None):
    """Create (or reuse) the QApplication, the qasync loop and the main window.

    Returns ``(app, loop, window)``; the window is shown and has the first file of ``argv`` open.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    app = _application(argv)
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from desktop.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    files = [a for a in argv if not a.startswith("-")]
    if files:
        QTimer.singleShot(0, lambda: window.open_path(files[0]))
    shot = os.environ.get(SCREENSHOT_ENV)
    if shot:
        take = lambda: _screenshot_and_quit(window, Path(shot))  # noqa: E731
        if os.environ.get(SCENE_ENV) == "candidates":
            QTimer.singleShot(SCREENSHOT_DELAY_MS, lambda: _stage_candidates(window, take))
        else:
            QTimer.singleShot(SCREENSHOT_DELAY_MS, take)
    return app, loop, window


def _stage_candidates(window, then) -> None:
    """Mask a region of the open photo, type an instruction, run the fill engine and call ``then``
    once its candidates show (or after SCENE_TIMEOUT_MS, whatever happened)."""
    doc = window.document
    if doc is None:
        then()
        return
    done = []

    def finish(*_args) -> None:
        if not done:
            done.append(True)
            QTimer.singleShot(300, then)  # let the strip and the canvas preview paint

    w, h = doc.size
    doc.mask_op("ellipse", rect=(int(w * 0.7), int(h * 0.6), int(w * 0.22), int(h * 0.2)))
    window.banner.hide()
    panel = window.instruction_panel
    panel.instruction.setPlainText("remove the whiskers on the right")
    panel.engine.setCurrentIndex(panel.engine.findData("fill"))
    panel.candidates.setValue(2)
    window.controller.candidates_changed.connect(finish)
    window.controller.error.connect(finish)
    QTimer.singleShot(SCENE_TIMEOUT_MS, finish)
    panel.run()


def _screenshot_and_quit(window, path: Path) -> None:
    """Save what the screen shows of ``window`` (falls back to rendering the widget) and quit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    window.canvas.fit()
    window.canvas.render_all()
    QApplication.processEvents()
    pixmap = None
    screen = window.screen()
    if screen is not None and QGuiApplication.platformName() not in ("offscreen", "minimal"):
        pixmap = screen.grabWindow(window.winId())
    if pixmap is None or pixmap.isNull() or pixmap.width() < 10:
        pixmap = window.grab()
    pixmap.save(str(path))
    window.ask_unsaved = lambda: "discard"  # a staged scene is nobody's work: quit without asking
    QApplication.quit()


def run(argv: list[str] | None = None) -> int:
    """Run the editor until its window closes; returns the exit code."""
    app, loop, window = create_app(argv)
    with loop:
        loop.run_forever()
    return 0
