"""The round brush: dabs with size (diameter) and hardness, and strokes as evenly spaced dabs."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

Rect = tuple[int, int, int, int]
SPACING = 1 / 8  # of the diameter, between dabs


@lru_cache(maxsize=64)
def dab(size: float, hardness: float) -> np.ndarray:
    """A ``(2r+1) x (2r+1)`` uint8 stamp (255 in the middle) for a brush of diameter ``size``.

    Inside ``hardness * radius`` the stamp is full; from there to the radius it falls off smoothly
    (smoothstep). Hardness 1 still gets a one-pixel anti-aliased edge.
    """
    radius = max(0.5, float(size) / 2.0)
    hardness = min(1.0, max(0.0, float(hardness)))
    r = int(math.ceil(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float32)
    d = np.sqrt(xx * xx + yy * yy)
    inner = radius * hardness
    width = max(radius - inner, 1.0)
    t = np.clip((radius + 0.5 * (hardness >= 1.0) - d) / width, 0.0, 1.0)
    v = t * t * (3.0 - 2.0 * t)
    out = np.rint(v * 255.0).astype(np.uint8)
    out.flags.writeable = False
    return out


def stamp(target: np.ndarray, cx: float, cy: float, stamp_: np.ndarray, erase: bool,
          strength: float = 1.0) -> Rect | None:
    """Apply one dab centred on ``(cx, cy)`` to the 2-D uint8 ``target``; returns the touched rect.

    Painting raises the mask to the dab (max); erasing lowers it (min with the inverse).
    ``strength`` (pressure, 0..1) scales the dab.
    """
    h, w = target.shape
    r = stamp_.shape[0] // 2
    ix, iy = int(round(cx)), int(round(cy))
    x0, y0, x1, y1 = ix - r, iy - r, ix + r + 1, iy + r + 1
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        return None
    s = stamp_[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    if strength < 1.0:
        s = (s.astype(np.float32) * max(0.0, strength)).astype(np.uint8)
    region = target[cy0:cy1, cx0:cx1]
    if erase:
        np.minimum(region, 255 - s, out=region)
    else:
        np.maximum(region, s, out=region)
    return cx0, cy0, cx1 - cx0, cy1 - cy0


def dab_rect(cx: float, cy: float, size: float) -> tuple[int, int, int, int]:
    """The half-open box ``(x0, y0, x1, y1)`` a dab at ``(cx, cy)`` may touch."""
    r = int(math.ceil(max(0.5, float(size) / 2.0)))
    ix, iy = int(round(cx)), int(round(cy))
    return ix - r, iy - r, ix + r + 1, iy + r + 1


class StrokePath:
    """Turns pointer positions into dab positions spaced ``SPACING * size`` apart along the path."""

    def __init__(self, size: float) -> None:
        self.spacing = max(1.0, float(size) * SPACING)
        self.last: tuple[float, float, float] | None = None
        self.carry = 0.0  # distance walked since the last dab

    def to(self, x: float, y: float, pressure: float = 1.0) -> list[tuple[float, float, float]]:
        """Dab positions ``(x, y, pressure)`` from the last point to ``(x, y)``."""
        x, y, p = float(x), float(y), float(pressure)
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(p)):
            return []
        if self.last is None:
            self.last = (x, y, p)
            self.carry = 0.0
            return [(x, y, p)]
        lx, ly, lp = self.last
        dist = math.hypot(x - lx, y - ly)
        out = []
        pos = self.spacing - self.carry
        while pos <= dist:
            t = pos / dist
            out.append((lx + (x - lx) * t, ly + (y - ly) * t, lp + (p - lp) * t))
            pos += self.spacing
        self.carry = dist - (pos - self.spacing)
        self.last = (x, y, p)
        return out
