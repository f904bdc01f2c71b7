"""The one bridge between the editor and the engine.

The engine service runs on its own worker thread and reports :mod:`engine.api` messages *on that
thread*. :class:`EngineClient` re-emits each of them as a Qt signal on the GUI thread (a queued
connection), keeps the queue of running and waiting jobs for the UI, and offers :meth:`EngineClient.run`,
an awaitable under qasync.

This is the only module under ``desktop`` that imports ``engine``, and it imports only
:mod:`engine.api` (import-linter checks it): requests, messages, the :class:`~engine.api.EngineBackend`
interface and the lazy factories of the in-process and the remote engine. Model status, path checks
and the offline parse are api queries too, so a studio server can answer them for its own disk.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
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
    EngineBackend,
    EngineError,
    EngineStatus,
    FolderCheckRequest,
    InpaintRequest,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobQueued,
    JobStarted,
    MissingModelsError,
    ModelEntry,
    ModelPathRequest,
    ModelPathStatus,
    ModelStatusReport,
    ModelStatusRequest,
    ParsedInstruction,
    ParseRequest,
    PlanRequest,
    Preview,
    Progress,
    SegmentRequest,
    SegmentResult,
    WorkerInfo,
    paint_probe,
    request_kind,
)
from engine.connect import answer_locally, check_server, engine_version, local_engine
from engine.connect import engine_config as _engine_config
from engine.provenance import layer_provenance_fields, what_ran  # noqa: F401  (one builder: CLI, editor, server)
from engine.instructor_choice import fallback_line as instructor_fallback_line  # noqa: F401  (never silently)
from masks import mask_ops  # noqa: F401  (re-exported: numpy-only mask operations, shared with the engine)

APP_VERSION = engine_version()  # re-exported for About

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
    "ModelEntry",
    "ModelPathStatus",
    "ModelStatusReport",
    "PlanRequest",
    "SegmentRequest",
    "SegmentResult",
    "WorkerInfo",
    "default_service_factory",
    "engine_config",
    "mask_ops",
    "check_folder",
    "model_entries",
    "model_names",
    "model_path_status",
    "model_status",
    "paint_probe",
    "parse_instruction",
    "remote_service_factory",
    "request_kind",
    "test_server_connection",
]

log = logging.getLogger(__name__)


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
    """An ``engine.dispatch.EngineConfig`` (through ``engine.api``: imported lazily, it is not cheap)."""
    return _engine_config(**kwargs)


ServiceFactory = Callable[[Callable[[object], None]], EngineBackend]


def default_service_factory(config: Any = None) -> ServiceFactory:
    """A factory that builds the in-process engine service with ``config``."""

    def factory(on_message: Callable[[object], None]) -> EngineBackend:
        return local_engine(on_message, config)

    return factory


def remote_service_factory(url: str, token: str | None = None, **kwargs: Any) -> ServiceFactory:
    """A factory that connects to a studio server (``brushedit serve``) at ``url``."""

    def factory(on_message: Callable[[object], None]) -> EngineBackend:
        from engine.connect import remote_engine

        return remote_engine(on_message, url, token, **kwargs)

    factory.remote = True  # EngineClient.remote: its answers come from the server, before any job too
    return factory


def test_server_connection(url: str, token: str | None = None, timeout: float = 5.0) -> tuple[bool, str]:
    """``(ok, text)``: does a studio server answer at ``url`` and take ``token``? (Blocks up to ``timeout``.)"""
    return check_server(url, token, timeout)


test_server_connection.__test__ = False  # not a pytest test


# --- questions the engine answers at once: here answered by this process's engine ------------
# (EngineClient.answer asks whichever engine the client drives, a studio server included.)


def _dirs(settings: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in dict(settings or {}).items() if v)


def model_entries(settings: Any = None) -> list[ModelEntry]:
    """The weights manifest with each entry's install status.

    ``settings`` are per-model user folders (manifest name -> folder), as in ``EngineConfig.model_dirs``.
    """
    return list(answer_locally(ModelStatusRequest(_dirs(settings))).entries)


def model_status(name: str, settings: Any = None) -> ModelEntry:
    """One manifest entry's install status (``installed``, ``status``: installed, missing, ...)."""
    entries = answer_locally(ModelStatusRequest(_dirs(settings), (name,))).entries
    if not entries:
        raise KeyError(f"unknown model {name!r}")
    return entries[0]


def check_folder(name: str, folder: Any) -> Any:
    """The first problem of ``folder`` as a copy of manifest model ``name`` (``None`` when complete)."""
    check = answer_locally(FolderCheckRequest(name, str(folder)))
    return None if check.ok else check


def model_names(kind: str) -> list[str]:
    """Manifest names of one kind ("sd15-base", "brushnet", "sam", "grounding", "instructor"),
    the default first."""
    return answer_locally(ModelStatusRequest()).names(kind)


def model_path_status(kind: str, path: Any = None) -> ModelPathStatus:
    """Check a user's folder (or checkpoint file) for a model of ``kind``; empty: the automatic search.

    Reads file headers only, so it is cheap enough for the GUI thread.
    """
    return answer_locally(ModelPathRequest(kind, "" if path is None else str(path)))


def parse_instruction(text: str) -> ParsedInstruction:
    """The offline (rule-based) reading of an instruction: category, target, caption, confident."""
    return answer_locally(ParseRequest(text))


@dataclass
class JobInfo:
    """A job the client knows about: ``state`` is "waiting" or "running".

    This table is the one record of the jobs in flight: ``handle`` is what the submitter attached
    (the model's :class:`desktop.model.jobs.Job`: how to apply the result), ``future`` the awaiter of
    :meth:`EngineClient.run`.
    """

    job_id: str
    kind: str
    label: str
    state: str = "waiting"
    step: int = 0
    total: int = 0
    stage: str = ""
    handle: Any = None
    future: Any = None


class EngineClient(QObject):
    """Jobs out to the engine's worker thread; its messages back as Qt signals on the GUI thread.

    Parameters
    ----------
    service_factory : callable, optional
        ``service_factory(on_message) -> engine`` implementing :class:`engine.api.EngineBackend`
        (the in-process service, a studio server's client, a test fake). Defaults to the in-process
        service.

    Job ids are strings (:func:`engine.api.new_job_id`); the signals carry them as ``object``.
    """

    queued = Signal(object, str)
    started = Signal(object, str)
    progress = Signal(object, int, int, str)
    preview = Signal(object, object)
    preview_region = Signal(object, object, object)  # job id, image, (x, y, w, h) or None
    finished = Signal(object, object)
    failed = Signal(object, str, str, str)
    cancelled = Signal(object)
    # A job ended (JobFinished, JobFailed or JobCancelled): its JobInfo (with the submitter's handle)
    # and the message; emitted before finished / failed / cancelled.
    ended = Signal(object, object)
    busy_changed = Signal(bool)
    queue_changed = Signal()
    # An EngineStatus after each job: the device and its GPU memory.
    status = Signal(object)
    # Any message that is not one of the job messages (e.g. engine status); forwarded as is.
    message = Signal(object)

    # Internal: carries a message from the worker thread to the GUI thread.
    _incoming = Signal(object)

    def __init__(self, service_factory: ServiceFactory | None = None, parent=None):
        super().__init__(parent)
        self._factory = service_factory or default_service_factory()
        self._service: EngineBackend | None = None
        self._jobs: dict[Any, JobInfo] = {}  # the one table of jobs in flight (see JobInfo)
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

    def set_service_factory(self, factory: ServiceFactory) -> None:
        """Drive another engine from the next job on (e.g. a studio server instead of this computer).

        The current engine is shut down (its jobs end as cancelled); the new one starts on demand.
        """
        if self._service is not None:
            self.shutdown()
        self._factory = factory
        self._closed = False

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
        for job in list(self._jobs.values()):
            _resolve(job, exc=Cancelled("engine shut down"))
        if self._jobs:
            self._jobs.clear()
            self.queue_changed.emit()
        self._set_busy(False)

    # --- jobs ------------------------------------------------------------------------------------

    def submit(self, request: Any, handle: Any = None) -> int:
        """Queue ``request`` (an engine.api request snapshot) and return its job id.

        ``handle``: anything the submitter wants back with the job (:meth:`job`, :attr:`ended`)."""
        self.start()
        job_id = request.job_id
        self._jobs[job_id] = JobInfo(job_id, request_kind(request), _describe(request), handle=handle)
        try:
            returned = self._service.submit(request)
        except BaseException:
            self._jobs.pop(job_id, None)
            raise
        if returned is not None and not isinstance(returned, bool) and returned != job_id:  # pragma: no cover
            self._jobs[returned] = self._jobs.pop(job_id)
            self._jobs[returned].job_id = returned
            job_id = returned
        self.queue_changed.emit()
        self._set_busy(True)
        return job_id

    @property
    def remote(self) -> bool:
        """Whether this client drives a studio server (its factory says so, or its engine is one),
        so that model status and path checks are about the server's disk, not this computer's."""
        return bool(getattr(self._factory, "remote", False)) or hasattr(self._service, "client_id")

    def answer(self, query: Any) -> Any:
        """Ask the engine this client drives a :data:`engine.api.Query` (model status, path checks,
        the offline parse): the in-process engine answers at once, a studio server over the network.
        An engine without ``answer`` (an old fake) is answered by this process.

        Asking does not start an engine that is not running yet unless it is a studio server: the
        in-process service would answer with the very same code from the very same disk, and
        starting it (its thread, ``engine.service``'s imports) is not a question's cost to pay.
        """
        if self._service is None and not self.remote:
            return answer_locally(query)
        self.start()
        asker = getattr(self._service, "answer", None)
        return asker(query) if asker is not None else answer_locally(query)

    def model_entries(self, settings: Any = None) -> list[ModelEntry]:
        """The weights manifest as the engine this client drives sees it (a server: its own disk)."""
        return list(self.answer(ModelStatusRequest(_dirs(settings))).entries)

    def model_path_status(self, kind: str, path: Any = None) -> ModelPathStatus:
        """:func:`model_path_status` asked of the engine this client drives (a server checks ``path``
        on its own disk, and "empty" means its own automatic search)."""
        return self.answer(ModelPathRequest(kind, "" if path is None else str(path)))

    def parse_instruction(self, text: str) -> ParsedInstruction:
        """:func:`parse_instruction` by the engine this client drives: a studio server reads the text
        with its own parser (the one that will plan and paint it). When the server cannot be asked,
        this process's parser (the same rules, perhaps another version) answers: the job that
        follows reports the server's failure itself."""
        try:
            return self.answer(ParseRequest(text))
        except Exception as exc:  # noqa: BLE001 - a parse must not break Run
            if not self.remote:
                raise
            log.info("the studio server did not parse the instruction (%s); parsing here", exc)
            return answer_locally(ParseRequest(text))

    def cancel(self, job_id: Any = None) -> None:
        """Cancel ``job_id`` (running or waiting); ``None`` cancels the running job."""
        if job_id is None:
            running = self.running_job()
            if running is None:
                return
            job_id = running.job_id
        if self._service is not None and job_id in self._jobs:
            self._service.cancel(job_id)

    def check_paint(self, request: Any) -> EngineError | None:
        """What painting ``request`` would raise at once (missing weights, no usable device), asked of
        the engine before anything slow (planning) runs; ``None`` when it can paint, or when the engine
        cannot be asked (it then says so when the job runs, as before)."""
        self.start()
        check = getattr(self._service, "check_paint", None)
        if check is None:
            return None
        try:
            problem = check(request)
        except EngineError as exc:
            return exc
        return problem if isinstance(problem, EngineError) else None

    def job(self, job_id: Any) -> JobInfo | None:
        """The job ``job_id`` while it is in flight."""
        return self._jobs.get(job_id)

    def attach(self, job_id: Any, handle: Any = None, future: Any = None) -> None:
        """Attach the submitter's ``handle`` (and an awaiter's ``future``) to a job just submitted (its
        messages reach this thread later, through the event loop, so none is missed)."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.handle = handle if handle is not None else job.handle
            job.future = future if future is not None else job.future

    async def run(self, request: Any, handle: Any = None) -> Any:
        """Submit ``request`` and wait for its result (use under a qasync event loop).

        Raises
        ------
        EngineError
            The job failed (``hint`` and ``kind`` as in ``JobFailed``).
        Cancelled
            The job was cancelled. Cancelling the awaiting task cancels the job.
        """
        future = asyncio.get_running_loop().create_future()
        job_id = self.submit(request)
        self.attach(job_id, handle, future)
        try:
            return await future
        except asyncio.CancelledError:
            self.cancel(job_id)
            raise

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
        elif isinstance(msg, (JobFinished, JobFailed, JobCancelled)):
            self._jobs.pop(msg.job_id, None)
            if job is not None:
                self.ended.emit(job, msg)
            if isinstance(msg, JobFinished):
                self.finished.emit(msg.job_id, msg.result)
                _resolve(job, result=msg.result)
            elif isinstance(msg, JobFailed):
                log.warning("job %s failed: %s (%s)", msg.job_id, msg.error, msg.hint)
                self.failed.emit(msg.job_id, msg.error, msg.hint, msg.kind)
                _resolve(job, exc=_engine_error(msg))
            else:
                self.cancelled.emit(msg.job_id)
                _resolve(job, exc=Cancelled(f"job {msg.job_id} cancelled"))
            self.queue_changed.emit()
        elif isinstance(msg, EngineStatus):
            self.last_status = msg
            self.status.emit(msg)
        else:
            self.message.emit(msg)
        self._set_busy(bool(self._jobs))

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


def _resolve(job: JobInfo | None, result: Any = None, exc: BaseException | None = None) -> None:
    """Hand a job's outcome to its :meth:`EngineClient.run` awaiter, if it has one still waiting."""
    future = getattr(job, "future", None)
    if future is None or future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def _fit_int32(step: int, total: int) -> tuple[int, int]:
    """Scale ``step``/``total`` (download bytes can pass 2 GiB) into Qt's int, keeping the ratio."""
    step, total = int(step), int(total)
    while max(abs(step), abs(total)) > 2**31 - 1:
        step, total = step // 1024, total // 1024
    return step, total


def _engine_error(msg: JobFailed) -> EngineError:
    return EngineError(msg.error, msg.hint, kind=msg.kind)


# --- the batch run (File ▸ Batch…): the engine's, shared with ``brushedit batch``; the editor's way in ---
from engine.batch.run import REPORT, STATE, BatchSettings, LocalExecutor, run_batch  # noqa: E402,F401
