"""The server's job board: every client's jobs, a queue fair between clients, and the workers.

The board lives on the server's asyncio loop. Workers (one in-process :class:`~engine.service.EngineService`,
or N Ray Serve replicas) each run one job at a time; the board keeps everything else waiting itself, so
it can be fair: the next job goes to the waiting client that was served longest ago (round robin over
clients, FIFO within each), and a client that queued 20 jobs does not starve one that queued 1. A job is given to
an idle worker only, which for a pool is least-busy routing.

Clients name their own job ids; the board runs each job under an id of its own (``"job-<n>"``, which
names no client, so workers' logs never hold client ids) and maps every message back, so a client only
ever sees (and can only cancel) its own jobs.

Bounded for careless clients: each client may have ``max_queued_per_client`` jobs waiting or running and
``max_client_pixels`` decoded pixels in them (past either, :class:`Busy`: a 429 with a Retry-After);
results kept for a client that is not listening are dropped ``result_ttl`` seconds after it went (or
after they ended, whichever is later), and a client that stayed away ``client_grace`` seconds has its
waiting and running jobs cancelled. :meth:`Board.reap` does both; a task calls it about once a second.
:meth:`Board.drain` is the graceful stop: nothing new is taken, waiting jobs fail with a reason, the
running ones get a bound to finish and are then cancelled.

No torch, no FastAPI here: workers report messages through :meth:`Board.post_threadsafe` from any thread.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import logging
import math
import time
from typing import Any, Callable, Protocol

from engine.api import (
    EditResult,
    EngineStatus,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobQueued,
    Preview,
    request_kind,
)

log = logging.getLogger("brushedit.server")

TERMINAL = (JobFinished, JobFailed, JobCancelled)
MAX_BUFFERED = 200  # messages kept for a client that is not listening (job ends are kept first)
STOPPING_HINT = "run it again when the server is back"


class Busy(Exception):
    """A client is over its share: answer 429 with ``Retry-After: retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Stopping(Exception):
    """The server is shutting down and takes no new jobs (503)."""


@dataclasses.dataclass(frozen=True)
class ServerStopping:
    """The last item a listener's queue gets when the server stops: close the socket with ``reason``."""

    reason: str


class DuplicateJob(ValueError):
    """The client already has a job waiting or running under this id (409); that job is untouched."""


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
    pixels: int = 0
    started_at: float = 0.0
    stopped_because: str = ""  # cancelled by a drain: the client hears this instead of "cancelled"


class _Client:
    def __init__(self, now: float) -> None:
        self.waiting: collections.deque[_Job] = collections.deque()
        self.listeners: list[asyncio.Queue] = []
        self.buffer: collections.deque[tuple[float, Any]] = collections.deque()  # (when, message)
        self.absent_since: float | None = now  # None while a websocket listens
        self.reserved: list[Ticket] = []  # jobs admitted and still being decoded


class Ticket:
    """One admitted job between :meth:`Board.reserve` and :meth:`Board.submit` (compared by identity)."""

    __slots__ = ("pixels",)

    def __init__(self, pixels: int) -> None:
        self.pixels = pixels


@dataclasses.dataclass
class Limits:
    """What one client may hold on the board (``None``: no limit)."""

    max_queued_per_client: int | None = 8
    max_client_pixels: int | None = None
    result_ttl: float = 300.0
    client_grace: float = 30.0


class Board:
    """Jobs of every client, the fair queue and the workers.

    Parameters
    ----------
    workers : list of Worker
        Each runs one job at a time.
    loop : asyncio.AbstractEventLoop, optional
        The loop the board lives on (default: the running one when first used).
    limits : Limits, optional
        Per-client limits, the result TTL and the reconnect grace.
    clock : callable
        Seconds (monotonic); tests pass a controllable one.
    """

    def __init__(self, workers: list[Any], loop: asyncio.AbstractEventLoop | None = None,
                 limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self.stopping = False
        self._durations: collections.deque[float] = collections.deque(maxlen=20)
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

    @property
    def held(self) -> int:
        """Job ends (results, failures) kept for clients that are not listening."""
        return sum(1 for c in self.clients.values() if not c.listeners
                   for _, m in c.buffer if isinstance(m, TERMINAL))

    def reserve(self, client: str, job_id: str, pixels: int) -> Ticket:
        """Admit one more job of ``client`` before its images are decoded (:meth:`submit` or
        :meth:`release` follows). Raises :class:`Stopping`, :class:`DuplicateJob` or :class:`Busy`."""
        self._bind_loop()
        if self.stopping:
            raise Stopping("the studio server is shutting down and takes no new jobs")
        if self._find(client, job_id) is not None:
            raise DuplicateJob(f"job {job_id} is already queued or running; it was left as it is")
        state = self._client(client)
        mine = [j for j in self.jobs.values() if j.client == client]
        limit = self.limits.max_queued_per_client
        if limit is not None and len(mine) + len(state.reserved) >= limit:
            raise Busy(f"you have {limit} jobs queued or running, the most this server takes from one client",
                       self._retry_after(len(mine)))
        budget = self.limits.max_client_pixels
        held = sum(j.pixels for j in mine) + sum(t.pixels for t in state.reserved)
        if budget is not None and (mine or state.reserved) and held + pixels > budget:
            raise Busy(f"your queued jobs hold {held / 1e6:.0f} MP of images; this server keeps at most "
                       f"{budget / 1e6:.0f} MP per client", self._retry_after(len(mine)))
        ticket = Ticket(pixels)
        state.reserved.append(ticket)
        return ticket

    def release(self, client: str, ticket: Ticket) -> None:
        """Give back a :meth:`reserve` whose request never reached :meth:`submit`."""
        state = self.clients.get(client)
        if state is not None and ticket in state.reserved:
            state.reserved.remove(ticket)
            self._forget_if_idle(client)

    def _retry_after(self, ahead: int) -> int:
        """About when one of the client's jobs will have ended: the median job of late (2 s before any)."""
        typical = sorted(self._durations)[len(self._durations) // 2] if self._durations else 2.0
        return max(1, min(600, math.ceil(typical)))

    def submit(self, client: str, request: Any, ticket: Ticket | None = None) -> str:
        """Queue ``request`` for ``client``; returns the client's job id (a JobQueued follows).

        ``ticket`` is what :meth:`reserve` returned; without one the request is admitted here."""
        self._bind_loop()
        job_id = str(request.job_id)
        if ticket is None:
            ticket = self.reserve(client, job_id, 0)
        state = self._client(client)
        if ticket in state.reserved:
            state.reserved.remove(ticket)
        if self.stopping:  # it began to stop while the images were decoded
            self._forget_if_idle(client)
            raise Stopping("the studio server is shutting down and takes no new jobs")
        if self._find(client, job_id) is not None:  # the same id twice in flight at once
            self._forget_if_idle(client)
            raise DuplicateJob(f"job {job_id} is already queued or running; it was left as it is")
        board_id = f"job-{next(self._ids)}"
        job = _Job(board_id, client, job_id, dataclasses.replace(request, job_id=board_id), request_kind(request),
                   pixels=ticket.pixels)
        self.jobs[board_id] = job
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
        mine.sort(key=lambda j: (j.state != "running", int(j.board_id.rsplit("-", 1)[1])))
        return [{"job_id": j.job_id, "kind": j.kind, "state": j.state} for j in mine]

    def listen(self, client: str) -> asyncio.Queue:
        """A queue of ``client``'s messages (what was buffered while nobody listened comes first)."""
        self._bind_loop()
        state = self._client(client)
        queue: asyncio.Queue = asyncio.Queue()
        while state.buffer:
            queue.put_nowait(state.buffer.popleft()[1])
        state.listeners.append(queue)
        state.absent_since = None
        return queue

    def unlisten(self, client: str, queue: asyncio.Queue) -> None:
        state = self.clients.get(client)
        if state is not None and queue in state.listeners:
            state.listeners.remove(queue)
            if not state.listeners:
                state.absent_since = self.clock()
        self._forget_if_idle(client)

    def reap(self) -> None:
        """Cancel the jobs of clients away longer than the grace; drop their results after the TTL."""
        now = self.clock()
        for client, state in list(self.clients.items()):
            if state.listeners or state.absent_since is None:
                continue
            away = now - state.absent_since
            if away >= self.limits.client_grace:
                for job in [j for j in self.jobs.values() if j.client == client and not j.cancel_asked]:
                    log.info("cancelling %s: its client left %.0f s ago", job.board_id, away)
                    self.cancel(client, job.job_id)
            ttl = self.limits.result_ttl
            while state.buffer and now - max(state.buffer[0][0], state.absent_since) >= ttl:
                state.buffer.popleft()
            self._forget_if_idle(client)

    async def reap_forever(self) -> None:
        """Call :meth:`reap` about once a second (more often for short TTLs) until cancelled."""
        period = max(0.05, min(1.0, self.limits.result_ttl / 4, self.limits.client_grace / 4))
        while True:
            await asyncio.sleep(period)
            self.reap()

    async def drain(self, bound: float = 10.0, reason: str = "the studio server is shutting down") -> None:
        """Stop taking jobs; fail the waiting ones with ``reason``; give the running ones ``bound``
        seconds to end, then cancel them (and fail any a worker does not end within 1.5 s more)."""
        self._bind_loop()
        self.stopping = True
        for job in [j for j in self.jobs.values() if j.state == "waiting"]:
            state = self.clients[job.client]
            state.waiting.remove(job)
            del self.jobs[job.board_id]
            self._send(job.client, JobFailed(job.job_id, f"{reason}; the job did not start", STOPPING_HINT,
                                             "server-stopping"))
        self.turns.clear()
        deadline = self.loop.time() + bound
        while self.jobs and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for job in list(self.jobs.values()):
            job.stopped_because = f"{reason}; the job was stopped"
            self.cancel(job.client, job.job_id)
        deadline = self.loop.time() + 1.5
        while self.jobs and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for job in list(self.jobs.values()):  # a worker that did not answer its cancel: end it here
            del self.jobs[job.board_id]
            self._send(job.client, JobFailed(job.job_id, f"{reason}; the job was stopped", STOPPING_HINT,
                                             "server-stopping"))
        for state in self.clients.values():  # each websocket sends what it holds, then closes with the reason
            for queue in state.listeners:
                queue.put_nowait(ServerStopping(reason))
        deadline = self.loop.time() + 2.0
        while self.loop.time() < deadline and any(c.listeners for c in self.clients.values()):
            await asyncio.sleep(0.02)

    def _forget_if_idle(self, client: str) -> None:
        """Drop a client's record once it has no jobs, no listener and nothing buffered."""
        state = self.clients.get(client)
        if state is None or state.listeners or state.buffer or state.waiting or state.reserved:
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
            if job.started_at:
                self._durations.append(self.clock() - job.started_at)
            if isinstance(message, JobCancelled) and job.stopped_because:
                message = JobFailed(message.job_id, job.stopped_because, STOPPING_HINT, "server-stopping")
            if isinstance(message, JobFinished) and isinstance(message.result, EditResult):
                # Without its request (the client has it): a held result keeps half the memory.
                message = JobFinished(message.job_id, dataclasses.replace(message.result, request=None))
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
            state = self.clients[client] = _Client(self.clock())
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
            job.state, job.worker, job.started_at = "running", worker, self.clock()
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
        if isinstance(message, Preview):
            return  # nobody watches: a preview is stale by the time anyone reconnects
        state.buffer.append((self.clock(), message))
        while len(state.buffer) > MAX_BUFFERED:  # nobody listens: keep the job ends, drop the rest first
            droppable = next((e for e in state.buffer if not isinstance(e[1], TERMINAL)), None)
            state.buffer.remove(droppable if droppable is not None else state.buffer[0])

