"""Fixtures for the editor's widget tests: a real photo, an INI QSettings in tmp, a main window
on a fake engine whose unsaved-changes prompt never blocks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def photo_array() -> np.ndarray:
    from skimage import data

    return data.chelsea()  # 300 x 451 RGB


@pytest.fixture
def photo_path(tmp_path, photo_array):
    path = tmp_path / "chelsea.png"
    Image.fromarray(photo_array).save(path)
    return path


@pytest.fixture
def ini_settings(tmp_path):
    from PySide6.QtCore import QSettings

    s = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    s.setValue("autosave/folder", str(tmp_path / "autosave"))
    return s


@pytest.fixture
def fake_client():
    from desktop.engine_client import EngineClient
    from tests.fakes.fake_engine import FakeEngineService

    client = EngineClient(service_factory=lambda on_message: FakeEngineService(on_message, steps=3, step_delay=0.005))
    yield client
    client.shutdown()


@pytest.fixture
def make_panel_ui(qtbot):
    """``make_panel_ui(step_delay=0.001, image=None, panel=True, show=True)`` -> ``(client, controller, doc,
    panel, services)``: an edit controller on the fake engine (2 steps of ``step_delay`` s) over ``image``
    (default: the 128 px astronaut), and an Instruction panel on it (None with ``panel=False``), shown unless
    ``show=False``. Every client made is shut down after the test."""
    from skimage import data

    from desktop.document import Document
    from desktop.ui.edit_controller import EditController
    from desktop.ui.panels.instruction_panel import InstructionPanel
    from tests.fakes.fake_engine import fake_engine_client

    clients = []

    def make(step_delay=0.001, image=None, panel=True, show=True):
        client, services = fake_engine_client(steps=2, step_delay=step_delay)
        clients.append(client)
        pixels = data.astronaut()[::4, ::4] if image is None else image
        doc = Document.from_array(np.ascontiguousarray(pixels))
        controller = EditController(client, lambda: doc)
        widget = None
        if panel:
            widget = InstructionPanel(controller)
            qtbot.addWidget(widget)
            if show:
                widget.show()
        return client, controller, doc, widget, services

    yield make
    for client in clients:
        client.shutdown()


@pytest.fixture
def panel_ui(make_panel_ui):
    """An Instruction panel and its controller on the fake engine, over a 128 px astronaut document:
    ``(client, controller, doc, panel, services)``."""
    return make_panel_ui()


@pytest.fixture
def make_window(qtbot, ini_settings, fake_client):
    """``make_window(**kw)`` -> a shown MainWindow (on the fake engine unless ``client`` is given);
    ``unsaved`` answers the unsaved prompt."""
    from PySide6.QtCore import Qt

    from desktop.ui.main_window import MainWindow

    windows = []

    def make(settings=None, unsaved="discard", client=None):
        w = MainWindow(client=client or fake_client, settings=settings or ini_settings)
        w.ask_unsaved = lambda: w.unsaved_answer
        w.unsaved_answer = unsaved
        qtbot.addWidget(w)
        w.setWindowState(w.windowState() & ~Qt.WindowMaximized)  # offscreen's 800x600 screen maximizes it
        w.resize(1200, 800)
        w.show()
        qtbot.waitExposed(w)
        # Start-up work (recovery offer, autosave, model checks) runs after the first paint: let it
        # finish, so that a test's own steps never race the first-run notice.
        qtbot.waitUntil(lambda: w._after_show_once._done, timeout=5000)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.unsaved_answer = "discard"


def _send_mouse(widget, kind, pos, button=None, buttons=None, modifiers=None):
    """Send one mouse event (``kind`` "press", "move" or "release") at widget point ``pos``."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    types = {"press": QEvent.MouseButtonPress, "move": QEvent.MouseMove, "release": QEvent.MouseButtonRelease}
    button = Qt.NoButton if button is None else button
    buttons = (button if kind != "release" else Qt.NoButton) if buttons is None else buttons
    p = QPointF(pos)
    ev = QMouseEvent(types[kind], p, widget.mapToGlobal(p), button if kind != "move" else Qt.NoButton,
                     buttons, modifiers if modifiers is not None else Qt.NoModifier)
    QApplication.sendEvent(widget, ev)


def _drag(widget, points, button=None, modifiers=None):
    """Press at the first point, move through the others, release at the last."""
    from PySide6.QtCore import Qt

    button = Qt.LeftButton if button is None else button
    _send_mouse(widget, "press", points[0], button, modifiers=modifiers)
    for p in points[1:]:
        _send_mouse(widget, "move", p, buttons=button, modifiers=modifiers)
    _send_mouse(widget, "release", points[-1], button, modifiers=modifiers)


@pytest.fixture
def send_mouse():
    return _send_mouse


@pytest.fixture
def drag():
    return _drag
