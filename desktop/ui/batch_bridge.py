"""The batch runner's engine in the editor: ``plan``/``inpaint`` that go through the EngineClient.

:func:`engine.batch.run.run_batch` (the run ``brushedit batch`` drives too, reached through the bridge)
runs on a :class:`BatchThread` (reading photos and writing outputs off the GUI thread, through the
document's :class:`~desktop.document.result_files.DocumentFiles`); each photo's jobs are submitted to the editor's own engine through
:class:`~desktop.engine_client.EngineClient` (on the GUI thread, where the client lives), so the
batch shares the loaded models and the one thread that owns the GPU, and the UI reaches the engine
only through the bridge. The batch thread waits for each job's end; a cancel cancels the running job.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from desktop.engine_client import Cancelled, EngineError


class ClientRunner(QObject):
    """``plan(request, progress)`` and ``inpaint(request, progress, preview, is_cancelled)`` as
    ``engine.dispatch.Engine`` has them, callable from any thread, run through ``client``.

    Create it on the GUI thread (it lives there with the client)."""

    _submit = Signal(object)
    _cancel = Signal(object)
    progressed = Signal(int, int, str)

    def __init__(self, client: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self._waits: dict[Any, dict] = {}
        self._lock = threading.Lock()
        self._abandoned = False
        self._submit.connect(self._do_submit, Qt.ConnectionType.QueuedConnection)
        self._cancel.connect(self._do_cancel, Qt.ConnectionType.QueuedConnection)
        client.finished.connect(self._on_finished)
        client.failed.connect(self._on_failed)
        client.cancelled.connect(self._on_cancelled)
        client.progress.connect(self._on_progress)

    def run(self, request: Any, progress: Callable[..., None] | None = None,
            is_cancelled: Callable[[], bool] | None = None) -> Any:
        """Submit ``request`` and wait (on the calling, non-GUI thread) for its result."""
        wait = {"event": threading.Event(), "progress": progress}
        with self._lock:
            if self._abandoned:
                raise Cancelled("the editor is closing")
            self._waits[request.job_id] = wait
        self._submit.emit(request)
        asked = False
        try:
            while not wait["event"].wait(0.05):
                if is_cancelled is not None and not asked and is_cancelled():
                    self._cancel.emit(request.job_id)
                    asked = True
        finally:
            with self._lock:
                self._waits.pop(request.job_id, None)
        if "error" in wait:
            raise wait["error"]
        return wait["result"]

    def plan(self, request: Any, progress: Any = None) -> Any:
        return self.run(request, progress)

    def inpaint(self, request: Any, progress: Any = None, on_preview: Any = None, is_cancelled: Any = None) -> Any:
        return self.run(request, progress, is_cancelled)

    def abandon(self) -> None:
        """Stop waiting: the GUI thread will not deliver the engine's answers any more (the editor is
        quitting), so every waiting and later job ends as cancelled at once."""
        with self._lock:
            self._abandoned = True
            waits = list(self._waits.values())
        for wait in waits:
            wait.setdefault("error", Cancelled("the editor is closing"))
            wait["event"].set()

    def close(self) -> None:
        for signal, slot in ((self.client.finished, self._on_finished), (self.client.failed, self._on_failed),
                             (self.client.cancelled, self._on_cancelled), (self.client.progress, self._on_progress)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):  # already gone
                pass

    # --- on the GUI thread ----------------------------------------------------------------------

    @Slot(object)
    def _do_submit(self, request: Any) -> None:
        try:
            self.client.submit(request)
        except Exception as exc:  # noqa: BLE001 - the waiting thread reports it
            self._end(request.job_id, error=exc)

    @Slot(object)
    def _do_cancel(self, job_id: Any) -> None:
        self.client.cancel(job_id)

    def _end(self, job_id: Any, **outcome: Any) -> None:
        with self._lock:
            wait = self._waits.get(job_id)
        if wait is not None:
            wait.update(outcome)
            wait["event"].set()

    def _on_finished(self, job_id: Any, result: Any) -> None:
        self._end(job_id, result=result)

    def _on_failed(self, job_id: Any, error: str, hint: str, kind: str) -> None:
        self._end(job_id, error=EngineError(error, hint, kind))

    def _on_cancelled(self, job_id: Any) -> None:
        self._end(job_id, error=Cancelled(f"job {job_id} cancelled"))

    def _on_progress(self, job_id: Any, step: int, total: int, stage: str) -> None:
        with self._lock:
            mine = job_id in self._waits
        if mine:
            self.progressed.emit(step, total, stage)


class BatchThread(QThread):
    """Runs :func:`engine.batch.run.run_batch` with ``settings`` on ``runner``; signals on the GUI thread."""

    began = Signal(int, int)  # photos to do now, photos in the folder
    line = Signal(object, int, int)  # a report line, done, to do
    ended = Signal(object)  # the BatchSummary
    crashed = Signal(str)  # the batch could not run (bad folder, missing models, ...)

    def __init__(self, settings: Any, runner: ClientRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.runner = runner
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:  # noqa: D401 - QThread's entry
        from desktop.document.result_files import DocumentFiles
        from desktop.engine_client import LocalExecutor, run_batch

        try:
            summary = run_batch(self.settings, LocalExecutor(self.runner), DocumentFiles(), on_line=self.line.emit,
                                is_cancelled=self._cancel.is_set, on_start=self.began.emit)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog as one line
            self.crashed.emit(" ".join(str(exc).split()) or type(exc).__name__)
            return
        self.ended.emit(summary)
