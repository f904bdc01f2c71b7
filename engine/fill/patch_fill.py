"""``patch_fill``: texture-preserving exemplar fill (multi-scale PatchMatch with patch voting).

Diffusion fills (OpenCV Telea / Navier-Stokes) smear anything bigger than a few pixels. This fill
copies real texture from around the hole instead, after the ideas of Wexler, Shechtman and Irani
("Space-Time Completion of Video", 2007) and Barnes et al. ("PatchMatch", 2009):

- an image pyramid is built (2 x 2 block averages; a coarse pixel is in the hole when any of its
  four is), down to where the hole is about one patch thick;
- at each scale, every *target* pixel (one whose ``P x P`` patch touches the hole) keeps the centre
  of its best-matching *source* patch (a nearest-neighbour field, NNF). Sources are only patches
  that lie entirely outside the hole and inside the image, so every colour written into the hole
  comes from known pixels;
- the field is improved in parallel for all target pixels at once (whole-array numpy / OpenCV
  operations, no per-pixel Python): propagation from neighbours at halving distances ("jump flood"),
  then random search in shrinking windows plus one uniformly drawn source. Patch distances are sums
  of squared RGB differences, gathered with ``cv2.remap`` offset by offset;
- the hole is then rebuilt by voting: each hole pixel averages what the overlapping patches' sources
  say it should be, weighted by how well each patch matched (Wexler's weights). Search and vote
  alternate a few times (an EM iteration), then the field is upsampled to the next finer scale;
- the coarsest scale is first filled from the hole's edge inward ("onion peel": each ring matched on
  the pixels already known), so the start is copied texture, not a smooth guess that would attract
  smooth sources (a hole too deep to peel starts from Telea; a vast hole in a thin frame of known
  pixels, or one no patch fits beside, gets Telea only);
- at the end, the mismatch between the fill and the known pixels on the 1 px ring around the hole
  is spread smoothly over the hole (a membrane, as in Poisson cloning), so copied patches take
  the local brightness and colour and leave no seam.

Cost grows with the number of target pixels (about linearly), not with the image size; the
engine (:func:`engine.fill.run_fill`) crops around the hole and works at most at 768 px.
Randomness comes only from ``np.random.default_rng(seed)``: a seed gives the same pixels every
time, another seed a different (equally valid) fill.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from engine.api import Cancelled

PATCH_SIZE = 7
MIN_COARSE_SIDE = 24  # do not build pyramid levels smaller than this
MIN_SOURCES = 64  # a level needs at least this many source patches to be searched
GROUP_PIXELS = 1 << 16  # remap calls gather about this many pixels at once (fewer calls on small levels)
CONFIDENCE_BASE = 1.3  # Wexler et al.: confidence falls as CONFIDENCE_BASE ** -depth
DEPTH_CAP = 30.0  # px; deeper patches all get the same (lowest) confidence
SIGMA_SCALE = 1.0  # vote weights exp(-d / (2 sigma2)), sigma2 = SIGMA_SCALE x the 75th percentile of d
PEEL_POWER = 2.0  # during the peel a patch weighs (known fraction) ** PEEL_POWER
MEMBRANE_SWEEPS = 30  # Jacobi sweeps per level of the colour-adaptation membrane
PEEL_MAX_LAYERS = 16  # deeper holes are peeled in thicker rings (up to r px), or not at all
MAX_START_TARGETS = 60_000  # a coarsest level bigger than this (a vast hole, a thin frame): Telea
COARSEST_THICKNESS = 1.0  # the coarsest level has the hole about this many patches thick
_CW = 512  # per-target arrays are laid out as rows of this width for cv2.remap (< SHRT_MAX)


def patch_fill(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    seed: int = 0,
    patch_size: int = PATCH_SIZE,
    is_cancelled: Callable[[], bool] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Fill the ``mask`` of ``image`` with texture copied from the rest of the image.

    Parameters
    ----------
    image : ndarray
        ``H x W x 3`` uint8 (RGB or BGR: channels are treated alike).
    mask : ndarray
        ``H x W`` uint8; pixels ``> 0`` are the hole (255 = fill).
    seed : int
        Seeds ``np.random.default_rng``; the same seed gives bit-identical output.
    patch_size : int
        Side of the square patches (odd, >= 3).
    is_cancelled : callable, optional
        Checked between iterations and scales; raises :class:`engine.api.Cancelled`.
    on_progress : callable, optional
        ``on_progress(step, total)`` after each iteration, ending at ``(total, total)``.

    Returns
    -------
    ndarray
        A new ``H x W x 3`` uint8 image: pixels outside the hole are the input's, bit for bit. When
        no patch lies entirely outside the hole (it covers almost everything), the hole is filled
        with OpenCV's Telea inpainting instead, so there is always a full fill.
    """
    img = np.ascontiguousarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be H x W x 3 uint8, got {img.shape} {img.dtype}")
    hole = np.asarray(mask)
    if hole.shape != img.shape[:2]:
        raise ValueError(f"mask shape {hole.shape} does not match image {img.shape[:2]}")
    if patch_size < 3 or patch_size % 2 == 0:
        raise ValueError(f"patch_size must be odd and >= 3, got {patch_size}")
    hole = hole > 0
    out = img.copy()
    if not hole.any():
        return out
    r = patch_size // 2

    def check() -> None:
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()

    check()
    pyramid = _pyramid(img, hole, r)
    start = None
    if pyramid is not None:
        coarsest = pyramid[-1][1]
        depth = float(cv2.distanceTransform(coarsest.astype(np.uint8), cv2.DIST_L2, 3).max())
        if depth <= r * PEEL_MAX_LAYERS:
            start = "peel"
        elif _targets(coarsest, r) <= MAX_START_TARGETS:
            start = "smooth"
    if start is None:
        # No patch lies outside the hole, or the known pixels are too thin a frame around a vast
        # hole to build a pyramid on: a diffusion fill is the best (and only affordable) answer.
        filled = cv2.inpaint(img, hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
        out[hole] = filled[hole]
        if on_progress is not None:
            on_progress(1, 1)
        return out

    rng = np.random.default_rng(seed)
    n = len(pyramid)
    schedule = [_schedule(i, n) for i in range(n)]  # finest first, like the pyramid
    total = sum(em for em, _ in schedule) + (n - 1)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    coarse: _Level | None = None
    for i in range(n - 1, -1, -1):
        check()
        lv = _Level(pyramid[i][0], pyramid[i][1], r)
        wide = False
        if coarse is None:
            if start == "peel":
                lv.peel(rng, check)
            else:  # a smooth first guess and a random field, which needs a wide first search
                lv.smooth_start(rng)
                wide = True
        else:
            lv.start_from(coarse, rng)
            tick()
        em, pm = schedule[i]
        for _ in range(em):
            check()
            for _ in range(pm):
                lv.search(rng, wide=wide)
                wide = False
            lv.vote()
            tick()
        coarse = lv
    assert coarse is not None
    out[hole] = _adapt_colours(coarse, img)[hole]
    return out


def _adapt_colours(lv: "_Level", img: np.ndarray) -> np.ndarray:
    """The fill plus a smooth correction that makes it meet the surroundings without a seam.

    Copied patches keep their own brightness and colour, which need not match where they land
    (light falls off, a gradient crosses the hole). On the 1 px ring around the hole the fill
    says what the known pixels "should" be; the difference from what they are is spread over
    the hole as a membrane (a harmonic interpolation: the Laplace equation with those values on
    the ring), as in gradient-domain (Poisson) cloning.
    """
    nh = lv.Nh
    fill = lv.voted[:nh]
    ry, rx = lv.hy[nh:], lv.hx[nh:]
    hy, hx = lv.hy[:nh], lv.hx[:nh]
    out = img.copy()
    if ry.size:
        diff = img[ry, rx].astype(np.float32) - lv.voted[nh:]
        y0, y1 = int(min(hy.min(), ry.min())), int(max(hy.max(), ry.max())) + 1
        x0, x1 = int(min(hx.min(), rx.min())), int(max(hx.max(), rx.max())) + 1
        values = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
        fixed = np.zeros((y1 - y0, x1 - x0), bool)
        values[ry - y0, rx - x0] = diff
        fixed[ry - y0, rx - x0] = True
        fill = fill + _membrane(values, fixed)[hy - y0, hx - x0]
    out[hy, hx] = np.clip(np.rint(fill), 0, 255).astype(np.uint8)
    return out


_LAPLACE = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)


def _membrane(values: np.ndarray, fixed: np.ndarray, sweeps: int = MEMBRANE_SWEEPS) -> np.ndarray:
    """Harmonic interpolation of ``values`` where ``fixed``: coarse to fine Jacobi relaxation.

    Each level starts from the coarser level's solution, so a few dozen sweeps per level suffice
    for the smooth correction this is used for.
    """
    h, w = fixed.shape
    if min(h, w) > 8 and fixed.any():
        ph, pw = h % 2, w % 2
        wv = cv2.copyMakeBorder(values * fixed[..., None], 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)
        wf = cv2.copyMakeBorder(fixed.astype(np.float32), 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)
        H2, W2 = wf.shape[0] // 2, wf.shape[1] // 2
        sv = wv.reshape(H2, 2, W2, 2, 3).sum(axis=(1, 3))
        sf = wf.reshape(H2, 2, W2, 2).sum(axis=(1, 3))
        coarse_fixed = sf > 0
        coarse = _membrane(sv / np.maximum(sf, 1e-6)[..., None], coarse_fixed, sweeps)
        x = cv2.resize(coarse, (W2 * 2, H2 * 2), interpolation=cv2.INTER_LINEAR)[:h, :w]
        n = sweeps
    else:  # the coarsest level: start from the mean and relax for longer
        mean = values[fixed].mean(axis=0) if fixed.any() else np.zeros(3, np.float32)
        x = np.broadcast_to(mean, values.shape).astype(np.float32)
        n = 4 * sweeps
    x = np.ascontiguousarray(x, dtype=np.float32)
    x[fixed] = values[fixed]
    for _ in range(n):
        x = cv2.filter2D(x, -1, _LAPLACE, borderType=cv2.BORDER_REPLICATE)
        x[fixed] = values[fixed]
    return x


def _schedule(level: int, n: int) -> tuple[int, int]:
    """(EM iterations, PatchMatch iterations per EM) at ``level`` (0 = finest) of ``n``."""
    if n == 1:
        return 6, 2
    t = level / (n - 1)  # 0 at the finest, 1 at the coarsest
    return int(round(2 + 6 * t)), (3 if level == n - 1 else 1)


def _downsample(img: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact 2 x 2 block averages; a coarse pixel is hole when any of its four fine pixels is."""
    h, w = hole.shape
    ph, pw = h % 2, w % 2
    if ph or pw:
        img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        hole = np.pad(hole, ((0, ph), (0, pw)), mode="edge")
    H, W = hole.shape
    small = cv2.resize(img, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    return small, hole.reshape(H // 2, 2, W // 2, 2).any(axis=(1, 3))


def _targets(hole: np.ndarray, r: int) -> int:
    """How many pixels have a patch touching the hole."""
    k = 2 * r + 1
    return int(np.count_nonzero(cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8))))


def _valid_sources(hole: np.ndarray, r: int) -> np.ndarray:
    """Centres of patches entirely inside the image and entirely outside the hole."""
    k = 2 * r + 1
    target = cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    valid = ~target
    valid[:r] = valid[valid.shape[0] - r:] = False
    valid[:, :r] = valid[:, valid.shape[1] - r:] = False
    return valid


def _pyramid(img: np.ndarray, hole: np.ndarray, r: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Levels finest first, down to a hole about one patch thick; None when nothing can be copied."""
    if min(hole.shape) < 2 * r + 2 or not _valid_sources(hole, r).any():
        return None
    levels = [(img, hole)]
    thick = float(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3).max())
    while thick > COARSEST_THICKNESS * (2 * r + 1) and min(levels[-1][1].shape) >= 2 * MIN_COARSE_SIDE:
        small, shole = _downsample(*levels[-1])
        if shole.all() or _valid_sources(shole, r).sum() < MIN_SOURCES:
            break
        levels.append((small, shole))
        thick /= 2
    return levels


class _Level:
    """One scale: the image being filled, its target pixels and their nearest-neighbour field.

    Per-target arrays have length ``Np`` (``N`` targets padded to rows of ``_CW`` for cv2.remap);
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
        self.valid = _valid_sources(hole, r)
        self.valid_flat = self.valid.ravel()
        self.valid_idx = np.flatnonzero(self.valid_flat)
        ty, tx = np.nonzero(target)
        self.N = n = ty.size
        self.cw = min(_CW, n)
        self.M = -(-n // self.cw)
        self.Np = np_ = self.M * self.cw
        self.ty = _pad_to(ty.astype(np.int32), np_)
        self.tx = _pad_to(tx.astype(np.int32), np_)
        self.active = np.arange(np_) < n
        self.index = np.full(hole.shape, -1, np.int32)
        self.index[ty, tx] = np.arange(n, dtype=np.int32)
        self._neighbours: dict[tuple[int, int], np.ndarray] = {}
        # Vote table: for voted pixel q and offset o, the target index of the patch p = q - o
        # (-1 when p is outside the image). The voted pixels are the hole's, then the 1 px ring of
        # known pixels around it (what the fill says they should be: see _membrane); they are
        # laid out like the targets.
        hy, hx = np.nonzero(hole)
        self.Nh = hy.size
        ring = (cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~hole
        ry, rx = np.nonzero(ring)
        self.hy, self.hx = np.concatenate([hy, ry]), np.concatenate([hx, rx])
        hy, hx = self.hy, self.hx
        self.Nv = nh = hy.size
        self.hcw = min(_CW, nh)
        self.hM = -(-nh // self.hcw)
        nhp = self.hM * self.hcw
        hyp, hxp = _pad_to(hy.astype(np.int32), nhp), _pad_to(hx.astype(np.int32), nhp)
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

    def start_from(self, coarse: "_Level", rng: np.random.Generator) -> None:
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
            parts = []
            for group in self._groups(self.Np):
                mx = np.concatenate([bx + ox for _, ox in group])
                my = np.concatenate([by + oy for oy, _ in group])
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
            mx = np.concatenate([bx + ox for _, ox in group]) if g > 1 else bx + group[0][1]
            my = np.concatenate([by + oy for oy, _ in group]) if g > 1 else by + group[0][0]
            src = cv2.remap(self.padded, mx, my, cv2.INTER_NEAREST)
            rows = src.shape[0]
            diff = cv2.absdiff(self.T[row:row + rows], src)
            known = None if self.K is None else self.K[row:row + rows]
            if rows == acc.shape[0]:
                cv2.accumulateSquare(diff, acc, known)
            else:  # the last, shorter group
                part = np.zeros(src.shape, np.float32)
                cv2.accumulateSquare(diff, part, known)
                acc[:rows] += part
            row += rows
        per_pixel = acc.reshape(-1, 3) @ np.ones(3, np.float32)
        d = per_pixel.reshape(g, m * self.cw).sum(axis=0)
        if self.count is not None:  # mean over the known pixels, on the full patch's scale
            d *= len(self.offsets) / np.maximum(self.count, 1.0)
        return d

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


def _pad_to(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` extended to length ``n`` by repeating its first element."""
    if a.size == n:
        return a
    return np.concatenate([a, np.full(n - a.size, a[0], a.dtype)])
