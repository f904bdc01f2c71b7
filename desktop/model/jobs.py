"""The model's jobs: one :class:`Job` record each, with the callback that applies its result.

As krita-ai-diffusion's ``model/jobs.py`` (``Job``, ``JobParams``, ``JobQueue``): a job says what it is
and how its result enters the document; :class:`JobQueue` snapshots the document, submits the request
and calls the job's callback when the engine answers, so no switch on kind strings decides it. Jobs
are tracked once: the record rides on the bridge's own table (``EngineClient.submit(request, handle)``,
``EngineClient.job``, ``EngineClient.ended``); the queue keeps only the snapshots still being taken.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop.engine_client import EngineClient, JobCancelled, JobFailed, JobFinished
from desktop.model.snapshots import Snapshots

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Job:
    """One job of the model.

    ``on_done(result)`` applies the result (on the GUI thread); ``on_failed(message, hint)`` and
    ``on_cancelled()`` are extra steps after the queue has said so. ``paints``: it shows live previews.
    ``background``: not the model's busy state and no progress line (a SAM click). ``report_failure``:
    the queue says a failure itself (a chain's awaited job: the chain says which step failed).
    ``stage(text)`` rewrites its progress stage ("step 2 of 3: denoising").
    """

    kind: str
    on_done: Callable[[Any], None] | None = None
    on_failed: Callable[[str, str], None] | None = None
    on_cancelled: Callable[[], None] | None = None
    paints: bool = False
    background: bool = False
    report_failure: bool = True
    stage: Callable[[str], str] | None = None
    id: Any = None
    request: Any = None
    queue: Any = None


class JobQueue(QObject):
    """Snapshots, submits and follows the model's jobs on ``client``.

    Signals: ``progress_changed(step, total, stage)``, ``step_preview(image)``,
    ``live_preview(image, rect)`` (``(None, None)`` when a painting job ends), ``busy_changed(bool)``,
    ``error(message, hint)``.
    """

    progress_changed = Signal(int, int, str)
    step_preview = Signal(object)
    live_preview = Signal(object, object)
    busy_changed = Signal(bool)
    error = Signal(str, str)

    def __init__(self, client: EngineClient, document_getter: Callable[[], Any], parent=None):
        super().__init__(parent)
        self.client = client
        self._doc = document_getter
        self.snapshots = Snapshots(self)
        self._preparing: dict[int, Job] = {}  # snapshot being taken -> its job
        self._tokens = itertools.count(1)
        self._holds: set[int] = set()  # something between jobs that keeps the model busy (a chain)
        self._busy = False
        self._live_job: Any = None
        client.progress.connect(self._on_progress)
        client.preview.connect(self._on_preview)
        client.preview_region.connect(self._on_preview_region)
        client.ended.connect(self._on_ended)
        client.queue_changed.connect(self.update_busy)  # a shut-down engine drops its jobs silently

    # --- submitting ----------------------------------------------------------------------------

    def prepare(self, doc: Any, below: Any, job: Job, make_request: Callable[[np.ndarray], Any]) -> None:
        """Snapshot ``doc`` (maybe off the GUI thread; with ``below``, only the layers under that
        layer), then submit ``make_request(image)`` as ``job`` (None from it: nothing to submit)."""
        token = next(self._tokens)
        self._preparing[token] = job
        self.update_busy()

        def ready(image: np.ndarray | None) -> None:
            if token not in self._preparing:
                return  # cancelled meanwhile
            try:
                if image is None:
                    self.error.emit("Could not read the image for the engine", "See the log for the details")
                    return
                if self._doc() is not doc:
                    return  # another document was opened meanwhile
                request = make_request(image)
                if request is not None:
                    self.submit(request, job)
            finally:
                self._preparing.pop(token, None)  # only now: busy does not blink between snapshot and job
                self.update_busy()

        self.snapshots.take(doc, below, ready)

    def snapshot(self, doc: Any, loop: Any) -> Any:
        """A future of ``loop`` that gets ``doc``'s snapshot (None when it could not be taken)."""
        future = loop.create_future()
        self.snapshots.take(doc, None, lambda image: future.done() or future.set_result(image))
        return future

    def submit(self, request: Any, job: Job) -> Any:
        """Queue ``request`` as ``job``; its id, or None (and an error) when the engine refuses it."""
        self.adopt(request, job)
        try:
            job.id = self.client.submit(request)
            self.client.attach(job.id, job)  # the record rides on the bridge's own table
        except Exception as exc:  # e.g. the engine was shut down: say so, keep going
            log.exception("submit failed")
            self.error.emit(f"The engine did not take the job: {exc}", "Restart BrushEdit Studio if this persists")
            return None
        self.update_busy()
        return job.id

    def adopt(self, request: Any, job: Job) -> Job:
        """``job`` as this queue's, for ``request`` (also for ``await client.run(request, job)``)."""
        job.queue, job.request, job.id = self, request, request.job_id
        return job

    # --- what runs -----------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """This queue's jobs in flight (the bridge's table, filtered)."""
        return [j.handle for j in self.client.jobs() if self._owns(j.handle)]

    @property
    def busy(self) -> bool:
        return self._busy

    def hold(self, key: int) -> None:
        """Stay busy between jobs (``key`` names who holds) until :meth:`release`."""
        self._holds.add(key)
        self.update_busy()

    def release(self, key: int) -> None:
        self._holds.discard(key)
        self.update_busy()

    def update_busy(self) -> None:
        busy = bool(self._holds) or any(not j.background for j in self.jobs()) or any(
            not j.background for j in self._preparing.values())
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def cancel(self, which: Callable[[Job], bool] = lambda job: not job.background) -> bool:
        """Cancel the jobs ``which`` picks (default: all but background ones), snapshots included;
        True when a snapshot was dropped (nothing will say "cancelled" for it: the caller may)."""
        dropped = [t for t, job in self._preparing.items() if which(job)]
        for token in dropped:
            del self._preparing[token]
        if dropped:
            self.update_busy()
        for job in self.jobs():
            if which(job):
                self.client.cancel(job.id)
        return bool(dropped)

    # --- the engine's answers --------------------------------------------------------------------

    def _owns(self, handle: Any) -> bool:
        """Whether a job table entry's handle is one of this queue's jobs."""
        return isinstance(handle, Job) and handle.queue is self

    def _mine(self, job_id: Any) -> Job | None:
        job = getattr(self.client.job(job_id), "handle", None)
        return job if self._owns(job) else None

    def _on_progress(self, job_id: Any, step: int, total: int, stage: str) -> None:
        job = self._mine(job_id)
        if job is not None and not job.background:
            self.progress_changed.emit(step, total, job.stage(stage) if job.stage else stage)

    def _on_preview(self, job_id: Any, image: object) -> None:
        job = self._mine(job_id)
        if job is not None and job.paints:
            self.step_preview.emit(image)

    def _on_preview_region(self, job_id: Any, image: object, rect: object) -> None:
        job = self._mine(job_id)
        if job is not None and job.paints:
            self._live_job = job_id
            self.live_preview.emit(image, rect)

    def _on_ended(self, info: Any, message: Any) -> None:
        job = getattr(info, "handle", None)
        if not self._owns(job):
            return
        if self._live_job == info.job_id:
            self._live_job = None
            self.live_preview.emit(None, None)
        try:
            if isinstance(message, JobFinished):
                if job.on_done is not None:
                    job.on_done(message.result)
            elif isinstance(message, JobFailed):
                if job.report_failure:
                    self.progress_changed.emit(0, 0, "failed")
                    self.error.emit(message.error, message.hint)
                if job.on_failed is not None:
                    job.on_failed(message.error, message.hint)
            elif isinstance(message, JobCancelled):
                if not job.background and job.report_failure:
                    self.progress_changed.emit(0, 0, "cancelled")
                if job.on_cancelled is not None:
                    job.on_cancelled()
        finally:
            self.update_busy()
