"""When is LaMa's second (fine) level worth its pass? Holes cut from real photos, one level against two.

Run: ``.venv/bin/python benchmarks/lama_levels.py [--weights big-lama.safetensors]``.

Photos: scikit-image's real photographs (retina 1411 px, hubble 1000 px, stereo_motorcycle 741 px, rocket
640 px, coffee 600 px, astronaut 512 px), never upscaled. Holes of four shapes (rectangle, disc, ellipse, a thick
stroke) and several sizes, cut where the photo has structure; the crop is what ``run_lama`` takes (the hole's box
plus half its long side, clipped to the photo). For each, the error on the hole against the true pixels (mean
absolute error in 0-255 and PSNR, over the hole's pixels, as the LaMa paper evaluates on its masked test sets):

- ``ceiling_512``: the true crop taken down to a 512 px long side and back up. No fill made at that working size
  can be closer to the truth than this: it is the detail a single pass at 512 px gives away, i.e. the most a fine
  level on top of it can buy. At the crop's own size the ceiling is exact (0): a crop run once at its own size
  (our rule up to ``WORK_SIDE``) gives nothing away.
- ``one_level`` / ``two_levels``: LaMa's own fill, once at the crop's size and coarse (half the side) to fine
  (:func:`engine.fill.lama_remove.fill_crop` with the level rule forced either way). **Only meaningful with real
  weights** (``--weights``): without them a random full-size big-lama fills, which tells how the two paths differ
  in plumbing (and that they run), nothing about which a person would prefer. The JSON says which weights ran.
- ``telea``: OpenCV's Telea fill of the same hole, for scale: the error any plausible fill makes on a hole of
  that size, against which ``ceiling_512`` says how much a fine level could at most change.
- ``pixels``: the pixels the network processes on each path (its cost is about linear in them; the FFT part is
  ``n log n`` but 2-3 % of the time), for the old fixed ladder (512, then doubling) and the rule now in force.

The last line printed is a JSON object of all the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.fill import lama_remove  # noqa: E402
from masks import mask_ops  # noqa: E402
from machine_info import host  # noqa: E402

# (photo, shape, centre x, centre y as fractions, hole side in px)
HOLES = (
    ("retina", "disc", 0.45, 0.5, 560), ("retina", "stroke", 0.5, 0.45, 420), ("retina", "rect", 0.6, 0.55, 300),
    ("hubble_deep_field", "ellipse", 0.5, 0.5, 400), ("hubble_deep_field", "rect", 0.35, 0.4, 300),
    ("stereo_motorcycle", "stroke", 0.5, 0.55, 330), ("stereo_motorcycle", "disc", 0.45, 0.5, 280),
    ("rocket", "rect", 0.5, 0.55, 300), ("rocket", "ellipse", 0.45, 0.5, 260),
    ("coffee", "disc", 0.5, 0.5, 300), ("coffee", "stroke", 0.5, 0.5, 280),
    ("astronaut", "rect", 0.5, 0.5, 256), ("astronaut", "ellipse", 0.45, 0.4, 300),
)
OLD_WORK_SIDE = 512  # the fixed ladder this rule replaced: 512, then doubling up to 1536


def _photo(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    image = image[0] if isinstance(image, tuple) else image
    return np.ascontiguousarray(image[..., :3])


def _hole(h: int, w: int, shape: str, cx: float, cy: float, side: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    x, y, r = int(cx * w), int(cy * h), side // 2
    if shape == "rect":
        mask[max(0, y - r):y + r, max(0, x - r):x + r] = 255
    elif shape == "disc":
        cv2.circle(mask, (x, y), r, 255, -1)
    elif shape == "ellipse":
        cv2.ellipse(mask, (x, y), (r, r * 2 // 3), 30, 0, 360, 255, -1)
    else:  # a thick free-hand-like stroke
        pts = np.array([(x - r, y + r // 2), (x - r // 3, y - r // 2), (x + r // 3, y + r // 3), (x + r, y - r // 2)])
        cv2.polylines(mask, [pts.astype(np.int32)], False, 255, max(24, side // 6))
    return mask


def _crop(image: np.ndarray, mask: np.ndarray):
    H, W = mask.shape
    bx, by, bw, bh = mask_ops.bbox(mask)
    margin = max(lama_remove.MIN_MARGIN, int(max(bw, bh) * lama_remove.CONTEXT))
    x0, y0 = max(0, bx - margin), max(0, by - margin)
    x1, y1 = min(W, bx + bw + margin), min(H, by + bh + margin)
    return image[y0:y1, x0:x1], mask_ops.dilate(mask[y0:y1, x0:x1], lama_remove.HOLE_GROW) > 0


def _errors(filled: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> dict:
    d = np.clip(np.rint(filled), 0, 255)[hole] - truth[hole].astype(np.float64)
    mse = float(np.mean(d ** 2))
    return {"mae": round(float(np.mean(np.abs(d))), 2),
            "psnr": round(10 * math.log10(255 ** 2 / mse), 2) if mse > 0 else float("inf")}


def _old_ladder(long: int) -> list[int]:
    sides, side = [], min(long, OLD_WORK_SIDE)
    while True:
        sides.append(side)
        if side >= min(long, lama_remove.FINE_MAX_SIDE):
            return sides
        side = min(long, lama_remove.FINE_MAX_SIDE, side * 2)


def main(argv=None) -> dict:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", help="real big-lama .safetensors (default: a random full-size big-lama)")
    ap.add_argument("--no-fill", action="store_true", help="only the ceiling and the pixel counts (fast)")
    args = ap.parse_args(argv)
    model = None
    if not args.no_fill:
        from engine.fill.lama import LaMa, load_lama

        if args.weights:
            model = load_lama(args.weights)
        else:
            torch.manual_seed(0)
            model = LaMa().eval().requires_grad_(False)
    rows = []
    for name, shape, cx, cy, side in HOLES:
        image = _photo(name)
        mask = _hole(*image.shape[:2], shape, cx, cy, side)
        crop, hole = _crop(image, mask)
        ch, cw = hole.shape
        long = max(cw, ch)
        s = OLD_WORK_SIDE / long
        small = (max(16, round(cw * s)), max(16, round(ch * s)))
        ceiling = cv2.resize(cv2.resize(crop, small, interpolation=cv2.INTER_AREA), (cw, ch),
                             interpolation=cv2.INTER_CUBIC).astype(np.float32) if long > OLD_WORK_SIDE else crop
        new = lama_remove._level_sizes(cw, ch, lama_remove.WORK_SIDE)
        row = {"photo": name, "shape": shape, "crop": f"{cw}x{ch}", "hole_px": int(hole.sum()),
               "ceiling_512": _errors(ceiling, crop, hole),
               "telea": _errors(cv2.inpaint(crop, hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA), crop, hole),
               "pixels_old_ladder": sum(round(cw * t / long) * round(ch * t / long) for t in _old_ladder(long)),
               "pixels_now": sum(w * h for w, h in new), "levels_now": len(new)}
        if model is not None:
            one = lama_remove.fill_crop(model, crop, hole, work_side=long)  # one pass at the crop's size
            two = lama_remove.fill_crop(model, crop, hole, work_side=(long + 1) // 2)  # half, then full
            row["one_level"], row["two_levels"] = _errors(one, crop, hole), _errors(two, crop, hole)
        rows.append(row)
        print(f"{name:>18} {shape:>7} crop {cw}x{ch}: ceiling at 512 MAE {row['ceiling_512']['mae']:.2f} "
              f"PSNR {row['ceiling_512']['psnr']}; Telea MAE {row['telea']['mae']:.1f}; pixels old {row['pixels_old_ladder'] / 1e6:.2f} M, now "
              f"{row['pixels_now'] / 1e6:.2f} M ({row['levels_now']} level(s))"
              + (f"; fill one {row['one_level']} two {row['two_levels']}" if model is not None else ""), flush=True)
    figures = {"machine": host(), "weights": "none (ceiling and pixels only)" if model is None else
               (f"real: {args.weights}" if args.weights else
                "RANDOM full-size big-lama: the one/two-level errors show plumbing, not quality"),
               "work_side": lama_remove.WORK_SIDE, "fine_max_side": lama_remove.FINE_MAX_SIDE, "holes": rows}
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
