"""Start-up: what the first window does before its first paint (issue 14, "Faster")."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop.ui.dialogs.studio_server import MODE_KEY, URL_KEY, EngineLocation
from desktop.ui.first_paint import AfterFirstPaint


class _Tokens:
    def __init__(self):
        self.asked = []

    def get(self, url):
        self.asked.append(url)
        return "secret"


def test_this_computers_engine_is_built_without_reading_the_token(ini_settings):
    tokens = _Tokens()
    location = EngineLocation.for_engine(ini_settings, tokens)
    assert location.mode == "local" and tokens.asked == []  # no keyring import for a local engine
    ini_settings.setValue(MODE_KEY, "server")
    ini_settings.setValue(URL_KEY, "http://studio:8765")
    location = EngineLocation.for_engine(ini_settings, tokens)
    assert (location.mode, location.url, location.token) == ("server", "http://studio:8765", "secret")
    assert EngineLocation.load(ini_settings, tokens) == location


def test_start_up_work_runs_once_after_the_first_paint(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    calls = []
    AfterFirstPaint(widget, lambda: calls.append(widget.isVisible()), fallback_ms=60000)
    qtbot.wait(20)
    assert calls == []  # not before the widget was drawn
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: calls == [True], timeout=3000)
    widget.update()
    qtbot.wait(20)
    assert calls == [True]


def test_a_widget_never_shown_still_gets_its_start_up_work(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    calls = []
    AfterFirstPaint(widget, lambda: calls.append(1), fallback_ms=10)
    qtbot.waitUntil(lambda: calls == [1], timeout=3000)


def test_the_window_checks_models_after_its_canvas_painted(qtbot, ini_settings, fake_client, monkeypatch):
    from PySide6.QtCore import QEvent, QObject

    from desktop.ui.main_window import MainWindow

    class Painted(QObject):
        seen = False

        def eventFilter(self, obj, event):
            self.seen |= event.type() == QEvent.Type.Paint
            return False

    order = []
    monkeypatch.setattr(MainWindow, "_check_models", lambda self: order.append(spy.seen))
    w = MainWindow(client=fake_client, settings=ini_settings)
    qtbot.addWidget(w)
    spy = Painted()
    w.canvas.installEventFilter(spy)
    w.ask_unsaved = lambda: "discard"
    w.show()
    qtbot.waitUntil(lambda: bool(order), timeout=3000)
    assert order == [True] and w._autosaver is not None  # drawn first, then the start-up checks
