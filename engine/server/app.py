"""``brushedit serve``: the FastAPI app whose lifespan starts the engine (one ``EngineService``).

The routes (:mod:`engine.server.routes`) and the websocket (:mod:`engine.server.ws`) are thin: they
check the token, decode :mod:`engine.api` frames and hand requests to the :class:`~engine.server.board.Board`.
Ray Serve wraps the same app (:mod:`engine.server.ray_app`) with a board of replica workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any, Callable

from fastapi import FastAPI

from engine.server.board import Board

log = logging.getLogger("brushedit.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclasses.dataclass
class ServerSettings:
    """What the server needs; ``config`` is the ``EngineConfig`` every local job runs with."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    config: Any = None
    max_request_bytes: int = 256 * 1024 * 1024  # a request bigger than this is refused unread
    max_pixels: int = 64 * 1024 * 1024  # images of more pixels are refused from their header
    device: str = ""  # what /v1/health reports (filled from the workers)


WorkersFactory = Callable[[ServerSettings], list[Any]]


def local_workers(settings: ServerSettings) -> list[Any]:
    """One in-process worker owning this machine's GPU."""
    from engine.server.workers import LocalWorker

    return [LocalWorker(settings.config)]


def create_app(settings: ServerSettings, workers: WorkersFactory | None = None) -> FastAPI:
    """The server app; ``workers(settings)`` builds the board's workers at start-up (default: one local)."""
    from engine.server import routes, ws

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        made = (workers or local_workers)(settings)
        if not settings.device:
            settings.device = ",".join(sorted({str(getattr(w, "device", "cpu")) for w in made})) or "cpu"
        board = Board(made)
        app.state.board = board
        log.info("serving on %s:%s with %d worker(s) on %s", settings.host, settings.port, len(made), settings.device)
        try:
            yield
        finally:
            board.close()

    app = FastAPI(title="BrushEdit Studio engine", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.include_router(routes.router)
    app.include_router(ws.router)
    return app


def uvicorn_config(app: Any, settings: ServerSettings) -> Any:
    import uvicorn

    return uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                          ws_max_size=settings.max_request_bytes, ws_ping_interval=5.0, ws_ping_timeout=5.0,
                          limit_concurrency=None, timeout_graceful_shutdown=3)


def serve(settings: ServerSettings, workers: WorkersFactory | None = None) -> None:
    """Run the server until interrupted."""
    import uvicorn

    uvicorn.Server(uvicorn_config(create_app(settings, workers), settings)).run()
