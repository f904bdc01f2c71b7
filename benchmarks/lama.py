"""LaMa benchmark: seconds per 512 x 512 removal with the full-size big-lama (random weights),
beside today's patch fill on the same crop in the same run, peak memory, and where the time goes.

Run: ``.venv/bin/python benchmarks/lama.py`` (``--repeats N``, default 3; ``--device cuda``;
``--threads N``: on a loaded 2-core machine one torch thread is ~3x faster than two, because
OpenMP's barriers wait on a core another process holds; the editor uses cores - 1 anyway).

The photo is scikit-image's astronaut (512 x 512), with a 256 x 256 hole in the middle, so the
whole image is LaMa's crop at its working size (one level, no coarse-to-fine). Both removals go
through the engine's entry points (``run_lama``, ``run_fill``): crop, working size, blending, what a
user gets. Weights are random (the real ones cannot be downloaded here): the time does not depend
on their values. Figures:

- seconds per removal (median, and best, of the repeats after one warm-up), LaMa and the patch fill, and the
  ratio LaMa / patch fill;
- peak memory: the process's peak resident set growth during the LaMa runs (CPU), or
  ``torch.cuda.max_memory_allocated`` (CUDA);
- where LaMa's time goes: one run under ``torch.profiler``, self time grouped as FFT (rfft2/irfft2),
  convolutions (incl. transposed), padding (reflect/symmetric), BatchNorm and the rest.

The last line printed is a JSON object of all the figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.api import EditParams, InpaintRequest  # noqa: E402
from engine.fill import run_fill  # noqa: E402
from engine.fill.lama_remove import run_lama  # noqa: E402
from machine_info import torch_device  # noqa: E402

GROUPS = (  # profiler op name fragments -> group
    ("fft", ("fft",)),
    ("convolution", ("conv", "mkldnn_convolution", "slow_conv", "cudnn")),
    ("padding", ("reflection_pad", "pad", "index_select")),
    ("batchnorm", ("batch_norm", "native_batch_norm")),
)


def _group(op: str) -> str:
    for name, parts in GROUPS:
        if any(p in op for p in parts):
            return name
    return "other"


def _request(seed: int = 0) -> InpaintRequest:
    from skimage import data

    image = np.ascontiguousarray(data.astronaut())
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[128:384, 128:384] = 255  # margin 128 px: the crop is the whole 512 x 512
    return InpaintRequest(image, mask, params=EditParams(seed=seed))


def _timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up (first-call allocations, oneDNN kernel selection)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def profile_groups(model, request) -> dict[str, float]:
    """Share of LaMa's self time per group (fractions summing to 1), from one profiled run."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run_lama(model, request)
    totals: dict[str, float] = {}
    others: dict[str, float] = {}
    for ev in prof.key_averages():
        if not ev.key.startswith("aten::"):
            continue
        g = _group(ev.key)
        totals[g] = totals.get(g, 0.0) + ev.self_cpu_time_total
        if g == "other":
            others[ev.key] = ev.self_cpu_time_total
    whole = sum(totals.values()) or 1.0
    shares = {g: round(v / whole, 3) for g, v in sorted(totals.items(), key=lambda kv: -kv[1])}
    shares["other_top"] = [f"{k} {v / whole:.3f}" for k, v in sorted(others.items(), key=lambda kv: -kv[1])[:4]]
    return shares


def main(argv=None) -> dict:
    import torch

    from engine.fill.lama import LaMa

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    rss0 = _rss_mb()
    model = LaMa().eval().requires_grad_(False).to(device)  # full size, random weights
    params = sum(p.numel() for p in model.parameters())
    request = _request()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    lama_times = _timed(lambda: run_lama(model, request), args.repeats)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        peak_what = "torch.cuda.max_memory_allocated"
    else:
        peak = _rss_mb() - rss0
        peak_what = "peak RSS growth (weights + activations)"
    patch_times = _timed(lambda: run_fill(request), args.repeats)
    groups = profile_groups(model, request) if device.type == "cpu" else {}
    lama_s, patch_s = statistics.median(lama_times), statistics.median(patch_times)
    figures = {
        "machine": torch_device(device) + " (2 cores shared with other jobs while this ran: "
                                          "figures are upper bounds)",
        "parameters": params,
        "image": "astronaut 512x512, hole 256x256, LaMa crop 512x512",
        "lama_seconds": round(lama_s, 3),
        "lama_seconds_best": round(min(lama_times), 3),
        "patch_fill_seconds": round(patch_s, 3),
        "patch_fill_seconds_best": round(min(patch_times), 3),
        "lama_over_patch_fill": round(lama_s / patch_s, 2),
        "lama_over_patch_fill_best": round(min(lama_times) / min(patch_times), 2),
        "lama_runs": [round(t, 3) for t in lama_times],
        "patch_runs": [round(t, 3) for t in patch_times],
        "peak_memory_mb": round(peak, 1),
        "peak_memory_is": peak_what,
        "lama_time_share": groups,
        "target_seconds_cpu_fp32": 4.0,
    }
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
