"""Open every dialog the keyboard reaches and print, as one JSON line, where each landed.

Run by ``test_dialogs_fit_the_screen.py`` in a subprocess whose offscreen screen has a given size
(``QT_QPA_PLATFORM=offscreen:configfile=...``) and scale (``QT_SCALE_FACTOR``): a process has one
screen setup, so each screen is its own run. ``python dialog_fit_probe.py PHOTO``.
"""

from __future__ import annotations

import json
import sys
import time


def main(photo: str) -> None:
    from PySide6.QtCore import QPoint, QSettings, QTimer
    from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from desktop.engine_client import EngineClient
    from desktop.ui.main_window import MainWindow
    from desktop.ui.window_geometry import FRAME_ALLOWANCE
    from tests.fakes.fake_engine import FakeEngineService

    import tempfile

    tmp = tempfile.mkdtemp(prefix="dialog-fit-")
    settings = QSettings(f"{tmp}/settings.ini", QSettings.IniFormat)
    settings.setValue("autosave/folder", f"{tmp}/autosave")
    client = EngineClient(service_factory=lambda on_message: FakeEngineService(on_message, steps=2))
    w = MainWindow(client=client, settings=settings)
    w.ask_unsaved = lambda: "discard"
    w.show()
    wait(app, 300)
    w.open_path(photo)
    wait(app, 200)
    avail = w.screen().availableGeometry()

    def measure(d) -> dict:
        g, f = d.geometry(), d.frameGeometry()
        buttons = []
        for b in d.findChildren(QAbstractButton):
            if b.isVisibleTo(d) and b.text():
                top_left = b.mapTo(d, QPoint(0, 0))
                inside = (top_left.x() >= 0 and top_left.y() >= 0 and top_left.x() + b.width() <= d.width()
                          and top_left.y() + b.height() <= d.height())
                buttons.append({"text": b.text(), "inside": inside})
        hint = d.minimumSizeHint().expandedTo(d.minimumSize())
        return {"class": type(d).__name__, "title": d.windowTitle(), "x": g.x(), "y": g.y(),
                "width": g.width(), "height": g.height(),
                "frame": [f.x(), f.y(), f.width(), f.height()], "min_width": hint.width(), "min_height": hint.height(),
                "buttons": buttons}

    def visible_dialogs():
        return [d for d in QApplication.topLevelWidgets() if isinstance(d, QDialog) and d.isVisible()]

    results = {}

    def probe(name, opener) -> None:
        got = []

        def grab():
            dialogs = visible_dialogs()
            got.append([measure(d) for d in dialogs])
            for d in dialogs:
                d.reject()

        QTimer.singleShot(250, grab)
        opener()
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        results[name] = got[0] if got else []
        wait(app, 50)

    a = w.actions
    probe("new_image", a["new_image"].trigger)
    probe("open", a["open"].trigger)
    probe("preferences", a["preferences"].trigger)
    probe("models", a["models"].trigger)
    probe("about", a["about"].trigger)
    probe("shortcuts", a["shortcuts"].trigger)
    probe("resize_image", a["resize_image"].trigger)
    probe("expand_canvas", a["expand_canvas"].trigger)
    probe("export", a["export"].trigger)
    probe("export_options", lambda: w.ask_export_options(f"{tmp}/out.jpg"))
    probe("export_replace", lambda: w.ask_overwrite(photo))
    probe("unsaved", lambda: type(w).ask_unsaved(w))
    probe("error", lambda: w.show_error("Cannot export", "The folder is read-only: choose another folder. " * 4))
    probe("recover", lambda: w.offer_recovery(f"{tmp}/autosave/none.ora"))
    layer = w.document.layers[0]
    probe("new_prompt", lambda: w.rerun_with_new_prompt(layer))
    print(json.dumps({"screen": [avail.x(), avail.y(), avail.width(), avail.height()],
                      "frame": [FRAME_ALLOWANCE.width(), FRAME_ALLOWANCE.height()], "dialogs": results}))
    sys.stdout.flush()
    client.shutdown()


def wait(app, ms: int) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


if __name__ == "__main__":
    main(sys.argv[1])
