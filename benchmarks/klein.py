"""Benchmark: FLUX.2 [klein] (4 steps) beside BrushNet (50 steps), per step and per edit.

Both painters run their product path (``KleinPainter`` / ``run_inpaint``) on a photo whose masked
crop is painted at 512 and at 1024 px (long side), one candidate. Prints, per size:

- seconds per denoising step of each painter (the median interval between step callbacks);
- seconds per edit (text encoding, VAE encode, steps, VAE decode, paste-back) and the ratio
  klein / BrushNet per edit (4 vs 50 steps) and per step;
- the peak memory each edit added: GPU memory on CUDA, the process's resident memory (sampled) on
  the CPU.

On the CPU the weights are the tests' tiny random models (the klein folder in the published layout,
the tiny SD1.5 + BrushNet), and BrushNet's 50-step edit is extrapolated from a few timed steps (its
per-step time times 50 plus the edit's fixed part): the figures measure the pipelines' per-step and per-edit overhead at
those sizes, not the real models' arithmetic. Real-size random weights on CUDA are not implemented
here (no GPU was lent when this was written). The last line is a JSON object.

Usage: ``python benchmarks/klein.py [--sizes 512 1024] [--brushnet-steps 50] [--klein-steps 4]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine" / "painters"))  # the tiny klein folder builder

from machine_info import torch_device as machine  # noqa: E402


class PeakRSS:
    """The process's peak resident memory above its level at start, sampled every 5 ms."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def added_gb(self) -> float:
        return (self.peak - self.base) / 2**30


def _photo_and_mask(size: int):
    """A real photo scaled so the mask's crop is ``size`` px on its long side, and that mask."""
    import cv2
    import numpy as np
    from skimage import data

    photo = cv2.resize(data.chelsea(), (size * 3 // 2, size), interpolation=cv2.INTER_CUBIC)
    mask = np.zeros(photo.shape[:2], np.uint8)
    h, w = mask.shape
    mask[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = 255
    return photo, mask


def run_edit(paint, request):
    """``(seconds per edit, median seconds per step, steps, peak GB added)`` of one edit."""
    stamps = []

    def on_progress(i, n, *a):
        stamps.append(time.perf_counter())

    with PeakRSS() as mem:
        t = time.perf_counter()
        paint(request, on_progress)
        seconds = time.perf_counter() - t
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    return seconds, (statistics.median(steps) if steps else seconds), len(stamps), mem.added_gb


def main(argv=None) -> dict:
    import torch

    from engine.api import EditParams, InpaintRequest
    from engine.brushnet import run_inpaint
    from tests.builders.brushnet import tiny_pipeline
    from engine.painters.klein import KleinPainter, load_klein
    from tiny_klein import write_tiny_klein

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    ap.add_argument("--brushnet-steps", type=int, default=50)
    ap.add_argument("--klein-steps", type=int, default=4)
    ap.add_argument("--brushnet-timed-steps", type=int, default=3,
                    help="BrushNet steps actually run on the CPU; its 50-step edit is extrapolated from them")
    args = ap.parse_args(argv)

    device = torch.device("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        klein = KleinPainter(load_klein(write_tiny_klein(Path(tmp) / "klein"), device="cpu"))
    brushnet = tiny_pipeline()
    rows = []
    for size in args.sizes:
        photo, mask = _photo_and_mask(size)
        params = EditParams(seed=1, steps=args.brushnet_steps, working_size=size, resolution_mode="whole",
                            klein_steps=args.klein_steps, klein_working_size=size, painter="klein")
        request = InpaintRequest(photo, mask, "a red ball", params, category="addition")
        # One warm-up edit of each, so neither pays first-call costs in the figures.
        warm = InpaintRequest(photo, mask, "a red ball", EditParams(seed=1, steps=2, working_size=size,
                                                                       klein_steps=2, klein_working_size=size,
                                                                       resolution_mode="whole"))
        klein.paint_request(warm)
        run_inpaint(brushnet, warm)
        k = run_edit(lambda r, p: klein.paint_request(r, on_progress=p), request)
        # BrushNet: a few steps timed, the rest of its 50 extrapolated (step time x steps + the rest).
        timed = InpaintRequest(photo, mask, "a red ball",
                               dataclasses.replace(params, steps=args.brushnet_timed_steps), category="addition")
        b = run_edit(lambda r, p: run_inpaint(brushnet, r, on_progress=p), timed)
        overhead = max(0.0, b[0] - b[2] * b[1])
        b = (overhead + args.brushnet_steps * b[1], b[1], args.brushnet_steps, b[3])
        row = {"size": size, "brushnet_extrapolated_from_steps": args.brushnet_timed_steps, "klein": {"seconds_per_edit": round(k[0], 3), "seconds_per_step": round(k[1], 4),
                                       "steps": k[2], "peak_gb_added": round(k[3], 3)},
               "brushnet": {"seconds_per_edit": round(b[0], 3), "seconds_per_step": round(b[1], 4),
                            "steps": b[2], "peak_gb_added": round(b[3], 3)},
               "ratio_per_edit": round(k[0] / b[0], 3), "ratio_per_step": round(k[1] / b[1], 3)}
        rows.append(row)
        print(f"{size:>5} px  klein {k[2]} steps {k[0]:.2f} s ({k[1] * 1000:.1f} ms/step, +{k[3]:.2f} GB)   "
              f"BrushNet {b[2]} steps {b[0]:.2f} s ({b[1] * 1000:.1f} ms/step, +{b[3]:.2f} GB)   "
              f"klein/BrushNet per edit {row['ratio_per_edit']:.2f}, per step {row['ratio_per_step']:.2f}")
    result = {"benchmark": "klein", "machine": machine(device), "weights": "tiny random (tests' folders)",
              "rows": rows}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
