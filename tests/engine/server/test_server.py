"""``brushedit serve`` on loopback: health, tokens, limits, cancel, fairness, isolation, same pixels."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("websockets")

from engine import api, connect, wire  # noqa: E402
from engine.dispatch import Engine, EngineConfig  # noqa: E402
from engine.server.app import ServerSettings  # noqa: E402
from engine.server.client import RemoteEngine, test_connection  # noqa: E402
from tests.fakes.servers import GateEngine, ThreadServer, gate_workers, wait_for  # noqa: E402

TOKEN = "s3cret-token-for-tests"


class Inbox:
    """Collects one RemoteEngine's messages; waits for a job's end."""

    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()

    def __call__(self, message) -> None:
        with self.lock:
            self.messages.append(message)

    def of(self, job_id, cls=None):
        with self.lock:
            return [m for m in self.messages if getattr(m, "job_id", None) == job_id
                    and (cls is None or isinstance(m, cls))]

    def end(self, job_id, timeout=30.0):
        ends = (api.JobFinished, api.JobFailed, api.JobCancelled)
        wait_for(lambda: self.of(job_id, ends), timeout, f"the end of job {job_id}")
        (last,) = self.of(job_id, ends)
        return last


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[::4, ::4])  # 128 x 128


@pytest.fixture(scope="module")
def mask(photo):
    m = np.zeros(photo.shape[:2], np.uint8)
    m[40:80, 50:90] = 255
    return m


def _request(photo, mask, seed=1, engine="fill"):
    return api.InpaintRequest(photo, mask, "", api.EditParams(engine=engine, seed=seed, steps=2))


def _raw(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.settings.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def gate():
    return GateEngine()


@pytest.fixture
def gated(gate):
    settings = ServerSettings(config=EngineConfig(device="cpu"), token=TOKEN, max_request_bytes=2_000_000,
                              max_pixels=300 * 300)
    with ThreadServer(settings, gate_workers(gate)) as server:
        yield server
    gate.release.set()


@pytest.fixture
def remote_factory(gated):
    made = []

    def make(token=TOKEN, **kw):
        inbox = Inbox()
        engine = RemoteEngine(inbox, gated.url, token, **kw)
        engine.inbox = inbox
        engine.start()
        wait_for(engine.connected.is_set, 10, "the websocket")
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.shutdown(2)


def test_health_needs_no_token_and_reports_queue_and_jobs(gated):
    status, body = _raw(gated, "GET", "/v1/health")
    info = json.loads(body)
    assert status == 200
    assert info == {"status": "ok", "version": connect.engine_version(), "device": "cpu", "queue": 0, "jobs_done": 0,
                    "held": 0, "frames": ["BEW1", "BEW2"]}  # the frame forms it reads (msgpack since BEW2)


def test_a_wrong_or_missing_token_gets_401_and_runs_nothing(gated, gate, photo, mask):
    frame = wire.pack({"request": api.to_dict(_request(photo, mask))})
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        headers["X-BrushEdit-Client"] = "client-0001"
        assert _raw(gated, "POST", "/v1/jobs", frame, headers)[0] == 401
        assert _raw(gated, "GET", "/v1/jobs", b"", headers)[0] == 401
    bad = RemoteEngine(Inbox(), gated.url, "wrong-token")
    job = bad.submit(_request(photo, mask))
    try:
        failure = bad.on_message.end(job, 10)
        assert failure.kind == "unauthorized" and "token" in failure.error and not bad.connected.is_set()
    finally:
        bad.shutdown(2)
    assert gate.handled == [] and gated.board.jobs_done == 0 and gated.board.queue_length == 0
    assert test_connection(gated.url, "wrong-token") == (False, "The server answers, but refused the token")
    ok, text = test_connection(gated.url, TOKEN)
    assert ok and "Connected" in text


def test_an_oversized_request_is_refused_before_it_is_read_whole(gated):
    limit = gated.settings.max_request_bytes
    with socket.create_connection(("127.0.0.1", gated.settings.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nX-BrushEdit-Client: client-0001\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Type: application/x-brushedit-frame\r\n"
                     b"Content-Length: " + str(limit * 50).encode() + b"\r\n\r\n" + b"x" * 1000)
        reply = sock.recv(4096)  # answered though 99.999 % of the body was never sent
    assert reply.startswith(b"HTTP/1.1 413")
    assert gated.board.queue_length == 0


def test_images_over_the_pixel_limit_fail_as_bad_input(remote_factory, gate):
    client = remote_factory()
    big = np.zeros((400, 400, 3), np.uint8)
    job = client.submit(api.InpaintRequest(big, np.full((400, 400), 255, np.uint8)))
    failed = client.inbox.end(job)
    assert isinstance(failed, api.JobFailed) and failed.kind == "bad-input" and "limit" in failed.error
    assert gate.handled == []


def test_cancel_of_a_running_and_of_a_queued_job(remote_factory, gate, photo, mask):
    client = remote_factory()
    running = client.submit(_request(photo, mask, 1))
    waiting = client.submit(_request(photo, mask, 2))
    wait_for(lambda: client.inbox.of(running, api.Preview), 10, "a preview of the running job")
    assert client.cancel(waiting)
    assert isinstance(client.inbox.end(waiting), api.JobCancelled)
    assert client.cancel(running)
    assert isinstance(client.inbox.end(running), api.JobCancelled)
    assert [r.params.seed for r in gate.handled] == [1]  # the queued one never ran
    preview = client.inbox.of(running, api.Preview)[0]
    assert preview.image.shape == (64, 64, 3) and preview.rect == (0, 0, 128, 128)


def test_the_queue_is_fair_between_clients_and_each_sees_only_its_own(remote_factory, gate, gated, photo, mask):
    greedy, modest = remote_factory(), remote_factory()
    greedy_jobs = [greedy.submit(_request(photo, mask, seed)) for seed in range(1, 6)]
    wait_for(lambda: gated.board.queue_length == 5 and gate.handled, 10, "greedy's jobs")
    modest_job = modest.submit(_request(photo, mask, 100))
    wait_for(lambda: gated.board.queue_length == 6, 10, "modest's job")
    headers = {"Authorization": f"Bearer {TOKEN}", "X-BrushEdit-Client": modest.client_id}
    listed = json.loads(_raw(gated, "GET", "/v1/jobs", b"", headers)[1])
    assert listed == [{"job_id": modest_job, "kind": "inpaint", "state": "waiting"}]
    assert _raw(gated, "DELETE", f"/v1/jobs/{greedy_jobs[1]}", b"", headers)[0] == 404  # not modest's
    gate.release.set()
    for job in greedy_jobs + [modest_job]:
        assert isinstance((greedy if job in greedy_jobs else modest).inbox.end(job), api.JobFinished)
    order = [r.params.seed for r in gate.handled]
    assert order[:2] == [1, 100]  # modest's one job runs right after the job that was running
    assert sorted(order) == [1, 2, 3, 4, 5, 100]
    assert not [m for m in modest.inbox.messages if getattr(m, "job_id", None) in greedy_jobs]


def test_a_remote_fill_edit_gives_the_in_process_pixels_and_names_its_worker(photo, mask):
    import os

    with ThreadServer() as server:
        inbox = Inbox()
        client = RemoteEngine(inbox, server.url)
        try:
            request = _request(photo, mask, seed=7)
            finished = inbox.end(client.submit(request), 60)
        finally:
            client.shutdown(2)
    assert isinstance(finished, api.JobFinished), finished
    local = Engine(EngineConfig(device="cpu")).inpaint(request)
    remote = finished.result
    assert remote.request is request and remote.engine == local.engine
    for a, b in zip(remote.candidates, local.candidates):
        assert np.array_equal(a.image, b.image) and a.seed == b.seed and a.bbox == b.bbox
    assert remote.worker.pid == os.getpid() and remote.worker.device == "cpu" and remote.worker.host


def test_queries_are_answered_by_the_server(remote_factory):
    client = remote_factory()
    report = client.answer(api.ModelStatusRequest())
    assert isinstance(report, api.ModelStatusReport) and report.names("sam")
    assert client.answer(api.ParseRequest("remove the dog")).target == "dog"


def test_the_websocket_takes_submit_and_cancel_frames_and_refuses_a_wrong_token(gated, gate, photo, mask):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from engine.server.codec import decode_message

    url = gated.url.replace("http://", "ws://") + "/v1/ws"
    with pytest.raises(InvalidStatus):
        connect(url, additional_headers={"Authorization": "Bearer wrong", "X-BrushEdit-Client": "client-0002"})
    headers = {"Authorization": f"Bearer {TOKEN}", "X-BrushEdit-Client": "client-0002"}
    with connect(url, additional_headers=headers, max_size=None) as ws:
        request = _request(photo, mask, 9)
        ws.send(wire.pack({"op": "submit", "request": api.to_dict(request)}))
        first = decode_message(ws.recv(10))
        assert isinstance(first, api.JobQueued) and first.job_id == request.job_id
        ws.send(wire.pack({"op": "cancel", "job_id": request.job_id}))
        seen = [decode_message(ws.recv(10))]
        while not isinstance(seen[-1], api.JobCancelled):
            seen.append(decode_message(ws.recv(10)))
        ws.send(b"not a frame")
        refused = decode_message(ws.recv(10))
        while not isinstance(refused, api.JobFailed):
            refused = decode_message(ws.recv(10))
        assert refused.kind == "bad-input" and "refused a frame" in refused.error


def test_the_board_forgets_a_client_that_left_with_nothing_pending():
    import asyncio

    from engine.server.board import Board

    class Instant:
        name = "instant"

        def run(self, request, emit):
            emit(api.JobStarted(request.job_id, "inpaint"))
            emit(api.JobFinished(request.job_id, "done"))

        def cancel(self, job_id):
            pass

        def close(self):
            pass

    async def scenario():
        board = Board([Instant()])
        queue = board.listen("client-a1")
        board.submit("client-a1", api.DownloadRequest(("x",), job_id="j1"))
        got = [await asyncio.wait_for(queue.get(), 5) for _ in range(3)]
        assert [type(m).__name__ for m in got] == ["JobQueued", "JobStarted", "JobFinished"]
        assert all(m.job_id == "j1" for m in got)  # the client's own id, not the board's
        board.unlisten("client-a1", queue)
        assert "client-a1" not in board.clients and board.jobs_done == 1

    asyncio.run(scenario())
