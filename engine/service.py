"""The engine service: ONE worker thread that owns the :class:`~engine.dispatch.Engine` and torch.

The editor (through ``desktop/engine_client.py``) submits request snapshots; the worker runs them one
at a time, in order, and reports with the messages of :mod:`engine.api`. Every message is delivered
by calling ``on_message`` **on the worker thread** (the Qt client marshals it to the GUI thread).
Messages raised by the caller's thread (``JobQueued`` on submit, ``JobCancelled`` for a queued job)
go through an outbox that the worker flushes when it is idle (at once: the worker wakes up for it),
before each job, and at every progress step of a running job, so they arrive within one step.

This module must stay cheap to import: the editor imports it at start-up. torch is imported only by
the engine, on the worker thread.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import sys
import threading
from typing import Any, Callable

from engine.api import (
    Cancelled,
    EngineError,
    InpaintRequest,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobQueued,
    JobStarted,
    Message,
    MissingModelsError,
    Preview,
    Progress,
)
from engine.api import JOB_REQUESTS, EditResult
from engine.api import request_kind as api_request_kind
from engine.device import empty_cuda_cache, engine_status, worker_info  # noqa: F401 - their old home
from engine.dispatch import Engine, EngineConfig
from engine.queries import answer as answer_locally  # the cheap questions, answered on the caller's thread

__all__ = ["Engine", "EngineConfig", "EngineService", "engine_status", "failure_of", "request_kind"]

log = logging.getLogger("brushedit.engine")

THREAD_NAME = "brushedit-engine"


def request_kind(request: object) -> str:
    """The job kind reported in JobQueued/JobStarted: inpaint, plan, segment or download."""
    if isinstance(request, JOB_REQUESTS):
        return api_request_kind(request)
    raise ValueError(f"not an engine request: {type(request).__name__}")


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")  # never import torch just to classify an error
    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None) if torch else None
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def out_of_memory_hint(request: object, config: EngineConfig | None = None) -> str:
    """The suggestion that fits an out-of-memory failure of ``request``."""
    tips = []
    if isinstance(request, InpaintRequest):
        p = request.params
        if p.num_candidates != 1:  # 0 is auto: up to 4 where the plan thought they fit
            tips.append(f"fewer candidates (now {p.num_candidates or 'auto'})")
        if p.resolution_mode == "whole" or p.working_size > 512:
            tips.append(f"a smaller working size (now {p.working_size})")
    if config is None or not config.cpu_offload:
        tips.append("turn on CPU offload")
    tips.append("close other programs that use the GPU")
    return "try " + ", or ".join(tips)


def failure_of(exc: BaseException, request: object, job_id: int,
               config: EngineConfig | None = None) -> JobFailed:
    """Map an exception raised by a job to the :class:`~engine.api.JobFailed` the user sees."""
    if isinstance(exc, MissingModelsError):
        return JobFailed(job_id, str(exc), exc.hint, "missing-models")
    if _is_out_of_memory(exc):
        return JobFailed(job_id, "out of memory: " + _one_line(exc), out_of_memory_hint(request, config),
                         "out-of-memory")
    if isinstance(exc, EngineError):
        return JobFailed(job_id, _one_line(exc), exc.hint, exc.kind)
    if isinstance(exc, ValueError):
        return JobFailed(job_id, _one_line(exc), "check the image, the mask and the parameters", "bad-input")
    return JobFailed(job_id, f"{type(exc).__name__}: {_one_line(exc)}",
                     "see the log for the details", "error")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0].strip()
    import textwrap

    return textwrap.shorten(line, 300, placeholder=" …", break_on_hyphens=False)  # "Re-runn" said nothing


def _gui_engine(config: EngineConfig) -> Engine:
    """The service's engine: it shares the machine with the editor, so on CPU it leaves a core free."""
    return Engine(config, leave_core_for_gui=True)


class _Job:
    __slots__ = ("request", "job_id", "kind", "cancelled")

    def __init__(self, request: object) -> None:
        self.request = request
        self.job_id = getattr(request, "job_id")
        self.kind = request_kind(request)
        self.cancelled = threading.Event()


class EngineService:
    """One daemon worker thread (``"brushedit-engine"``) running engine jobs in submission order.

    Parameters
    ----------
    on_message : callable
        Called with every :data:`~engine.api.Message`, on the worker thread. Exceptions it raises are
        logged and ignored.
    config : EngineConfig, optional
        The engine configuration (defaults: find everything with :mod:`engine.models`).
    engine_factory : callable, optional
        ``engine_factory(config) -> engine`` with ``handle(request, on_progress, on_preview,
        is_cancelled)``; defaults to :class:`~engine.dispatch.Engine`. Tests pass stand-ins. It is
        called on the worker thread.

    Notes
    -----
    The service never dies on a job error: every exception becomes a :class:`~engine.api.JobFailed`
    and the worker moves to the next job.
    """

    def __init__(
        self,
        on_message: Callable[[Message], None],
        config: EngineConfig | None = None,
        engine_factory: Callable[[EngineConfig], Any] | None = None,
    ) -> None:
        self._on_message = on_message
        self._config = config or EngineConfig()
        self._factory = engine_factory or _gui_engine
        self._engine: Any = None
        self._engine_config: EngineConfig | None = None
        self._lock = threading.Condition()
        self._queue: collections.deque[_Job] = collections.deque()
        self._outbox: collections.deque[Message] = collections.deque()
        self._running: _Job | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- public API (any thread) -----------------------------------------------------------

    @property
    def config(self) -> EngineConfig:
        """The configuration the next job will use."""
        return self._config

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self._thread.start()

    def submit(self, request: object) -> int:
        """Queue ``request`` and return its job id at once (a JobQueued message follows).

        Raises
        ------
        ValueError
            ``request`` is not an engine request.
        RuntimeError
            The service is shut down.
        """
        job = _Job(request)
        with self._lock:
            if self._stopping:
                raise RuntimeError("the engine service is shut down")
            self._queue.append(job)
            position = len(self._queue) + (1 if self._running is not None else 0) - 1
            self._outbox.append(JobQueued(job.job_id, job.kind, position))
            self._lock.notify_all()
        return job.job_id

    def answer(self, query: object) -> object:
        """Answer an :data:`engine.protocol.Query` at once, on the caller's thread (no job, no torch)."""
        return answer_locally(query)

    def check_paint(self, request: object) -> EngineError | None:
        """What painting ``request`` would raise at once (missing weights, no usable device), answered
        without loading a model (:func:`engine.painters.choice.paint_problem`): the editor asks it before
        planning, as ``brushedit edit`` does. ``None`` when it can be painted."""
        from engine.painters.choice import paint_problem

        engine = self._engine
        if engine is None or self._engine_config != self._config:
            engine = self._factory(self._config)  # cheap: an engine loads its models on first use
        return paint_problem(engine, request)

    def cancel(self, job_id: str) -> bool:
        """Cancel a job: a queued one is dropped, a running one stops within one step.

        Returns
        -------
        bool
            False when no queued or running job has this id.
        """
        with self._lock:
            for job in self._queue:
                if job.job_id == job_id:
                    self._queue.remove(job)
                    self._outbox.append(JobCancelled(job_id))
                    self._lock.notify_all()
                    return True
            if self._running is not None and self._running.job_id == job_id:
                self._running.cancelled.set()
                return True
        return False

    def cancel_all(self) -> None:
        """Cancel the running job and every queued one."""
        with self._lock:
            ids = [j.job_id for j in self._queue]
            if self._running is not None:
                ids.insert(0, self._running.job_id)
        for job_id in ids:
            self.cancel(job_id)

    def set_config(self, config: EngineConfig) -> None:
        """Use ``config`` from the next job on (the running job keeps its configuration)."""
        with self._lock:
            self._config = config

    def pending(self) -> list[str]:
        """Ids of the running job (first) and the queued jobs, in order."""
        with self._lock:
            ids = [j.job_id for j in self._queue]
            if self._running is not None and not self._running.cancelled.is_set():
                ids.insert(0, self._running.job_id)
            return ids

    def is_alive(self) -> bool:
        """Whether the worker thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def shutdown(self, timeout: float = 5) -> bool:
        """Cancel everything, stop the worker and wait up to ``timeout`` seconds for it.

        Queued jobs are reported as JobCancelled. Returns True when the worker has stopped.
        """
        with self._lock:
            self._stopping = True
            while self._queue:
                self._outbox.append(JobCancelled(self._queue.popleft().job_id))
            if self._running is not None:
                self._running.cancelled.set()
            self._lock.notify_all()
            thread = self._thread
        if thread is None:
            self._flush()  # never started: deliver the cancellations here
            return True
        if thread is threading.current_thread():
            return False
        thread.join(timeout)
        return not thread.is_alive()

    # --- worker thread ----------------------------------------------------------------------

    def _post(self, message: Message) -> None:
        try:
            self._on_message(message)
        except Exception:  # a broken listener must not kill the engine
            log.exception("engine message listener failed on %r", type(message).__name__)

    def _flush(self) -> None:
        while True:
            with self._lock:
                if not self._outbox:
                    return
                message = self._outbox.popleft()
            self._post(message)

    def _next_job(self) -> _Job | None:
        with self._lock:
            while not self._queue and not self._outbox and not self._stopping:
                self._lock.wait()
            if self._stopping and not self._queue:
                return None
            if not self._queue:
                return None  # woke up for the outbox only
            job = self._queue.popleft()
            self._running = job
            return job

    def _run(self) -> None:
        while True:
            self._flush()
            job = self._next_job()
            self._flush()
            if job is None:
                with self._lock:
                    if self._stopping and not self._queue:
                        break
                continue
            try:
                self._run_job(job)
            finally:
                with self._lock:
                    self._running = None
            self._post_status()
        self._flush()
        self._release_engine()

    def _ensure_engine(self) -> Any:
        with self._lock:
            config = self._config
        if self._engine is None:
            self._engine = self._factory(config)
        elif config is not self._engine_config:
            if hasattr(self._engine, "set_config"):
                self._engine.set_config(config)
            else:
                self._engine = self._factory(config)
        self._engine_config = config
        return self._engine

    def _run_job(self, job: _Job) -> None:
        job_id = job.job_id
        if job.cancelled.is_set():
            self._post(JobCancelled(job_id))
            return
        self._post(JobStarted(job_id, job.kind))

        def is_cancelled() -> bool:
            self._flush()
            return job.cancelled.is_set()

        def on_progress(step: int, total: int, stage: str = "", *_: Any, **__: Any) -> None:
            self._flush()
            self._post(Progress(job_id, int(step), int(total), str(stage)))
            if job.cancelled.is_set():
                raise Cancelled()

        def on_preview(image: Any, step: int = 0, rect: Any = None, *_: Any, **__: Any) -> None:
            self._post(Preview(job_id, image, int(step), tuple(int(v) for v in rect) if rect is not None else None))

        config = None
        try:
            engine = self._ensure_engine()
            config = self._engine_config
            result = engine.handle(job.request, on_progress, on_preview, is_cancelled)
        except Cancelled:
            self._post(JobCancelled(job_id))
            return
        except BaseException as exc:  # noqa: BLE001 - the service must survive any job
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            failure = failure_of(exc, job.request, job_id, config)
            if failure.kind == "out-of-memory":
                log.warning("job %s ran out of memory: %s", job_id, exc)
                empty_cuda_cache()
            elif failure.kind in ("error",):
                log.error("job %s failed", job_id, exc_info=exc)
            else:
                log.info("job %s failed (%s): %s", job_id, failure.kind, failure.error)
            if job.cancelled.is_set():
                self._post(JobCancelled(job_id))
            else:
                self._post(failure)
            return
        if job.cancelled.is_set():
            # The user asked to cancel while the last step ran: honour it, drop the result.
            self._post(JobCancelled(job_id))
        else:
            self._post(JobFinished(job_id, _with_worker(result, engine)))

    def _post_status(self) -> None:
        """Tell listeners where the engine runs and its GPU memory now that a job ended."""
        try:
            status = engine_status()
        except Exception:  # pragma: no cover - engine_status does not raise; be safe anyway
            log.exception("engine status failed")
            return
        self._post(status)

    def _release_engine(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None and hasattr(engine, "unload"):
            try:
                engine.unload()
            except Exception:  # pragma: no cover - best effort at exit
                log.exception("unloading the engine failed")


def _with_worker(result: object, engine: Any = None) -> object:
    """``result`` with the painting process recorded (an :class:`EditResult` only)."""
    if not isinstance(result, EditResult) or result.worker is not None:
        return result
    # The device that did the work: "cuda" once a job initialised it (asking never imports torch).
    return dataclasses.replace(result, worker=worker_info(engine_status().device))
