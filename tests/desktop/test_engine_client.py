"""EngineClient: worker-thread messages arrive as Qt signals on the GUI thread; run() awaits jobs."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from PySide6.QtCore import QThread

from desktop.engine_client import (
    Cancelled,
    DownloadRequest,
    EditParams,
    EditResult,
    EngineClient,
    EngineError,
    InpaintRequest,
    PlanRequest,
    SegmentRequest,
)
from tests.fakes.fake_engine import FakeEngineService


def _image(h=48, w=64):
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _mask(h=48, w=64):
    m = np.zeros((h, w), np.uint8)
    m[10:30, 20:40] = 255
    return m


def _inpaint(**params):
    return InpaintRequest(_image(), _mask(), "a red ball", EditParams(**params))


@pytest.fixture
def make_client(qtbot):
    clients = []

    def make(**fake_kw):
        services = []

        def factory(on_message):
            services.append(FakeEngineService(on_message, **fake_kw))
            return services[-1]

        client = EngineClient(factory)
        client.services = services
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.shutdown()


@pytest.fixture
def loop(qapp):
    import qasync

    lp = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(lp)
    yield lp
    asyncio.set_event_loop(None)
    lp.close()  # while the QApplication lives (qasync disconnects Qt signals on close)


def test_messages_arrive_on_the_gui_thread_in_order(make_client, qtbot):
    client = make_client(steps=4, step_delay=0.005)
    seen, threads = [], set()
    gui = QThread.currentThread()

    def note(name):
        def slot(*args):
            seen.append(name)
            threads.add(QThread.currentThread() is gui or QThread.currentThread() == gui)
        return slot

    for name in ("queued", "started", "progress", "preview", "finished"):
        getattr(client, name).connect(note(name))
    results = []
    client.finished.connect(lambda job_id, result: results.append((job_id, result)))
    request = _inpaint(num_candidates=2, seed=7)
    with qtbot.waitSignal(client.finished, timeout=5000):
        job_id = client.submit(request)
    assert job_id == request.job_id
    assert seen[0] == "queued" and seen[1] == "started" and seen[-1] == "finished"
    assert seen.count("progress") == 4 and seen.count("preview") == 4
    assert threads == {True}
    (done_id, result), = results
    assert done_id == job_id and isinstance(result, EditResult)
    assert [c.seed for c in result.candidates] == [7, 8]
    # Pixels outside the mask are untouched, inside they changed.
    cand = result.candidates[0].image
    assert np.array_equal(cand[_mask() == 0], request.image[_mask() == 0])
    assert not np.array_equal(cand[_mask() > 0], request.image[_mask() > 0])


def test_worker_thread_is_not_the_gui_thread(make_client, qtbot):
    client = make_client(steps=1, step_delay=0.0)
    names = []
    client.start()
    service = client.services[0]
    original = service.on_message

    def spy(msg):
        names.append(threading.current_thread().name)
        original(msg)

    service.on_message = spy
    with qtbot.waitSignal(client.finished, timeout=5000):
        client.submit(_inpaint())
    assert "fake-engine" in names
    assert threading.main_thread().name not in names[1:]  # all but JobQueued come from the worker


def test_queue_tracks_running_and_waiting_jobs(make_client, qtbot):
    client = make_client(steps=50, step_delay=0.01)
    busy = []
    client.busy_changed.connect(busy.append)
    first = client.submit(_inpaint())
    second = client.submit(PlanRequest(_image(), "remove the ball"))
    with qtbot.waitSignal(client.started, timeout=5000):
        pass
    jobs = client.jobs()
    assert [j.job_id for j in jobs] == [first, second]
    assert [j.state for j in jobs] == ["running", "waiting"]
    assert client.running_job().job_id == first
    assert client.busy
    # Cancel the waiting job, then the running one (None = the running one).
    with qtbot.waitSignal(client.cancelled, timeout=5000) as blocker:
        client.cancel(second)
    assert blocker.args == [second]
    with qtbot.waitSignal(client.cancelled, timeout=5000) as blocker:
        client.cancel()
    assert blocker.args == [first]
    assert client.jobs() == [] and not client.busy
    assert busy == [True, False]


def test_cancel_lands_within_a_step(make_client, qtbot):
    client = make_client(steps=1000, step_delay=0.02)
    steps = []
    client.progress.connect(lambda j, s, t, st: steps.append(s))
    job = client.submit(_inpaint())
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=5000)
    with qtbot.waitSignal(client.cancelled, timeout=2000):
        client.cancel(job)
    assert max(steps) < 1000
    n = len(steps)
    qtbot.wait(100)
    assert len(steps) <= n + 1  # nothing runs after the cancel


def test_failure_becomes_a_signal_with_hint(make_client, qtbot):
    client = make_client(steps=2, step_delay=0.0,
                         fail_with=EngineError("missing model weights: brushnet-x", "run: brushedit models download brushnet-x",
                                               kind="missing-models"))
    with qtbot.waitSignal(client.failed, timeout=5000) as blocker:
        job = client.submit(_inpaint())
    assert blocker.args == [job, "missing model weights: brushnet-x", "run: brushedit models download brushnet-x",
                            "missing-models"]
    assert client.jobs() == []


def test_a_crash_inside_the_engine_is_reported_and_the_engine_goes_on(make_client, qtbot):
    def fail_first(request):
        return ZeroDivisionError("boom") if isinstance(request, InpaintRequest) else None

    client = make_client(steps=1, step_delay=0.0, fail_with=fail_first)
    with qtbot.waitSignal(client.failed, timeout=5000) as blocker:
        client.submit(_inpaint())
    assert "ZeroDivisionError" in blocker.args[1]
    with qtbot.waitSignal(client.finished, timeout=5000) as blocker:
        client.submit(SegmentRequest(_image(), points=((30, 20),), labels=(1,)))
    assert blocker.args[1].mask[20, 30] == 255


def test_run_is_awaitable_under_qasync(make_client, loop):
    client = make_client(steps=3, step_delay=0.005)

    async def main():
        plan = await client.run(PlanRequest(_image(), "make the ball blue"))
        result = await client.run(_inpaint(seed=3))
        return plan, result

    plan, result = loop.run_until_complete(main())
    assert plan.instruction == "make the ball blue" and plan.mask.shape == (48, 64)
    assert result.candidates[0].seed == 3


def test_run_raises_engine_error_and_cancelled(make_client, loop):
    client = make_client(steps=200, step_delay=0.01)

    async def cancelled():
        task = asyncio.ensure_future(client.run(_inpaint()))
        while client.running_job() is None:
            await asyncio.sleep(0.01)
        client.cancel()
        return await task

    with pytest.raises(Cancelled):
        loop.run_until_complete(cancelled())

    client.services[0].fail_with = EngineError("CUDA out of memory", "try fewer candidates", "out-of-memory")
    with pytest.raises(EngineError) as info:
        loop.run_until_complete(client.run(_inpaint()))
    assert info.value.hint == "try fewer candidates" and info.value.kind == "out-of-memory"


def test_cancelling_the_awaiting_task_cancels_the_job(make_client, loop, qtbot):
    client = make_client(steps=500, step_delay=0.01)
    cancelled = []
    client.cancelled.connect(cancelled.append)

    async def main():
        task = asyncio.ensure_future(client.run(DownloadRequest(("sam-vit-b",))))
        while client.running_job() is None:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        while not cancelled:
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(main(), 5))
    assert len(cancelled) == 1 and client.jobs() == []


def test_shutdown_cancels_awaiters(make_client, loop):
    client = make_client(steps=500, step_delay=0.01)

    async def main():
        task = asyncio.ensure_future(client.run(_inpaint()))
        await asyncio.sleep(0.05)
        client.shutdown()
        return await task

    with pytest.raises(Cancelled):
        loop.run_until_complete(asyncio.wait_for(main(), 5))
    assert not client.busy


def test_importing_the_client_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, desktop.engine_client, tests.fakes.fake_engine\n"
            "print([m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the real engine service (helper D) with the fill engine -----------------------------------------


def test_real_engine_service_with_the_fill_engine(qtbot, tmp_path):
    pytest.importorskip("engine.service")
    pytest.importorskip("engine.fill")
    from desktop.engine_client import default_service_factory, engine_config

    config = engine_config(device="cpu", model_dirs={})
    client = EngineClient(default_service_factory(config))
    try:
        steps = []
        client.progress.connect(lambda j, s, t, st: steps.append((s, t, st)))
        mask = np.zeros((96, 128), np.uint8)
        mask[30:60, 40:80] = 255
        request = InpaintRequest(_image(96, 128), mask, "", EditParams(engine="fill", seed=1))
        failures, results = [], []
        client.failed.connect(lambda *args: failures.append(args))
        client.finished.connect(lambda *args: results.append(args))
        job = client.submit(request)
        qtbot.waitUntil(lambda: bool(failures or results), timeout=60000)
        assert failures == []
        (job_id, result), = results
        assert job_id == job and isinstance(result, EditResult)
        assert result.engine == "fill"
        image = result.candidates[0].image
        assert image.shape == request.image.shape
        assert not np.array_equal(image[request.mask > 0], request.image[request.mask > 0])
        # Far from the mask the photo is untouched.
        assert np.array_equal(image[:4], request.image[:4])
    finally:
        client.shutdown()


def test_many_signal_emits_and_qt_calls_do_not_crash_the_interpreter():
    """PySide6 6.12.0 leaks a reference to True per emit() and to None per void call; on CPython
    3.11 that aborts the process. Importing the client pins them; many calls must exit cleanly.
    """
    import subprocess
    import sys

    code = (
        "import desktop.engine_client\n"
        "from PySide6.QtCore import QObject, Signal\n"
        "class A(QObject):\n"
        "    s = Signal(object)\n"
        "a = A()\n"
        "for i in range(20000):\n"
        "    a.s.emit(i)\n"
        "for i in range(200000):\n"
        "    a.setObjectName('x')\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_download_progress_in_bytes_past_2_gib_keeps_its_ratio(make_client, qtbot):
    from engine.api import Progress

    client = make_client()
    got = []
    client.progress.connect(lambda *args: got.append(args))
    client._dispatch(Progress(7, 3 * 2**30, 6 * 2**30, "brushnet-x: model.safetensors"))
    (job, step, total, stage), = got
    assert total <= 2**31 - 1 and step / total == 0.5 and stage.startswith("brushnet-x")



def test_the_job_table_carries_the_submitters_handle_to_the_end(make_client, qtbot):
    """One table of jobs in flight: what the submitter attached comes back with the job's end."""
    client = make_client()
    ended = []
    client.ended.connect(lambda info, message: ended.append((info.handle, type(message).__name__)))
    handle = object()
    job_id = client.submit(_inpaint(seed=1), handle)
    assert client.job(job_id).handle is handle
    qtbot.waitUntil(lambda: bool(ended), timeout=5000)
    assert ended == [(handle, "JobFinished")] and client.job(job_id) is None


def test_the_painter_check_asks_the_engine_and_says_nothing_when_it_cannot(make_client):
    from desktop.engine_client import EngineError

    client = make_client(paint_check=EngineError("needs a GPU", "pass --device cpu", "no-device"))
    problem = client.check_paint(_inpaint())
    assert isinstance(problem, EngineError) and problem.kind == "no-device"
    assert client.services[0].checked and client.services[0].checked[0].prompt == "a red ball"

    class Unasked:  # an engine that cannot be asked beforehand (a studio server today)
        def __init__(self, on_message):
            self.inner = FakeEngineService(on_message)

        def __getattr__(self, name):
            if name == "check_paint":
                raise AttributeError(name)
            return getattr(self.inner, name)

    other = EngineClient(Unasked)
    try:
        assert other.check_paint(_inpaint()) is None
    finally:
        other.shutdown()
