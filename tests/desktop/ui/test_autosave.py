"""Autosaver: periodic and on-demand atomic OpenRaster autosave; recovery after a crash or kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from desktop.document import Document
from desktop.ui.autosave import Autosaver, default_folder

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def doc():
    from skimage import data

    d = Document.from_array(np.ascontiguousarray(data.chelsea()[::3, ::3]))
    mask = np.zeros((d.height, d.width), np.uint8)
    mask[10:40, 20:60] = 255
    d.set_mask(mask, label="Box")
    return d


def test_save_now_writes_a_project_without_changing_the_document(doc, tmp_path, qtbot):
    project = tmp_path / "work.ora"
    doc.save(project)
    doc.add_edit(np.full((10, 10, 3), 200, np.uint8), offset=(5, 5))
    assert doc.dirty
    saver = Autosaver(lambda: doc, folder=tmp_path / "autosave")
    with qtbot.waitSignal(saver.saved):
        path = saver.save_now()
    assert path == tmp_path / "autosave" / "autosave.ora" and path.is_file()
    # The user's project file and unsaved state are untouched.
    assert doc.path == project.resolve() and doc.dirty
    # No temporary files are left behind.
    assert sorted(p.name for p in path.parent.iterdir()) == ["autosave.json", "autosave.ora"]
    again = Document.open(path)
    assert len(again.layers) == 2 and np.array_equal(again.flatten(), doc.flatten())
    assert np.array_equal(again.mask, doc.mask)
    info = Autosaver.recovery_info(path.parent)
    assert info["pid"] == os.getpid() and info["original"] == str(project.resolve())


def test_nothing_to_save_without_a_document(tmp_path):
    saver = Autosaver(lambda: None, folder=tmp_path)
    assert saver.save_now() is None and not (tmp_path / "autosave.ora").exists()


def test_timer_saves_only_when_the_document_changed(doc, tmp_path, qtbot):
    saver = Autosaver(lambda: doc, folder=tmp_path, interval_s=0.03)
    saved = []
    saver.saved.connect(saved.append)
    saver.start()
    qtbot.waitUntil(lambda: len(saved) == 1, timeout=3000)
    qtbot.wait(150)
    assert len(saved) == 1  # unchanged since: no rewrite
    doc.mask_op("invert")
    qtbot.waitUntil(lambda: len(saved) == 2, timeout=3000)
    saver.stop()


def test_clean_exit_leaves_nothing_to_recover(doc, tmp_path):
    saver = Autosaver(lambda: doc, folder=tmp_path)
    saver.save_now()
    saver.clear()
    assert Autosaver.find_recovery(tmp_path) is None
    assert not any(tmp_path.iterdir())


def test_a_failed_autosave_is_reported_not_raised(doc, tmp_path, qtbot):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    saver = Autosaver(lambda: doc, folder=blocker / "sub")  # cannot create a folder under a file
    with qtbot.waitSignal(saver.failed) as got:
        assert saver.save_now() is None
    assert "Autosave failed" in got.args[0]


def test_a_leftover_from_this_process_is_offered(doc, tmp_path):
    Autosaver(lambda: doc, folder=tmp_path).save_now()
    assert Autosaver.find_recovery(tmp_path) == tmp_path / "autosave.ora"


def test_recovery_after_the_editor_is_killed(tmp_path):
    folder = tmp_path / "autosave"
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        from PySide6.QtCore import QCoreApplication
        from desktop.document import Document
        from desktop.ui.autosave import Autosaver
        app = QCoreApplication([])
        doc = Document.new(80, 60)
        doc.add_edit(np.full((20, 30, 3), (10, 200, 30), np.uint8), offset=(7, 9))
        saver = Autosaver(lambda: doc, folder={str(folder)!r})
        saver.save_now()
        print("saved", flush=True)
        time.sleep(120)
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saved"
        # While that editor still runs, its autosave is not ours to recover.
        assert Autosaver.find_recovery(folder) is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    found = Autosaver.find_recovery(folder)
    assert found == folder / "autosave.ora"
    doc = Document.open(found)
    assert (doc.width, doc.height) == (80, 60) and len(doc.layers) == 2
    assert tuple(doc.flatten()[9, 7, :3]) == (10, 200, 30)


def test_default_folder_is_in_the_user_data_dir():
    import platformdirs

    assert default_folder() == Path(platformdirs.user_data_path("BrushEditStudio", appauthor=False)) / "autosave"


def test_big_documents_are_written_on_a_helper_thread(doc, tmp_path, qtbot, monkeypatch):
    import threading

    import desktop.ui.autosave as autosave

    monkeypatch.setattr(Autosaver, "SYNC_PIXELS", 100)
    threads = []
    real = autosave._write
    monkeypatch.setattr(autosave, "_write", lambda *a: threads.append(threading.current_thread().name) or real(*a))
    saver = Autosaver(lambda: doc, folder=tmp_path)
    with qtbot.waitSignal(saver.saved, timeout=10000):
        assert saver.save_now() == tmp_path / "autosave.ora"
        # A second request while writing is queued, not run concurrently.
        saver.save_now()
    qtbot.waitUntil(lambda: len(threads) == 2 and saver._running is None, timeout=10000)
    assert all(t.startswith("brushedit-autosave") for t in threads)
    assert np.array_equal(Document.open(tmp_path / "autosave.ora").flatten(), doc.flatten())
    # clear() waits for a running save, so nothing is left to recover after a clean exit.
    saver.save_now()
    saver.clear()
    qtbot.wait(50)
    assert Autosaver.find_recovery(tmp_path) is None
