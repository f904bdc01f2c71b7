"""``brushedit batch --ray``: a pool of engine actors on a Ray cluster, each loading its models once.

Ray core actors (one :class:`BatchActor` per worker, ``num_gpus=G``) rather than Ray Data: the photos
are read and the outputs written by the caller, so the pool only moves pixels, and a plain actor pool
lets the caller retry exactly the photos a dead worker held. Each actor owns one
:class:`engine.dispatch.Engine`, so its models load at its first photo and stay; it runs
:func:`engine.batch.item.edit_one`, the very function a local batch runs, so the pixels are the same.

A worker that dies (killed, out of memory, node lost) has its photo retried once on a fresh actor that
takes its slot; a second death reports the photo ``worker-lost`` and the batch carries on.

Ray is imported here only (and by the studio server): the editor and the plain CLI never need it.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Iterable, Iterator

import ray

from engine import ray_local
from engine.api import EngineError, MissingModelsError

log = logging.getLogger("brushedit.batch")

START_TIMEOUT_S = 300.0  # a cluster that cannot place the workers in this long is reported, not waited on
RETRIES = 1  # a photo whose worker died is tried once more on a fresh worker


class BatchActor:
    """One worker: an engine that runs batch photos (its models load at the first and stay)."""

    def __init__(self, config: Any = None, engine_factory: Callable[[Any], Any] | None = None) -> None:
        from engine.dispatch import Engine
        from engine.device import resolve_device

        self.device = resolve_device(config)
        self.engine = (engine_factory or Engine)(config)

    def info(self) -> dict:
        import socket

        return {"host": socket.gethostname(), "pid": os.getpid(), "device": self.device}

    def edit(self, work: Any) -> Any:
        """The :class:`~engine.batch.BatchDone` of ``work``, or a failure as plain data (exceptions
        with their own constructors do not survive Ray's pickling intact)."""
        import dataclasses

        from engine.api import WorkerInfo
        from engine.batch import edit_one

        try:
            done = edit_one(self.engine, work)
        except Exception as exc:  # noqa: BLE001 - the caller reports it against this photo
            return {"failed": True, "error": str(exc) or type(exc).__name__, "hint": getattr(exc, "hint", ""),
                    "kind": getattr(exc, "kind", "") or "error", "names": list(getattr(exc, "names", ()) or ()),
                    "type": type(exc).__name__}
        worker = WorkerInfo(**self.info())
        return dataclasses.replace(done, result=dataclasses.replace(done.result, worker=worker))


def _failure(data: dict) -> Exception:
    if data["kind"] == "missing-models":
        return MissingModelsError(data["names"], message=data["error"], hint=data["hint"])
    return EngineError(data["error"], data["hint"], data["kind"])


class RayExecutor:
    """``map(works)`` over ``workers`` :class:`BatchActor` s (see :class:`engine.batch.run.LocalExecutor`).

    Parameters
    ----------
    config : engine.dispatch.EngineConfig
        What every worker's engine loads.
    workers : int
        Actors in the pool.
    gpus_per_worker : float or None
        ``num_gpus`` of each actor; ``None``: 1 when the cluster has GPUs, else 0.
    address : str or None
        A cluster to join; ``None`` joins the Ray already started in this process or starts a local one
        with its ports on loopback.
    cpus_per_worker : float
        ``num_cpus`` of each actor.
    engine_factory : callable, optional
        Builds each worker's engine from ``config`` (tests); must be importable on the workers.
    on_note : callable, optional
        Told a line when the pool starts (it takes seconds).
    """

    def __init__(self, config: Any, workers: int, gpus_per_worker: float | None = None,
                 address: str | None = None, cpus_per_worker: float = 1.0,
                 engine_factory: Callable[[Any], Any] | None = None,
                 on_note: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.on_note = on_note
        self.workers = int(workers)
        self.gpus_per_worker = gpus_per_worker
        self.address = address
        self.cpus_per_worker = cpus_per_worker
        self.engine_factory = engine_factory
        self._actor_cls = None
        self.actors: list[Any] = []
        self.infos: list[dict] = []
        self.startup_seconds = 0.0
        self.replaced = 0

    def start(self) -> float:
        """Join or start Ray and bring every worker up; returns the seconds it took."""
        started = time.monotonic()
        if self.on_note is not None:
            self.on_note(f"starting {self.workers} Ray workers ...")
        ray_local.start_ray(self.address)
        if self.gpus_per_worker is None:
            self.gpus_per_worker = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        self._actor_cls = ray.remote(num_gpus=self.gpus_per_worker, num_cpus=self.cpus_per_worker,
                                     max_restarts=0)(BatchActor)
        self.actors = [self._new_actor() for _ in range(self.workers)]
        self.infos = self._ready(self.actors)
        self.startup_seconds = time.monotonic() - started
        return self.startup_seconds

    def _new_actor(self) -> Any:
        return self._actor_cls.remote(self.config, self.engine_factory)

    def _ready(self, actors: list[Any]) -> list[dict]:
        refs = [a.info.remote() for a in actors]
        ready, pending = ray.wait(refs, num_returns=len(refs), timeout=START_TIMEOUT_S)
        if pending:
            raise EngineError(f"Ray placed {len(ready)} of {len(refs)} batch workers in {START_TIMEOUT_S:.0f} s",
                              f"the cluster has {ray.available_resources()}; ask for fewer --workers or "
                              "--gpus-per-worker", "no-device")
        return ray.get(refs)

    def map(self, works: Iterable[Any], is_cancelled: Callable[[], bool] | None = None
            ) -> Iterator[tuple[str, Any]]:
        """Run ``works`` (read lazily, one ahead of each idle worker); yield ``(key, BatchDone or
        exception)`` as photos finish, in any order."""
        if not self.actors:
            self.start()
        source = iter(works)
        idle = list(range(len(self.actors)))
        running: dict[Any, tuple[int, Any, int]] = {}  # ref -> (slot, work, attempt)
        exhausted = False
        while True:
            while idle and not exhausted and not (is_cancelled is not None and is_cancelled()):
                work = next(source, None)
                if work is None:
                    exhausted = True
                    break
                slot = idle.pop()
                running[self.actors[slot].edit.remote(work)] = (slot, work, 0)
            if not running:
                return
            ready, _ = ray.wait(list(running), num_returns=1)
            ref = ready[0]
            slot, work, attempt = running.pop(ref)
            try:
                out = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                log.warning("batch worker %d died on %s: %s", slot, work.key, type(exc).__name__)
                self._replace(slot)
                if attempt < RETRIES:
                    running[self.actors[slot].edit.remote(work)] = (slot, work, attempt + 1)
                    continue
                idle.append(slot)
                yield work.key, EngineError(f"the worker died twice on this photo ({type(exc).__name__})",
                                            "run the batch again with --resume", "worker-lost")
                continue
            idle.append(slot)
            yield work.key, (_failure(out) if isinstance(out, dict) else out)

    def _replace(self, slot: int) -> None:
        try:
            ray.kill(self.actors[slot])
        except Exception:  # noqa: BLE001 - it is gone already
            pass
        self.actors[slot] = self._new_actor()
        self.replaced += 1

    def close(self) -> None:
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001 - best effort at the end
                pass
        self.actors = []
