"""The board under careless clients, on a controllable clock: per-client limits, held results dropped
after the TTL, jobs of a client that stayed away cancelled after the grace, duplicates refused, drain."""

from __future__ import annotations

import asyncio

import pytest

from engine import api
from engine.server.board import Board, Busy, DuplicateJob, Limits, Stopping


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Held:
    """A worker that runs one job until the test ends it (or it is cancelled)."""

    name = "held"

    def __init__(self) -> None:
        self.running: dict[str, object] = {}
        self.cancelled: list[str] = []
        self.emit = None

    def run(self, request, emit):
        self.running[request.job_id] = request
        self.emit = emit
        emit(api.JobStarted(request.job_id, "download"))

    def finish(self, board_id=None):
        board_id = board_id or next(iter(self.running))
        del self.running[board_id]
        self.emit(api.JobFinished(board_id, ("done",)))

    def cancel(self, job_id):
        self.cancelled.append(job_id)
        if self.running.pop(job_id, None) is not None:
            self.emit(api.JobCancelled(job_id))

    def close(self):
        pass


def _job(job_id):
    return api.DownloadRequest(("x",), job_id=job_id)


def _run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), 20))


async def _settle():
    for _ in range(5):  # let call_soon_threadsafe callbacks run
        await asyncio.sleep(0)


def _drained(queue):
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def test_the_fourth_job_of_one_client_is_refused_with_a_retry_after_and_others_still_get_in():
    async def scenario():
        board = Board([Held()], limits=Limits(max_queued_per_client=3))
        for i in range(3):
            board.submit("greedy-01", _job(f"g{i}"))
        with pytest.raises(Busy) as refused:
            board.reserve("greedy-01", "g3", 0)
        assert refused.value.retry_after >= 1 and "3 jobs" in str(refused.value)
        board.submit("modest-01", _job("m0"))  # another client is not held back
        assert board.queue_length == 4

    _run(scenario)


def test_decoded_pixels_are_limited_per_client_counting_uploads_still_being_decoded():
    async def scenario():
        board = Board([Held()], limits=Limits(max_queued_per_client=10, max_client_pixels=1000))
        first = board.reserve("client-01", "a", 600)
        with pytest.raises(Busy, match="MP"):
            board.reserve("client-01", "b", 600)  # the first is still being decoded: it counts
        board.submit("client-01", _job("a"), first)
        board.release("client-01", first)  # a no-op once submitted
        with pytest.raises(Busy):
            board.reserve("client-01", "b", 600)
        assert board.reserve("client-01", "c", 400)  # within the budget
        assert board.reserve("other-001", "a", 900)

    _run(scenario)


def test_a_duplicate_job_id_is_refused_and_the_running_job_is_untouched():
    async def scenario():
        worker = Held()
        board = Board([worker])
        queue = board.listen("client-01")
        board.submit("client-01", _job("same"))
        with pytest.raises(DuplicateJob):
            board.reserve("client-01", "same", 0)
        with pytest.raises(DuplicateJob):
            board.submit("client-01", _job("same"))
        assert worker.cancelled == [] and board.jobs_of("client-01")[0]["state"] == "running"
        worker.finish()
        await _settle()
        kinds = [type(m).__name__ for m in _drained(queue)]
        assert kinds == ["JobQueued", "JobStarted", "JobFinished"]

    _run(scenario)


def test_results_of_a_client_that_left_are_held_then_dropped_after_the_ttl():
    async def scenario():
        clock, worker = Clock(), Held()
        board = Board([worker], limits=Limits(result_ttl=4, client_grace=30), clock=clock)
        queue = board.listen("gone-0001")
        board.submit("gone-0001", _job("j"))
        board.unlisten("gone-0001", queue)  # the client vanished mid-job
        worker.finish()
        await _settle()
        assert board.held == 1 and board.jobs_done == 1
        clock.now += 3.9
        board.reap()
        assert board.held == 1  # still within the TTL: a client that reconnects now gets it
        clock.now += 0.2
        board.reap()
        assert board.held == 0 and "gone-0001" not in board.clients

    _run(scenario)


def test_a_client_that_comes_back_in_time_gets_its_result():
    async def scenario():
        clock, worker = Clock(), Held()
        board = Board([worker], limits=Limits(result_ttl=4), clock=clock)
        board.submit("back-0001", _job("j"))  # posted, not listening yet
        worker.finish()
        await _settle()
        clock.now += 3
        board.reap()
        got = _drained(board.listen("back-0001"))
        assert [type(m).__name__ for m in got][-1] == "JobFinished" and board.held == 0

    _run(scenario)


def test_jobs_of_a_client_away_longer_than_the_grace_are_cancelled_waiting_and_running():
    async def scenario():
        clock, worker = Clock(), Held()
        board = Board([worker], limits=Limits(client_grace=10, result_ttl=100), clock=clock)
        queue = board.listen("away-0001")
        board.submit("away-0001", _job("run"))
        board.submit("away-0001", _job("wait"))
        board.unlisten("away-0001", queue)
        clock.now += 9
        board.reap()
        assert board.queue_length == 2 and worker.cancelled == []
        listener = board.listen("stay-0001")  # a listening client is never reaped
        board.submit("stay-0001", _job("mine"))
        clock.now += 2
        board.reap()
        await _settle()
        assert worker.cancelled == ["job-1"]
        assert [j["job_id"] for j in board.jobs_of("away-0001")] == []
        assert [j["job_id"] for j in board.jobs_of("stay-0001")] == ["mine"]
        assert _drained(listener)  # its JobQueued
        clock.now += 100
        board.reap()
        assert board.held == 0 and "away-0001" not in board.clients

    _run(scenario)


def test_drain_fails_waiting_jobs_with_the_reason_cancels_the_running_one_and_takes_nothing_new():
    async def scenario():
        worker = Held()
        board = Board([worker])
        queue = board.listen("client-01")
        board.submit("client-01", _job("running"))
        board.submit("client-01", _job("waiting"))
        await board.drain(bound=0.1)
        await _settle()
        ends = {m.job_id: m for m in _drained(queue) if isinstance(m, (api.JobFailed, api.JobCancelled))}
        assert ends["waiting"].kind == "server-stopping" and "shutting down" in ends["waiting"].error
        assert ends["running"].kind == "server-stopping" and "was stopped" in ends["running"].error
        assert worker.cancelled == ["job-1"]
        assert board.queue_length == 0
        with pytest.raises(Stopping):
            board.reserve("client-01", "later", 0)

    _run(scenario)


def test_previews_are_not_kept_for_a_client_that_is_not_listening():
    async def scenario():
        worker = Held()
        board = Board([worker])
        board.submit("client-01", _job("j"))
        import numpy as np

        for step in range(50):
            worker.emit(api.Preview("job-1", np.zeros((8, 8, 3), np.uint8), step))
        await _settle()
        assert not any(isinstance(m, api.Preview) for _, m in board.clients["client-01"].buffer)

    _run(scenario)
