"""Worker threads hand results to the GUI thread through one long-lived relay: the call runs on the
GUI thread, and never for a receiver deleted meanwhile (emitting a signal of a deleted widget from
a worker was a use-after-free)."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QApplication, QWidget

from desktop.ui import gui_thread


def test_a_post_from_a_worker_runs_on_the_gui_thread(qtbot):
    receiver = QObject()
    ran = []
    worker = threading.Thread(target=lambda: gui_thread.post(receiver, lambda r: ran.append(
        (r is receiver, QThread.currentThread() is QApplication.instance().thread()))))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: ran == [(True, True)])


def test_no_call_for_a_receiver_deleted_before_delivery(qtbot):
    widget = QWidget()
    ran = []
    gui_thread.ensure()
    worker = threading.Thread(target=lambda: gui_thread.post(widget, lambda w: ran.append(w)))
    worker.start()
    worker.join()
    shiboken6.delete(widget)  # deleted before the relay's queued call is processed
    qtbot.wait(50)
    assert ran == []


def test_many_posts_racing_deletions_never_crash(qtbot):
    """The pattern the canvas, snapshots and autosave use, hammered: widgets die while workers post."""
    ran = []
    for _ in range(30):
        widgets = [QWidget() for _ in range(5)]
        threads = [threading.Thread(target=lambda w=w: [gui_thread.post(w, lambda x: ran.append(1)) for _ in range(20)])
                   for w in widgets]
        for t in threads:
            t.start()
        for w in widgets[::2]:
            shiboken6.delete(w)
        for t in threads:
            t.join()
        QApplication.processEvents()
    qtbot.wait(20)
    assert len(ran) >= 30 * 2 * 20  # the live ones got theirs
