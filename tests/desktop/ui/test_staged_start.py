"""The editor's staged start (issue 14, "Faster"): the first frame shows the window's chrome and the
photo before numpy, the document model and the engine's api load; the rest follows on the loop's
next turn, and the photo opens as a document where the stand-in drew it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.ui.canvas.stand_in import PLACEHOLDER, PhotoStandIn, centred_offset, fit_zoom

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def staged(qtbot, ini_settings, fake_client):
    from desktop.ui.main_window import MainWindow

    def make(photo=None):
        w = MainWindow(client=fake_client, settings=ini_settings, staged=True, photo=str(photo) if photo else None)
        w.ask_unsaved = lambda: "discard"
        qtbot.addWidget(w)
        w.resize(1200, 800)
        return w

    return make


def test_the_first_frame_comes_before_the_body_and_the_photo_opens_after_it(staged, photo_path, qtbot, fake_client):
    w = staged(photo_path)
    assert not w.ready and w.stand_in is not None and w.document is None
    assert w._canvas_stack.currentWidget() is w.stand_in
    assert w.docks.keys() == {"instruction", "layers", "history", "tool_options", "queue"}  # frames, at their places
    painted = []
    w.stand_in.painted.connect(lambda: painted.append(w.ready))
    with qtbot.waitSignal(w.built, timeout=5000):
        w.show()
    assert painted and painted[0] is False  # drawn before the body was built
    qtbot.waitUntil(lambda: w.stand_in is None, timeout=5000)
    assert w.ready and w.client is fake_client
    assert w.document is not None and w.document.size == (451, 300)
    assert w._canvas_stack.currentWidget() is w.canvas
    assert w.layers_panel.current_layer() is not None and "chelsea.png" in w.windowTitle()
    w.actions["fit"].trigger()  # the actions built with the shell reach the body's canvas
    w.actions["fit"].trigger()
    assert w.canvas.zoom() == pytest.approx(fit_zoom(w.canvas.width(), w.canvas.height(), 451, 300))


def test_the_stand_in_draws_the_photo_where_the_canvas_will(qtbot, photo_path):
    from desktop.document import Document
    from desktop.ui.canvas.canvas_view import CanvasView

    stand_in, canvas = PhotoStandIn(str(photo_path)), CanvasView()
    for widget in (stand_in, canvas):
        qtbot.addWidget(widget)
        widget.resize(900, 640)
        widget.show()
    canvas.set_document(Document.open(str(photo_path)))
    qtbot.waitExposed(stand_in)
    assert (stand_in.image_size.width(), stand_in.image_size.height()) == (451, 300)
    zoom = fit_zoom(900, 640, 451, 300)
    assert canvas.zoom() == pytest.approx(zoom)
    frame = canvas.image_rect_to_widget((0, 0, 451, 300))
    off = centred_offset(900, 640, 451, 300, zoom)
    assert (frame.x(), frame.y(), frame.width()) == pytest.approx((off.x(), off.y(), 451 * zoom))
    # The pixels too: both grabs agree over the picture (smooth scaling of the same image).
    a = stand_in.grab().toImage()
    b = canvas.grab().toImage()
    for x, y in ((450, 320), (int(off.x()) + 20, int(off.y()) + 20), (int(off.x() + 400 * zoom), int(off.y() + 250 * zoom))):
        ca, cb = a.pixelColor(x, y), b.pixelColor(x, y)
        assert max(abs(ca.red() - cb.red()), abs(ca.green() - cb.green()), abs(ca.blue() - cb.blue())) <= 24, (x, y)


def test_a_big_photo_is_decoded_at_the_size_it_is_shown(qtbot, tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(np.full((3000, 4000, 3), 128, np.uint8)).save(path, quality=80)
    stand_in = PhotoStandIn(str(path))
    qtbot.addWidget(stand_in)
    stand_in.resize(800, 600)
    stand_in.show()
    qtbot.waitUntil(lambda: stand_in.decoded_size is not None, timeout=3000)
    assert stand_in.decoded_size.width() <= 800 * stand_in.devicePixelRatioF()
    assert (stand_in.image_size.width(), stand_in.image_size.height()) == (4000, 3000)


def test_exif_orientation_is_applied_as_the_document_applies_it(qtbot, tmp_path):
    from desktop.document import Document

    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to show
    Image.fromarray(np.zeros((200, 300, 3), np.uint8)).save(path, exif=exif)
    stand_in = PhotoStandIn(str(path))
    qtbot.addWidget(stand_in)
    doc = Document.open(str(path))
    assert (stand_in.image_size.width(), stand_in.image_size.height()) == doc.size == (200, 300)


def test_a_file_qt_cannot_read_shows_the_empty_canvas_and_then_the_documents_error(staged, tmp_path, qtbot):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a picture")
    w = staged(bad)
    assert w.stand_in.text == "Opening broken.png…" and w.stand_in.image_size is None
    w.show()
    qtbot.waitUntil(lambda: w.ready and w.stand_in is None, timeout=5000)
    assert w.document is None and w.messages and w.messages[-1][0] == "Cannot open file"


def test_a_project_opens_behind_a_line_that_says_so_and_no_photo_means_the_empty_canvas(staged, photo_path, tmp_path,
                                                                                       qtbot):
    from desktop.document import Document

    project = tmp_path / "work.ora"
    Document.open(str(photo_path)).save(str(project))
    w = staged(project)
    assert w.stand_in.text == "Opening work.ora…"
    w.show()
    qtbot.waitUntil(lambda: w.ready and w.stand_in is None, timeout=5000)
    assert w.document is not None and w.document.size == (451, 300)
    empty = staged(None)
    assert empty.stand_in.text == PLACEHOLDER
    empty.show()
    qtbot.waitUntil(lambda: empty.ready and empty.stand_in is None, timeout=5000)
    assert empty.document is None and empty._canvas_stack.currentWidget() is empty.canvas


def test_a_staged_window_closed_before_its_body_is_built_closes_cleanly(staged, photo_path, qtbot):
    w = staged(photo_path)
    assert not w.ready
    assert w.close()  # never shown: closing builds what closeEvent saves, then closes
    assert w.ready and not w.isVisible()


def test_the_first_frame_imports_neither_numpy_nor_the_engine(tmp_path, photo_path):
    """The editor's own entry, in a fresh process: what is imported when the first frame is drawn,
    and that the photo is a document once the loop has turned."""
    code = (
        "import sys\n"
        "from desktop.ui.canvas import stand_in as s\n"
        "seen = {}\n"
        "paint = s.PhotoStandIn.paintEvent\n"
        "def spy(self, event):\n"
        "    paint(self, event)\n"
        "    seen.setdefault('first', sorted(m for m in ('numpy', 'cv2', 'asyncio', 'desktop.document',\n"
        "                                               'engine.api', 'desktop.engine_client') if m in sys.modules))\n"
        "s.PhotoStandIn.paintEvent = spy\n"
        "from desktop.ui.app import create_app\n"
        "from PySide6.QtCore import QTimer\n"
        f"app, loop, w = create_app([{str(photo_path)!r}])\n"
        "w.ask_unsaved = lambda: 'discard'\n"
        "def check():\n"
        "    if w.document is not None and w.stand_in is None:\n"
        "        print('FIRST', seen.get('first'), 'OPEN', w.document.size, 'torch' in sys.modules)\n"
        "        app.quit()\n"
        "    else:\n"
        "        QTimer.singleShot(20, check)\n"
        "QTimer.singleShot(0, check)\n"
        "QTimer.singleShot(20000, app.quit)\n"
        "with loop:\n"
        "    loop.run_until_complete(__import__('asyncio').sleep(0)) if False else app.exec()\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("FIRST"))
    assert line == "FIRST [] OPEN (451, 300) False", line


@pytest.mark.parametrize("name", ["zoom_in", "fit", "brush", "lasso", "duplicate_layer", "invert", "clear", "grow", "compare"])
def test_an_action_used_before_the_body_is_built_builds_it_and_acts(staged, photo_path, qtbot, name):
    # A click or a shortcut in the moment between the window's mapping and its first paint reaches
    # a shell without a canvas: the body is built then, and the action does what it says.
    w = staged(photo_path)
    w.show()
    assert not w.ready
    w.actions[name].trigger()
    assert w.ready and w.stand_in is None and w.document is not None
    assert w._canvas_stack.currentWidget() is w.canvas
    w.actions[name].trigger()  # and again, now on the built window


def test_a_tool_chosen_before_the_body_is_built_is_the_tool_after(staged, photo_path, qtbot):
    w = staged(photo_path)
    w.show()
    w.actions["lasso"].trigger()
    assert w.current_tool().name == "lasso" and w.actions["lasso"].isChecked()
    w.actions["ellipse"].trigger()
    assert w.current_tool().name == "ellipse"


def test_a_body_that_cannot_be_built_says_so_and_the_window_still_closes(staged, photo_path, qtbot, monkeypatch,
                                                                         capsys):
    from desktop.ui.main_window import MainWindow

    def broken(self, client):
        raise ModuleNotFoundError("No module named 'masks'")

    monkeypatch.setattr(MainWindow, "_build_body", broken)
    w = staged(photo_path)
    w.show()
    w.ensure_built()
    assert not w.ready
    title, text = w.messages[-1]
    assert title == "BrushEdit Studio could not finish starting"
    assert "No module named 'masks'" in text and "brushedit doctor" in text
    assert "ModuleNotFoundError" in capsys.readouterr().err  # the traceback, for a bug report
    assert not w.actions["zoom_in"].isEnabled() and not w.actions["open"].isEnabled()
    assert w.actions["quit"].isEnabled()
    w.ensure_built()  # once: not retried, no second message
    assert len(w.messages) == 1
    assert w.close()  # nothing to save: the window closes
