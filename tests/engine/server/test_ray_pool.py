"""``brushedit serve --ray`` on this CPU machine: 2 replicas with 0 GPUs each, one Ray start for all."""

from __future__ import annotations

import functools
import os
import signal
import threading

import numpy as np
import pytest

pytest.importorskip("ray.serve")
pytest.importorskip("fastapi")

from engine import api  # noqa: E402
from engine.dispatch import EngineConfig  # noqa: E402
from engine.server.app import ServerSettings  # noqa: E402
from engine.server.client import RemoteEngine  # noqa: E402
from tests.fakes.servers import GateEngine, free_port, wait_for  # noqa: E402

ENDS = (api.JobFinished, api.JobFailed, api.JobCancelled)
pytestmark = pytest.mark.slow


class Inbox(list):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def __call__(self, message) -> None:
        with self.lock:
            self.append(message)

    def of(self, job_id, cls=object):
        with self.lock:
            return [m for m in self if getattr(m, "job_id", None) == job_id and isinstance(m, cls)]

    def end(self, job_id, timeout=60.0):
        wait_for(lambda: self.of(job_id, ENDS), timeout, f"the end of {job_id}")
        return self.of(job_id, ENDS)[0]


@pytest.fixture(scope="module")
def pool(ray_local):
    """One Serve deployment shared by every test here, on the session's one Ray (tests/conftest.py)."""
    from ray import serve

    from engine.server.ray_app import run_pool

    settings = ServerSettings(port=free_port(), config=EngineConfig(device="cpu"))
    # A class of an importable module: the replicas unpickle it (this test module is not importable there).
    engine = functools.partial(GateEngine, steps_from_request=True, auto=True, step_delay=0.02)
    try:
        run_pool(settings, replicas=2, gpus_per_replica=0, engine_factory=engine, replica_cpus=0.5)
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        serve.shutdown()


@pytest.fixture
def client(pool):
    engine = RemoteEngine(Inbox(), pool)
    engine.start()
    wait_for(engine.connected.is_set, 30, "the websocket through the Serve proxy")
    yield engine
    engine.shutdown(2)


def _request(seed, steps=5):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[8:40, 8:40] = 255
    return api.InpaintRequest(image, mask, "", api.EditParams(engine="fill", seed=seed, steps=steps))


def test_eight_concurrent_edits_run_on_both_replicas(client):
    requests = {client.submit(_request(seed, steps=6)): seed for seed in range(8)}
    ends = [client.on_message.end(job) for job in requests]
    assert all(isinstance(m, api.JobFinished) for m in ends), ends
    pids = {m.result.worker.pid for m in ends}
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(m.result.worker.device == "cpu" for m in ends)
    for m in ends:  # each result is the one its request asked for
        seed = requests[m.job_id]
        assert m.result.candidates[0].seed == seed and m.result.request.params.seed == seed
    assert any(client.on_message.of(job, api.Preview) for job in requests)  # previews streamed through


def test_cancel_reaches_the_replica_running_the_job(client):
    job = client.submit(_request(100, steps=100_000))
    wait_for(lambda: client.on_message.of(job, api.Progress), 60, "the long job to run")
    client.cancel(job)
    assert isinstance(client.on_message.end(job), api.JobCancelled)


def test_a_killed_replica_fails_its_job_cleanly_and_the_next_job_succeeds(client):
    job = client.submit(_request(200, steps=100_000))
    wait_for(lambda: client.on_message.of(job, api.Progress), 60, "the long job to run")
    stage = client.on_message.of(job, api.Progress)[0].stage
    pid = int(stage.rsplit("pid ", 1)[1])
    os.kill(pid, signal.SIGKILL)
    failed = client.on_message.end(job, 30)
    assert isinstance(failed, api.JobFailed) and failed.kind == "worker-lost", failed
    after = client.submit(_request(201, steps=3))
    finished = client.on_message.end(after, 120)
    assert isinstance(finished, api.JobFinished) and finished.result.worker.pid != pid
