"""Benchmark: a fill edit through ``brushedit serve`` against the same edit in-process, and jobs/s.

Same run, same machine, loopback:

- ``in_process_s``: the median seconds of a fill edit of a 2048 x 1536 photo (skimage's astronaut,
  tiled) through an in-process ``EngineService`` (submit -> JobFinished);
- ``remote_s``: the same request through a server in a child process (``python main.py serve``) and
  :class:`engine.server.client.RemoteEngine` (PNG upload, streamed progress, PNG result); the pixels
  are checked equal; ``overhead_ratio`` = remote / in-process (aim: < 1.15), the ratio of the
  medians; ``ratio_min``/``ratio_max``/``ratio_iqr`` are the spread of the per-pair ratios (local and
  remote runs alternate, so each pair saw about the same machine load);
- ``jobs_per_s``: small (256 x 256) fill jobs from 4 clients at once through the server (started with
  ``--max-queued-per-client`` above the flood, so this measures throughput, not the per-client limit).

Usage: ``python benchmarks/server.py [--repeat 10] [--jobs 40]``. The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from machine_info import host  # noqa: E402

from engine import api  # noqa: E402


class Waiter:
    def __init__(self) -> None:
        self.done: dict[str, object] = {}
        self.cond = threading.Condition()

    def __call__(self, message) -> None:
        if isinstance(message, (api.JobFinished, api.JobFailed, api.JobCancelled)):
            with self.cond:
                self.done[message.job_id] = message
                self.cond.notify_all()

    def wait(self, job_id: str, timeout: float = 600):
        with self.cond:
            self.cond.wait_for(lambda: job_id in self.done, timeout)
            message = self.done.pop(job_id)
        if not isinstance(message, api.JobFinished):
            raise RuntimeError(f"job failed: {message}")
        return message.result


def photo_and_mask(h: int, w: int):
    from skimage import data

    tile = data.astronaut()
    photo = np.ascontiguousarray(np.tile(tile, (h // 512 + 1, w // 512 + 1, 1))[:h, :w])
    mask = np.zeros((h, w), np.uint8)
    mask[h // 3: h // 3 + h // 6, w // 3: w // 3 + w // 6] = 255
    return photo, mask


def run_jobs(backend, waiter: Waiter, request) -> tuple[float, object]:
    import dataclasses

    request = dataclasses.replace(request, job_id=api.new_job_id())
    started = time.perf_counter()
    result = waiter.wait(backend.submit(request))
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=40)
    args = parser.parse_args()

    from engine.dispatch import Engine, EngineConfig
    from engine.server.client import RemoteEngine, ServerError, health
    from engine.service import EngineService
    from tests.fakes.servers import free_port

    photo, mask = photo_and_mask(1536, 2048)
    request = api.InpaintRequest(photo, mask, "", api.EditParams(engine="fill", seed=1))

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("BRUSHEDIT_SERVER_TOKEN", None)
    server = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve", "--port", str(port), "--device", "cpu",
                               "--max-queued-per-client", str(max(8, args.jobs))],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health(f"127.0.0.1:{port}", 1)
                break
            except ServerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        local_waiter, remote_waiter = Waiter(), Waiter()
        local = EngineService(local_waiter, EngineConfig(device="cpu"), engine_factory=lambda c: Engine(c))
        local.start()
        remote = RemoteEngine(remote_waiter, f"http://127.0.0.1:{port}")
        remote.start()
        # Warm both (imports, first-call caches), then alternate so machine noise hits both alike.
        _, local_result = run_jobs(local, local_waiter, request)
        _, remote_result = run_jobs(remote, remote_waiter, request)
        same = all(np.array_equal(a.image, b.image) for a, b in zip(local_result.candidates, remote_result.candidates))
        local_times, remote_times = [], []
        for _ in range(args.repeat):
            local_times.append(run_jobs(local, local_waiter, request)[0])
            remote_times.append(run_jobs(remote, remote_waiter, request)[0])
        local.shutdown()
        remote.shutdown()

        small_photo, small_mask = photo_and_mask(256, 256)
        clients = [RemoteEngine(w, f"http://127.0.0.1:{port}") for w in (Waiter() for _ in range(4))]
        started = time.perf_counter()

        def flood(client: RemoteEngine, n: int) -> None:
            ids = [client.submit(api.InpaintRequest(small_photo, small_mask, "", api.EditParams(engine="fill", seed=k)))
                   for k in range(n)]
            for job_id in ids:
                client.on_message.wait(job_id)

        threads = [threading.Thread(target=flood, args=(c, args.jobs // len(clients))) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        for c in clients:
            c.shutdown()
    finally:
        server.kill()
        server.wait()

    in_process, over_wire = statistics.median(local_times), statistics.median(remote_times)
    ratios = sorted(r / l for l, r in zip(local_times, remote_times))
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
    figures = {
        "machine": host(),
        "image": "2048x1536",
        "in_process_s": round(in_process, 3),
        "remote_s": round(over_wire, 3),
        "overhead_ratio": round(over_wire / in_process, 3),
        "repeats": args.repeat,
        "ratio_min": round(ratios[0], 3),
        "ratio_max": round(ratios[-1], 3),
        "ratio_iqr": [round(quartiles[0], 3), round(quartiles[2], 3)],
        "in_process_s_range": [round(min(local_times), 3), round(max(local_times), 3)],
        "remote_s_range": [round(min(remote_times), 3), round(max(remote_times), 3)],
        "same_pixels": bool(same),
        "jobs": (args.jobs // 4) * 4,
        "jobs_per_s": round((args.jobs // 4) * 4 / elapsed, 2),
    }
    print(f"fill edit 2048x1536: in-process {in_process:.3f} s, remote {over_wire:.3f} s "
          f"({figures['overhead_ratio']}x; pair ratios {figures['ratio_min']}..{figures['ratio_max']}, "
          f"middle half {figures['ratio_iqr']}, {args.repeat} pairs); "
          f"{figures['jobs_per_s']} small jobs/s through the server")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
