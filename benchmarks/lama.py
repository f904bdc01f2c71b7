"""LaMa benchmark: our removal against IOPaint 1.6's with the same weights, side by side; and, with
``--with-patch-fill``, seconds per 512 x 512 removal beside today's patch fill, peak memory, and where the time goes.

Run: ``.venv/bin/python benchmarks/lama.py`` (``--repeats N``, default 3; ``--threads 1,2``; ``--iopaint-venv DIR``,
default ``build/iopaint-venv``, installed there on the first run; ``--no-install``; ``--no-model-only``).

The side-by-side (:mod:`iopaint_side`): the same random full-size big-lama on both sides (ours from a
``.safetensors``, IOPaint's traced to TorchScript in the layout of its ``big-lama.pt`` and pre-placed where it
looks, so it runs offline); a 512 x 512 photo with a 256 px hole and a 2048 x 1536 photo with a 300 px hole;
whole process (each command line, start to finish) and model only (in-process removal, and one forward at the
same size); 1 and 2 threads, pinned to as many cores; A/B interleaved, min and median; ratios ours / IOPaint.
When IOPaint cannot be installed the side-by-side is skipped with a line saying why.

``--with-patch-fill`` adds the earlier figures, on scikit-image's astronaut (512 x 512) with a 256 x 256 hole,
through the engine's entry points (``run_lama``, ``run_fill``):

- seconds per removal (median, and best, of the repeats after one warm-up), LaMa and the patch fill, and the
  ratio LaMa / patch fill;
- peak memory: the process's peak resident set growth during the LaMa runs (CPU), or
  ``torch.cuda.max_memory_allocated`` (CUDA);
- where LaMa's time goes: one run under ``torch.profiler``, self time grouped as FFT (rfft2/irfft2),
  convolutions (incl. transposed), padding (reflect/symmetric), BatchNorm and the rest.

Weights are random (the real ones cannot be downloaded here): the time does not depend on their values.
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
from machine_info import host, torch_device  # noqa: E402

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


def patch_fill_figures(device_name: str, repeats: int) -> dict:
    """LaMa (random full-size weights) against the patch fill on the same 512 x 512 request, in process."""
    import torch

    from engine.fill.lama import LaMa

    device = torch.device(device_name)
    torch.manual_seed(0)
    rss0 = _rss_mb()
    model = LaMa().eval().requires_grad_(False).to(device)  # full size, random weights
    params = sum(p.numel() for p in model.parameters())
    request = _request()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    lama_times = _timed(lambda: run_lama(model, request), repeats)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        peak_what = "torch.cuda.max_memory_allocated"
    else:
        peak = _rss_mb() - rss0
        peak_what = "peak RSS growth (weights + activations)"
    patch_times = _timed(lambda: run_fill(request), repeats)
    groups = profile_groups(model, request) if device.type == "cpu" else {}
    lama_s, patch_s = statistics.median(lama_times), statistics.median(patch_times)
    return {
        "device": torch_device(device),
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


def main(argv=None) -> dict:
    import os

    import torch

    from iopaint_side import DEFAULT_VENV, side_by_side

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1,2", help="thread counts of the side-by-side (default 1,2)")
    ap.add_argument("--iopaint-venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--no-install", action="store_true", help="skip the side-by-side when IOPaint is not installed")
    ap.add_argument("--no-model-only", action="store_true", help="whole-process timings only")
    ap.add_argument("--no-whole-process", action="store_true", help="model-only timings only")
    ap.add_argument("--no-iopaint", action="store_true", help="leave out the side-by-side")
    ap.add_argument("--with-patch-fill", action="store_true", help="also LaMa against the patch fill, in process")
    ap.add_argument("--device", default="cpu", help="for --with-patch-fill")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    figures: dict = {"machine": host() + f" (load average {load:.1f} at the start: the machine is shared, "
                                         "figures are upper bounds; compare the ratios)",
                     "torch": torch.__version__}
    if not args.no_iopaint:
        threads = tuple(int(t) for t in args.threads.split(",") if t.strip())
        figures["side_by_side"] = side_by_side(args.repeats, threads, args.iopaint_venv,
                                               install=not args.no_install, model_only=not args.no_model_only,
                                               whole=not args.no_whole_process)
    if args.with_patch_fill:
        figures["patch_fill"] = patch_fill_figures(args.device, args.repeats)
    if hasattr(os, "getloadavg"):
        figures["load_average_at_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
