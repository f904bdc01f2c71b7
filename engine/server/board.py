"""The server's job board: every client's jobs, a queue fair between clients, and the workers.

The board lives on the server's asyncio loop. Workers (one in-process :class:`~engine.service.EngineService`,
or N Ray Serve replicas) each run one job at a time; the board keeps everything else waiting itself, so
it can be fair: the next job goes to the waiting client that was served longest ago (round robin over
clients, FIFO within each), and a client that queued 20 jobs does not starve one that queued 1. A job is given to
an idle worker only, which for a pool is least-busy routing.

Clients name their own job ids; the board runs each job under an id of its own (``"<n>:<client id>"``)
and maps every message back, so a client only ever sees (and can only cancel) its own jobs.

No torch, no FastAPI here: workers report messages through :meth:`Board.post_threadsafe` from any thread.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import logging
from typing import Any, Callable, Protocol

from engine.api import (
    EditResult,
    EngineStatus,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobQueued,
    request_kind,
)

log = logging.getLogger("brushedit.server")

TERMINAL = (JobFinished, JobFailed, JobCancelled)
MAX_BUFFERED = 200  # messages kept for a client that is not listening (previews are dropped first)


class Worker(Protocol):
    """Runs one job at a time and reports its messages with ``emit`` (from any thread)."""

    name: str

    def run(self, request: Any, emit: Callable[[Any], None]) -> None:
        """Start ``request`` (its ``job_id`` is the board's); end with one terminal message."""

    def cancel(self, job_id: str) -> None:
        """Cancel the running job ``job_id``."""

    def close(self) -> None:
        """Stop (the server is shutting down)."""


@dataclasses.dataclass
class _Job:
    board_id: str
    client: str
    job_id: str  # the client's id
    request: Any
    kind: str
    state: str = "waiting"  # waiting, running
    worker: Any = None
    cancel_asked: bool = False


class _Client:
    def __init__(self) -> None:
        self.waiting: collections.deque[_Job] = collections.deque()
        self.listeners: list[asyncio.Queue] = []
        self.buffer: collections.deque[Any] = collections.deque()


class Board:
    """Jobs of every client, the fair queue and the workers.

    Parameters
    ----------
    workers : list of Worker
        Each runs one job at a time.
    loop : asyncio.AbstractEventLoop, optional
        The loop the board lives on (default: the running one when first used).
    """

    def __init__(self, workers: list[Any], loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.workers = list(workers)
        self.idle: collections.deque[Any] = collections.deque(self.workers)
        self.loop = loop
        self.clients: dict[str, _Client] = {}
        self.jobs: dict[str, _Job] = {}
        self.turns: collections.deque[str] = collections.deque()  # clients with waiting jobs, by arrival
        self.jobs_done = 0
        self._last_client: dict[int, str] = {}
        self._served_at: dict[str, int] = {}  # client -> turn number of its last job start
        self._turn = itertools.count()
        self._ids = itertools.count(1)

    # --- asked by the routes (on the loop) -----------------------------------------------------

    @property
    def queue_length(self) -> int:
        """Jobs waiting or running."""
        return len(self.jobs)

    def submit(self, client: str, request: Any) -> str:
        """Queue ``request`` for ``client``; returns the client's job id (a JobQueued follows)."""
        self._bind_loop()
        job_id = str(request.job_id)
        if self._find(client, job_id) is not None:
            raise ValueError(f"job {job_id} is already queued")
        board_id = f"{next(self._ids)}:{client}"
        job = _Job(board_id, client, job_id, dataclasses.replace(request, job_id=board_id), request_kind(request))
        self.jobs[board_id] = job
        state = self._client(client)
        state.waiting.append(job)
        if client not in self.turns:
            self.turns.append(client)
        self._send(client, JobQueued(job_id, job.kind, self._position(job)))
        self._pump()
        return job_id

    def cancel(self, client: str, job_id: str) -> bool:
        """Cancel one of ``client``'s jobs; False when it has none with this id."""
        job = self._find(client, job_id)
        if job is None:
            return False
        if job.state == "waiting":
            state = self._client(client)
            state.waiting.remove(job)
            if not state.waiting and client in self.turns:
                self.turns.remove(client)
            del self.jobs[job.board_id]
            self._send(client, JobCancelled(job_id))
        elif not job.cancel_asked:
            job.cancel_asked = True
            job.worker.cancel(job.board_id)
        return True

    def jobs_of(self, client: str) -> list[dict[str, Any]]:
        """``client``'s jobs: running first, then waiting, each ``{job_id, kind, state}``."""
        mine = [j for j in self.jobs.values() if j.client == client]
        mine.sort(key=lambda j: (j.state != "running", int(j.board_id.split(":")[0])))
        return [{"job_id": j.job_id, "kind": j.kind, "state": j.state} for j in mine]

    def listen(self, client: str) -> asyncio.Queue:
        """A queue of ``client``'s messages (what was buffered while nobody listened comes first)."""
        self._bind_loop()
        state = self._client(client)
        queue: asyncio.Queue = asyncio.Queue()
        while state.buffer:
            queue.put_nowait(state.buffer.popleft())
        state.listeners.append(queue)
        return queue

    def unlisten(self, client: str, queue: asyncio.Queue) -> None:
        state = self.clients.get(client)
        if state is not None and queue in state.listeners:
            state.listeners.remove(queue)
        self._forget_if_idle(client)

    def _forget_if_idle(self, client: str) -> None:
        """Drop a client's record once it has no jobs, no listener and nothing buffered."""
        state = self.clients.get(client)
        if state is None or state.listeners or state.buffer or state.waiting:
            return
        if any(j.client == client for j in self.jobs.values()):
            return
        del self.clients[client]
        self._served_at.pop(client, None)

    def close(self) -> None:
        for worker in self.workers:
            try:
                worker.close()
            except Exception:  # pragma: no cover - best effort at exit
                log.exception("closing worker %s failed", getattr(worker, "name", worker))

    # --- from the workers (any thread) ---------------------------------------------------------

    def post_threadsafe(self, worker: Any, message: Any) -> None:
        """A worker's message; safe to call from any thread."""
        assert self.loop is not None, "the board has no loop yet"
        self.loop.call_soon_threadsafe(self._on_worker_message, worker, message)

    def _on_worker_message(self, worker: Any, message: Any) -> None:
        if isinstance(message, EngineStatus):  # after a job: to the client whose job it was
            client = self._last_client.get(id(worker))
            if client is not None and client in self.clients and self.clients[client].listeners:
                self._send(client, message)
            return
        job = self.jobs.get(getattr(message, "job_id", None))
        if job is None or isinstance(message, JobQueued):
            return  # the board reports queue positions itself
        if isinstance(message, TERMINAL):
            del self.jobs[job.board_id]
            self.jobs_done += 1
            self._last_client[id(worker)] = job.client
            if isinstance(message, JobFinished) and isinstance(message.result, EditResult):
                message = JobFinished(message.job_id, dataclasses.replace(message.result, request=job.request))
            self._release(worker)
        self._send(job.client, dataclasses.replace(message, job_id=job.job_id))
        if isinstance(message, TERMINAL):
            self._pump()
            self._forget_if_idle(job.client)

    # --- inside ----------------------------------------------------------------------------------

    def _bind_loop(self) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()

    def _client(self, client: str) -> _Client:
        state = self.clients.get(client)
        if state is None:
            state = self.clients[client] = _Client()
        return state

    def _find(self, client: str, job_id: str) -> _Job | None:
        return next((j for j in self.jobs.values() if j.client == client and j.job_id == job_id), None)

    def _position(self, job: _Job) -> int:
        """How many jobs are ahead of ``job`` (running or waiting), the round robin aside."""
        return max(0, len(self.jobs) - 1 - len(self.idle))

    def _release(self, worker: Any) -> None:
        if worker not in self.idle:
            self.idle.append(worker)

    def _next_client(self) -> str | None:
        """The client with waiting jobs served longest ago (never served first; then by arrival)."""
        waiting = [c for c in self.turns if self.clients[c].waiting]
        if not waiting:
            return None
        return min(waiting, key=lambda c: (self._served_at.get(c, -1), self.turns.index(c)))

    def _pump(self) -> None:
        """Give waiting jobs to idle workers, one client's turn at a time."""
        while self.idle:
            client = self._next_client()
            if client is None:
                self.turns.clear()
                return
            state = self.clients[client]
            job = state.waiting.popleft()
            if not state.waiting:
                self.turns.remove(client)
            self._served_at[client] = next(self._turn)
            worker = self.idle.popleft()
            job.state, job.worker = "running", worker
            try:
                worker.run(job.request, lambda m, w=worker: self.post_threadsafe(w, m))
            except Exception as exc:  # a worker that cannot take the job fails it, not the board
                log.exception("worker %s refused job %s", getattr(worker, "name", worker), job.board_id)
                self.loop.call_soon(self._on_worker_message, worker,
                                    JobFailed(job.board_id, f"the engine could not start the job: {exc}",
                                              "see the server log", "error"))

    def _send(self, client: str, message: Any) -> None:
        state = self._client(client)
        if state.listeners:
            for queue in state.listeners:
                queue.put_nowait(message)
            return
        state.buffer.append(message)
        while len(state.buffer) > MAX_BUFFERED:  # nobody listens: keep the job ends, drop the rest first
            droppable = next((m for m in state.buffer if not isinstance(m, TERMINAL)), None)
            state.buffer.remove(droppable if droppable is not None else state.buffer[0])

