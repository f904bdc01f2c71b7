"""Benchmark: how fast the headless CLI starts, and what the engine service thread costs.

- CLI start-up: wall seconds of ``brushedit --help`` and ``brushedit models list`` (no torch is
  imported), against the baseline ``python -c "import torch"`` measured in the same run (ratio);
  the median of ``--repeat`` runs each.
- Service: a stand-in engine whose jobs are free (so only the service is measured): jobs per second
  through submit -> JobStarted -> JobFinished, and the latency from ``cancel()`` of a running job to
  its JobCancelled, as a ratio of the job's step time (the contract: within one step).

The last line printed is a JSON object of the figures.

Usage: ``python benchmarks/cli_service.py [--repeat 5] [--jobs 500] [--step-ms 20]``
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_info import host  # noqa: E402


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class FreeEngine:
    """Jobs that cost nothing, or loop in steps of ``step`` seconds until cancelled."""

    def __init__(self, config, step: float = 0.02):
        self.step = step

    def handle(self, request, on_progress, on_preview, is_cancelled):
        if request.instruction != "loop":
            return None
        from engine.api import Cancelled

        for i in range(100_000):
            time.sleep(self.step)
            on_progress(i, 100_000, "looping")
            if is_cancelled():
                raise Cancelled()
        return None


def service_figures(jobs: int, step_ms: float) -> dict:
    import numpy as np

    from engine.api import JobCancelled, JobFinished, PlanRequest, Progress
    from engine.service import EngineService

    inbox: queue.Queue = queue.Queue()
    svc = EngineService(inbox.put, engine_factory=lambda c: FreeEngine(c, step_ms / 1000))
    svc.start()
    image = np.zeros((8, 8, 3), np.uint8)
    t0 = time.perf_counter()
    ids = [svc.submit(PlanRequest(image, "free")) for _ in range(jobs)]
    done = 0
    while done < jobs:
        if isinstance(inbox.get(timeout=60), JobFinished):
            done += 1
    throughput = jobs / (time.perf_counter() - t0)
    assert ids == sorted(ids)

    latencies = []
    for _ in range(5):
        job = svc.submit(PlanRequest(image, "loop"))
        steps = 0
        while steps < 3:
            m = inbox.get(timeout=60)
            steps += isinstance(m, Progress) and m.job_id == job
        t1 = time.perf_counter()
        svc.cancel(job)
        while True:
            m = inbox.get(timeout=60)
            if isinstance(m, JobCancelled) and m.job_id == job:
                break
        latencies.append(time.perf_counter() - t1)
    svc.shutdown()
    cancel = statistics.median(latencies)
    return {"service_jobs_per_s": round(throughput, 1), "cancel_latency_ms": round(cancel * 1000, 2),
            "step_ms": step_ms, "cancel_latency_in_steps": round(cancel * 1000 / step_ms, 2),
            "threads_named_brushedit_engine_after_shutdown": sum(
                t.name == "brushedit-engine" for t in threading.enumerate())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=500)
    ap.add_argument("--step-ms", type=float, default=20.0)
    args = ap.parse_args()
    print(host())
    py = sys.executable
    baseline = wall([py, "-c", "import torch"], args.repeat)
    help_s = wall([py, "main.py", "--help"], args.repeat)
    list_s = wall([py, "main.py", "models", "list"], args.repeat)
    figures = {
        "machine": host(),
        "import_torch_s": round(baseline, 3),
        "cli_help_s": round(help_s, 3),
        "cli_models_list_s": round(list_s, 3),
        "cli_help_vs_import_torch": round(help_s / baseline, 3),
        "cli_models_list_vs_import_torch": round(list_s / baseline, 3),
    }
    print(f"python -c 'import torch': {baseline:.3f} s (baseline)")
    print(f"brushedit --help:         {help_s:.3f} s ({help_s / baseline:.2f} x baseline)")
    print(f"brushedit models list:    {list_s:.3f} s ({list_s / baseline:.2f} x baseline)")
    figures.update(service_figures(args.jobs, args.step_ms))
    print(f"service: {figures['service_jobs_per_s']} free jobs/s; cancel of a running job lands in "
          f"{figures['cancel_latency_ms']} ms = {figures['cancel_latency_in_steps']} steps of {args.step_ms} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
