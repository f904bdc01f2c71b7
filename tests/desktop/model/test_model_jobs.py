"""The job queue: one Job record per job, its callback applies the result; jobs tracked once (on the
bridge's table); cancel."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.engine_client import EditParams, EngineError, InpaintRequest, PlanRequest
from desktop.model.jobs import Job, JobQueue
from tests.desktop.model.model_helpers import paint_a_box


@pytest.fixture
def queue(qapp):
    from tests.fakes.fake_engine import fake_engine_client

    made = []

    def make(**options):
        client, services = fake_engine_client(**({"steps": 2, "step_delay": 0.002} | options))
        made.append(client)
        doc_holder = {"doc": None}
        return JobQueue(client, lambda: doc_holder["doc"]), client, services

    yield make
    for client in made:
        client.shutdown()


def _image():
    return np.full((32, 32, 3), 120, np.uint8)


def _mask():
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    return mask


def test_each_job_calls_its_own_callback_and_is_tracked_once(queue, qtbot):
    q, client, services = queue()
    plans, paints = [], []
    plan_job = Job("plan", on_done=plans.append)
    paint_job = Job("inpaint", on_done=paints.append, paints=True)
    with qtbot.waitSignal(q.busy_changed, timeout=5000):
        q.submit(PlanRequest(_image(), "make the ball blue"), plan_job)
        q.submit(InpaintRequest(_image(), _mask(), "a red ball", EditParams(seed=3)), paint_job)
    # The record rides on the bridge's own table: no second table of jobs in the queue.
    assert client.job(plan_job.id).handle is plan_job and client.job(paint_job.id).handle is paint_job
    assert q.jobs() == [plan_job, paint_job] and q.busy
    assert not any(isinstance(v, dict) and plan_job.id in v for v in vars(q).values())
    qtbot.waitUntil(lambda: bool(plans and paints), timeout=10000)
    assert type(plans[0]).__name__ == "EditPlan" and plans[0].instruction == "make the ball blue"
    assert paints[0].candidates[0].seed == 3
    qtbot.waitUntil(lambda: not q.busy, timeout=5000)
    assert q.jobs() == [] and client.jobs() == []


def test_a_failure_is_said_once_and_reaches_the_jobs_own_callback(queue, qtbot):
    q, client, services = queue(fail_with=EngineError("no weights", "download them", "missing-models"))
    errors, failed, progress = [], [], []
    q.error.connect(lambda message, hint: errors.append((message, hint)))
    q.progress_changed.connect(lambda step, total, stage: progress.append(stage))
    job = Job("plan", on_done=lambda result: pytest.fail("no result"),
              on_failed=lambda message, hint: failed.append(message))
    q.submit(PlanRequest(_image(), "x"), job)
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    assert errors == [("no weights", "download them")] and failed == ["no weights"] and "failed" in progress


def test_cancel_stops_a_painting_job_and_spares_a_background_one(queue, qtbot):
    q, client, services = queue(steps=50, step_delay=0.02)
    cancelled, done, previews = [], [], []
    q.live_preview.connect(lambda image, rect: previews.append(image is None))
    paint = Job("inpaint", on_done=done.append, on_cancelled=lambda: cancelled.append("paint"), paints=True)
    click = Job("segment", background=True, on_cancelled=lambda: cancelled.append("click"))
    q.submit(InpaintRequest(_image(), _mask(), "a hat", EditParams(seed=1)), paint)
    qtbot.waitUntil(lambda: bool(previews), timeout=5000)  # it paints
    q.submit(PlanRequest(_image(), "y"), click)
    q.cancel()
    qtbot.waitUntil(lambda: "paint" in cancelled, timeout=5000)
    assert done == [] and "click" not in cancelled
    assert previews[-1] is True  # the live preview was taken down
    qtbot.waitUntil(lambda: not client.jobs(), timeout=10000)
    assert "click" not in cancelled


def test_a_model_cancel_drops_a_snapshot_still_being_taken(make_model, qtbot, monkeypatch):
    import threading

    import desktop.model.snapshots as snaps

    model, doc, service = make_model()
    monkeypatch.setattr(snaps.Snapshots, "SYNC_PIXELS", 100)  # composited on the helper thread
    gate = threading.Event()
    real = snaps._composite_rgb
    monkeypatch.setattr(snaps, "_composite_rgb", lambda *a: gate.wait(5) and real(*a))
    paint_a_box(doc)
    stages = []
    model.progress_changed.connect(lambda step, total, stage: stages.append(stage))
    model.run("a red cup")
    assert model.busy
    model.cancel()
    assert not model.busy and stages == ["cancelled"]
    gate.set()
    qtbot.wait(100)
    assert service.submitted == [] and not model.busy
