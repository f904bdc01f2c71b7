"""``brushedit batch`` throughput: photos/s in this process vs ``--ray --workers 2``, on the fill engine.

Both runs edit the same folder (real photo crops from scikit-image, one mask each) with the same base
seed, in this process, and the Ray run's outputs are checked to be the same pixels as the local run's.
Ray's start-up (starting Ray, the workers coming up) is timed apart from the batch itself, which is
what a long batch pays per photo. Prints one JSON object of the figures as the last line.

    python benchmarks/batch.py [--photos 16] [--size 512] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def make_folder(root: Path, photos: int, size: int) -> tuple[Path, Path]:
    from PIL import Image
    from skimage import data

    src, masks = root / "photos", root / "masks"
    src.mkdir()
    masks.mkdir()
    pool = [data.astronaut(), data.chelsea(), data.coffee()]
    for i in range(photos):
        big = pool[i % 3]
        h, w = min(size * 3 // 4, big.shape[0]), min(size, big.shape[1])
        y, x = (i * 13) % (big.shape[0] - h + 1), (i * 29) % (big.shape[1] - w + 1)
        Image.fromarray(np.ascontiguousarray(big[y:y + h, x:x + w])).save(src / f"photo{i:03d}.png")
        mask = np.zeros((h, w), np.uint8)
        mask[h // 3:h // 3 + h // 4, w // 3:w // 3 + w // 4] = 255
        Image.fromarray(mask).save(masks / f"photo{i:03d}.png")
    return src, masks


def run(src: Path, masks: Path, out: Path, executor) -> tuple[float, object]:
    from cli.batch_run import BatchSettings, run_batch
    from engine.api import EditParams

    settings = BatchSettings(src, out, mask=masks, params=EditParams(engine="fill"), base_seed=1)
    started = time.perf_counter()
    summary = run_batch(settings, executor)
    return time.perf_counter() - started, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--size", type=int, default=512, help="long side of each photo")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from machine_info import host

    from cli.batch_run import LocalExecutor
    from engine.ray_local import loopback_env

    loopback_env()  # before ray is imported: a local Ray on loopback, as `batch --ray` starts it
    from engine.batch.ray_pool import RayExecutor
    from engine.dispatch import Engine, EngineConfig

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src, masks = make_folder(root, args.photos, args.size)
        config = EngineConfig(device="cpu")
        local_s, local = run(src, masks, root / "local", LocalExecutor(Engine(config)))

        executor = RayExecutor(config, args.workers, 0)
        startup_s = executor.start()
        try:
            ray_s, ray_summary = run(src, masks, root / "ray", executor)
        finally:
            executor.close()
        from PIL import Image

        same = all(np.array_equal(np.asarray(Image.open(root / "local" / line["key"])),
                                  np.asarray(Image.open(root / "ray" / line["key"])))
                   for line in local.lines if line["status"] == "ok")
        workers = len({(w["host"], w["pid"]) for w in ray_summary.workers})
    local_rate, ray_rate = local.ok / local_s, ray_summary.ok / ray_s
    with_startup = ray_summary.ok / (ray_s + startup_s)
    print(f"local:            {local.ok} photos in {local_s:.2f} s = {local_rate:.2f} photos/s")
    print(f"ray, {args.workers} workers:  {ray_summary.ok} photos in {ray_s:.2f} s = {ray_rate:.2f} photos/s "
          f"(+ {startup_s:.2f} s start-up; {with_startup:.2f} photos/s with it)")
    print(f"ratio ray/local: {ray_rate / local_rate:.2f} (same pixels: {same}, workers that painted: {workers})")
    print(json.dumps({
        "benchmark": "batch", "machine": host(), "engine": "fill", "photos": args.photos, "size": args.size,
        "workers": args.workers, "local_seconds": round(local_s, 3), "local_photos_per_s": round(local_rate, 3),
        "ray_seconds": round(ray_s, 3), "ray_photos_per_s": round(ray_rate, 3),
        "ray_startup_seconds": round(startup_s, 3), "ray_photos_per_s_with_startup": round(with_startup, 3),
        "ratio_ray_over_local": round(ray_rate / local_rate, 3), "same_pixels": same,
        "workers_that_painted": workers, "ok": [local.ok, ray_summary.ok],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
