"""``run_fill``: remove what the mask covers without weights or a GPU.

Two kinds of fill: ``"patch"``, an exemplar fill that copies real texture from around the hole
(multi-scale PatchMatch, :mod:`engine.fill.patch_fill`), and OpenCV's diffusion inpainting,
``"telea"`` / ``"ns"`` (Navier-Stokes), which is smooth and fine for small holes but smears big
ones. It is the fallback engine for removal. It takes and returns the same request and result
types as the BrushNet path, with the same blending rule (mask feathered outward only) and the same
``bbox`` meaning. Only a crop around the mask is processed, at most ``MAX_WORK_SIDE`` px long,
and resized back, so a 24 MP photo is quick; the patch fill searches at that size but rebuilds the
hole at the crop's own resolution (see :mod:`engine.fill.patch_fill`), so it stays sharp.
"""

from __future__ import annotations

import secrets
import time
from typing import Callable

import cv2
import numpy as np

from engine.api import Cancelled, Candidate, EditResult, EngineError, InpaintRequest
from engine.fill.patch_fill import patch_fill
from engine.harmonize import harmonize
from engine.inputs import MIN_IMAGE_SIDE, check_image, check_mask, resize_image  # noqa: F401 - MIN_IMAGE_SIDE: old name
from masks import mask_ops

PATCH = "patch"
DIFFUSION_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS, "navier-stokes": cv2.INPAINT_NS}
FILL_METHODS = (PATCH, *DIFFUSION_METHODS)
DEFAULT_METHOD = PATCH  # benchmarks/fill.py: copies texture (Telea smears), PSNR within 0.5 dB
BLEND_KERNEL = 21
HOLE_GROW = 2  # px the hole grows beyond the mask (at full resolution) before filling
PROGRESS_PER_FILL = 20  # progress steps per patch-fill candidate
MAX_WORK_SIDE = 768  # the crop is filled at most at this long side, then resized back
WORK_RADIUS = 5  # px at working resolution; Telea's cost grows with its square
PATCH_CONTEXT = 0.5  # the patch fill copies from a margin of this fraction of the hole's size
FULL_RES_DETAIL = True  # carry the patch fill up to the crop's own resolution (False: upscale it; benchmarks)


MIN_KNOWN_FRACTION = 0.01  # below this share of unmasked pixels there is nothing to copy texture from


def _check(request: InpaintRequest) -> tuple[np.ndarray, np.ndarray]:
    image = check_image(request.image)
    mask = check_mask(request.mask, image.shape)
    if np.count_nonzero(mask == 0) < MIN_KNOWN_FRACTION * mask.size:
        raise EngineError("the mask covers the whole photo: the fill engine copies from around the hole "
                          "and there is nothing around it",
                          "leave part of the photo unmasked, or paint it with the generative engine "
                          "(BrushEdit)", kind="bad-input")
    return image, mask


def _odd(px: float) -> int:
    k = max(3, int(round(px)))
    return k if k % 2 else k + 1


def run_fill(
    request: InpaintRequest,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    method: str = DEFAULT_METHOD,
) -> EditResult:
    """Fill ``request.mask`` of ``request.image`` from its surroundings.

    Parameters
    ----------
    request : InpaintRequest
        Image ``H x W x 3`` uint8 (>= 64 px), mask 255 = remove; the prompt is ignored.
    on_progress : callable, optional
        ``on_progress(step, total)``, increasing: prepare, crop, then per candidate one step
        (``"telea"``/``"ns"``) or :data:`PROGRESS_PER_FILL` steps following its iterations (``"patch"``).
    is_cancelled : callable, optional
        Checked between the steps (and, for ``"patch"``, between its iterations); raises
        :class:`engine.api.Cancelled`.
    method : {"patch", "telea", "ns"}
        ``"patch"`` (the default): exemplar fill copying texture from around the hole (a crop of half the hole's
        size around it), see :func:`engine.fill.patch_fill.patch_fill`. ``"telea"`` /
        ``"ns"``: OpenCV's Telea (fast marching) or Navier-Stokes inpainting (smooth).

    Returns
    -------
    EditResult
        ``engine="fill"``, ``params.num_candidates`` full-size candidates. With ``"patch"``,
        candidate ``i`` is the fill with seed ``seed + i`` (``params.seed``, or a random one when
        it is None), and ``run_fill`` with that seed alone gives the same pixels. With
        ``"telea"`` / ``"ns"`` each candidate is a different variant (Telea / Navier-Stokes,
        small / wide neighbourhood; see :func:`fill_variants`) since those fills are
        deterministic; ``seed + i`` only numbers them. Each ``bbox`` is the mask's bounding box
        grown by the feather; pixels outside it equal the input's.
    """
    t0 = time.perf_counter()
    if method not in FILL_METHODS:
        raise EngineError(f"unknown fill method {method!r}; use one of {sorted(FILL_METHODS)}", kind="bad-input")
    p = request.params
    n = max(1, int(p.num_candidates))
    exemplar = method == PATCH
    variants = [(PATCH, 0)] * n if exemplar else fill_variants(method, n)
    # A patch candidate takes a second or more: report its iterations too, as PROGRESS_PER_FILL
    # sub-steps, so the bar moves smoothly; a diffusion candidate is one step.
    per = PROGRESS_PER_FILL if exemplar else 1
    total = 2 + n * per
    last = -1

    def step(i: int) -> None:
        nonlocal last
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        if on_progress is not None and i > last:
            last = i
            on_progress(i, total)

    def inner(i: int) -> Callable[[int, int], None]:
        def report(done: int, of: int) -> None:
            if on_progress is not None and of > 0:
                step(2 + i * per + min(per - 1, done * per // of))
        return report

    image, mask = _check(request)
    step(0)
    H, W = mask.shape
    bx, by, bw, bh = mask_ops.bbox(mask)
    # The crop needs the feather ring plus a border of known pixels to fill from; the patch fill
    # copies texture from that border, so it gets a wider one.
    context = int(max(bw, bh) * PATCH_CONTEXT) if exemplar else max(bw, bh) // 8
    margin = BLEND_KERNEL + max(16, context)
    x0, y0 = max(0, bx - margin), max(0, by - margin)
    x1, y1 = min(W, bx + bw + margin), min(H, by + bh + margin)
    crop, cmask = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    ch, cw = cmask.shape
    s = min(1.0, MAX_WORK_SIDE / max(cw, ch))
    # The hole is grown a little beyond the mask: a tight mask (a SAM click) ends where the object's
    # anti-aliased edge begins, and that fringe must be filled over, not copied into the fill.
    # Pixels beyond the feather stay the input's (the blend below uses the mask as given).
    full_hole = mask_ops.dilate(cmask, HOLE_GROW)
    if s < 1.0:
        ww, wh = max(8, int(round(cw * s))), max(8, int(round(ch * s)))
        small = resize_image(crop, ww, wh, shrink=True)
        smask = np.where(mask_ops.resize(full_hole, ww, wh, smooth=True) > 0, 255, 0).astype(np.uint8)
        # Grow the hole a little so no original pixel under the mask leaks into the fill.
        smask = mask_ops.dilate(smask, 1)
        if int(round(1 / s)) > HOLE_GROW:  # as much as that 1 px at the working size
            full_hole = mask_ops.dilate(cmask, int(round(1 / s)))
    else:
        small, smask = crop, full_hole
    kernel = BLEND_KERNEL if p.blend else 0
    alpha8 = mask_ops.feather_outward(cmask, kernel) if kernel > 1 else cmask
    a = (alpha8.astype(np.float32) / 255.0)[..., None]
    keep = alpha8 == 0
    reach = kernel // 2 + 1 if kernel > 1 else 0
    bx0, by0 = max(0, bx - reach), max(0, by - reach)
    bbox = (bx0, by0, min(W, bx + bw + reach) - bx0, min(H, by + bh + reach) - by0)
    if p.seed is not None:
        seed = int(p.seed)
    else:  # the patch fill is random: pick a seed and report it, as the BrushNet path does
        seed = secrets.randbelow(2**31 - 1 - n) if exemplar else 0
    step(1)
    candidates = []
    for i, (name, radius) in enumerate(variants):
        if name == PATCH:
            # Searched at the working size, then carried up to the crop's resolution, so the hole
            # gets full-resolution texture rather than an upscaled (soft) one.
            detail = (crop, full_hole) if s < 1.0 and FULL_RES_DETAIL else None
            filled = patch_fill(np.ascontiguousarray(small), smask, seed=seed + i, is_cancelled=is_cancelled,
                                on_progress=inner(i), detail=detail)
        else:
            filled = cv2.inpaint(np.ascontiguousarray(small), smask, radius, DIFFUSION_METHODS[name])
        filled = resize_image(filled, cw, ch, shrink=False)
        filled = harmonize(crop, filled, cmask, p.harmonize, feather=kernel)  # the seam's colour cast
        # Only the bbox (the mask grown by the feather) can change: blend there, in place in the
        # copy. The crop around it is context for the fill, up to several times the bbox's area.
        out = image.copy()
        sub = np.s_[bbox[1] - y0:bbox[1] - y0 + bbox[3], bbox[0] - x0:bbox[0] - x0 + bbox[2]]
        sa, sk, orig = a[sub], keep[sub], crop[sub]
        patch = np.clip(np.rint(orig.astype(np.float32) * (1 - sa) + filled[sub].astype(np.float32) * sa),
                        0, 255).astype(np.uint8)
        patch[sk] = orig[sk]
        out[bbox[1]:bbox[1] + bbox[3], bbox[0]:bbox[0] + bbox[2]] = patch
        candidates.append(Candidate(image=out, seed=seed + i, bbox=bbox))
        step(2 + (i + 1) * per - 1)
    step(total)
    model = "patchmatch" if exemplar else "opencv-" + "+".join(dict.fromkeys(name for name, _ in variants))
    return EditResult(request=request, candidates=tuple(candidates), engine="fill", model=model,
                      seconds=time.perf_counter() - t0)


def fill_variants(method: str, n: int) -> list[tuple[str, int]]:
    """The ``(method, radius)`` of each of ``n`` candidates of a diffusion ``method`` ("telea" or
    "ns"): the chosen method first, then the other one, then both again with a wider neighbourhood. Candidate ``i`` is always the same
    variant; its "seed" ``seed + i`` only numbers it (the fill has no randomness)."""
    first = "ns" if DIFFUSION_METHODS[method] == cv2.INPAINT_NS else "telea"
    other = "telea" if first == "ns" else "ns"
    cycle = [(first, WORK_RADIUS), (other, WORK_RADIUS), (first, 3 * WORK_RADIUS), (other, 3 * WORK_RADIUS)]
    return [cycle[i % len(cycle)] for i in range(n)]
