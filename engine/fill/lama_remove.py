"""``run_lama``: remove what the mask covers with LaMa, on a crop around the mask.

We work on the mask's bounding box plus a margin of context and paste the result back with the
same rule as the other painters: the mask feathered outward only (Gaussian 21 px), every pixel beyond
the feather the input's, bit for bit.

How many passes. Big-lama was trained on 256 px crops and generalises to higher resolutions (the
paper's point, thanks to the Fourier units' image-wide receptive field); IOPaint runs it once at the
crop's own size (padded to a multiple of 8), whatever that size. So a crop whose long side is at most
:data:`WORK_SIDE` (4 x the training side) runs **once, at its own size**: nothing is downscaled, so a
finer pass would have no detail to add, and a second pass would only cost time. A larger crop (a big
hole on a big photo) runs coarse to fine: the finest level at the crop's size (at most
:data:`FINE_MAX_SIDE`), and below it levels of half the side until one is at most ``WORK_SIDE``;
each finer level keeps the coarser level's low frequencies (the structure, decided where the hole
is at most a few training crops across) and adds only its own high frequencies (the detail):
``fine_level = upsampled(coarse) + (fine - upsampled(downsampled(fine)))`` inside the hole. The
rule, the measurements behind it and its cost are in ``docs/design/lama.md``.

LaMa is deterministic: the same crop gives the same pixels. So the "seed" picks the amount of
context instead: candidate ``i`` of a request with seed ``s`` (0 when unset) uses variant ``s + i``
of :data:`CONTEXT_STEPS`, which changes what the network sees and so the fill, and reports ``s + i``
as its seed. The editor's "More" asks for the next seeds, so it gets different fills, not copies;
the result's ``model`` says so.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from engine.api import Cancelled, Candidate, EditResult, InpaintRequest
from engine.harmonize import harmonize
from engine.inputs import check_image, check_mask, resize_image
from masks import mask_ops

WORK_SIDE = 1024  # a crop up to this long side runs once at its own size; above, the coarsest level's at most
FINE_MAX_SIDE = 1536  # the finest coarse-to-fine level works at most at this long side (then upscaled)
BLEND_KERNEL = 21  # the same feather as the BrushNet path and the fill engine
HOLE_GROW = 2  # px the hole grows beyond the mask, over the object's anti-aliased fringe
CONTEXT = 0.5  # margin around the mask's box, as a fraction of its long side
MIN_MARGIN = 48  # px of context at least (the feather alone takes 11)
CONTEXT_STEPS = (1.0, 0.6, 1.6, 0.35, 2.4)  # per variant (seed): the margin's factor
MAX_CONTEXT_FACTOR = 4.0
MODEL_NAME = "big-lama (deterministic: each seed varies the context)"


def context_factor(variant: int) -> float:
    """The margin's factor for context variant ``variant`` (the candidate's seed)."""
    cycle, k = divmod(max(0, int(variant)), len(CONTEXT_STEPS))
    return min(MAX_CONTEXT_FACTOR, CONTEXT_STEPS[k] * (1 + cycle))


def _check(request: InpaintRequest) -> tuple[np.ndarray, np.ndarray]:
    image = check_image(request.image)
    return image, check_mask(request.mask, image.shape)


def lama_inpaint(model, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """LaMa's fill of ``hole`` (bool or 0/255, ``H x W``) in ``image`` (uint8 ``H x W x 3``).

    Returns the generator's output as ``H x W x 3`` float32 in [0, 1] (everywhere, not composited).
    """
    import torch

    param = next(model.parameters())
    cpu = param.device.type == "cpu"
    if cpu and param.ndim == 4 and not param.is_contiguous(memory_format=torch.channels_last):
        # oneDNN's convolutions are faster channels-last on the CPU (a 600 px pass 8.8 -> 7.5 s on one
        # core, the output within 1e-7): converted once, in place, on first use.
        model.to(memory_format=torch.channels_last)
    x = torch.from_numpy(np.ascontiguousarray(image)).to(param.device).permute(2, 0, 1)[None]
    x = x.to(param.dtype) / 255.0
    if cpu:
        x = x.contiguous(memory_format=torch.channels_last)
    m = torch.from_numpy(np.ascontiguousarray(hole > 0)).to(param.device)[None, None].to(param.dtype)
    with torch.inference_mode():
        out = model(x, m)
    return out[0].permute(1, 2, 0).float().cpu().numpy()


def _level_sizes(cw: int, ch: int, work_side: int) -> list[tuple[int, int]]:
    """Working sizes, coarse to fine: the crop's own size when its long side is at most ``work_side``
    (one pass); else the finest at the crop's size (at most ``FINE_MAX_SIDE``) below which each level
    halves the side until one is at most ``work_side``."""
    long = max(cw, ch)
    sides = [min(long, max(FINE_MAX_SIDE, work_side))]
    while sides[0] > work_side:
        sides.insert(0, sides[0] / 2)
    return [(max(16, int(round(cw * side / long))), max(16, int(round(ch * side / long)))) for side in sides]


def fill_crop(model, crop: np.ndarray, hole: np.ndarray, work_side: int = WORK_SIDE,
              is_cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """The coarse-to-fine LaMa fill of ``crop`` at its own size: ``H x W x 3`` float32 in [0, 255]."""
    ch, cw = hole.shape
    result = None
    previous = None
    for ww, wh in _level_sizes(cw, ch, work_side):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        small = resize_image(crop, ww, wh, shrink=True)
        # Any coverage counts: a thin stroke must not vanish at the working size.
        shole = mask_ops.resize(hole, ww, wh, smooth=True) > 0
        if (ww, wh) != (cw, ch):
            shole = mask_ops.dilate(np.where(shole, 255, 0).astype(np.uint8), 1) > 0
        fine = lama_inpaint(model, small, shole) * 255.0
        if previous is not None:
            pw, ph = previous.shape[1], previous.shape[0]
            low = resize_image(resize_image(fine, pw, ph, shrink=True), ww, wh, shrink=False)
            fine = np.where(shole[..., None], resize_image(previous, ww, wh, shrink=False) + (fine - low), fine)
        previous = fine
        result = fine
    return resize_image(result, cw, ch, shrink=False)


def run_lama(
    model,
    request: InpaintRequest,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    work_side: int = WORK_SIDE,
) -> EditResult:
    """Remove ``request.mask`` from ``request.image`` with a loaded :class:`~engine.fill.lama.LaMa`.

    Parameters
    ----------
    model : LaMa
        From :func:`engine.fill.lama.load_lama`.
    request : InpaintRequest
        Image ``H x W x 3`` uint8 (>= 64 px), mask 255 = remove; the prompt is ignored.
    on_progress, is_cancelled : callable, optional
        ``on_progress(step, total)`` per candidate; ``is_cancelled`` is checked between passes.
    work_side : int
        The longest side LaMa runs at in one pass (see :func:`_level_sizes`).

    Returns
    -------
    EditResult
        ``engine="lama"``; ``params.num_candidates`` full-size candidates, candidate ``i`` with seed
        ``seed + i`` filled with the context margin scaled by ``context_factor(seed + i)``; each
        ``bbox`` is the mask's box grown by the feather, and every pixel outside it equals the input's.
    """
    t0 = time.perf_counter()
    image, mask = _check(request)
    p = request.params
    n = max(1, int(p.num_candidates))
    total = n + 1

    def step(i: int) -> None:
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        if on_progress is not None:
            on_progress(i, total)

    step(0)
    H, W = mask.shape
    bx, by, bw, bh = mask_ops.bbox(mask)
    kernel = BLEND_KERNEL if p.blend else 0
    reach = kernel // 2 + 1 if kernel > 1 else 0
    bx0, by0 = max(0, bx - reach), max(0, by - reach)
    bbox = (bx0, by0, min(W, bx + bw + reach) - bx0, min(H, by + bh + reach) - by0)
    first = int(p.seed) if p.seed is not None else 0
    candidates = []
    for i in range(n):
        factor = context_factor(first + i)
        margin = max(MIN_MARGIN, reach + 8, int(max(bw, bh) * CONTEXT * factor))
        x0, y0 = max(0, bx - margin), max(0, by - margin)
        x1, y1 = min(W, bx + bw + margin), min(H, by + bh + margin)
        crop, cmask = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
        hole = mask_ops.dilate(cmask, HOLE_GROW) > 0
        filled = fill_crop(model, crop, hole, work_side, is_cancelled)
        candidates.append(Candidate(image=paste(image, filled, cmask, (x0, y0), bbox, kernel, p.harmonize),
                                    seed=first + i, bbox=bbox))
        step(i + 1)
    return EditResult(request=request, candidates=tuple(candidates), engine="lama",
                      model=MODEL_NAME,
                      seconds=time.perf_counter() - t0)


def paste(image: np.ndarray, filled: np.ndarray, cmask: np.ndarray, origin: tuple[int, int],
          bbox: tuple[int, int, int, int], kernel: int, harmonize_strength: float = 1.0) -> np.ndarray:
    """``image`` with ``filled`` (the crop at ``origin``) harmonized (:func:`engine.harmonize.harmonize`)
    and blended in through ``cmask`` feathered outward by ``kernel``; only ``bbox`` is touched and
    pixels with zero weight stay bit-exact."""
    x0, y0 = origin
    if harmonize_strength > 0:  # on the 8-bit fill, as every painter's result
        filled = harmonize(image[y0:y0 + cmask.shape[0], x0:x0 + cmask.shape[1]],
                           np.clip(np.rint(filled), 0, 255).astype(np.uint8), cmask, harmonize_strength, feather=kernel)
    alpha8 = mask_ops.feather_outward(cmask, kernel) if kernel > 1 else cmask
    out = image.copy()
    bx, by, bw, bh = bbox
    sub = np.s_[by - y0:by - y0 + bh, bx - x0:bx - x0 + bw]
    a = (alpha8[sub].astype(np.float32) / 255.0)[..., None]
    orig = image[by:by + bh, bx:bx + bw]
    patch = np.clip(np.rint(orig.astype(np.float32) * (1 - a) + filled[sub] * a), 0, 255).astype(np.uint8)
    keep = alpha8[sub] == 0
    patch[keep] = orig[keep]
    out[by:by + bh, bx:bx + bw] = patch
    return out
