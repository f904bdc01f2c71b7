"""A fake engine service for tests and UI work without weights: slow on purpose, cancellable.

:class:`FakeEngineService` implements :class:`engine.api.EngineBackend` (``start``, ``submit``,
``cancel``, ``set_config``, ``answer``, ``pending``, ``shutdown``), like ``engine.service.EngineService``
and the studio server's ``RemoteEngine``, and speaks the same
:mod:`engine.api` messages from its own worker thread. It paints candidates by tinting the masked
region (a different tint per seed), plans with a centred box, and "segments" a disk around the clicks.
"""

from __future__ import annotations

import dataclasses

import queue
import random
import threading
import time
from typing import Any, Callable

import numpy as np

from engine.api import (
    Candidate,
    DownloadRequest,
    EditPlan,
    EditResult,
    EngineError,
    EngineStatus,
    InpaintRequest,
    InstructorReport,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobQueued,
    JobStarted,
    PlanRequest,
    Preview,
    Progress,
    SegmentRequest,
    SegmentResult,
)
from engine.connect import answer_locally
from masks import mask_ops

_KINDS = {InpaintRequest: "inpaint", PlanRequest: "plan", SegmentRequest: "segment", DownloadRequest: "download"}


class _Cancel(Exception):
    pass


class FakeEngineService:
    """Same interface as ``engine.service.EngineService``; configurable speed and failures.

    Parameters
    ----------
    on_message : callable
        Receives every message, on the worker thread.
    steps : int
        Steps of an inpaint job (each reports progress and a preview).
    step_delay : float
        Seconds each step sleeps (a cancel interrupts the sleep).
    fail_with : Exception or str or callable, optional
        Make jobs fail: an exception (an ``EngineError`` keeps its hint and kind), a message, or
        ``fail_with(request) -> Exception | None``.
    busy_work : bool
        Spend each step computing on numpy (holding the GIL at times, like a real engine) instead
        of sleeping only.
    status : EngineStatus, optional
        What the fake reports after each job that ran (default: the CPU), like the real service.
    paint_check : EngineError or callable, optional
        What :meth:`check_paint` answers (``paint_check(request) -> EngineError | None``): a painter
        that cannot run, said before anything is planned. Default: every request can be painted.
    """

    def __init__(
        self,
        on_message: Callable[[object], None],
        *,
        steps: int = 10,
        step_delay: float = 0.02,
        fail_with: Any = None,
        busy_work: bool = False,
        status: EngineStatus | None = None,
        paint_check: Any = None,
    ) -> None:
        self.on_message = on_message
        self.steps = steps
        self.step_delay = step_delay
        self.fail_with = fail_with
        self.busy_work = busy_work
        self.status = status if status is not None else EngineStatus("cpu")
        self.config: Any = None
        self.submitted: list[Any] = []
        self.answered: list[Any] = []
        self.paint_check = paint_check
        self.checked: list[Any] = []  # the requests check_paint was asked about
        self._queue: queue.Queue = queue.Queue()
        self._pending: list[Any] = []
        self._cancelled: set[Any] = set()
        self._dropped: set[Any] = set()
        self._running: Any = None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = False

    # --- EngineBackend interface -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="fake-engine", daemon=True)
            self._thread.start()

    def submit(self, request: Any) -> Any:
        if self._stop:
            raise RuntimeError("the engine service is shut down")
        with self._lock:
            self._pending.append(request.job_id)
            position = len(self._pending) - 1 + (self._running is not None)
        self.submitted.append(request)
        self.on_message(JobQueued(request.job_id, _KINDS.get(type(request), "job"), position))
        self._queue.put(request)
        return request.job_id

    def cancel(self, job_id: Any) -> bool:
        with self._lock:
            if job_id in self._pending:
                # A waiting job is dropped at once (like the real service); the worker skips it.
                self._pending.remove(job_id)
                self._dropped.add(job_id)
                dropped = True
            elif job_id == self._running:
                self._cancelled.add(job_id)
                dropped = False
            else:
                return False
        if dropped:
            self.on_message(JobCancelled(job_id))
        else:
            self._wake.set()
        return True

    def set_config(self, config: Any) -> None:
        self.config = config

    def answer(self, query: Any) -> Any:
        """Queries are answered as the real service does: in this process, at once."""
        self.answered.append(query)
        return answer_locally(query)

    def check_paint(self, request: Any) -> EngineError | None:
        """Whether ``request`` could be painted (missing weights, no device), answered at once."""
        self.checked.append(request)
        check = self.paint_check
        return check(request) if callable(check) and not isinstance(check, BaseException) else check

    def pending(self) -> list[Any]:
        with self._lock:
            return ([self._running] if self._running is not None else []) + list(self._pending)

    def shutdown(self, timeout: float = 5.0) -> bool:
        self._stop = True
        with self._lock:
            waiting = list(self._pending)
            running = self._running
        for job_id in waiting:
            self.cancel(job_id)
        if running is not None:
            self.cancel(running)
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # --- worker --------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            request = self._queue.get()
            if request is None:
                return
            job_id = request.job_id
            with self._lock:
                if job_id in self._dropped:
                    self._dropped.discard(job_id)
                    continue
                self._pending.remove(job_id)
                self._running = job_id
            self._wake.clear()
            self.on_message(JobStarted(job_id, _KINDS.get(type(request), "job")))
            try:
                error = self._failure(request)
                if error is not None:
                    self._step(job_id)
                    raise error
                result = self._work(request)
            except _Cancel:
                self.on_message(JobCancelled(job_id))
            except EngineError as exc:
                self.on_message(JobFailed(job_id, str(exc), exc.hint, exc.kind))
            except Exception as exc:  # like the real service: a crash becomes a message
                self.on_message(JobFailed(job_id, f"{type(exc).__name__}: {exc}", "", "error"))
            else:
                self.on_message(JobFinished(job_id, result))
            finally:
                with self._lock:
                    self._running = None
                    self._cancelled.discard(job_id)
            self.on_message(self.status)

    def _failure(self, request: Any) -> BaseException | None:
        fail = self.fail_with
        if fail is None:
            return None
        if callable(fail) and not isinstance(fail, BaseException):
            fail = fail(request)
            if fail is None:
                return None
        if isinstance(fail, str):
            return RuntimeError(fail)
        return fail

    def _step(self, job_id: int) -> None:
        """Wait one step; raise :class:`_Cancel` if the job was cancelled meanwhile."""
        if self.busy_work:
            end = time.perf_counter() + self.step_delay
            a = np.random.default_rng(0).random((128, 128))
            while time.perf_counter() < end and job_id not in self._cancelled:
                a = a @ a.T / 128.0  # numpy releases the GIL in BLAS, like torch kernels do
        else:
            self._wake.wait(self.step_delay)
        with self._lock:
            if job_id in self._cancelled:
                raise _Cancel()
        self._wake.clear()

    def _work(self, request: Any) -> Any:
        if isinstance(request, InpaintRequest):
            return self._inpaint(request)
        if isinstance(request, PlanRequest):
            self._step(request.job_id)
            return _plan(request)
        if isinstance(request, SegmentRequest):
            self._step(request.job_id)
            return _segment(request)
        if isinstance(request, DownloadRequest):
            for i in range(self.steps):
                self._step(request.job_id)
                self.on_message(Progress(request.job_id, i + 1, self.steps, "downloading"))
            return tuple()
        raise EngineError(f"unknown request {type(request).__name__}", kind="bad-input")

    def _inpaint(self, request: InpaintRequest) -> EditResult:
        t0 = time.perf_counter()
        image, mask = request.image, request.mask
        if image.ndim != 3 or mask.shape != image.shape[:2]:
            raise EngineError("the mask does not match the image", "repaint the mask", "bad-input")
        box = mask_ops.bbox(mask)
        if box is None:
            raise EngineError("the mask is empty", "paint the region to repaint first", "bad-input")
        params = request.params
        seed = params.seed if params.seed is not None else random.randrange(2**31)
        for i in range(self.steps):
            self._step(request.job_id)
            self.on_message(Progress(request.job_id, i + 1, self.steps, "denoising"))
            self.on_message(Preview(request.job_id, _tint(image[::8, ::8], mask[::8, ::8], seed, (i + 1) / self.steps)))
        candidates = tuple(
            Candidate(_tint(image, mask, seed + k, 1.0), seed + k, box) for k in range(max(1, params.num_candidates))
        )
        return EditResult(request, candidates, engine="fake", model="fake-model", seconds=time.perf_counter() - t0)


def _tint(image: np.ndarray, mask: np.ndarray, seed: int, amount: float) -> np.ndarray:
    colour = np.random.default_rng(seed).integers(0, 256, 3).astype(np.float32)
    out = image.astype(np.float32)
    sel = mask > 0
    out[sel] = out[sel] * (1 - amount) + colour * amount
    return out.round().astype(np.uint8)


def _plan(request: PlanRequest) -> EditPlan:
    """The offline reading's steps (clauses, kept objects), each planned by :func:`_plan_clause`."""
    from engine.instructor.steps import clauses, protected_object

    text = request.instruction.strip()
    parts = clauses(text)
    keep = tuple(p for p in (protected_object(c) for c in parts) if p)
    texts = [c for c in parts if protected_object(c) is None]
    if len(texts) <= 1:
        texts = [text] if not keep or not texts else texts
    steps = tuple(_plan_clause(request, t, k) for k, t in enumerate(texts))
    # As the engine does, the plan says who read the instruction (here always the rules).
    report = InstructorReport(request.backend, "offline", None, False,
                              None if request.backend == "offline" else "the fake engine reads with rules")
    return dataclasses.replace(steps[0], instruction=text, steps=steps, protected=keep, instructor=report)


def _plan_clause(request: PlanRequest, text: str, index: int = 0) -> EditPlan:
    h, w = request.image.shape[:2]
    lowered = text.lower()
    if any(word in lowered for word in ("remove", "delete", "erase")):
        category = "removal"
    elif "add" in lowered.split():
        category = "addition"
    elif "background" in lowered:
        category = "background"
    else:
        category = "local"
    words = [w_ for w_ in lowered.split() if w_ not in ("the", "a", "an", "remove", "add", "make", "into", "to")]
    target = words[0] if words else None
    # A box per target word (at the old place for the first word), so a chain's steps differ.
    shift = (sum(map(ord, target or "")) % 3) * (w // 8) if index else 0
    mask = mask_ops.box_mask((h, w), (w // 4 - shift // 2, h // 4 + shift // 2, w // 2, h // 2))
    caption = "" if category == "removal" else text
    return EditPlan(text, category, target, caption, "ugly, low quality", mask, backend=request.backend)


def _segment(request: SegmentRequest) -> SegmentResult:
    h, w = request.image.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    radius = max(4, min(h, w) // 8)
    for (x, y), label in zip(request.points, request.labels):
        disk = mask_ops.ellipse_mask((h, w), (int(x) - radius, int(y) - radius, 2 * radius, 2 * radius))
        mask = mask_ops.union(mask, disk) if label else mask_ops.subtract(mask, disk)
    if request.box is not None:
        x0, y0, x1, y1 = (int(v) for v in request.box)
        mask = mask_ops.union(mask, mask_ops.box_mask((h, w), (x0, y0, x1 - x0, y1 - y0)))
    return SegmentResult(mask, 0.9)


def fake_engine_client(**service_options):
    """An :class:`~desktop.engine_client.EngineClient` over a :class:`FakeEngineService` made with
    ``service_options``, and the list that holds the service once the client has started it."""
    from desktop.engine_client import EngineClient

    services: list[FakeEngineService] = []

    def factory(on_message):
        services.append(FakeEngineService(on_message, **service_options))
        return services[-1]

    return EngineClient(factory), services
