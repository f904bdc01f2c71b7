"""The one bridge between the editor and the engine.

The engine service runs on its own worker thread and reports :mod:`engine.api` messages *on that
thread*. :class:`EngineClient` re-emits each of them as a Qt signal on the GUI thread (a queued
connection), keeps the queue of running and waiting jobs for the UI, and offers :meth:`EngineClient.run`,
an awaitable under qasync.

This is the only module under ``desktop`` (besides the fake engine used by tests) that imports
``engine``. It re-exports the :mod:`engine.api` names the UI needs, and reaches ``engine.service`` and
``engine.models`` only inside functions, so importing it never loads torch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from engine.api import (  # re-exported for desktop.ui
    CATEGORIES,
    DEFAULT_NEGATIVE_PROMPT,
    Cancelled,
    Candidate,
    DownloadRequest,
    EditParams,
    EditPlan,
    EditResult,
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
    SegmentRequest,
    SegmentResult,
)
from engine.instructor import parse_instruction  # noqa: F401  (re-exported: rule-based, no model, no torch)
from engine.segment import mask_ops  # noqa: F401  (re-exported: numpy-only mask operations)
from engine.version import __version__ as APP_VERSION  # noqa: F401  (re-exported for About)

__all__ = [
    "CATEGORIES",
    "DEFAULT_NEGATIVE_PROMPT",
    "Cancelled",
    "Candidate",
    "DownloadRequest",
    "EditParams",
    "EditPlan",
    "EditResult",
    "EngineClient",
    "EngineError",
    "EngineStatus",
    "InpaintRequest",
    "JobInfo",
    "MissingModelsError",
    "PlanRequest",
    "SegmentRequest",
    "SegmentResult",
    "default_service_factory",
    "engine_config",
    "mask_ops",
    "check_folder",
    "model_entries",
    "model_names",
    "model_path_status",
    "model_status",
    "request_kind",
]

log = logging.getLogger(__name__)


def request_kind(request: Any) -> str:
    """Short name of a request's kind: "inpaint", "plan", "segment" or "download"."""
    return {
        InpaintRequest: "inpaint",
        PlanRequest: "plan",
        SegmentRequest: "segment",
        DownloadRequest: "download",
    }.get(type(request), type(request).__name__.lower())


def _describe(request: Any) -> str:
    """One line for the job queue."""
    if isinstance(request, InpaintRequest):
        text = request.prompt or request.instruction or "(no prompt)"
        return f"Paint: {text[:60]}"
    if isinstance(request, PlanRequest):
        return f"Plan: {request.instruction[:60]}"
    if isinstance(request, SegmentRequest):
        return f"Select object ({len(request.points)} clicks)"
    if isinstance(request, DownloadRequest):
        return "Download: " + ", ".join(request.names)
    return request_kind(request)


def engine_config(**kwargs: Any) -> Any:
    """An ``engine.service.EngineConfig`` (imported lazily: the service module may be heavy)."""
    from engine.service import EngineConfig

    return EngineConfig(**kwargs)


def default_service_factory(config: Any = None) -> Callable[[Callable[[object], None]], Any]:
    """A factory that builds the real ``engine.service.EngineService`` with ``config``."""

    def factory(on_message: Callable[[object], None]) -> Any:
        from engine.service import EngineService

        return EngineService(on_message, config=config)

    return factory


@dataclass
class ModelEntry:
    """What the Models dialog shows about one manifest entry."""

    name: str
    size_bytes: int | None
    installed: bool
    status: str
    enables: str
    description: str
    default: bool = False


def model_entries(settings: Any = None) -> list[ModelEntry]:
    """The weights manifest with each entry's install status (``engine.models``, imported lazily).

    ``settings`` are per-model user folders (manifest name -> folder), as in ``EngineConfig.model_dirs``.
    """
    from engine import models

    features = getattr(models, "FEATURES", {})
    entries = []
    for name, spec in models.MANIFEST.items():
        try:
            status = models.model_status(name, settings)
            state = str(status.state)
            installed = bool(status.installed)
            if not installed and getattr(status, "problem", ""):
                state += f" ({status.problem})"
        except Exception as exc:  # a broken folder must not break the dialog
            state, installed = f"error: {exc}", False
        enables = "; ".join(features.get(f, f) for f in getattr(spec, "features", ()))
        title = getattr(spec, "title", "")
        notes = getattr(spec, "notes", "")
        entries.append(ModelEntry(
            name=str(name), size_bytes=getattr(spec, "size_bytes", None), installed=installed,
            status=state, enables=enables, description=" — ".join(t for t in (title, notes) if t),
            default=bool(getattr(spec, "default", False)),
        ))
    return entries


def model_status(name: str, settings: Any = None) -> Any:
    """``engine.models.model_status`` (imported lazily): installed, missing, incomplete or corrupt."""
    from engine import models

    return models.model_status(name, settings)


def check_folder(name: str, folder: Any) -> Any:
    """The first problem of ``folder`` as a copy of manifest model ``name`` (``None`` when complete)."""
    from engine import models

    return models.check_folder(models.get_spec(name), Path(folder))


def model_names(kind: str) -> list[str]:
    """Manifest names of one kind ("sd15-base", "brushnet", "sam", "grounding", "instructor"),
    the default first."""
    from engine.models import MANIFEST

    specs = [s for s in MANIFEST.values() if s.kind == kind]
    return [s.name for s in sorted(specs, key=lambda s: not s.default)]


@dataclass(frozen=True)
class ModelPathStatus:
    """Whether a model path (or the automatic search, for an empty path) gives a usable model.

    ``name`` is the manifest name the path holds (or the automatic copy found); empty when none.
    """

    usable: bool
    text: str
    name: str = ""


_SOURCES = {"app": "app models folder", "hf-cache": "Hugging Face cache", "user": "set by environment"}


def model_path_status(kind: str, path: Any = None) -> ModelPathStatus:
    """Check a user's folder (or checkpoint file) for a model of ``kind``; empty: the automatic search.

    Reads file headers only (``engine.models.check``), so it is cheap enough for the GUI thread.
    """
    from engine.models import MANIFEST, model_status as _status
    from engine.models.check import check_file, check_folder as _check

    names = model_names(kind)
    if not names:
        return ModelPathStatus(False, f"unknown model kind {kind!r}")
    if not path or not str(path).strip():
        first_problem = None
        for name in names:
            status = _status(name)
            if status.installed and status.location is not None:
                source = _SOURCES.get(status.location.source, status.location.source)
                return ModelPathStatus(True, f"Found automatically: {name} ({source})", name)
            if status.state != "missing" and first_problem is None:
                first_problem = f"{name} is {status.state} ({status.file}: {status.problem})"
        text = first_problem or f"Not installed: download {names[0]} with Engine ▸ Models…"
        return ModelPathStatus(False, text)
    p = Path(str(path).strip()).expanduser()
    if not p.exists():
        return ModelPathStatus(False, "Not usable: no such file or folder")
    specs = [MANIFEST[n] for n in names]
    if p.is_file():
        single = [s for s in specs if len(s.files) == 1]
        if not single:
            return ModelPathStatus(False, "Not usable: choose the model's folder, not a file")
        spec = next((s for s in single if s.files[0] == p.name), single[0])
        problem = check_file(spec, spec.files[0] if p.name == spec.files[0] else p.name, p)
        if problem is not None:
            return ModelPathStatus(False, f"Not usable: {problem.file}: {problem.reason}")
        return ModelPathStatus(True, f"Usable: {spec.title}", spec.name)
    # Models of one kind with the same files (BrushNet variants, SD1.5 fine-tunes) cannot be told
    # apart by their folder: name the model only where the layout does (SAM sizes, Qwen2-VL sizes).
    same_layout = len({s.files for s in specs}) == 1
    first = None
    for spec in specs:
        problem = _check(spec, p)
        if problem is None:
            return ModelPathStatus(True, "Usable: all files present" if same_layout else f"Usable: {spec.title}",
                                   spec.name)
        first = first or problem
    return ModelPathStatus(False, f"Not usable: {first.file}: {first.reason}")


@dataclass
class JobInfo:
    """A job the client knows about: ``state`` is "waiting" or "running"."""

    job_id: int
    kind: str
    label: str
    state: str = "waiting"
    step: int = 0
    total: int = 0
    stage: str = ""


class EngineClient(QObject):
    """Jobs out to the engine's worker thread; its messages back as Qt signals on the GUI thread.

    Parameters
    ----------
    service_factory : callable, optional
        ``service_factory(on_message) -> service`` with the ``engine.service.EngineService``
        interface (``start``, ``submit``, ``cancel``, ``shutdown``). Defaults to the real service.
    """

    queued = Signal(int, str)
    started = Signal(int, str)
    progress = Signal(int, int, int, str)
    preview = Signal(int, object)
    preview_region = Signal(int, object, object)  # job id, image, (x, y, w, h) or None
    finished = Signal(int, object)
    failed = Signal(int, str, str, str)
    cancelled = Signal(int)
    busy_changed = Signal(bool)
    queue_changed = Signal()
    # An EngineStatus after each job: the device and its GPU memory.
    status = Signal(object)
    # Any message that is not one of the job messages (e.g. engine status); forwarded as is.
    message = Signal(object)

    # Internal: carries a message from the worker thread to the GUI thread.
    _incoming = Signal(object)

    def __init__(self, service_factory: Callable[[Callable[[object], None]], Any] | None = None, parent=None):
        super().__init__(parent)
        self._factory = service_factory or default_service_factory()
        self._service: Any = None
        self._jobs: dict[int, JobInfo] = {}
        self._futures: dict[int, asyncio.Future] = {}
        self._busy = False
        self._closed = False
        self.last_status: EngineStatus | None = None
        # Queued: the slot runs on the thread that owns this object (the GUI thread), whatever
        # thread emits.
        self._incoming.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Build and start the service (idempotent). Models and torch load later, on its thread."""
        if self._service is None:
            self._closed = False
            self._service = self._factory(self._on_message)
            self._service.start()

    @property
    def service(self) -> Any:
        """The service object (``None`` before :meth:`start`)."""
        return self._service

    def set_config(self, config: Any) -> None:
        """Pass an ``EngineConfig`` to the service (applies to the next job)."""
        self.start()
        setter = getattr(self._service, "set_config", None)
        if setter is not None:
            setter(config)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the worker thread; pending awaiters get :class:`Cancelled`."""
        if self._service is not None:
            service, self._service = self._service, None
            self._closed = True
            try:
                service.shutdown(timeout)
            except TypeError:
                service.shutdown()
        for job_id in list(self._futures):
            self._resolve(job_id, exc=Cancelled("engine shut down"))
        if self._jobs:
            self._jobs.clear()
            self.queue_changed.emit()
        self._set_busy(False)

    # --- jobs ------------------------------------------------------------------------------------

    def submit(self, request: Any) -> int:
        """Queue ``request`` (an engine.api request snapshot) and return its job id."""
        self.start()
        job_id = request.job_id
        self._jobs[job_id] = JobInfo(job_id, request_kind(request), _describe(request))
        try:
            returned = self._service.submit(request)
        except BaseException:
            self._jobs.pop(job_id, None)
            raise
        if isinstance(returned, int) and returned != job_id:  # pragma: no cover - defensive
            self._jobs[returned] = self._jobs.pop(job_id)
            self._jobs[returned].job_id = returned
            job_id = returned
        self.queue_changed.emit()
        self._set_busy(True)
        return job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel ``job_id`` (running or waiting); ``None`` cancels the running job."""
        if job_id is None:
            running = self.running_job()
            if running is None:
                return
            job_id = running.job_id
        if self._service is not None and job_id in self._jobs:
            self._service.cancel(job_id)

    async def run(self, request: Any) -> Any:
        """Submit ``request`` and wait for its result (use under a qasync event loop).

        Raises
        ------
        EngineError
            The job failed (``hint`` and ``kind`` as in ``JobFailed``).
        Cancelled
            The job was cancelled. Cancelling the awaiting task cancels the job.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._futures[request.job_id] = future
        job_id = self.submit(request)
        if job_id != request.job_id:  # pragma: no cover - defensive
            self._futures[job_id] = self._futures.pop(request.job_id)
        try:
            return await future
        except asyncio.CancelledError:
            self.cancel(job_id)
            raise
        finally:
            self._futures.pop(job_id, None)

    def jobs(self) -> list[JobInfo]:
        """The running job first, then waiting ones in submission order."""
        return sorted(self._jobs.values(), key=lambda j: (j.state != "running", j.job_id))

    def running_job(self) -> JobInfo | None:
        return next((j for j in self._jobs.values() if j.state == "running"), None)

    @property
    def busy(self) -> bool:
        """True while a job is running or waiting."""
        return self._busy

    # --- messages --------------------------------------------------------------------------------

    def _on_message(self, message: object) -> None:
        """Called by the service on its worker thread: hand over to the GUI thread."""
        if not self._closed:
            self._incoming.emit(message)

    @Slot(object)
    def _dispatch(self, msg: object) -> None:
        job = self._jobs.get(getattr(msg, "job_id", -1))
        if isinstance(msg, JobQueued):
            if job is None:
                job = self._jobs[msg.job_id] = JobInfo(msg.job_id, msg.kind, msg.kind)
            self.queued.emit(msg.job_id, msg.kind)
            self.queue_changed.emit()
        elif isinstance(msg, JobStarted):
            if job is None:
                job = self._jobs[msg.job_id] = JobInfo(msg.job_id, msg.kind, msg.kind)
            job.state = "running"
            self.started.emit(msg.job_id, msg.kind)
            self.queue_changed.emit()
        elif isinstance(msg, Progress):
            step, total = _fit_int32(msg.step, msg.total)
            if job is not None:
                job.step, job.total, job.stage = step, total, msg.stage
            self.progress.emit(msg.job_id, step, total, msg.stage)
        elif isinstance(msg, Preview):
            self.preview.emit(msg.job_id, msg.image)
            self.preview_region.emit(msg.job_id, msg.image, msg.rect)
        elif isinstance(msg, JobFinished):
            self._jobs.pop(msg.job_id, None)
            self.finished.emit(msg.job_id, msg.result)
            self._resolve(msg.job_id, result=msg.result)
            self.queue_changed.emit()
        elif isinstance(msg, JobFailed):
            self._jobs.pop(msg.job_id, None)
            log.warning("job %s failed: %s (%s)", msg.job_id, msg.error, msg.hint)
            self.failed.emit(msg.job_id, msg.error, msg.hint, msg.kind)
            self._resolve(msg.job_id, exc=_engine_error(msg))
            self.queue_changed.emit()
        elif isinstance(msg, JobCancelled):
            self._jobs.pop(msg.job_id, None)
            self.cancelled.emit(msg.job_id)
            self._resolve(msg.job_id, exc=Cancelled(f"job {msg.job_id} cancelled"))
            self.queue_changed.emit()
        elif isinstance(msg, EngineStatus):
            self.last_status = msg
            self.status.emit(msg)
        else:
            self.message.emit(msg)
        self._set_busy(bool(self._jobs))

    def _resolve(self, job_id: int, result: Any = None, exc: BaseException | None = None) -> None:
        future = self._futures.get(job_id)
        if future is None or future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


def _fit_int32(step: int, total: int) -> tuple[int, int]:
    """Scale ``step``/``total`` (download bytes can pass 2 GiB) into Qt's int, keeping the ratio."""
    step, total = int(step), int(total)
    while max(abs(step), abs(total)) > 2**31 - 1:
        step, total = step // 1024, total // 1024
    return step, total


def _engine_error(msg: JobFailed) -> EngineError:
    return EngineError(msg.error, msg.hint, kind=msg.kind)
