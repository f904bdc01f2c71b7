"""The in-process worker: one :class:`~engine.service.EngineService` (one thread owning torch and the GPU)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from engine.device import resolve_device  # its old home was here: still importable from this module

log = logging.getLogger("brushedit.server")


class LocalWorker:
    """Runs the board's jobs on an ``EngineService`` in this process, one at a time.

    ``engine_factory(config)`` builds the engine (default ``engine.dispatch.Engine``: a server has no
    GUI to leave a CPU core for).
    """

    def __init__(self, config: Any = None, name: str = "local",
                 engine_factory: Callable[[Any], Any] | None = None) -> None:
        from engine.dispatch import Engine, EngineConfig
        from engine.service import EngineService

        self.name = name
        self.config = config if config is not None else EngineConfig()
        self.device = resolve_device(self.config)
        self._emit: Callable[[Any], None] | None = None
        self._lock = threading.Lock()
        self.service = EngineService(self._on_message, config=self.config,
                                     engine_factory=engine_factory or (lambda c: Engine(c)))
        self.service.start()

    def _on_message(self, message: Any) -> None:
        with self._lock:
            emit = self._emit
        if emit is not None:
            emit(message)

    def run(self, request: Any, emit: Callable[[Any], None]) -> None:
        with self._lock:
            self._emit = emit
        self.service.submit(request)

    def cancel(self, job_id: str) -> None:
        self.service.cancel(job_id)

    def close(self) -> None:
        self.service.shutdown(5)
