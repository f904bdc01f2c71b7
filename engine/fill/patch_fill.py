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
engine (:func:`engine.fill.run_fill`) crops around the hole and searches at most at 768 px.

On a big photo that working size is a downscale (4 x for a 1500 x 1000 px hole in 24 MP), and an
upscaled fill is visibly soft beside the crisp surroundings. Given the full-resolution crop
(``detail``), the fill is carried up instead: level by level (each about twice the size), the field
is scaled up (source offsets times the scale), the hole is voted with that level's own patches,
the field is refined locally (propagation, plus a 1-2 px random search below the top; no full
search) and voted again; the colour membrane is solved at the top. So the texture is copied at full resolution for
about a dozen extra passes over the hole's box (distances on a stride-2 subset of each patch).
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
    detail: tuple[np.ndarray, np.ndarray] | None = None,
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
    detail : (ndarray, ndarray), optional
        The same picture and hole at a higher resolution (``image`` / ``mask`` are its downscaled
        working copy; the hole in ``mask`` must cover the scaled-down ``detail`` hole). The fill
        found at ``image``'s size is then carried up to it (see :func:`_carry_up`) and the result
        has ``detail``'s size, with texture copied at that resolution instead of upscaled.

    Returns
    -------
    ndarray
        A new ``H x W x 3`` uint8 image (``detail``'s size when given): pixels outside the hole are
        the input's, bit for bit. When no patch lies entirely outside the hole (it covers almost
        everything), the hole is filled with OpenCV's Telea inpainting instead, so there is always
        a full fill.
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
    big = big_hole = None
    if detail is not None:
        big = np.ascontiguousarray(detail[0])
        big_hole = np.asarray(detail[1]) > 0
        if big.ndim != 3 or big.shape[2] != 3 or big.dtype != np.uint8 or big_hole.shape != big.shape[:2]:
            raise ValueError("detail must be an H x W x 3 uint8 image and its H x W mask")
        if big.shape[:2] == img.shape[:2]:
            big = big_hole = None  # nothing to carry up
    out = img.copy() if big is None else big.copy()
    if not hole.any() or (big_hole is not None and not big_hole.any()):
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
        if big_hole is not None:
            hole = big_hole
            filled = cv2.resize(filled, (big.shape[1], big.shape[0]), interpolation=cv2.INTER_CUBIC)
        out[hole] = filled[hole]
        if on_progress is not None:
            on_progress(1, 1)
        return out

    rng = np.random.default_rng(seed)
    n = len(pyramid)
    schedule = [_schedule(i, n) for i in range(n)]  # finest first, like the pyramid
    ladder = [] if big is None else _ladder(img.shape[:2], big.shape[:2], big_hole, r)
    total = sum(em for em, _ in schedule) + (n - 1) + DETAIL_STEPS * len(ladder)
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
    if big is None:
        out[hole] = _adapt_colours(coarse, img)[hole]
        return out
    return _carry_up(coarse, big, big_hole, ladder, rng, check, tick)


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


def _membrane(values: np.ndarray, fixed: np.ndarray, sweeps: int = MEMBRANE_SWEEPS,
              top_sweeps: int | None = None) -> np.ndarray:
    """Harmonic interpolation of ``values`` where ``fixed``: coarse to fine Jacobi relaxation.

    Each level starts from the coarser level's solution, so a few dozen sweeps per level suffice
    for the smooth correction this is used for (``top_sweeps``: fewer on the finest level, when
    it is a big one).
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
        n = sweeps if top_sweeps is None else top_sweeps
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


class _Field:
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


class _Level(_Field):
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


def _pad_to(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` extended to length ``n`` by repeating its first element."""
    if a.size == n:
        return a
    return np.concatenate([a, np.full(n - a.size, a[0], a.dtype)])


# -- carrying the fill up to full resolution -----------------------------------------------------------

MAX_DETAIL_PIXELS = 4_000_000  # a detail level whose hole box (plus patches) is bigger is not built
DETAIL_RANDOM = (2, 1)  # random-search radii (px at the level) of a detail level's search pass
DETAIL_MEMBRANE_SWEEPS = 10  # Jacobi sweeps of the colour membrane on the (big) top level; 30 below it
DETAIL_STEPS = 2  # progress steps per detail level: carried up and voted; refined and voted


def _ladder(small: tuple[int, int], big: tuple[int, int], hole: np.ndarray, r: int) -> list[tuple[int, int]]:
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


def _carry_up(lv: "_Level", big: np.ndarray, big_hole: np.ndarray, ladder: list[tuple[int, int]],
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
    top: _Detail | None = None
    for k, (h, w) in enumerate(ladder):
        check()
        if (h, w) == (H, W):
            im, ho = big, big_hole
        else:
            im = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
            ho = cv2.resize(big_hole.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0
        level = _Detail(im, ho, lv.r, unit=w / lv.W)
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
        fill = _adapt_colours(lv, lv.img)
        fill = cv2.resize(fill, (W, H), interpolation=cv2.INTER_CUBIC)
    else:
        fill = top.adapted()
        if fill.shape[:2] != (H, W):
            fill = cv2.resize(fill, (W, H), interpolation=cv2.INTER_CUBIC)
    out[big_hole] = fill[big_hole]
    return out


def _shift(a: np.ndarray, dy: int, dx: int, fill: int) -> np.ndarray:
    """``out[y, x] = a[y + dy, x + dx]``, ``fill`` where that is outside ``a``."""
    h, w = a.shape
    out = np.full_like(a, fill)
    ys, yd = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy), slice(-dy, h))
    xs, xd = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx), slice(-dx, w))
    out[yd, xd] = a[ys, xs]
    return out


class _Detail(_Field):
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
        self.valid = np.pad(_valid_sources(hole, r), B)  # padded coordinates
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
            self._try(_shift(self.sy, dy, dx, -1) - dy, _shift(self.sx, dy, dx, -1) - dx)
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
        """The level image with the hole's colours adapted to the ring around it (see _adapt_colours)."""
        B = self.B
        hole = self._vbox(np.pad(self.hole, B))
        inside = self._vbox(np.pad(np.ones_like(self.hole), B))
        ring = (cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~hole & inside
        y, x, h, w = self.hbox
        known = self._vbox(cv2.copyMakeBorder(self.img, B, B, B, B, cv2.BORDER_CONSTANT)).astype(np.float32)
        values = np.where(ring[..., None], known - self.voted, 0).astype(np.float32)
        fill = self.voted + _membrane(values, ring, top_sweeps=DETAIL_MEMBRANE_SWEEPS)
        out = self.img.copy()
        vy0, vx0 = y - 1, x - 1
        region = out[max(0, vy0):vy0 + h + 2, max(0, vx0):vx0 + w + 2]
        cut = (slice(max(0, -vy0), max(0, -vy0) + region.shape[0]), slice(max(0, -vx0), max(0, -vx0) + region.shape[1]))
        hc = hole[cut]
        region[hc] = np.clip(np.rint(fill[cut]), 0, 255).astype(np.uint8)[hc]
        return out
