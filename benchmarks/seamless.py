"""Seamless results: our harmonize beside OpenCV's Poisson ``seamlessClone`` (NORMAL_CLONE), same run.

Run: ``.venv/bin/python benchmarks/seamless.py`` (``--small`` for two photos, no 24 MP timing).

Real photos from scikit-image, masks of several shapes (a disk, a blob, a thin stroke, a box on the
left border, an ellipse in a corner), and the casts painters leave, applied *inside the hole only*
(so the photo itself is the ground truth): a gain, an offset, a cast drifting across the hole,
a desaturation. Figures per cast, over every photo and mask:

- seam: median CIEDE2000 (skimage.color.deltaE_ciede2000) between the result and the photo in the
  6 px just inside the hole's edge: before (the cast as painted), ours, seamlessClone's;
- detail: correlation of the Laplacian (grey) of the result with the painting's inside the hole;
- a new object: a textured object of its own colour pasted into the hole, touching its edge on one
  side, no cast: the median CIEDE2000 change of the object's pixels (ours vs seamlessClone's);
- time at 2 MP and 24 MP (a photo upscaled, a hole of the same relative size): ours
  (``engine.harmonize.harmonize``) and ``cv2.seamlessClone``, and their ratio.

Ours runs as a painter's result does: ``engine.harmonize.paste_back`` (harmonize, then the 21 px
outward-feathered blend). seamlessClone gets the painting as source, the photo as destination and
the hole as mask, centred on the mask's box; where the mask touches the picture's border OpenCV
cannot place it, so both images are padded by reflection and the result cropped back.
The last line printed is a JSON object of all the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.harmonize import harmonize, paste_back  # noqa: E402
from machine_info import host  # noqa: E402

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
MASKS = ("disk", "blob", "stroke", "border-box", "corner")
CASTS = ("gain", "offset", "drift", "desaturate")
BAND_PX = 6
PAD = 8


def photo(name: str) -> np.ndarray:
    from skimage import data

    img = getattr(data, name)()
    return np.ascontiguousarray(np.dstack([img] * 3) if img.ndim == 2 else img[..., :3])


def make_mask(kind: str, h: int, w: int, seed: int = 0) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    s = min(h, w)
    if kind == "disk":
        cv2.circle(m, (w // 2, h // 2), int(s * 0.18), 255, -1)
    elif kind == "blob":
        rng = np.random.default_rng(seed)
        noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), s * 0.06)
        yy, xx = np.mgrid[:h, :w]
        r = np.hypot((yy - h * 0.45) / (s * 0.22), (xx - w * 0.55) / (s * 0.3))
        field = 1.0 - r + (noise - noise.mean()) / (noise.std() + 1e-6) * 0.25
        m[field > 0.15] = 255
    elif kind == "stroke":
        pts = np.array([[w * 0.15, h * 0.7], [w * 0.35, h * 0.4], [w * 0.6, h * 0.55], [w * 0.85, h * 0.3]], np.int32)
        cv2.polylines(m, [pts], False, 255, thickness=max(9, int(s * 0.06)))
    elif kind == "border-box":
        m[int(h * 0.3):int(h * 0.65), :int(w * 0.22)] = 255
    elif kind == "corner":
        cv2.ellipse(m, (w, h), (int(w * 0.25), int(h * 0.25)), 0, 0, 360, 255, -1)
    else:
        raise ValueError(kind)
    return m


def apply_cast(img: np.ndarray, hole: np.ndarray, kind: str) -> np.ndarray:
    f = img.astype(np.float32)
    if kind == "gain":
        g = f * np.float32(1.12)
    elif kind == "offset":
        g = f + np.array([10, -5, 8], np.float32)
    elif kind == "drift":  # from one cast at the hole's left to its opposite at the right
        ys, xs = np.nonzero(hole)
        t = (np.arange(img.shape[1], dtype=np.float32) - xs.min()) / max(1, xs.max() - xs.min()) * 2 - 1
        g = f + t[None, :, None] * np.array([12, 0, -12], np.float32)
    elif kind == "desaturate":
        grey = f.mean(axis=2, keepdims=True)
        g = grey + np.float32(0.6) * (f - grey)
    else:
        raise ValueError(kind)
    out = img.copy()
    out[hole] = np.clip(np.rint(g), 0, 255).astype(np.uint8)[hole]
    return out


def inner_band(hole: np.ndarray, px: int = BAND_PX) -> np.ndarray:
    """Hole pixels within ``px`` of a non-hole pixel (the picture's border is not an edge)."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return hole & (cv2.erode(hole.astype(np.uint8), k, borderType=cv2.BORDER_REPLICATE) == 0)


def median_de(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    from skimage.color import deltaE_ciede2000, rgb2lab

    if not where.any():
        return float("nan")
    return float(np.median(deltaE_ciede2000(rgb2lab(a[where][None]), rgb2lab(b[where][None]))))


def laplacian_corr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    def lap(x):
        return cv2.Laplacian(cv2.cvtColor(x.astype(np.float32), cv2.COLOR_RGB2GRAY), cv2.CV_32F)  # no 8-bit grey rounding

    return float(np.corrcoef(lap(a)[where], lap(b)[where])[0, 1])


def seamless_clone(original: np.ndarray, painted: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """OpenCV's NORMAL_CLONE of ``painted`` into ``original`` through ``mask`` (padded, see above)."""
    pad = lambda a: cv2.copyMakeBorder(a, PAD, PAD, PAD, PAD, cv2.BORDER_REFLECT)  # noqa: E731
    src, dst, m = pad(painted[..., ::-1]), pad(original[..., ::-1]), pad(mask)
    x, y, w, h = cv2.boundingRect(m)
    out = cv2.seamlessClone(src, dst, m, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)
    return np.ascontiguousarray(out[PAD:-PAD, PAD:-PAD, ::-1])


def add_object(img: np.ndarray, hole: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paste a textured object of its own colour into the hole, touching the hole's edge on the left."""
    ys, xs = np.nonzero(hole)
    cy, x0 = int(np.median(ys[xs == xs.min()])), int(xs.min())
    r = max(6, int(0.35 * min(xs.max() - xs.min(), ys.max() - ys.min())))
    obj = np.zeros(hole.shape, np.uint8)
    cv2.circle(obj, (x0 + r - 2 * r // 3, cy), r, 255, -1)  # a third of it crosses the hole's edge ...
    obj = (obj > 0) & hole  # ... and is cut by it, as a painter's new object is
    tex = cv2.resize(other, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_AREA).astype(np.float32)
    tint = tex * np.array([0.35, 0.55, 1.0], np.float32) + np.array([0, 10, 60], np.float32)  # a blue thing
    out = img.copy()
    out[obj] = np.clip(np.rint(tint), 0, 255).astype(np.uint8)[obj]
    return out, obj


def quality(photos, masks) -> dict:
    rows = []
    for pname in photos:
        img = photo(pname)
        h, w = img.shape[:2]
        for mname in masks:
            mask = make_mask(mname, h, w)
            hole = mask > 0
            band = inner_band(hole)
            for cast in CASTS:
                painted = apply_cast(img, hole, cast)
                ours = paste_back(img, painted, mask)
                sc = seamless_clone(img, painted, mask)
                rows.append({
                    "photo": pname, "mask": mname, "cast": cast,
                    "before": round(median_de(painted, img, band), 3),
                    "ours": round(median_de(ours, img, band), 3),
                    "seamlessclone": round(median_de(sc, img, band), 3),
                    "detail_ours": round(laplacian_corr(ours, painted, hole), 4),
                    "detail_seamlessclone": round(laplacian_corr(sc, painted, hole), 4),
                })
                r = rows[-1]
                print(f"{pname:9s} {mname:10s} {cast:10s} seam dE before {r['before']:5.2f}  ours {r['ours']:5.2f}"
                      f"  seamlessClone {r['seamlessclone']:5.2f}   detail ours {r['detail_ours']:.3f}"
                      f"  sc {r['detail_seamlessclone']:.3f}", flush=True)
    return {"rows": rows}


def new_objects(photos, masks) -> list[dict]:
    out = []
    for i, pname in enumerate(photos):
        img = photo(pname)
        other = photo(photos[(i + 1) % len(photos)])
        h, w = img.shape[:2]
        for mname in masks:
            if mname == "stroke":
                continue  # no room for an object
            mask = make_mask(mname, h, w)
            painted, obj = add_object(img, mask > 0, other)
            ours = paste_back(img, painted, mask)
            sc = seamless_clone(img, painted, mask)
            row = {"photo": pname, "mask": mname, "ours": round(median_de(ours, painted, obj), 3),
                   "seamlessclone": round(median_de(sc, painted, obj), 3)}
            out.append(row)
            print(f"{pname:9s} {mname:10s} new object's colour change dE  ours {row['ours']:5.2f}"
                  f"  seamlessClone {row['seamlessclone']:5.2f}", flush=True)
    return out


def timing(megapixels: float, repeats: int) -> dict:
    base = photo("astronaut")
    ratio = 3 / 2
    h = int(round((megapixels * 1e6 / ratio) ** 0.5))
    w = int(round(h * ratio))
    img = cv2.resize(np.tile(base, (2, 3, 1)), (w, h), interpolation=cv2.INTER_CUBIC)
    mask = make_mask("blob", h, w)
    painted = apply_cast(img, mask > 0, "offset")
    t_ours, t_sc = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        ours = harmonize(img, painted, mask)
        t_ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        sc = seamless_clone(img, painted, mask)
        t_sc.append(time.perf_counter() - t)
    band = inner_band(mask > 0)
    res = {"size": [w, h], "hole_px": int((mask > 0).sum()), "ours_s": round(min(t_ours), 3),
           "seamlessclone_s": round(min(t_sc), 3), "ratio": round(min(t_ours) / min(t_sc), 3),
           "seam_before": round(median_de(painted, img, band), 3), "seam_ours": round(median_de(ours, img, band), 3),
           "seam_seamlessclone": round(median_de(sc, img, band), 3)}
    print(f"{megapixels:g} MP ({w} x {h}, hole {res['hole_px'] / 1e6:.2f} MP): ours {res['ours_s']:.3f} s, "
          f"seamlessClone {res['seamlessclone_s']:.3f} s, ratio {res['ratio']:.2f}; seam dE {res['seam_before']:.2f}"
          f" -> ours {res['seam_ours']:.2f}, seamlessClone {res['seam_seamlessclone']:.2f}", flush=True)
    return res


def summarize(rows, objects) -> dict:
    out = {}
    for cast in CASTS:
        sel = [r for r in rows if r["cast"] == cast]
        med = lambda k: round(float(np.median([r[k] for r in sel])), 3)  # noqa: E731
        worst = lambda k: round(float(np.max([r[k] for r in sel])), 3)  # noqa: E731
        out[cast] = {
            "before": med("before"), "ours": med("ours"), "seamlessclone": med("seamlessclone"),
            "ours_worst": worst("ours"), "seamlessclone_worst": worst("seamlessclone"),
            "ours_over_before": round(med("ours") / max(med("before"), 1e-9), 3),
            "cases_meeting_target": sum(r["ours"] <= 2.0 and r["ours"] <= r["before"] / 3 for r in sel),
            "cases": len(sel),
            "detail_ours_median": round(float(np.median([r["detail_ours"] for r in sel])), 4),
            "detail_ours_min": round(float(np.min([r["detail_ours"] for r in sel])), 4),
            "detail_seamlessclone_median": round(float(np.median([r["detail_seamlessclone"] for r in sel])), 4),
            "detail_seamlessclone_min": round(float(np.min([r["detail_seamlessclone"] for r in sel])), 4),
        }
    out["new_object"] = {
        "ours_median": round(float(np.median([o["ours"] for o in objects])), 3),
        "ours_worst": round(float(np.max([o["ours"] for o in objects])), 3),
        "seamlessclone_median": round(float(np.median([o["seamlessclone"] for o in objects])), 3),
    }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="two photos, no 24 MP timing")
    args = ap.parse_args()
    machine = f"{host()}, numpy {np.__version__}, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads)"
    print(machine, flush=True)
    photos = PHOTOS[:2] if args.small else PHOTOS
    rows = quality(photos, MASKS)["rows"]
    objects = new_objects(photos, MASKS)
    times = {"2mp": timing(2.0, 3)}
    if not args.small:
        times["24mp"] = timing(24.0, 1)
    summary = summarize(rows, objects)
    for cast in CASTS:
        s = summary[cast]
        print(f"{cast:10s} seam dE median: before {s['before']:.2f}, ours {s['ours']:.2f} (worst {s['ours_worst']:.2f}),"
              f" seamlessClone {s['seamlessclone']:.2f}; target met in {s['cases_meeting_target']}/{s['cases']};"
              f" detail median/min ours {s['detail_ours_median']:.3f}/{s['detail_ours_min']:.3f},"
              f" seamlessClone {s['detail_seamlessclone_median']:.3f}/{s['detail_seamlessclone_min']:.3f}")
    print(json.dumps({"machine": machine, "summary": summary, "timing": times, "cases": rows, "objects": objects}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
