"""``brushedit serve --ray``: the same FastAPI app as a Ray Serve ingress in front of N engine replicas.

- :class:`EngineReplica` (a Serve deployment, ``num_replicas=N``, ``ray_actor_options={"num_gpus": G}``)
  owns one ``EngineService``. Its ``run`` streams the job's messages back as frames (Serve
  streaming responses); ``max_ongoing_requests=1``, so each replica paints one job at a time.
- The ingress (one replica) is :func:`engine.server.app.create_app` with a board of N
  :class:`RayWorker` slots. The board hands a job only to an idle slot, so at most N jobs are in flight
  and Serve's router, which sends a call to a replica with free capacity, puts each on an idle replica:
  least-busy routing. The fairness between clients stays the board's.
- Cancelling a job cancels its streaming call; Serve delivers that to the replica running it, whose
  generator cancels the job there. A replica that dies fails its job (kind ``"worker-lost"``); Serve's
  controller starts a new one.
- No Serve batching: candidates already batch inside one job, and jobs of different users must not wait
  for each other's.
- ``--address`` joins an existing cluster; otherwise a local one starts with its ports on loopback.

Ray is imported here only: the editor never needs it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable

from engine import api, ray_local, wire
from engine.server.app import ServerSettings, create_app

log = logging.getLogger("brushedit.server")

ENDS = (api.JobFinished, api.JobFailed, api.JobCancelled)
APP_NAME = "brushedit"
# Serve's logs at WARNING and no access log: a request line per job (holding job ids) is not wanted.
SERVE_LOGGING = {"log_level": "WARNING", "enable_access_log": False}


class ReplicaEngine:
    """What one replica runs: an ``EngineService`` whose messages a job's stream yields as frames."""

    def __init__(self, config: Any = None, engine_factory: Callable[[Any], Any] | None = None) -> None:
        from engine.dispatch import Engine
        from engine.device import resolve_device
        from engine.service import EngineService

        self.device = resolve_device(config)
        self._streams: dict[str, asyncio.Queue] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.service = EngineService(self._on_message, config=config,
                                     engine_factory=engine_factory or (lambda c: Engine(c)))
        self.service.start()

    def _on_message(self, message: Any) -> None:
        queue = self._streams.get(getattr(message, "job_id", None))
        if queue is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(queue.put_nowait, message)

    async def run(self, frame: bytes):
        """Run the job of a request frame; yield each of its messages as a frame, the end last."""
        self._loop = asyncio.get_running_loop()
        request = api.from_dict(wire.unpack(frame)["request"])
        queue: asyncio.Queue = asyncio.Queue()
        self._streams[request.job_id] = queue
        try:
            self.service.submit(request)
            while True:
                message = await queue.get()
                if isinstance(message, api.JobQueued):
                    continue
                yield wire.pack({"message": _slim(message)})
                if isinstance(message, ENDS):
                    return
        except asyncio.CancelledError:  # the caller cancelled: stop the job here, on this replica
            self.service.cancel(request.job_id)
            raise
        finally:
            self._streams.pop(request.job_id, None)

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "device": self.device}


def _slim(message: Any) -> dict[str, Any]:
    """A message's dict for the ingress; a result travels without its request (the board has it)."""
    if isinstance(message, api.JobFinished) and isinstance(message.result, api.EditResult):
        import dataclasses

        message = api.JobFinished(message.job_id, dataclasses.replace(message.result, request=None))
    return api.to_dict(message)


class RayWorker:
    """One in-flight slot of the board: a streaming call to the replica deployment."""

    def __init__(self, handle: Any, name: str, loop_getter: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self.handle = handle.options(stream=True)
        self.name = name
        self.device = ""
        self._loop_getter = loop_getter
        self._calls: dict[str, Any] = {}
        self._cancel_asked: set[str] = set()

    def run(self, request: Any, emit: Callable[[Any], None]) -> None:
        frame = wire.pack({"request": api.to_dict(request)})
        asyncio.get_running_loop().create_task(self._drive(request.job_id, frame, emit))

    async def _drive(self, job_id: str, frame: bytes, emit: Callable[[Any], None]) -> None:
        response = self.handle.run.remote(frame)
        self._calls[job_id] = response
        ended = False
        try:
            async for out in response:
                message = api.from_dict(wire.unpack(out)["message"])
                ended = ended or isinstance(message, ENDS)
                emit(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the replica died (or Serve failed the call): fail this job only
            if not ended:
                cancelled = job_id in self._cancel_asked
                log.warning("engine replica lost during job %s: %s", job_id, type(exc).__name__)
                emit(api.JobCancelled(job_id) if cancelled else api.JobFailed(
                    job_id, f"the engine replica running the job stopped ({type(exc).__name__})",
                    "run the job again: the pool replaces the replica", "worker-lost"))
                ended = True
        finally:
            self._calls.pop(job_id, None)
            self._cancel_asked.discard(job_id)
        if not ended:
            emit(api.JobFailed(job_id, "the engine replica ended the job without a result", "run it again",
                               "worker-lost"))

    def cancel(self, job_id: str) -> None:
        self._cancel_asked.add(job_id)
        response = self._calls.get(job_id)
        if response is not None:
            response.cancel()

    def close(self) -> None:
        for response in list(self._calls.values()):
            response.cancel()


def build_pool(settings: ServerSettings, replicas: int, gpus_per_replica: float,
               engine_factory: Callable[[Any], Any] | None = None, replica_cpus: float = 1.0) -> Any:
    """The Serve application: the ingress bound to ``replicas`` engine replicas."""
    from ray import serve

    def workers(s: ServerSettings) -> list[Any]:
        # Looked up by name: Serve pickles the app and the ingress class apart, so no shared state.
        handle = serve.get_deployment_handle("EngineReplica", app_name=APP_NAME)
        made = [RayWorker(handle, f"replica-slot-{i}", asyncio.get_running_loop) for i in range(replicas)]
        device = "cuda" if gpus_per_replica > 0 else "cpu"
        for w in made:
            w.device = device
        return made

    app = create_app(settings, workers)

    @serve.deployment(name="EngineReplica", num_replicas=replicas, max_ongoing_requests=1,
                      ray_actor_options={"num_gpus": gpus_per_replica, "num_cpus": replica_cpus},
                      health_check_period_s=2, health_check_timeout_s=10, graceful_shutdown_timeout_s=2,
                      graceful_shutdown_wait_loop_s=0.2, logging_config=SERVE_LOGGING)
    class EngineReplica(ReplicaEngine):
        pass

    @serve.deployment(name="Ingress", num_replicas=1, max_ongoing_requests=1000,
                      ray_actor_options={"num_cpus": 0}, logging_config=SERVE_LOGGING,
                      # The board was drained before Serve stops it; open websockets must not hold it.
                      graceful_shutdown_timeout_s=1, graceful_shutdown_wait_loop_s=0.2)
    @serve.ingress(app)
    class Ingress:
        def __init__(self, replica: Any) -> None:
            self.replica = replica  # binding it makes Serve deploy the replicas with the ingress

        async def drain(self, bound: float) -> int:
            """The graceful stop (SIGTERM): see :meth:`engine.server.board.Board.drain`."""
            board = self._asgi_app.state.board
            left = board.queue_length
            await board.drain(bound)
            return left

    return Ingress.bind(EngineReplica.bind(settings.config, engine_factory))


def start_ray(address: str | None = None) -> bool:
    """Join ``address`` or start a local Ray whose ports stay on loopback (:mod:`engine.ray_local`)."""
    return ray_local.start_ray(address)


def run_pool(settings: ServerSettings, replicas: int, gpus_per_replica: float, address: str | None = None,
             engine_factory: Callable[[Any], Any] | None = None, replica_cpus: float = 1.0) -> Any:
    """Deploy the pool (not blocking); returns the Serve application handle."""
    start_ray(address)
    return deploy_pool(settings, replicas, gpus_per_replica, engine_factory, replica_cpus)


def deploy_pool(settings: ServerSettings, replicas: int, gpus_per_replica: float,
                engine_factory: Callable[[Any], Any] | None = None, replica_cpus: float = 1.0) -> Any:
    """Start Serve on the Ray this process is connected to and deploy the pool."""
    from ray import serve

    serve.start(http_options={"host": settings.host, "port": settings.port}, logging_config=SERVE_LOGGING)
    return serve.run(build_pool(settings, replicas, gpus_per_replica, engine_factory, replica_cpus),
                     name=APP_NAME, route_prefix="/", blocking=False)


def stop_pool(bound: float, stop_ray: bool) -> None:
    """The graceful stop: drain the ingress's board (every client hears why), shut Serve down, and
    Ray too when this process started it (its agents and ports go with it)."""
    import ray
    from ray import serve

    import time

    started = time.monotonic()
    try:
        handle = serve.get_deployment_handle("Ingress", app_name=APP_NAME)
        left = handle.drain.remote(bound).result(timeout_s=bound + 8)
        if left:
            log.warning("stopped %d job(s); their clients were told why", left)
    except Exception as exc:  # noqa: BLE001 - the pool is going away whatever happened
        log.warning("could not drain the pool before stopping (%s)", type(exc).__name__)
    drained = time.monotonic()
    try:
        serve.shutdown()
    finally:
        served = time.monotonic()
        if stop_ray:
            ray.shutdown()
        log.info("pool stopped: drain %.1f s, Serve %.1f s, Ray %.1f s", drained - started, served - drained,
                 time.monotonic() - served)


def serve_pool(settings: ServerSettings, replicas: int, gpus_per_replica: float, address: str | None = None) -> None:
    """``brushedit serve --ray``: deploy and wait until SIGTERM or SIGINT, then stop gracefully."""
    import signal
    import threading

    stop = threading.Event()
    started_here = start_ray(address)
    logging.getLogger("ray.serve").setLevel(logging.WARNING)  # no INFO line per deployment step
    # After ray.init, whose crash handler would otherwise turn SIGTERM into an abort (exit 134).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        if not stop.is_set():
            deploy_pool(settings, replicas, gpus_per_replica)
        while not stop.wait(1.0):
            pass
        log.warning("stopping the pool")
    finally:
        stop_pool(settings.stop_bound, started_here)
