"""Fill benchmark: the exemplar ("patch") fill against OpenCV's Telea and Navier-Stokes.

Run: ``.venv/bin/python benchmarks/fill.py`` (add ``--small`` for a quick check on 3 photos).

Synthetic holes (a rectangle and a smooth blob, each at 5 % and 15 % of the image) are cut in real
photos from scikit-image (scenes and textures), so the ground truth is known. Each fill goes
through ``run_fill`` (crop, working size, blending: what a user gets). Figures per method, each
against Telea measured in the same run:

- PSNR inside the hole (dB; higher = closer to the original pixels; a smooth fill scores well on
  it because it averages, so it is not the whole story);
- texture ratio: variance of the Laplacian (high-frequency energy) inside the hole over that of the
  original there; 1.0 = as textured as the original, a smear gives << 1. Its distance from 1 is
  reported as |log2 ratio| (0 = right amount of texture; 1 = twice too much or too little);
- seconds per fill (one candidate).

Also the cost of the patch fill itself on a 768 x 768 crop with a 300 x 300 hole (target < ~3 s on
this machine) and with bigger holes, to see how it scales.

Large photos: crisp 6000 x 4000 pictures (textures and a photo mirror-tiled, so sharp at every
pixel, no upscaling blur) with holes of about 1500 x 1000 px. The crop around such a hole is
filled at most at 768 px; the patch fill then either upscales its fill ("old",
``FULL_RES_DETAIL = False``) or carries it up to the crop's resolution ("new", the default).
Per photo and hole, both in the same run: seconds per candidate, PSNR in the hole, and a sharpness
ratio (Laplacian variance in the hole over the original's there: an upscaled fill is well below 1).

The last line printed is a JSON object of all the figures.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.api import EditParams, InpaintRequest  # noqa: E402
from engine.fill import opencv_fill, run_fill  # noqa: E402
from engine.fill.patch_fill import patch_fill  # noqa: E402
from machine_info import host  # noqa: E402

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "brick", "grass", "gravel")
METHODS = ("telea", "ns", "patch")


def machine() -> str:
    return f"{host()}, numpy {np.__version__}, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads)"


def photo(name: str) -> np.ndarray:
    from skimage import data

    img = getattr(data, name)()
    return np.ascontiguousarray(np.dstack([img] * 3) if img.ndim == 2 else img[..., :3])


def rect_hole(shape, frac: float, rng: np.random.Generator) -> np.ndarray:
    """A rectangle (aspect 0.7 to 1.4) of ``frac`` of the image, placed near the middle."""
    H, W = shape[:2]
    aspect = rng.uniform(0.7, 1.4)
    area = frac * H * W
    h = int(round(np.sqrt(area / aspect)))
    w = int(round(area / max(h, 1)))
    cy = int(H / 2 + rng.uniform(-0.15, 0.15) * H)
    cx = int(W / 2 + rng.uniform(-0.15, 0.15) * W)
    y0, x0 = int(np.clip(cy - h // 2, 0, H - h)), int(np.clip(cx - w // 2, 0, W - w))
    m = np.zeros((H, W), np.uint8)
    m[y0:y0 + h, x0:x0 + w] = 255
    return m


def blob_hole(shape, frac: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth star-ish blob (a wobbly circle, like a painted object mask) of ``frac`` of the image."""
    H, W = shape[:2]
    t = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    a3, a5 = rng.uniform(0.1, 0.3), rng.uniform(0.05, 0.15)
    p3, p5 = rng.uniform(0, 2 * np.pi, 2)
    radius = 1 + a3 * np.sin(3 * t + p3) + a5 * np.sin(5 * t + p5)
    # area of the polygon r(t) at unit scale, so the scale gives the wanted area
    unit = 0.5 * np.sum(radius * np.roll(radius, -1) * np.sin(2 * np.pi / t.size))
    scale = np.sqrt(frac * H * W / unit)
    cy = H / 2 + rng.uniform(-0.12, 0.12) * H
    cx = W / 2 + rng.uniform(-0.12, 0.12) * W
    pts = np.stack([cx + scale * radius * np.cos(t), cy + scale * radius * np.sin(t)], axis=1)
    m = np.zeros((H, W), np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 255)
    return m


def texture(img: np.ndarray, hole: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(cv2.Laplacian(g, cv2.CV_32F, ksize=1)[hole].var())


def psnr(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    mse = float(np.mean((a[hole].astype(np.float64) - b[hole].astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))


def quality(photos: tuple[str, ...]) -> tuple[list[dict], dict]:
    rows = []
    for name in photos:
        img = photo(name)
        rng = np.random.default_rng(sum(map(ord, name)))
        for shape_name, make in (("rect", rect_hole), ("blob", blob_hole)):
            for frac in (0.05, 0.15):
                mask = make(img.shape, frac, rng)
                hole = mask > 0
                truth = texture(img, hole)
                row = {"photo": name, "size": list(img.shape[:2]), "hole": shape_name, "frac": frac}
                for method in METHODS:
                    t0 = time.perf_counter()
                    res = run_fill(InpaintRequest(img, mask, params=EditParams(seed=0)), method=method)
                    dt = time.perf_counter() - t0
                    out = res.candidates[0].image
                    ratio = texture(out, hole) / max(truth, 1e-6)
                    row[method] = {"psnr": round(psnr(out, img, hole), 2), "texture_ratio": round(ratio, 3),
                                   "seconds": round(dt, 3)}
                rows.append(row)
                print(f"{name:10s} {img.shape[1]:4d}x{img.shape[0]:<4d} {shape_name:4s} {frac * 100:4.0f} %  "
                      + "  ".join(f"{m}: {row[m]['psnr']:5.2f} dB tex {row[m]['texture_ratio']:5.2f} "
                                  f"{row[m]['seconds']:5.2f} s" for m in METHODS), flush=True)
    summary = {}
    for method in METHODS:
        ps = np.array([r[method]["psnr"] for r in rows])
        tx = np.array([r[method]["texture_ratio"] for r in rows])
        sec = np.array([r[method]["seconds"] for r in rows])
        summary[method] = {
            "mean_psnr": round(float(ps.mean()), 2),
            "median_texture_ratio": round(float(np.median(tx)), 3),
            "mean_abs_log2_texture_ratio": round(float(np.mean(np.abs(np.log2(np.maximum(tx, 1e-3))))), 3),
            "mean_seconds": round(float(sec.mean()), 3),
            "max_seconds": round(float(sec.max()), 3),
        }
    base = summary["telea"]
    for method in METHODS:
        s = summary[method]
        s["psnr_minus_telea_db"] = round(s["mean_psnr"] - base["mean_psnr"], 2)
        s["seconds_over_telea"] = round(s["mean_seconds"] / max(base["mean_seconds"], 1e-9), 1)
    return rows, summary


def cost() -> list[dict]:
    """patch_fill alone on a 768 x 768 crop, square holes of growing size up to 71 % of it (two seeds each)."""
    img = cv2.resize(photo("astronaut"), (768, 768), interpolation=cv2.INTER_CUBIC)
    out = []
    for side in (100, 300, 400, 500, 648):
        mask = np.zeros((768, 768), np.uint8)
        y0 = (768 - side) // 2
        mask[y0:y0 + side, y0:y0 + side] = 255
        times = []
        for seed in (0, 1):
            t0 = time.perf_counter()
            patch_fill(img, mask, seed=seed)
            times.append(time.perf_counter() - t0)
        out.append({"hole": side, "hole_pixels": side * side, "seconds": round(min(times), 3)})
        print(f"patch_fill 768 x 768 crop, {side} x {side} hole: {min(times):.2f} s (best of 2 seeds)", flush=True)
    return out


LARGE_PHOTOS = ("brick", "gravel", "grass", "coffee")
LARGE_SIZE = (4000, 6000)


def crisp(name: str, size: tuple[int, int] = LARGE_SIZE) -> np.ndarray:
    """``photo(name)`` mirror-tiled to ``size`` (H, W): every pixel as sharp as the original's."""
    img = photo(name)
    tile = np.concatenate([img, img[:, ::-1]], axis=1)
    tile = np.concatenate([tile, tile[::-1]], axis=0)
    H, W = size
    return np.ascontiguousarray(np.tile(tile, (H // tile.shape[0] + 1, W // tile.shape[1] + 1, 1))[:H, :W])


def large_holes(shape) -> list[tuple[str, np.ndarray]]:
    """A 1500 x 1000 rectangle and a 1400 x 1100 blob-like ellipse, off-centre."""
    H, W = shape[:2]
    rect = np.zeros((H, W), np.uint8)
    rect[1500:2500, 2200:3700] = 255
    ell = np.zeros((H, W), np.uint8)
    cv2.ellipse(ell, (2700, 2000), (700, 550), 15, 0, 360, 255, -1)
    return [("rect 1500x1000", rect), ("ellipse 1400x1100", ell)]


def sharpness(img: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    return texture(img, hole) / max(texture(truth, hole), 1e-6)


def large(photos: tuple[str, ...]) -> tuple[list[dict], dict]:
    """Old (upscaled) against new (full-resolution detail) patch fill on crisp 24 MP photos."""
    rows = []
    for name in photos:
        img = crisp(name)
        for hole_name, mask in large_holes(img.shape):
            hole = mask > 0
            row = {"photo": name, "size": list(img.shape[:2]), "hole": hole_name}
            for label, detail in (("old", False), ("new", True)):
                opencv_fill.FULL_RES_DETAIL = detail
                try:
                    t0 = time.perf_counter()
                    out = run_fill(InpaintRequest(img, mask, params=EditParams(seed=0))).candidates[0].image
                    dt = time.perf_counter() - t0
                finally:
                    opencv_fill.FULL_RES_DETAIL = True
                row[label] = {"seconds": round(dt, 2), "psnr": round(psnr(out, img, hole), 2),
                              "sharpness": round(sharpness(out, img, hole), 3)}
            row["time_ratio"] = round(row["new"]["seconds"] / max(row["old"]["seconds"], 1e-9), 2)
            rows.append(row)
            print(f"{name:8s} {hole_name:18s} " + "  ".join(
                f"{k}: {row[k]['seconds']:5.2f} s {row[k]['psnr']:5.2f} dB sharp {row[k]['sharpness']:5.3f}"
                for k in ("old", "new")) + f"  time x{row['time_ratio']:.2f}", flush=True)
    summary = {}
    for k in ("old", "new"):
        summary[k] = {
            "mean_seconds": round(float(np.mean([r[k]["seconds"] for r in rows])), 2),
            "mean_psnr": round(float(np.mean([r[k]["psnr"] for r in rows])), 2),
            "mean_sharpness": round(float(np.mean([r[k]["sharpness"] for r in rows])), 3),
        }
    summary["time_ratio_mean"] = round(summary["new"]["mean_seconds"] / max(summary["old"]["mean_seconds"], 1e-9), 2)
    summary["time_ratio_max"] = max(r["time_ratio"] for r in rows)
    return rows, summary


def main() -> None:
    small = "--small" in sys.argv
    photos = PHOTOS[:3] if small else PHOTOS
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (other work on the machine inflates times)")
    print("per photo and hole: PSNR in the hole, texture ratio (1.0 = as textured as the original), "
          "seconds per fill through run_fill")
    rows, summary = quality(photos)
    print()
    print(f"{'method':8s} {'PSNR dB':>8s} {'vs Telea':>9s} {'tex ratio':>10s} {'|log2 tex|':>11s} "
          f"{'s/fill':>7s} {'max s':>6s} {'x Telea':>8s}")
    for method, s in summary.items():
        print(f"{method:8s} {s['mean_psnr']:8.2f} {s['psnr_minus_telea_db']:+9.2f} {s['median_texture_ratio']:10.2f} "
              f"{s['mean_abs_log2_texture_ratio']:11.2f} {s['mean_seconds']:7.2f} {s['max_seconds']:6.2f} "
              f"{s['seconds_over_telea']:8.1f}")
    print("(tex ratio: median over the holes; |log2 tex|: mean distance from the original's texture, 0 = same)")
    print()
    scaling = cost()
    target = next(c["seconds"] for c in scaling if c["hole"] == 300)
    print(f"target: 768 x 768 crop with a 300 x 300 hole in < ~3 s: {'met' if target < 3.0 else 'MISSED'} "
          f"({target:.2f} s)")
    print()
    big_photos = LARGE_PHOTOS[:2] if small else LARGE_PHOTOS
    print(f"large photos ({LARGE_SIZE[1]} x {LARGE_SIZE[0]}, crisp): old = fill upscaled from the working size, "
          "new = carried up to full resolution; seconds per candidate, PSNR in the hole, sharpness "
          "(1.0 = as sharp as the original)")
    big_rows, big_summary = large(big_photos)
    print()
    print(f"{'':6s} {'s/cand':>7s} {'PSNR dB':>8s} {'sharpness':>10s}")
    for k in ("old", "new"):
        b = big_summary[k]
        print(f"{k:6s} {b['mean_seconds']:7.2f} {b['mean_psnr']:8.2f} {b['mean_sharpness']:10.3f}")
    print(f"new / old time: x{big_summary['time_ratio_mean']:.2f} on average, x{big_summary['time_ratio_max']:.2f} "
          f"at most (bound ~2.5)")
    figures = {"machine": machine(), "load_average": round(os.getloadavg()[0], 1), "photos": list(photos),
               "summary": summary, "rows": rows, "patch_scaling_768": scaling,
               "patch_768_300_seconds": target, "patch_768_300_target_met": target < 3.0,
               "large_photo": {"photos": list(big_photos), "size": list(LARGE_SIZE), "summary": big_summary,
                               "rows": big_rows}}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
