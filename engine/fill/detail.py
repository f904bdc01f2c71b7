"""Carrying a fill found at the working size up to full resolution, level by level (see the
last part of :mod:`engine.fill.patch_fill`'s docstring)."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from engine.fill.membrane import adapt_colours, membrane
from engine.fill.nnf import CONFIDENCE_BASE, DEPTH_CAP, SIGMA_SCALE, Field, Level, valid_sources

MAX_DETAIL_PIXELS = 4_000_000  # a detail level whose hole box (plus patches) is bigger is not built
DETAIL_RANDOM = (2, 1)  # random-search radii (px at the level) of a detail level's search pass
DETAIL_MEMBRANE_SWEEPS = 10  # Jacobi sweeps of the colour membrane on the (big) top level; 30 below it
DETAIL_STEPS = 2  # progress steps per detail level: carried up and voted; refined and voted


def detail_ladder(small: tuple[int, int], big: tuple[int, int], hole: np.ndarray, r: int) -> list[tuple[int, int]]:
    """Sizes of the detail levels, each about twice the one below, ending at ``big`` when affordable.

    A level whose hole box (grown by a patch) would exceed :data:`MAX_DETAIL_PIXELS` is left out,
    with every larger one: the result is then upscaled from the largest level built.
    """
    H, W = big
    f = max(H / small[0], W / small[1])
    n = max(1, int(round(np.log2(f))))
    x, y, w, h = cv2.boundingRect(hole.astype(np.uint8))
    sizes = []
    for k in range(n - 1, -1, -1):
        lh, lw = int(round(H / 2 ** k)), int(round(W / 2 ** k))
        if (h * lh / H + 2 * r + 4) * (w * lw / W + 2 * r + 4) > MAX_DETAIL_PIXELS:
            break
        sizes.append((lh, lw))
    return sizes


def carry_up(lv: "Level", big: np.ndarray, big_hole: np.ndarray, ladder: list[tuple[int, int]],
              rng: np.random.Generator, check: Callable[[], None], tick: Callable[[], None]) -> np.ndarray:
    """Rebuild the hole at ``big``'s resolution from the working level's field (``lv``).

    Up the ``ladder`` (sizes about doubling), each level takes the field of the one below with its
    offsets scaled (neighbouring pixels that shared a source pixel now copy neighbouring source
    pixels, so the texture is copied whole, at this resolution), votes the hole with this level's
    own patches, then refines the field locally (propagation, and below the top a random search of
    a pixel or two: no full search) and votes again. Colours are adapted on the last level only. The cost is a
    few passes over the hole's box per level, about 4/3 of the passes at the top level in all.
    """
    H, W = big_hole.shape
    prev_img, prev_v = lv.img, lv.offset_maps()
    top: Detail | None = None
    for k, (h, w) in enumerate(ladder):
        check()
        if (h, w) == (H, W):
            im, ho = big, big_hole
        else:
            im = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
            ho = cv2.resize(big_hole.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0
        level = Detail(im, ho, lv.r, unit=w / lv.W)
        if not level.valid.any():  # cannot happen when the working level had sources; guard anyway
            for _ in range(DETAIL_STEPS * (len(ladder) - k)):
                tick()
            break
        top = level
        top.start(prev_img, prev_v)
        # A first vote with a quarter of each patch's pixels (cheap) replaces the upscaled, soft
        # hole, so the local search compares this level's texture with this level's texture.
        top.vote(top.dist_offsets)
        tick()
        check()
        top.search(rng, DETAIL_RANDOM if k < len(ladder) - 1 else ())  # the top: propagation only
        top.vote()
        tick()
        if k < len(ladder) - 1:
            prev_img, prev_v = top.img, top.offset_maps()
    out = big.copy()
    if top is None:  # no level affordable: the working fill, upscaled
        fill = adapt_colours(lv, lv.img)
        fill = cv2.resize(fill, (W, H), interpolation=cv2.INTER_CUBIC)
    else:
        fill = top.adapted()
        if fill.shape[:2] != (H, W):
            fill = cv2.resize(fill, (W, H), interpolation=cv2.INTER_CUBIC)
    out[big_hole] = fill[big_hole]
    return out


def shift(a: np.ndarray, dy: int, dx: int, fill: int) -> np.ndarray:
    """``out[y, x] = a[y + dy, x + dx]``, ``fill`` where that is outside ``a``."""
    h, w = a.shape
    out = np.full_like(a, fill)
    ys, yd = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy), slice(-dy, h))
    xs, xd = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx), slice(-dx, w))
    out[yd, xd] = a[ys, xs]
    return out


class Detail(Field):
    """A level above the working size: the field as 2-D maps over the hole's box (no target lists).

    All coordinates are in the level image padded by ``B`` px (reflected), so the box (the hole's
    bounding box grown by ``r + 1``) and every patch around it are plain slices. Distances use a
    stride-2 subset of the patch's pixels (16 of 49 for 7 x 7), votes the whole patch; both are
    gathered one patch offset at a time, so memory stays a few box-sized arrays.
    """

    def __init__(self, img: np.ndarray, hole: np.ndarray, r: int, unit: float) -> None:
        self.r = r
        self.H, self.W = hole.shape
        self.B = B = 2 * r + 2
        self.img = np.ascontiguousarray(img).copy()
        self.hole = hole
        x, y, w, h = cv2.boundingRect(hole.astype(np.uint8))
        g = r + 1
        self.y0, self.x0 = y + B - g, x + B - g  # the box, in padded coordinates
        self.bh, self.bw = h + 2 * g, w + 2 * g
        self.hbox = (y, x, h, w)  # the hole's bounding box, in image coordinates
        k = 2 * r + 1
        self.valid = np.pad(valid_sources(hole, r), B)  # padded coordinates
        target = cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        self.tm = self._box(np.pad(target, B))
        self.offsets = [(oy, ox) for oy in range(-r, r + 1) for ox in range(-r, r + 1)]
        self.dist_offsets = [(oy, ox) for oy in range(-r, r + 1, 2) for ox in range(-r, r + 1, 2)]
        depth = self._box(np.pad(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3), B)) / unit
        self.log_conf = (-np.minimum(depth, DEPTH_CAP) * np.float32(np.log(CONFIDENCE_BASE))).astype(np.float32)
        self.yy = np.arange(self.y0, self.y0 + self.bh, dtype=np.int32)[:, None]
        self.xx = np.arange(self.x0, self.x0 + self.bw, dtype=np.int32)[None, :]
        self._nearest: np.ndarray | None = None
        self.sy = self.sx = self.D = self.voted = None
        self._refresh()

    def _box(self, a: np.ndarray) -> np.ndarray:
        return a[self.y0:self.y0 + self.bh, self.x0:self.x0 + self.bw]

    def _refresh(self) -> None:
        B = self.B
        self.padded = cv2.copyMakeBorder(self.img, B, B, B, B, cv2.BORDER_REFLECT_101)

    def _ok(self, cy: np.ndarray, cx: np.ndarray) -> np.ndarray:
        hp, wp = self.valid.shape
        return self.tm & self.valid[np.clip(cy, 0, hp - 1), np.clip(cx, 0, wp - 1)]

    def _snap(self, cy: np.ndarray, cx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate that is not a valid source moved to the nearest one that is."""
        hp, wp = self.valid.shape
        cy, cx = np.clip(cy, 0, hp - 1), np.clip(cx, 0, wp - 1)
        bad = ~self.valid[cy, cx]
        if bad.any():
            if self._nearest is None:
                _, labels = cv2.distanceTransformWithLabels((~self.valid).astype(np.uint8), cv2.DIST_L2, 3,
                                                            labelType=cv2.DIST_LABEL_PIXEL)
                flat = np.flatnonzero(self.valid)
                self._nearest = flat[labels - 1]  # per padded pixel, the flat index of the nearest source
            near = self._nearest[cy[bad], cx[bad]]
            cy, cx = cy.copy(), cx.copy()
            cy[bad], cx[bad] = near // wp, near % wp
        return cy, cx

    def start(self, prev_img: np.ndarray, prev_v: tuple[np.ndarray, np.ndarray]) -> None:
        """The hole from the level below (upscaled) and its field with the offsets scaled up."""
        B = self.B
        up = cv2.resize(prev_img, (self.W, self.H), interpolation=cv2.INTER_LINEAR)
        self.img[self.hole] = up[self.hole]
        self._refresh()
        vy, vx = prev_v
        ph, pw = vy.shape
        fy, fx = self.H / ph, self.W / pw
        rows = np.clip(((self.yy[:, 0] - B + 0.5) / fy).astype(np.int64), 0, ph - 1)
        cols = np.clip(((self.xx[0] - B + 0.5) / fx).astype(np.int64), 0, pw - 1)
        cy = self.yy + np.rint(vy[rows][:, cols] * fy).astype(np.int32)
        cx = self.xx + np.rint(vx[rows][:, cols] * fx).astype(np.int32)
        self.sy, self.sx = self._snap(cy, cx)
        self.D = self._dist(self.sy, self.sx)

    def offset_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """The field as offsets (source - target) over the whole level, 0 away from the targets."""
        B = self.B
        vy = np.zeros((self.H, self.W), np.int32)
        vx = np.zeros((self.H, self.W), np.int32)
        ys, xs = slice(self.y0 - B, self.y0 - B + self.bh), slice(self.x0 - B, self.x0 - B + self.bw)
        # the box may reach r + 1 px beyond the image; clip it
        cy0, cx0 = max(0, -(self.y0 - B)), max(0, -(self.x0 - B))
        ys = slice(max(0, ys.start), min(self.H, ys.stop))
        xs = slice(max(0, xs.start), min(self.W, xs.stop))
        sub = (slice(cy0, cy0 + ys.stop - ys.start), slice(cx0, cx0 + xs.stop - xs.start))
        tm = self.tm[sub]
        vy[ys, xs] = np.where(tm, (self.sy - self.yy)[sub], 0)
        vx[ys, xs] = np.where(tm, (self.sx - self.xx)[sub], 0)
        return vy, vx

    def _dist(self, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
        """Sum of squared differences over the stride-2 subset of each patch (inf off the targets)."""
        acc = np.zeros((self.bh, self.bw, 3), np.float32)
        r = self.r
        fy, fx = (sy - r).astype(np.float32), (sx - r).astype(np.float32)
        for oy, ox in self.dist_offsets:
            # the image seen from (r + oy, r + ox): no per-offset shifted maps
            src = cv2.remap(self.padded[r + oy:, r + ox:], fx, fy, cv2.INTER_NEAREST)
            tgt = self.padded[self.y0 + oy:self.y0 + oy + self.bh, self.x0 + ox:self.x0 + ox + self.bw]
            cv2.accumulateSquare(cv2.absdiff(tgt, src), acc)
        d = (acc.reshape(-1, 3) @ np.ones(3, np.float32)).reshape(self.bh, self.bw)
        return np.where(self.tm, d, np.float32(np.inf))

    def search(self, rng: np.random.Generator, radii: tuple[int, ...]) -> None:
        """Local refinement: propagation from the four neighbours, then random search within ``radii``."""
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            self._try(shift(self.sy, dy, dx, -1) - dy, shift(self.sx, dy, dx, -1) - dx)
        for radius in radii:
            d = rng.integers(-radius, radius + 1, (2, self.bh, self.bw), dtype=np.int32)
            self._try(self.sy + d[0], self.sx + d[1])

    def vote(self, offsets: list[tuple[int, int]] | None = None) -> None:
        """Each hole pixel (and the 1 px ring around it) the weighted mean of its patches' sources.

        ``offsets``: which pixels of each patch vote (default: all of them).
        """
        r, B = self.r, self.B
        d = self.D[self.tm]
        sigma2 = max(float(np.percentile(d, 75)) * SIGMA_SCALE, 1e-6)
        scaled = self.D * np.float32(1.0 / (2.0 * sigma2))
        w = np.where(self.tm, np.exp(-np.minimum(scaled, 40.0) + self.log_conf), 0).astype(np.float32)
        y, x, h, wd = self.hbox
        vh, vw = h + 2, wd + 2  # the hole's box grown by the ring; box coordinates start at r
        num = np.zeros((vh, vw * 3), np.float32)  # RGB interleaved along the rows
        den = np.zeros((vh, vw), np.float32)
        w3 = np.repeat(w, 3, axis=1)  # the weights, likewise
        fy, fx = (self.sy - r).astype(np.float32), (self.sx - r).astype(np.float32)
        for oy, ox in self.offsets if offsets is None else offsets:
            # the pixel q is voted by the patch centred at q - o
            sl = (slice(r - oy, r - oy + vh), slice(r - ox, r - ox + vw))
            colours = cv2.remap(self.padded[r + oy:, r + ox:], fx[sl], fy[sl], cv2.INTER_NEAREST)
            cv2.accumulateProduct(colours.reshape(vh, vw * 3).astype(np.float32),
                                  w3[sl[0], 3 * (r - ox):3 * (r - ox + vw)], num)
            den += w[sl]
        num = num.reshape(vh, vw, 3)
        self.voted = num / np.maximum(den, 1e-30)[..., None]
        hole = self._vbox(np.pad(self.hole, B))
        vy0, vx0 = y - 1, x - 1
        region = self.img[max(0, vy0):vy0 + vh, max(0, vx0):vx0 + vw]
        cut = (slice(max(0, -vy0), max(0, -vy0) + region.shape[0]), slice(max(0, -vx0), max(0, -vx0) + region.shape[1]))
        fill = np.clip(np.rint(self.voted[cut]), 0, 255).astype(np.uint8)
        hc = hole[cut]
        region[hc] = fill[hc]
        self._refresh()

    def _vbox(self, padded_mask: np.ndarray) -> np.ndarray:
        y, x, h, w = self.hbox
        B = self.B
        return padded_mask[y + B - 1:y + B + h + 1, x + B - 1:x + B + w + 1]

    def adapted(self) -> np.ndarray:
        """The level image with the hole's colours adapted to the ring around it (see adapt_colours)."""
        B = self.B
        hole = self._vbox(np.pad(self.hole, B))
        inside = self._vbox(np.pad(np.ones_like(self.hole), B))
        ring = (cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~hole & inside
        y, x, h, w = self.hbox
        known = self._vbox(cv2.copyMakeBorder(self.img, B, B, B, B, cv2.BORDER_CONSTANT)).astype(np.float32)
        values = np.where(ring[..., None], known - self.voted, 0).astype(np.float32)
        fill = self.voted + membrane(values, ring, top_sweeps=DETAIL_MEMBRANE_SWEEPS)
        out = self.img.copy()
        vy0, vx0 = y - 1, x - 1
        region = out[max(0, vy0):vy0 + h + 2, max(0, vx0):vx0 + w + 2]
        cut = (slice(max(0, -vy0), max(0, -vy0) + region.shape[0]), slice(max(0, -vx0), max(0, -vx0) + region.shape[1]))
        hc = hole[cut]
        region[hc] = np.clip(np.rint(fill[cut]), 0, 255).astype(np.uint8)[hc]
        return out
