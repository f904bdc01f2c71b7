"""A studio server under load, killed mid-job and restarted, and painting with tiny BrushNet."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("websockets")

from engine import api, wire  # noqa: E402
from engine.dispatch import Engine, EngineConfig  # noqa: E402
from engine.server.app import ServerSettings  # noqa: E402
from engine.server.client import RemoteEngine  # noqa: E402
from tests.fakes.servers import ThreadServer, child_server, free_port, wait_for  # noqa: E402

ENDS = (api.JobFinished, api.JobFailed, api.JobCancelled)


class Inbox(list):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def __call__(self, message) -> None:
        with self.lock:
            self.append(message)

    def ends(self):
        with self.lock:
            return [m for m in self if isinstance(m, ENDS)]


def _photo(seed: int, size: int = 64):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[10:30, 12:34] = 255
    return image, mask


def test_eight_clients_five_fill_jobs_each_all_arrive_once_at_the_right_client():
    with ThreadServer() as server:
        clients = [RemoteEngine(Inbox(), server.url) for _ in range(8)]
        sent: dict[int, dict[str, api.InpaintRequest]] = {}
        try:
            barrier = threading.Barrier(8)

            def flood(i: int) -> None:
                barrier.wait()
                for k in range(5):
                    image, mask = _photo(i * 10 + k)
                    request = api.InpaintRequest(image, mask, "", api.EditParams(engine="fill", seed=k))
                    sent.setdefault(i, {})[clients[i].submit(request)] = request

            threads = [threading.Thread(target=flood, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wait_for(lambda: all(len(c.on_message.ends()) >= 5 for c in clients), 120, "40 jobs")
            for i, client in enumerate(clients):
                ends = client.on_message.ends()
                assert len(ends) == 5 and all(isinstance(m, api.JobFinished) for m in ends)
                assert sorted(m.job_id for m in ends) == sorted(sent[i])  # none lost, none twice, none foreign
                for m in ends:
                    assert m.result.request is sent[i][m.job_id]
                local = Engine(EngineConfig(device="cpu")).inpaint(ends[0].result.request)  # its own pixels
                assert np.array_equal(local.candidates[0].image, ends[0].result.candidates[0].image)
            assert server.board.jobs_done == 40 and server.board.queue_length == 0
        finally:
            for client in clients:
                client.shutdown(2)


def test_a_killed_server_fails_the_job_at_once_and_the_client_reconnects_after_a_restart():
    port = free_port()
    inbox = Inbox()
    image, mask = _photo(1, 64)
    client = RemoteEngine(inbox, f"http://127.0.0.1:{port}", ping_interval=0.5, ping_timeout=1.0)
    try:
        with child_server(port, gate=True) as proc:
            job = client.submit(api.InpaintRequest(image, mask, "", api.EditParams(engine="fill", seed=1)))
            wait_for(lambda: any(isinstance(m, api.Progress) for m in inbox), 30, "the job to run")
            proc.kill()
            wait_for(lambda: inbox.ends(), 5, "the job to fail after the kill")
            (failed,) = inbox.ends()
            assert isinstance(failed, api.JobFailed) and failed.job_id == job
            assert failed.kind == "server-gone" and "lost the studio server" in failed.error
            assert client.pending() == []
        wait_for(lambda: not client.connected.is_set(), 5, "the client to notice")
        with child_server(port, "--steps", "3", "--step-delay", "0", gate=True):
            wait_for(client.connected.is_set, 15, "the client to reconnect")
            again = client.submit(api.InpaintRequest(image, mask, "", api.EditParams(engine="fill", seed=2)))
            wait_for(lambda: len(inbox.ends()) == 2, 30, "the job after the restart")
            last = inbox.ends()[-1]
            assert isinstance(last, api.JobFinished) and last.job_id == again
    finally:
        client.shutdown(2)


@pytest.mark.slow
def test_a_remote_tiny_brushnet_edit_gives_the_in_process_pixels(tmp_path):
    from tests.builders.brushnet import save_tiny_weights

    base, brushnet = save_tiny_weights(tmp_path)
    config = EngineConfig(device="cpu", base_model_dir=base, brushnet_dir=brushnet)
    from skimage import data

    image = np.ascontiguousarray(data.astronaut()[::8, ::8])  # 64 x 64
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[16:48, 20:44] = 255
    params = api.EditParams(engine="brushedit", seed=5, steps=2, working_size=64, num_candidates=2)
    request = api.InpaintRequest(image, mask, "a red ball", params, category="local")
    with ThreadServer(ServerSettings(config=config)) as server:
        inbox = Inbox()
        client = RemoteEngine(inbox, server.url)
        try:
            client.submit(request)
            wait_for(lambda: inbox.ends(), 300, "the tiny BrushNet edit")
        finally:
            client.shutdown(2)
    (finished,) = inbox.ends()
    assert isinstance(finished, api.JobFinished), finished
    local = Engine(config).inpaint(request)
    assert finished.result.engine == local.engine == "brushedit"
    assert len(finished.result.candidates) == 2
    for a, b in zip(finished.result.candidates, local.candidates):
        assert a.seed == b.seed and np.array_equal(a.image, b.image)


class _Blackhole:
    """A loopback TCP relay to a server that can go silent (a dropped network: nothing closes)."""

    def __init__(self, target_port: int) -> None:
        import socket

        self.target = target_port
        self.silent = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return
            far = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if not self.silent.is_set():  # silent: bytes vanish, like a pulled cable
                try:
                    sink.sendall(data)
                except OSError:
                    return

    def close(self) -> None:
        self.listener.close()
        for s in self.sockets:
            s.close()


def test_a_dropped_network_fails_the_job_within_the_documented_time_in_one_line(caplog):
    import logging
    import time

    from tests.fakes.servers import GateEngine, gate_workers

    caplog.set_level(logging.INFO)
    # In-process CLI tests quieten "brushedit" for their stderr; the remote client's own level is what a
    # user of the client library has.
    caplog.set_level(logging.INFO, logger="brushedit")
    gate = GateEngine()
    with ThreadServer(ServerSettings(config=EngineConfig(device="cpu")), gate_workers(gate)) as server:
        relay = _Blackhole(server.settings.port)
        inbox = Inbox()
        client = RemoteEngine(inbox, f"http://127.0.0.1:{relay.port}")
        try:
            image, mask = _photo(3)
            job = client.submit(api.InpaintRequest(image, mask, "", api.EditParams(engine="fill", seed=1)))
            wait_for(gate.started.is_set, 10, "the job to run")
            caplog.clear()
            relay.silent.set()
            dropped = time.monotonic()
            wait_for(lambda: inbox.ends(), 10, "the client to notice")
            noticed = time.monotonic() - dropped
            (failed,) = inbox.ends()
            assert failed.job_id == job and failed.kind == "server-gone"
            lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert [r.name for r in lines] == ["brushedit.remote"], [(r.name, r.getMessage()) for r in lines]
            assert lines[0].exc_info is None and "lost the studio server" in lines[0].getMessage()
            print(f"dropped network noticed after {noticed:.2f} s")  # the docs say within 5 s
        finally:
            gate.release.set()
            client.shutdown(2)
            relay.close()


def test_a_remote_plan_says_who_read_the_instruction():
    """The server's job result carries the instructor report: the default ``auto`` on a machine with no
    CUDA card is the rule parser, and the report says why."""
    from skimage import data

    image = np.ascontiguousarray(data.astronaut()[::8, ::8])
    with ThreadServer(ServerSettings(config=EngineConfig(device="cpu"))) as server:
        inbox = Inbox()
        client = RemoteEngine(inbox, server.url)
        try:
            client.submit(api.PlanRequest(image, "make it look like winter"))
            wait_for(lambda: inbox.ends(), 120, "the plan")
        finally:
            client.shutdown(2)
    (finished,) = inbox.ends()
    assert isinstance(finished, api.JobFinished), finished
    report = finished.result.instructor
    assert isinstance(report, api.InstructorReport)
    assert (report.requested, report.used, report.ran) == ("auto", "offline", False)
    assert "no CUDA card" in report.why


def test_a_client_speaks_json_frames_to_a_server_that_does_not_list_msgpack(monkeypatch):
    """A server from before msgpack frames (its /v1/health lists no "frames") answered BEW2 with 4xx:
    the client sends it the first form, BEW1, and msgpack to a server that lists it."""
    import engine.server.client as client_module

    answers = iter([{"status": "ok", "version": "0.1.0"},
                    {"status": "ok", "version": "0.2.0", "frames": ["BEW1", "BEW2"]}])
    monkeypatch.setattr(client_module, "health", lambda url, timeout=5.0: next(answers))
    old, new = (RemoteEngine(lambda m: None, "http://127.0.0.1:9") for _ in range(2))
    assert (old._frame_form(), new._frame_form()) == ("json", "msgpack")
    assert old._frame_form() == "json"  # asked once per client
    frame = wire.pack({"query": 1}, old._frame_form())
    assert frame[:4] == wire.MAGIC and wire.unpack(frame) == {"query": 1}
