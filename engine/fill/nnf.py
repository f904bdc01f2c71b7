"""The nearest-neighbour field of :func:`engine.fill.patch_fill.patch_fill`: the image pyramid, one
scale's targets and their field (:class:`Level`: parallel PatchMatch search, onion-peel start,
patch voting), and the PatchMatch step shared with the detail levels (:class:`Field`)."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

MIN_COARSE_SIDE = 24  # do not build pyramid levels smaller than this
MIN_SOURCES = 64  # a level needs at least this many source patches to be searched
COARSEST_THICKNESS = 1.0  # the coarsest level has the hole about this many patches thick
GROUP_PIXELS = 1 << 16  # remap calls gather about this many pixels at once (fewer calls on small levels)
CONFIDENCE_BASE = 1.3  # Wexler et al.: confidence falls as CONFIDENCE_BASE ** -depth
DEPTH_CAP = 30.0  # px; deeper patches all get the same (lowest) confidence
SIGMA_SCALE = 1.0  # vote weights exp(-d / (2 sigma2)), sigma2 = SIGMA_SCALE x the 75th percentile of d
PEEL_POWER = 2.0  # during the peel a patch weighs (known fraction) ** PEEL_POWER
PEEL_MAX_LAYERS = 16  # deeper holes are peeled in thicker rings (up to r px), or not at all
REMAP_ROW_WIDTH = 512  # per-target arrays are laid out as rows of this width for cv2.remap (< SHRT_MAX)


def downsample(img: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact 2 x 2 block averages; a coarse pixel is hole when any of its four fine pixels is."""
    h, w = hole.shape
    ph, pw = h % 2, w % 2
    if ph or pw:
        img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        hole = np.pad(hole, ((0, ph), (0, pw)), mode="edge")
    H, W = hole.shape
    small = cv2.resize(img, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    return small, hole.reshape(H // 2, 2, W // 2, 2).any(axis=(1, 3))


def count_targets(hole: np.ndarray, r: int) -> int:
    """How many pixels have a patch touching the hole."""
    k = 2 * r + 1
    return int(np.count_nonzero(cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8))))


def valid_sources(hole: np.ndarray, r: int) -> np.ndarray:
    """Centres of patches entirely inside the image and entirely outside the hole."""
    k = 2 * r + 1
    target = cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    valid = ~target
    valid[:r] = valid[valid.shape[0] - r:] = False
    valid[:, :r] = valid[:, valid.shape[1] - r:] = False
    return valid


def build_pyramid(img: np.ndarray, hole: np.ndarray, r: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Levels finest first, down to a hole about one patch thick; None when nothing can be copied."""
    if min(hole.shape) < 2 * r + 2 or not valid_sources(hole, r).any():
        return None
    levels = [(img, hole)]
    thick = float(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3).max())
    while thick > COARSEST_THICKNESS * (2 * r + 1) and min(levels[-1][1].shape) >= 2 * MIN_COARSE_SIDE:
        small, shole = downsample(*levels[-1])
        if shole.all() or valid_sources(shole, r).sum() < MIN_SOURCES:
            break
        levels.append((small, shole))
        thick /= 2
    return levels



def _accumulate_square(acc: np.ndarray, diff: np.ndarray, known: np.ndarray | None) -> None:
    """``acc[:rows] += diff ** 2`` (only where ``known``, when given); ``rows`` is ``diff``'s, which is
    ``acc``'s but for the last, shorter group of offsets."""
    rows = diff.shape[0]
    if rows == acc.shape[0]:
        cv2.accumulateSquare(diff, acc, known)
    else:  # the last, shorter group
        part = np.zeros(diff.shape, np.float32)
        cv2.accumulateSquare(diff, part, known)
        acc[:rows] += part


class Field:
    """A nearest-neighbour field (source centres ``sy``, ``sx`` and distances ``D`` per target) that
    keeps a proposed source where it is valid (``_ok``) and closer (``_dist``): PatchMatch's step."""

    sy: np.ndarray
    sx: np.ndarray
    D: np.ndarray

    def _ok(self, cy: np.ndarray, cx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _dist(self, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _try(self, cy: np.ndarray, cx: np.ndarray) -> None:
        ok = self._ok(cy, cx)
        if not ok.any():
            return
        cy, cx = np.where(ok, cy, self.sy), np.where(ok, cx, self.sx)
        d = self._dist(cy, cx)
        better = ok & (d < self.D)
        self.sy = np.where(better, cy, self.sy)
        self.sx = np.where(better, cx, self.sx)
        self.D = np.where(better, d, self.D)


class Level(Field):
    """One scale: the image being filled, its target pixels and their nearest-neighbour field.

    Per-target arrays have length ``Np`` (``N`` targets padded to rows of ``REMAP_ROW_WIDTH`` for cv2.remap);
    the padded tail repeats target 0 and is never updated.
    """

    def __init__(self, img: np.ndarray, hole: np.ndarray, r: int) -> None:
        self.img = np.ascontiguousarray(img).copy()
        self.hole = hole
        self.r = r
        self.H, self.W = hole.shape
        self.offsets = [(oy, ox) for oy in range(-r, r + 1) for ox in range(-r, r + 1)]
        k = 2 * r + 1
        target = cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        self.valid = valid_sources(hole, r)
        self.valid_flat = self.valid.ravel()
        self.valid_idx = np.flatnonzero(self.valid_flat)
        ty, tx = np.nonzero(target)
        self.N = n = ty.size
        self.cw = min(REMAP_ROW_WIDTH, n)
        self.M = -(-n // self.cw)
        self.Np = np_ = self.M * self.cw
        self.ty = pad_to(ty.astype(np.int32), np_)
        self.tx = pad_to(tx.astype(np.int32), np_)
        self.active = np.arange(np_) < n
        self.index = np.full(hole.shape, -1, np.int32)
        self.index[ty, tx] = np.arange(n, dtype=np.int32)
        self._neighbours: dict[tuple[int, int], np.ndarray] = {}
        # Vote table: for voted pixel q and offset o, the target index of the patch p = q - o
        # (-1 when p is outside the image). The voted pixels are the hole's, then the 1 px ring of
        # known pixels around it (what the fill says they should be: see membrane); they are
        # laid out like the targets.
        hy, hx = np.nonzero(hole)
        self.Nh = hy.size
        ring = (cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~hole
        ry, rx = np.nonzero(ring)
        self.hy, self.hx = np.concatenate([hy, ry]), np.concatenate([hx, rx])
        hy, hx = self.hy, self.hx
        self.Nv = nh = hy.size
        self.hcw = min(REMAP_ROW_WIDTH, nh)
        self.hM = -(-nh // self.hcw)
        nhp = self.hM * self.hcw
        hyp, hxp = pad_to(hy.astype(np.int32), nhp), pad_to(hx.astype(np.int32), nhp)
        table = np.empty((len(self.offsets), nhp), np.int32)
        for j, (oy, ox) in enumerate(self.offsets):
            py, px = hyp - oy, hxp - ox
            inside = (py >= 0) & (py < self.H) & (px >= 0) & (px < self.W)
            table[j] = np.where(inside, self.index[np.clip(py, 0, self.H - 1), np.clip(px, 0, self.W - 1)], -1)
        table[:, nh:] = -1
        self.table = table
        # Wexler's confidence: patches deep inside the hole are trusted less than those near its edge.
        depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)[ty, tx]
        self.log_conf = -np.minimum(depth, DEPTH_CAP) * np.float32(np.log(CONFIDENCE_BASE))
        self.sy = self.sx = self.D = None  # set by start / start_from
        self.padded = self.T = self.K = self.count = None
        self.known: np.ndarray | None = None  # during the onion peel: pixels the distance may use

    # -- the nearest-neighbour field ---------------------------------------------------------
    def _random_sources(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        flat = self.valid_idx[rng.integers(0, self.valid_idx.size, size)]
        return (flat // self.W).astype(np.int32), (flat % self.W).astype(np.int32)

    def _ok(self, cy: np.ndarray, cx: np.ndarray) -> np.ndarray:
        # valid is False on the r-wide image border, so clipped out-of-range candidates fail too.
        flat = np.clip(cy, 0, self.H - 1) * self.W + np.clip(cx, 0, self.W - 1)
        return self.valid_flat[flat] & self.active

    def peel(self, rng: np.random.Generator, check: Callable[[], None]) -> None:
        """Coarsest level: a random field, then the hole filled from its edge inward ("onion peel").

        Each ring of the hole is matched on the pixels already known (the distance only counts
        those) and voted, so the first guess is made of copied patches rather than a smooth
        diffusion, which would pull in smooth sources. Rings are 1 px thick, up to ``r`` px when
        the hole is deep (at most about ``PEEL_MAX_LAYERS`` rings).
        """
        self.sy, self.sx = self._random_sources(rng, self.Np)
        filled = ~self.hole
        self.img[self.hole] = 0
        depth = float(cv2.distanceTransform(self.hole.astype(np.uint8), cv2.DIST_L2, 3).max())
        step = int(min(self.r, max(1, np.ceil(depth / PEEL_MAX_LAYERS))))
        ring = np.ones((2 * step + 1, 2 * step + 1), np.uint8)
        while True:
            check()
            left = self.hole & ~filled
            if not left.any():
                break
            front = left & (cv2.dilate(filled.astype(np.uint8), ring) > 0)
            if not front.any():  # cannot happen while some pixel is known; guard anyway
                front = left
            self.known = filled
            self._refresh()
            self.search(rng, wide=True)
            self.vote(only=front[self.hy[: self.Nh], self.hx[: self.Nh]])
            filled = filled | front
        self.known = None
        self._refresh()

    def smooth_start(self, rng: np.random.Generator) -> None:
        """Coarsest level of a hole too deep to peel: a diffusion first guess, a random field."""
        self.img = cv2.inpaint(self.img, self.hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
        self.sy, self.sx = self._random_sources(rng, self.Np)
        self._refresh()

    def start_from(self, coarse: "Level", rng: np.random.Generator) -> None:
        """Upsample the coarser level's field and fill the hole by voting with it."""
        up = cv2.resize(coarse.img, (coarse.W * 2, coarse.H * 2), interpolation=cv2.INTER_LINEAR)
        self.img[self.hole] = up[: self.H, : self.W][self.hole]
        ci = coarse.index[self.ty // 2, self.tx // 2]
        ci = np.where(ci >= 0, ci, 0)  # every fine target lies over a coarse target; guard anyway
        cy = coarse.sy[ci] * 2 + (self.ty % 2)
        cx = coarse.sx[ci] * 2 + (self.tx % 2)
        ok = self._ok(cy, cx)
        ry, rx = self._random_sources(rng, self.Np)
        self.sy, self.sx = np.where(ok, cy, ry), np.where(ok, cx, rx)
        self._refresh()
        self.vote()

    def _refresh(self) -> None:
        """Re-read the target patches from the current image and re-score the field."""
        r = self.r
        self.padded = cv2.copyMakeBorder(self.img, r, r, r, r, cv2.BORDER_REFLECT_101)
        by = (self.ty + r).astype(np.float32).reshape(self.M, self.cw)
        bx = (self.tx + r).astype(np.float32).reshape(self.M, self.cw)
        parts = []
        for group in self._groups(self.Np):
            mx = np.concatenate([bx + ox for _, ox in group])
            my = np.concatenate([by + oy for oy, _ in group])
            parts.append(cv2.remap(self.padded, mx, my, cv2.INTER_NEAREST))
        self.T = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self.K = self.count = None
        if self.known is not None:  # which target-patch pixels count in the distance
            known = cv2.copyMakeBorder(self.known.astype(np.uint8), r, r, r, r, cv2.BORDER_REFLECT_101)
            self._known_padded = known
            parts = []
            for group in self._groups(self.Np):
                mx, my = _shifted(bx, by, group)
                parts.append(cv2.remap(known, mx, my, cv2.INTER_NEAREST))
            self.K = np.concatenate(parts) if len(parts) > 1 else parts[0]
            self.count = self.K.reshape(len(self.offsets), -1).sum(axis=0, dtype=np.float32)
        self.D = self._dist(self.sy, self.sx)

    def _groups(self, n: int) -> list[list[tuple[int, int]]]:
        g = max(1, min(len(self.offsets), GROUP_PIXELS // max(1, n)))
        return [self.offsets[i:i + g] for i in range(0, len(self.offsets), g)]

    def _dist(self, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
        """Sum of squared RGB differences between each target patch and its source patch."""
        r, m = self.r, self.M
        by = (sy + r).astype(np.float32).reshape(m, self.cw)
        bx = (sx + r).astype(np.float32).reshape(m, self.cw)
        groups = self._groups(self.Np)
        g = len(groups[0])
        acc = np.zeros((g * m, self.cw, 3), np.float32)
        row = 0
        for group in groups:
            mx, my = _shifted(bx, by, group)
            src = cv2.remap(self.padded, mx, my, cv2.INTER_NEAREST)
            rows = src.shape[0]
            diff = cv2.absdiff(self.T[row:row + rows], src)
            _accumulate_square(acc, diff, None if self.K is None else self.K[row:row + rows])
            row += rows
        return self._patch_sums(acc, g, m * self.cw, self.count)

    def _patch_sums(self, acc: np.ndarray, g: int, width: int, count: np.ndarray | None) -> np.ndarray:
        """Each target's distance from ``acc`` (``g`` offset rows of ``width`` targets, squared RGB
        differences): summed over its patch; with a known-pixel ``count``, the mean over the known
        pixels on the full patch's scale."""
        d = (acc.reshape(-1, 3) @ np.ones(3, np.float32)).reshape(g, width).sum(axis=0)
        if count is not None:
            d *= len(self.offsets) / np.maximum(count, 1.0)
        return d

    def _try(self, cy: np.ndarray, cx: np.ndarray) -> None:
        """PatchMatch's step, scoring only the targets whose candidate is valid and new.

        Most propagated candidates equal the current source (a coherent field proposes what it
        has: 70-85 % of them at the finest level of a 300 px hole), and an invalid one keeps it:
        neither can be better, so neither is scored. A random search proposes new sources nearly
        everywhere; that case scores every target from the stored patches (``Field._try``).
        """
        ok = self._ok(cy, cx)
        idx = np.flatnonzero(ok & ((cy != self.sy) | (cx != self.sx)))
        if idx.size == 0:
            return
        if 2 * idx.size > self.N:  # scoring a subset reads two patches per target: then all are cheaper
            super()._try(cy, cx)
            return
        cy, cx = cy[idx], cx[idx]
        d = self._dist_at(idx, cy, cx)
        better = d < self.D[idx]
        i = idx[better]
        self.sy[i], self.sx[i], self.D[i] = cy[better], cx[better], d[better]

    def _dist_at(self, idx: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
        """:meth:`_dist` for the targets ``idx`` only (their candidates ``sy``, ``sx``).

        The target patches are read again from the padded image (what ``self.T`` holds: the image
        does not change between refreshes), which is cheaper than gathering ``self.T``'s rows.
        """
        r, n = self.r, idx.size
        cw = min(REMAP_ROW_WIDTH, n)
        m = -(-n // cw)
        idx, sy, sx = pad_to(idx, m * cw), pad_to(sy, m * cw), pad_to(sx, m * cw)
        sy_, sx_ = (sy + r).astype(np.float32).reshape(1, m, cw), (sx + r).astype(np.float32).reshape(1, m, cw)
        ty_ = (self.ty[idx] + r).astype(np.float32).reshape(1, m, cw)
        tx_ = (self.tx[idx] + r).astype(np.float32).reshape(1, m, cw)
        groups = self._groups(m * cw)
        g = len(groups[0])
        acc = np.zeros((g * m, cw, 3), np.float32)
        for group in groups:
            oy = np.array([o[0] for o in group], np.float32)[:, None, None]
            ox = np.array([o[1] for o in group], np.float32)[:, None, None]
            rows = len(group) * m
            src = cv2.remap(self.padded, (sx_ + ox).reshape(rows, cw), (sy_ + oy).reshape(rows, cw), cv2.INTER_NEAREST)
            tx_o, ty_o = (tx_ + ox).reshape(rows, cw), (ty_ + oy).reshape(rows, cw)
            diff = cv2.absdiff(cv2.remap(self.padded, tx_o, ty_o, cv2.INTER_NEAREST), src)
            known = None if self.known is None else cv2.remap(self._known_padded, tx_o, ty_o, cv2.INTER_NEAREST)
            _accumulate_square(acc, diff, known)
        return self._patch_sums(acc, g, m * cw, None if self.count is None else self.count[idx])[:n]

    def _neighbour(self, dy: int, dx: int) -> np.ndarray:
        """Index of the target at (y + dy, x + dx) for every target, -1 where there is none."""
        key = (dy, dx)
        if key not in self._neighbours:
            y, x = self.ty + dy, self.tx + dx
            inside = (y >= 0) & (y < self.H) & (x >= 0) & (x < self.W)
            j = self.index[np.clip(y, 0, self.H - 1), np.clip(x, 0, self.W - 1)]
            self._neighbours[key] = np.where(inside & self.active, j, -1)
        return self._neighbours[key]

    def search(self, rng: np.random.Generator, wide: bool = False) -> None:
        """One parallel PatchMatch pass: jump-flood propagation, then random search."""
        span = max(int(np.ptp(self.ty[: self.N])), int(np.ptp(self.tx[: self.N])), 1)
        top = 1 << max(0, int(np.log2(span)) - 1) if wide else 2
        jumps = []
        k = top
        while k >= 1:
            jumps.append(k)
            k //= 2
        for k in jumps:
            for dy, dx in ((0, k), (0, -k), (k, 0), (-k, 0)):
                j = self._neighbour(dy, dx)
                has = j >= 0
                jj = np.where(has, j, 0)
                # The neighbour's source, moved back by the same step (-1: no candidate).
                self._try(np.where(has, self.sy[jj] - dy, -1), np.where(has, self.sx[jj] - dx, -1))
        radius = max(self.H, self.W) if wide else max(4, (2 * self.r + 1))
        while radius >= 1:
            d = rng.integers(-radius, radius + 1, (2, self.Np), dtype=np.int32)
            self._try(self.sy + d[0], self.sx + d[1])
            radius //= 2
        self._try(*self._random_sources(rng, self.Np))

    def offset_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """The field as offsets (source - target) over the whole level, 0 away from the targets."""
        vy = np.zeros((self.H, self.W), np.int32)
        vx = np.zeros((self.H, self.W), np.int32)
        n = self.N
        vy[self.ty[:n], self.tx[:n]] = self.sy[:n] - self.ty[:n]
        vx[self.ty[:n], self.tx[:n]] = self.sx[:n] - self.tx[:n]
        return vy, vx

    # -- rebuilding the hole -------------------------------------------------------------------
    def vote(self, only: np.ndarray | None = None) -> None:
        """Each hole pixel becomes the weighted mean of what its overlapping patches' sources say.

        ``only`` (one bool per hole pixel) limits which hole pixels are written (the onion peel).
        ``self.voted`` keeps the unrounded votes, the ring's included.
        """
        d = self.D[: self.N]
        sigma2 = max(float(np.percentile(d, 75)) * SIGMA_SCALE, 1e-6)
        log_w = -np.minimum(d / (2.0 * sigma2), 40.0) + self.log_conf
        w = np.exp(log_w).astype(np.float32)
        if self.count is not None:  # the onion peel: trust a patch by how much of it is known
            w *= (self.count[: self.N] / len(self.offsets)) ** PEEL_POWER
        w = np.append(w, np.float32(0.0))  # index -1 (no patch) weighs nothing
        sy = np.append(self.sy[: self.N], np.int32(self.r))
        sx = np.append(self.sx[: self.N], np.int32(self.r))
        r, hm, hcw = self.r, self.hM, self.hcw
        nhp = hm * hcw
        num = np.zeros((nhp, 3), np.float32)
        den = np.zeros(nhp, np.float32)
        j = 0
        for group in self._groups(nhp):
            g = len(group)
            t = self.table[j:j + g]
            oy = np.array([o[0] for o in group], np.int32)[:, None]
            ox = np.array([o[1] for o in group], np.int32)[:, None]
            my = (sy[t] + oy + r).astype(np.float32).reshape(g * hm, hcw)
            mx = (sx[t] + ox + r).astype(np.float32).reshape(g * hm, hcw)
            colours = cv2.remap(self.padded, mx, my, cv2.INTER_NEAREST).reshape(g, nhp, 3)
            wt = w[t]
            num += np.einsum("gn,gnc->nc", wt, colours.astype(np.float32))
            den += wt.sum(axis=0)
            j += g
        self.voted = num[: self.Nv] / np.maximum(den[: self.Nv], 1e-30)[:, None]
        fill = np.clip(np.rint(self.voted[: self.Nh]), 0, 255).astype(np.uint8)
        hy, hx = self.hy[: self.Nh], self.hx[: self.Nh]
        if only is None:
            self.img[hy, hx] = fill
            self._refresh()
        else:
            self.img[hy[only], hx[only]] = fill[only]


def _shifted(bx: np.ndarray, by: np.ndarray, group: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Remap maps ``bx``, ``by`` (``m x cw``) shifted by each offset of ``group``, stacked: ``(g * m) x cw``."""
    oy = np.array([o[0] for o in group], np.float32)[:, None, None]
    ox = np.array([o[1] for o in group], np.float32)[:, None, None]
    m, cw = bx.shape
    return (bx[None] + ox).reshape(len(group) * m, cw), (by[None] + oy).reshape(len(group) * m, cw)


def pad_to(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` extended to length ``n`` by repeating its first element."""
    if a.size == n:
        return a
    return np.concatenate([a, np.full(n - a.size, a[0], a.dtype)])
