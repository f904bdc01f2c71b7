"""``brushedit serve``: the FastAPI app whose lifespan starts the engine (one ``EngineService``).

The routes (:mod:`engine.server.routes`) and the websocket (:mod:`engine.server.ws`) are thin: they
check the token, decode :mod:`engine.api` frames and hand requests to the :class:`~engine.server.board.Board`.
Ray Serve wraps the same app (:mod:`engine.server.ray_app`) with a board of replica workers.

Stopping (SIGTERM, SIGINT: systemd and ``docker stop``): :class:`GracefulServer` stops listening, then
drains the board (no new jobs, waiting jobs fail with the reason, the running one gets
``stop_bound`` seconds and is then cancelled; every client is told), then lets uvicorn close the
connections and run the lifespan's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import Any, Callable

from fastapi import FastAPI

from engine.server.board import Board, Limits

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
    max_request_pixels: int | None = None  # all images of one request (default: 2 x max_pixels)
    max_queued_per_client: int | None = 8  # jobs one client may have waiting or running (429 past it)
    max_client_pixels: int | None = None  # decoded pixels one client may have queued (default: 4 x max_pixels)
    result_ttl: float = 300.0  # seconds a result waits for a client that is gone
    client_grace: float = 30.0  # seconds a client may stay away before its jobs are cancelled
    model_roots: tuple[str, ...] = ()  # more folders whose paths /v1/answer checks
    header_timeout: float = 10.0  # a connection must send its request headers within this
    body_timeout: float = 30.0  # and then no more than this between two parts of a body
    keep_alive: float = 5.0  # an idle keep-alive connection is closed after this
    stop_bound: float = 3.0  # on SIGTERM the running job gets this long before it is cancelled

    def __post_init__(self) -> None:
        if self.max_request_pixels is None:
            self.max_request_pixels = 2 * self.max_pixels
        if self.max_client_pixels is None:
            self.max_client_pixels = 4 * self.max_pixels

    def limits(self) -> Limits:
        return Limits(self.max_queued_per_client, self.max_client_pixels, self.result_ttl, self.client_grace)


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
        board = Board(made, limits=settings.limits())
        app.state.board = board
        reaper = asyncio.create_task(board.reap_forever())
        log.info("serving on %s:%s with %d worker(s) on %s", settings.host, settings.port, len(made), settings.device)
        try:
            yield
        finally:
            reaper.cancel()
            if not board.stopping:  # Ray Serve ends the ingress without our server: drain here
                await board.drain(settings.stop_bound)
            board.close()

    app = FastAPI(title="BrushEdit Studio engine", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.include_router(routes.router)
    app.include_router(ws.router)
    return app


def _http_protocol(header_timeout: float) -> type:
    """uvicorn's h11 protocol that also drops a connection whose request headers do not arrive
    within ``header_timeout`` seconds (uvicorn's keep-alive timeout covers idle connections only)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if not self._awaiting_headers():
                self._disarm()
            elif self._header_timer is None:  # first bytes of a request: the clock starts, once
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _awaiting_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._header_timer = self.loop.call_later(header_timeout, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            transport = self.transport
            if transport.is_closing() or transport.get_protocol() is not self:  # closed, or now a websocket
                return
            if self._awaiting_headers():
                transport.close()

    return HeaderTimeoutProtocol


def uvicorn_config(app: Any, settings: ServerSettings) -> Any:
    import uvicorn

    return uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", access_log=False,
                          http=_http_protocol(settings.header_timeout),
                          h11_max_incomplete_event_size=64 * 1024,  # request line + headers
                          timeout_keep_alive=int(max(1, settings.keep_alive)),
                          ws_max_size=settings.max_request_bytes, ws_ping_interval=5.0, ws_ping_timeout=5.0,
                          limit_concurrency=None, timeout_graceful_shutdown=3)


class GracefulServer:
    """A ``uvicorn.Server`` whose shutdown first stops listening and drains the board (see the module)."""

    def __new__(cls, config: Any, app: FastAPI) -> Any:
        import uvicorn

        class _Server(uvicorn.Server):
            async def shutdown(self, sockets: Any = None) -> None:
                for server in self.servers:
                    server.close()  # no new connections; the open ones hear why
                board = getattr(app.state, "board", None)
                if board is not None and not board.stopping:
                    if board.jobs:
                        log.warning("stopping: %d job(s) told why; a running one has %g s to finish",
                                    len(board.jobs), app.state.settings.stop_bound)
                    await board.drain(app.state.settings.stop_bound)
                await super().shutdown(sockets)

        return _Server(config)


def serve(settings: ServerSettings, workers: WorkersFactory | None = None) -> None:
    """Run the server until interrupted (SIGINT/SIGTERM stop it gracefully)."""
    app = create_app(settings, workers)
    GracefulServer(uvicorn_config(app, settings), app).run()
