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
# The pieces live beside this entry; their tunables stay importable from here.
from engine.fill.detail import (  # noqa: F401
    DETAIL_MEMBRANE_SWEEPS, DETAIL_RANDOM, DETAIL_STEPS, MAX_DETAIL_PIXELS, carry_up, detail_ladder)
from engine.fill.membrane import MEMBRANE_SWEEPS, adapt_colours  # noqa: F401
from engine.fill.nnf import (  # noqa: F401
    CONFIDENCE_BASE, COARSEST_THICKNESS, DEPTH_CAP, GROUP_PIXELS, MIN_COARSE_SIDE, MIN_SOURCES,
    PEEL_MAX_LAYERS, PEEL_POWER, SIGMA_SCALE, Level, build_pyramid, count_targets)

PATCH_SIZE = 7
MAX_START_TARGETS = 60_000  # a coarsest level bigger than this (a vast hole, a thin frame): Telea


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
        found at ``image``'s size is then carried up to it (see :func:`carry_up`) and the result
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
    pyramid = build_pyramid(img, hole, r)
    start = None
    if pyramid is not None:
        coarsest = pyramid[-1][1]
        depth = float(cv2.distanceTransform(coarsest.astype(np.uint8), cv2.DIST_L2, 3).max())
        if depth <= r * PEEL_MAX_LAYERS:
            start = "peel"
        elif count_targets(coarsest, r) <= MAX_START_TARGETS:
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
    ladder = [] if big is None else detail_ladder(img.shape[:2], big.shape[:2], big_hole, r)
    total = sum(em for em, _ in schedule) + (n - 1) + DETAIL_STEPS * len(ladder)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    coarse: Level | None = None
    for i in range(n - 1, -1, -1):
        check()
        lv = Level(pyramid[i][0], pyramid[i][1], r)
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
        out[hole] = adapt_colours(coarse, img)[hole]
        return out
    return carry_up(coarse, big, big_hole, ladder, rng, check, tick)



def _schedule(level: int, n: int) -> tuple[int, int]:
    """(EM iterations, PatchMatch iterations per EM) at ``level`` (0 = finest) of ``n``."""
    if n == 1:
        return 6, 2
    t = level / (n - 1)  # 0 at the finest, 1 at the coarsest
    return int(round(2 + 6 * t)), (3 if level == n - 1 else 1)
