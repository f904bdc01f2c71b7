"""Benchmark: SAM point-and-paint. The first click on an image pays for the image embedding; every
further click only runs the prompt encoder and mask decoder.

A SAM of the published vit_b size (or vit_h/vit_l with ``--model``) with random weights, on a
1024 x 1024 photo (scikit-image's astronaut, resized). Prints, per model size:

- seconds for the first click (embedding + decoder) and the median of further clicks (decoder only,
  the embedding reused from the cache), and their ratio (the baseline is the first click, same run);
- seconds to come back to an image whose embedding is cached (a key hit, no encoder run).

``--tiny`` adds the tests' tiny SAM. The last line printed is a JSON object of the figures.

Usage: ``python benchmarks/segment.py [--device cuda|cpu] [--model vit_b] [--clicks 10] [--tiny]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine_info import torch_device  # noqa: E402


def photo(size: int):
    import cv2
    from skimage import data

    return cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_CUBIC)


def run(model_type: str, device, image, clicks: int) -> dict:
    import torch

    from engine.segment.sam import SamSegmenter, build_sam

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    torch.manual_seed(0)
    model = build_sam(model_type).to(device).eval()
    seg = SamSegmenter(model)
    h, w = image.shape[:2]
    rng = torch.Generator().manual_seed(1)
    points = [(float(torch.randint(0, w, (1,), generator=rng)), float(torch.randint(0, h, (1,), generator=rng)))
              for _ in range(clicks + 1)]
    if device.type == "cuda":  # warm-up on another image so kernels and allocator are ready
        seg.set_image(image[::-1].copy(), key="warmup")
        seg.predict([points[0]], [1])
        sync()

    sync()
    t0 = time.perf_counter()
    seg.set_image(image, key="photo")
    seg.predict([points[0]], [1])
    sync()
    first = time.perf_counter() - t0

    further = []
    for i in range(1, clicks + 1):
        pts = points[1:i + 1]
        labels = [1] + [0 if j % 3 == 2 else 1 for j in range(1, len(pts))]
        sync()
        t0 = time.perf_counter()
        seg.set_image(image, key="photo")  # cache hit: no encoder
        seg.predict(pts, labels, multimask=len(pts) == 1)
        sync()
        further.append(time.perf_counter() - t0)

    seg.set_image(image[:, ::-1].copy(), key="other")
    sync()
    t0 = time.perf_counter()
    computed = seg.set_image(image, key="photo")
    sync()
    back = time.perf_counter() - t0
    assert computed is False, "the cached embedding was not reused"

    med = statistics.median(further)
    out = {"model": model_type, "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
           "first_click_s": round(first, 4), "further_click_s": round(med, 5),
           "first_over_further": round(first / med, 1), "back_to_cached_image_s": round(back, 5)}
    if device.type == "cuda":
        out["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20)
    del seg, model
    return out


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--model", default="vit_b", choices=["vit_b", "vit_l", "vit_h"])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--clicks", type=int, default=10)
    ap.add_argument("--tiny", action="store_true", help="also time the tests' tiny SAM")
    args = ap.parse_args()
    device = torch.device(args.device)
    image = photo(args.size)
    where = torch_device(device)
    print(f"machine: {where}")
    print(f"image: {args.size} x {args.size}, {args.clicks} further clicks")
    results = []
    for model_type in [args.model] + (["tiny"] if args.tiny else []):
        r = run(model_type, device, image, args.clicks)
        results.append(r)
        print(f"{model_type:6s} ({r['params_m']} M params): first click {r['first_click_s']:.3f} s "
              f"(embedding + decoder), further clicks {r['further_click_s'] * 1000:.1f} ms "
              f"(decoder only) -> {r['first_over_further']}x; back to a cached image "
              f"{r['back_to_cached_image_s'] * 1000:.2f} ms")
    print(json.dumps({"benchmark": "segment", "machine": where, "image_size": args.size,
                      "results": results}))


if __name__ == "__main__":
    main()
