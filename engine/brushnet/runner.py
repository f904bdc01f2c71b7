"""``run_inpaint``: the whole product path from an :class:`engine.api.InpaintRequest` to an
:class:`engine.api.EditResult` (checks, resolution policy, candidates, blending, progress, cancel)."""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import replace
from typing import Callable

import cv2
import numpy as np

from engine.api import AUTO_CANDIDATES, Cancelled, Candidate, EditResult, EngineError, InpaintRequest
from engine.brushnet.blending import feather_reach
from engine.brushnet.resolution import plan_region
from engine.harmonize import harmonize, paste_back
from masks import mask_ops

MIN_IMAGE_SIDE = 64
MAX_CANDIDATES = 16


def check_image(image) -> np.ndarray:
    """Return ``image`` as ``H x W x 3`` uint8, or raise ``EngineError(kind="bad-input")``."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise EngineError(f"the image must be H x W x 3, got shape {arr.shape}", kind="bad-input")
    if arr.dtype != np.uint8:
        raise EngineError(f"the image must be 8-bit (uint8), got {arr.dtype}", kind="bad-input")
    h, w = arr.shape[:2]
    if min(h, w) < MIN_IMAGE_SIDE:
        raise EngineError(f"the image is {w} x {h} px; at least {MIN_IMAGE_SIDE} px on each side is needed",
                          kind="bad-input")
    return np.ascontiguousarray(arr[..., :3])


def check_mask(mask, shape: tuple[int, ...]) -> np.ndarray:
    """Return a binary (0/255) ``H x W`` mask for an image of ``shape``.

    A mask of another size is resized with a warning; an empty mask raises ``EngineError``.
    """
    try:
        m = mask_ops.as_mask(mask)
    except ValueError as exc:
        raise EngineError(f"bad mask: {exc}", kind="bad-input") from exc
    h, w = int(shape[0]), int(shape[1])
    if m.shape != (h, w):
        warnings.warn(f"mask is {m.shape[1]} x {m.shape[0]} px, image {w} x {h} px: resizing the mask",
                      stacklevel=3)
        m = mask_ops.resize(m, w, h, smooth=True)
    m = np.where(m > 0, np.uint8(255), np.uint8(0))  # uint8 throughout: 24 MP masks stay cheap
    if not m.any():
        raise EngineError("the mask is empty: paint or select the region to change", kind="bad-input")
    return m


def sampling_for(request: InpaintRequest) -> tuple[float, float]:
    """``(strength, conditioning_scale)`` for ``request``'s category.

    A global edit (style, season, time of day) is SD1.5 image-to-image over the whole photo: its
    latents noised to ``global_strength``, BrushNet scaled out, since no BrushNet condition means
    "keep the layout, change the look" (an all-hole one paints a new picture, an all-keep one
    copies the photo back). Every other category inpaints the mask as asked. The rule lives on
    :meth:`InpaintRequest.effective_sampling`, so provenance records what ran.
    """
    return request.effective_sampling()


def negative_prompt_for(request: InpaintRequest) -> str:
    """The negative prompt to paint ``request`` with: a removal also names the removed object, so
    it does not grow back (whoever built the request, planner, CLI or editor, may have left it out).
    See :meth:`InpaintRequest.effective_negative_prompt`."""
    return request.effective_negative_prompt()


def check_params(params) -> None:
    if params.steps < 1:
        raise EngineError(f"steps must be at least 1, got {params.steps}", kind="bad-input")
    if not 1 <= params.num_candidates <= MAX_CANDIDATES:
        raise EngineError(f"candidates must be 1..{MAX_CANDIDATES}, got {params.num_candidates}", kind="bad-input")
    if params.working_size < 64:
        raise EngineError(f"working size must be at least 64 px, got {params.working_size}", kind="bad-input")
    if params.resolution_mode not in ("crop", "whole"):
        raise EngineError(f"unknown resolution mode {params.resolution_mode!r}", kind="bad-input")


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    if img.shape[1] == w and img.shape[0] == h:
        return img
    shrink = w <= img.shape[1] and h <= img.shape[0]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def grown_bbox(mask: np.ndarray, reach: int, within: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The mask's bounding box grown by ``reach`` px and clipped to the rectangle ``within``."""
    x, y, w, h = mask_ops.bbox(mask)
    x0, y0 = max(within[0], x - reach), max(within[1], y - reach)
    x1 = min(within[0] + within[2], x + w + reach)
    y1 = min(within[1] + within[3], y + h + reach)
    return x0, y0, x1 - x0, y1 - y0


def run_inpaint(
    pipe,
    request: InpaintRequest,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    on_preview: Callable[[np.ndarray, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> EditResult:
    """Paint ``request.mask`` of ``request.image`` with a :class:`BrushNetPipeline`.

    Parameters
    ----------
    pipe : BrushNetPipeline
        From :func:`engine.brushnet.load_pipeline` (or the tiny test pipeline).
    request : InpaintRequest
        Image (``H x W x 3`` uint8, any size >= 64 px), mask (255 = repaint), prompt and params.
    on_progress : callable, optional
        ``on_progress(step, total)`` after every denoising step.
    on_preview : callable, optional
        ``on_preview(rgb_uint8, step, rect)``: a cheap linear latent->RGB preview of the first
        candidate, and the region ``(x, y, w, h)`` of the image it shows.
    is_cancelled : callable, optional
        Polled every step; when it returns True the pipeline stops within one step.

    Returns
    -------
    EditResult
        ``engine="brushedit"``; one full-size candidate per seed ``seed + i``; each ``bbox`` is the
        region that may differ from the input.

    Raises
    ------
    engine.api.EngineError
        ``kind="bad-input"`` for an empty mask, an image under 64 px or bad parameters.
    engine.api.Cancelled
        When ``is_cancelled`` returned True.
    """
    import torch

    from engine.brushnet.preview import latents_to_rgb

    t0 = time.perf_counter()
    if request.params.num_candidates == AUTO_CANDIDATES:  # no memory plan here (the Engine resolves it)
        request = replace(request, params=replace(request.params, num_candidates=1))
    image = check_image(request.image)
    mask = check_mask(request.mask, image.shape)
    p = request.params
    check_params(p)
    if is_cancelled is not None and is_cancelled():
        raise Cancelled()

    seed = int(p.seed) if p.seed is not None else secrets.randbelow(2**31 - 1 - MAX_CANDIDATES)
    seeds = [seed + i for i in range(p.num_candidates)]
    strength, conditioning_scale = sampling_for(request)
    if int(p.steps * strength) == 0:  # nothing to repaint: the photo, bit for bit
        whole = (0, 0, image.shape[1], image.shape[0])
        candidates = tuple(Candidate(image=image.copy(), seed=s, bbox=whole) for s in seeds)
        return EditResult(request=request, candidates=candidates, engine="brushedit",
                          model=getattr(pipe, "model_name", "") or "brushnet",
                          seconds=time.perf_counter() - t0)
    region = plan_region(image.shape, mask, p.resolution_mode, p.working_size)
    x, y, cw, ch = region.rect
    ww, wh = region.work_size
    crop, cmask = image[y:y + ch, x:x + cw], mask[y:y + ch, x:x + cw]
    work_img = _resize(crop, ww, wh)
    # Area-resize then any-coverage threshold keeps thin strokes that nearest-neighbour would drop.
    work_mask = np.where(mask_ops.resize(cmask, ww, wh, smooth=True) > 0, 255, 0).astype(np.uint8)

    vae = pipe.vae
    if max(ww, wh) > 1024 and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    elif hasattr(vae, "disable_tiling"):
        vae.disable_tiling()

    def on_step(pipe_, i, t, tensors):
        total = getattr(pipe_, "_num_timesteps", p.steps)
        if on_progress is not None:
            on_progress(i + 1, total)
        if on_preview is not None and "latents" in tensors:
            on_preview(latents_to_rgb(tensors["latents"][0]), i + 1, region.rect)
        if is_cancelled is not None and is_cancelled():
            pipe_._interrupt = True
        return {}

    generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
    out = pipe(
        prompt=request.prompt, image=work_img, mask=work_mask, negative_prompt=negative_prompt_for(request),
        num_inference_steps=p.steps, guidance_scale=p.guidance, brushnet_conditioning_scale=conditioning_scale,
        control_guidance_start=p.control_guidance_start, control_guidance_end=p.control_guidance_end,
        strength=strength, num_images_per_prompt=p.num_candidates, generator=generators,
        blend_result=False, output_type="np", callback_on_step_end=on_step,
    )
    if out.interrupted:
        raise Cancelled()

    if p.blend:
        bbox = grown_bbox(mask, feather_reach(region.blend_kernel), region.rect)
    else:
        bbox = region.rect
    candidates = []
    bx, by, bw, bh = bbox
    for s, painted in zip(seeds, out.images):
        back = _resize(painted, cw, ch)
        full = image.copy()
        if p.blend:
            # Only the bbox can change: blend there (the feathered mask is 0 at its edges), which keeps
            # a whole-image edit of a 24 MP photo from mixing 24 MP of floats.
            sub = (slice(by, by + bh), slice(bx, bx + bw))
            full[sub] = paste_back(image[sub], back[by - y:by - y + bh, bx - x:bx - x + bw], mask[sub],
                                   kernel=region.blend_kernel, harmonize_strength=p.harmonize)
        else:
            full[y:y + ch, x:x + cw] = harmonize(crop, back, cmask, p.harmonize, feather=0)
        candidates.append(Candidate(image=full, seed=s, bbox=bbox))
    return EditResult(request=request, candidates=tuple(candidates), engine="brushedit",
                      model=getattr(pipe, "model_name", "") or "brushnet", seconds=time.perf_counter() - t0,
                      work_size=(int(ww), int(wh)))
