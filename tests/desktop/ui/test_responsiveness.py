"""The GUI thread stays responsive while the engine works.

A fake slow engine runs a long edit (busy numpy work on its thread, a progress message and a live
preview every step) while the real main window shows a photo. A 5 ms ``QTimer`` on the GUI thread
records when it actually fires; the largest gap between ticks is the worst time the event loop was
blocked. The issue asks for < 50 ms; this shared 2-core CI machine gets a generous bound and the
measured numbers are printed (``-s`` not needed).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer, Qt

from desktop.engine_client import EditParams
from tests.fakes.fake_engine import fake_engine_client

BOUND_MS = 250.0  # generous: CI shares two cores among parallel jobs


class TickRecorder:
    """Records the wall time of each tick of a 5 ms precise timer on the GUI thread."""

    def __init__(self, interval_ms: int = 5):
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.stop()

    def gaps_ms(self) -> np.ndarray:
        return np.diff(np.asarray(self.ticks)) * 1000.0


def report_latency(capsys, record_property, name, gaps, extra=""):
    stats = {
        "ticks": int(gaps.size + 1),
        "max_ms": round(float(gaps.max()), 1),
        "p99_ms": round(float(np.percentile(gaps, 99)), 1),
        "median_ms": round(float(np.median(gaps)), 2),
    }
    for k, v in stats.items():
        record_property(f"{name}_{k}", v)
    with capsys.disabled():
        print(f"\n[event-loop latency] {name}: max {stats['max_ms']} ms, p99 {stats['p99_ms']} ms, "
              f"median {stats['median_ms']} ms over {stats['ticks']} ticks of a 5 ms timer {extra}")
    return stats


@pytest.fixture
def slow_client():
    client, services = fake_engine_client(steps=120, step_delay=0.02, busy_work=True)
    client.services = services
    yield client
    client.shutdown()


@pytest.fixture
def big_photo():
    from skimage import data

    photo = data.astronaut()  # 512 x 512
    return np.ascontiguousarray(np.tile(photo, (3, 4, 1)))  # 1536 x 2048, a real-size photo


def test_gui_event_loop_stays_responsive_during_a_long_job(qtbot, make_window, slow_client, big_photo,
                                                           capsys, record_property):
    from desktop.document import Document

    window = make_window(client=slow_client)
    window.set_document(Document.from_array(big_photo))
    doc = window.document
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[400:900, 600:1300] = 255
    doc.set_mask(mask, label="Box")
    qtbot.wait(50)
    # Baseline: the same timer with the window idle, to tell machine noise from our own blocking.
    with TickRecorder() as idle:
        qtbot.wait(1000)
    report_latency(capsys, record_property, "idle window (baseline, same run)", idle.gaps_ms())

    controller = window.controller
    steps = []
    slow_client.progress.connect(lambda j, s, t, st: steps.append(s))
    controller.run("a planet", EditParams(num_candidates=2, seed=1))
    # Measure while the engine thread works (the snapshot above was taken before).
    with TickRecorder() as rec:
        qtbot.waitUntil(lambda: len(controller.candidates) == 2, timeout=60000)
    assert max(steps) == 120  # the job really ran all its steps while we measured
    gaps = rec.gaps_ms()
    stats = report_latency(capsys, record_property, "long job in the main window", gaps,
                    f"({len(steps)} progress messages and previews)")
    assert gaps.size > 100
    assert stats["max_ms"] < BOUND_MS


def test_cancel_is_honoured_quickly_and_the_loop_stays_free(qtbot, slow_client, capsys, record_property):
    """Without a window: the client and controller alone, with a cancel half-way."""
    from desktop.document import Document
    from desktop.ui.edit_controller import EditController

    doc = Document.new(640, 480)
    doc.set_mask(np.full((480, 640), 255, np.uint8))
    controller = EditController(slow_client, lambda: doc)
    steps = []
    slow_client.progress.connect(lambda j, s, t, st: steps.append(s))
    with TickRecorder() as rec:
        controller.run("fog")
        qtbot.waitUntil(lambda: len(steps) >= 20, timeout=30000)
        t0 = time.perf_counter()
        controller.cancel()
        qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
        cancel_ms = (time.perf_counter() - t0) * 1000
    assert max(steps) < 120
    stats = report_latency(capsys, record_property, "client + controller with cancel", rec.gaps_ms(),
                    f"(cancel honoured after {cancel_ms:.0f} ms)")
    assert stats["max_ms"] < BOUND_MS
