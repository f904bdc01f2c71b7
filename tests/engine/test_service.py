"""EngineService: one worker thread, ordered jobs, cancel, failure mapping, survival."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.api import (
    EditParams,
    EngineError,
    EngineStatus,
    InpaintRequest,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobQueued,
    JobStarted,
    MissingModelsError,
    PlanRequest,
    Preview,
    Progress,
)
from engine.service import EngineConfig, EngineService, engine_status, failure_of

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 10.0


class Recorder:
    """Collects messages with the thread that delivered them."""

    def __init__(self):
        self.messages = []
        self.threads = []
        self._q = queue.Queue()

    def __call__(self, message):
        self.messages.append(message)
        self.threads.append(threading.current_thread().name)
        self._q.put(message)

    def wait_for(self, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(m) for m in list(self.messages)):
                return next(m for m in self.messages if predicate(m))
            try:
                self._q.get(timeout=0.05)
            except queue.Empty:
                pass
        raise AssertionError(f"timed out; got {self.messages}")

    def of(self, job_id):
        return [m for m in self.messages if getattr(m, "job_id", None) == job_id]


def ended(job_id):
    return lambda m: isinstance(m, (JobFinished, JobFailed, JobCancelled)) and m.job_id == job_id


class ScriptedEngine:
    """A stand-in engine: each request's ``instruction`` says what to do."""

    def __init__(self, config):
        self.config = config
        self.configs = [config]
        self.handled = []
        self.gate = threading.Event()

    def set_config(self, config):
        self.config = config
        self.configs.append(config)

    def handle(self, request, on_progress, on_preview, is_cancelled):
        self.handled.append(request.job_id)
        what = request.instruction
        if what == "block":
            while not self.gate.wait(0.01):
                if is_cancelled():
                    from engine.api import Cancelled

                    raise Cancelled()
            return "unblocked"
        if what == "loop":
            for step in range(10_000):
                on_progress(step, 10_000, "denoising")
                if is_cancelled():
                    from engine.api import Cancelled

                    raise Cancelled()
                time.sleep(0.005)
            return "looped"
        if what == "missing":
            raise MissingModelsError(["grounding-dino-tiny", "sam-vit-h"])
        if what == "bad":
            raise ValueError("the mask is empty\nsecond line")
        if what == "engine-error":
            raise EngineError("no GPU", hint="pass --device cpu", kind="no-device")
        if what == "crash":
            raise ZeroDivisionError("division by zero")
        if what == "oom":
            raise MemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        on_progress(1, 2, "working")
        on_preview(np.zeros((4, 4, 3), np.uint8), 1)
        on_progress(2, 2, "working")
        return ("done", what, self.config.device)


def plan(what=""):
    return PlanRequest(np.zeros((8, 8, 3), np.uint8), what)


@pytest.fixture
def service():
    rec = Recorder()
    engines = []

    def factory(config):
        engines.append(ScriptedEngine(config))
        return engines[-1]

    svc = EngineService(rec, EngineConfig(device="cpu"), engine_factory=factory)
    svc.start()
    yield svc, rec, engines
    for e in engines:
        e.gate.set()
    assert svc.shutdown(timeout=5)


def test_jobs_run_in_order_and_report_on_the_worker_thread(service):
    svc, rec, engines = service
    ids = [svc.submit(plan(f"job{i}")) for i in range(3)]
    assert ids == sorted(ids)
    for job_id in ids:
        rec.wait_for(ended(job_id))
    assert engines[0].handled == ids
    for job_id in ids:
        kinds = [type(m) for m in rec.of(job_id)]
        assert kinds == [JobQueued, JobStarted, Progress, Preview, Progress, JobFinished]
    finished = [m for m in rec.messages if isinstance(m, JobFinished)]
    assert [m.job_id for m in finished] == ids
    assert finished[0].result == ("done", "job0", "cpu")
    assert set(rec.threads) == {"brushedit-engine"}
    worker = [t for t in threading.enumerate() if t.name == "brushedit-engine"]
    assert len(worker) == 1 and worker[0].daemon


def test_submit_does_not_wait_and_queued_positions_count_the_running_job(service):
    svc, rec, engines = service
    first = svc.submit(plan("block"))
    rec.wait_for(lambda m: isinstance(m, JobStarted) and m.job_id == first)
    second = svc.submit(plan("x"))  # returns while the first job still blocks the worker
    third = svc.submit(plan("y"))
    assert svc.pending() == [first, second, third]
    # Queued notices arrive while the first job still runs (its cancel polls flush them).
    q2 = rec.wait_for(lambda m: isinstance(m, JobQueued) and m.job_id == second)
    q3 = rec.wait_for(lambda m: isinstance(m, JobQueued) and m.job_id == third)
    assert (q2.position, q3.position) == (1, 2)
    assert not any(isinstance(m, JobFinished) for m in rec.messages)
    engines[0].gate.set()
    rec.wait_for(ended(third))
    assert svc.pending() == []


def test_cancel_a_queued_job_removes_it(service):
    svc, rec, engines = service
    first = svc.submit(plan("block"))
    second = svc.submit(plan("never"))
    rec.wait_for(lambda m: isinstance(m, JobStarted) and m.job_id == first)
    assert svc.cancel(second)
    rec.wait_for(ended(second))
    assert [type(m) for m in rec.of(second)] == [JobQueued, JobCancelled]
    assert svc.pending() == [first]
    engines[0].gate.set()
    rec.wait_for(ended(first))
    assert isinstance(rec.of(first)[-1], JobFinished)
    assert second not in engines[0].handled
    assert not svc.cancel(second)  # already gone


def test_cancel_the_running_job_lands_within_a_step(service):
    svc, rec, engines = service
    job = svc.submit(plan("loop"))
    rec.wait_for(lambda m: isinstance(m, Progress) and m.job_id == job and m.step >= 3)
    before = len(rec.messages)
    assert svc.cancel(job)
    last = rec.wait_for(ended(job))
    assert isinstance(last, JobCancelled)
    after = [m for m in rec.messages[before:] if isinstance(m, Progress) and m.job_id == job]
    assert len(after) <= 2  # the step in flight when cancel() was called, at most one more
    assert not any(isinstance(m, JobFinished) for m in rec.of(job))
    # The service keeps working after a cancel.
    after = svc.submit(plan("after"))
    assert isinstance(rec.wait_for(ended(after)), JobFinished)


@pytest.mark.parametrize(
    "what, kind, hint_has",
    [
        ("missing", "missing-models", "brushedit models download grounding-dino-tiny sam-vit-h"),
        ("bad", "bad-input", ""),
        ("engine-error", "no-device", "--device cpu"),
        ("crash", "error", "log"),
        ("oom", "out-of-memory", "CPU offload"),
    ],
)
def test_failures_map_to_job_failed_and_the_service_survives(service, what, kind, hint_has):
    svc, rec, engines = service
    job = svc.submit(plan(what))
    failed = rec.wait_for(ended(job))
    assert isinstance(failed, JobFailed)
    assert failed.kind == kind
    assert hint_has in failed.hint
    assert "\n" not in failed.error and failed.error
    nxt = svc.submit(plan("next"))
    assert isinstance(rec.wait_for(ended(nxt)), JobFinished)
    assert svc.is_alive()


def test_a_listener_that_raises_does_not_kill_the_worker():
    calls = []

    def listener(message):
        calls.append(message)
        raise RuntimeError("listener bug")

    svc = EngineService(listener, engine_factory=ScriptedEngine)
    svc.start()
    job = svc.submit(plan("a"))
    deadline = time.monotonic() + TIMEOUT
    while not any(isinstance(m, JobFinished) and m.job_id == job for m in calls):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert svc.is_alive()
    assert svc.shutdown()


def test_set_config_applies_to_the_next_job(service):
    svc, rec, engines = service
    a = svc.submit(plan("a"))
    rec.wait_for(ended(a))
    svc.set_config(EngineConfig(device="cuda", cpu_offload=True))
    b = svc.submit(plan("b"))
    done = rec.wait_for(ended(b))
    assert done.result == ("done", "b", "cuda")
    assert len(engines) == 1  # the engine (and its loaded models) is kept, only reconfigured
    assert engines[0].configs[-1].cpu_offload


def test_shutdown_cancels_queued_jobs_and_stops_the_thread():
    rec = Recorder()
    engines = []

    def factory(config):
        engines.append(ScriptedEngine(config))
        return engines[-1]

    svc = EngineService(rec, engine_factory=factory)
    svc.start()
    first = svc.submit(plan("block"))
    second = svc.submit(plan("x"))
    rec.wait_for(lambda m: isinstance(m, JobStarted) and m.job_id == first)
    assert svc.shutdown(timeout=5)
    assert not svc.is_alive()
    assert isinstance(rec.of(first)[-1], JobCancelled)
    assert isinstance(rec.of(second)[-1], JobCancelled)
    with pytest.raises(RuntimeError):
        svc.submit(plan("late"))


def test_out_of_memory_hint_fits_the_request():
    req = InpaintRequest(np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 255, np.uint8),
                         params=EditParams(num_candidates=4, working_size=1024))
    f = failure_of(MemoryError("out of memory"), req, 1, EngineConfig(cpu_offload=False))
    assert f.kind == "out-of-memory"
    assert "fewer candidates" in f.hint and "working size" in f.hint and "CPU offload" in f.hint
    small = InpaintRequest(np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 255, np.uint8),
                           params=EditParams(num_candidates=1, working_size=512))
    f = failure_of(MemoryError("out of memory"), small, 1, EngineConfig(cpu_offload=True))
    assert "fewer candidates" not in f.hint and "working size" not in f.hint
    assert "CPU offload" not in f.hint
    auto = InpaintRequest(np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 255, np.uint8), params=EditParams())
    assert "fewer candidates (now auto)" in failure_of(MemoryError("out of memory"), auto, 1, None).hint


def test_torch_out_of_memory_error_is_recognised():
    torch = pytest.importorskip("torch")
    exc = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")
    assert failure_of(exc, plan(""), 7).kind == "out-of-memory"


def test_importing_the_service_does_not_import_torch():
    code = (
        "import sys, engine.service\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("what", ["", "bad", "block"])
def test_an_engine_status_follows_every_job_that_ran(service, what):
    svc, rec, engines = service
    job = svc.submit(plan(what))
    if what == "block":
        rec.wait_for(lambda m: isinstance(m, JobStarted) and m.job_id == job)
        svc.cancel(job)
    end = rec.wait_for(ended(job))
    status = rec.wait_for(lambda m: isinstance(m, EngineStatus))
    assert rec.messages.index(status) > rec.messages.index(end)
    assert status.device in ("cpu", "cuda")
    assert rec.threads[rec.messages.index(status)] == "brushedit-engine"


class _FakeCuda:
    def __init__(self, initialized):
        self.initialized = initialized

    def is_initialized(self):
        return self.initialized

    def current_device(self):
        return 0

    def get_device_name(self, index):
        return "NVIDIA Test 24GB"

    def memory_allocated(self, index):
        return 3 * 2**30

    def mem_get_info(self, index):
        return (20 * 2**30, 24 * 2**30)


def test_engine_status_reads_gpu_memory_only_from_an_initialised_torch(monkeypatch):
    import types

    fake = types.SimpleNamespace(cuda=_FakeCuda(True))
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert engine_status() == EngineStatus("cuda", "NVIDIA Test 24GB", 3 * 2**30, 24 * 2**30)
    fake.cuda.initialized = False  # torch loaded but the GPU never used: no CUDA context made for us
    assert engine_status() == EngineStatus("cpu")
    monkeypatch.delitem(sys.modules, "torch")
    assert engine_status() == EngineStatus("cpu")


def test_a_fill_job_reports_cpu_without_importing_torch():
    code = (
        "import sys, queue, numpy as np\n"
        "from engine.api import InpaintRequest, EditParams, EngineStatus, JobFinished\n"
        "from engine.service import EngineService\n"
        "q = queue.Queue(); svc = EngineService(q.put); svc.start()\n"
        "img = np.full((64, 64, 3), 120, np.uint8); m = np.zeros((64, 64), np.uint8); m[20:40, 20:40] = 255\n"
        "svc.submit(InpaintRequest(img, m, params=EditParams(engine='fill')))\n"
        "seen = []\n"
        "while not any(isinstance(x, EngineStatus) for x in seen): seen.append(q.get(timeout=30))\n"
        "svc.shutdown()\n"
        "assert any(isinstance(x, JobFinished) for x in seen), seen\n"
        "print(seen[-1].device, 'torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[-2:] == ["cpu", "False"]


def test_preview_carries_the_region_it_shows():
    from engine.api import InpaintRequest, Preview

    class RegionEngine:
        def handle(self, request, on_progress, on_preview, is_cancelled):
            on_preview(np.zeros((8, 8, 3), np.uint8), 1, (10, 20, 64, 48))
            on_preview(np.zeros((8, 8, 3), np.uint8), 2)  # an engine that knows no region
            return "done"

    seen = []
    service = EngineService(seen.append, engine_factory=lambda config: RegionEngine())
    service.start()
    try:
        job = service.submit(InpaintRequest(np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64), np.uint8)))
        deadline = time.monotonic() + 10
        while not any(getattr(m, "job_id", None) == job and type(m).__name__ == "JobFinished" for m in seen):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        service.shutdown()
    previews = [m for m in seen if isinstance(m, Preview)]
    assert [(p.step, p.rect) for p in previews] == [(1, (10, 20, 64, 48)), (2, None)]
