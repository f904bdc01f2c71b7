"""The editor's entry: QApplication with the dark theme, the qasync event loop and the main window.

``BRUSHEDIT_SCREENSHOT=<path>`` makes the window save a grab of itself once it is shown (with the
photo given on the command line open) and quit: the Xvfb screenshot test and the README use it.
With ``BRUSHEDIT_SCREENSHOT_SCENE=candidates`` it first masks a region, types an instruction and
runs the fill engine, and shoots with the candidates showing (the README's picture).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.ui.lazy_engine import app_version
from desktop.ui.theme import apply_dark_theme

# Nothing heavy here: the window's first frame (menus, docks, the photo given on the command line)
# is drawn before numpy, OpenCV, the document model, the engine's api and asyncio are imported.
# The rest of the window is built on the next turn of the event loop (MainWindow(staged=True)).

FIRST_FRAME_WAIT_MS = 3000  # at most, before the qasync loop starts without a first frame seen
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
    app.setOrganizationName("BrushEdit")
    app.setDesktopFileName("brushedit-studio")
    apply_dark_theme(app)
    return app


def create_app(argv: list[str] | None = None):
    """Create (or reuse) the QApplication, the main window and the qasync loop.

    Returns ``(app, loop, window)``. The window is shown and its first frame drawn (with the first
    file of ``argv`` in it, when Qt can read it) before asyncio and qasync are imported; the rest
    of the window is built, and the file opened, on the loop's first turn.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    app = _application(argv)
    from desktop.ui.main_window import MainWindow

    files = [a for a in argv if not a.startswith("-")]
    window = MainWindow(staged=True, photo=files[0] if files else None)
    window.show()
    _wait_for_first_frame(window)
    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window.built.connect(lambda: app.setApplicationVersion(app_version()))
    shot = os.environ.get(SCREENSHOT_ENV)
    if shot:
        take = lambda: _screenshot_and_quit(window, Path(shot))  # noqa: E731
        if os.environ.get(SCENE_ENV) == "candidates":
            QTimer.singleShot(SCREENSHOT_DELAY_MS, lambda: _stage_candidates(window, take))
        else:
            QTimer.singleShot(SCREENSHOT_DELAY_MS, take)
    return app, loop, window


def _wait_for_first_frame(window) -> None:
    """Run Qt's loop until the staged window's stand-in has painted (or FIRST_FRAME_WAIT_MS)."""
    stand_in = window.stand_in
    if stand_in is None or window.ready:
        return
    waiting = QEventLoop()
    stand_in.painted.connect(waiting.quit)
    QTimer.singleShot(FIRST_FRAME_WAIT_MS, waiting.quit)
    waiting.exec()


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
