"""``run_inpaint``: the whole product path from an :class:`engine.api.InpaintRequest` to an
:class:`engine.api.EditResult` (checks, resolution policy, candidates, blending, progress, cancel)."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import Callable

import numpy as np

from engine.api import AUTO_CANDIDATES, Cancelled, Candidate, EditResult, EngineError, InpaintRequest
from engine.brushnet.blending import feather_reach, grown_bbox
from engine.brushnet.resolution import plan_region
from engine.harmonize import harmonize, paste_back
from engine.inputs import MAX_CANDIDATES, MIN_IMAGE_SIDE, check_image, check_mask, resize_image  # noqa: F401
from masks import mask_ops

# The shared input checks moved to engine.inputs; their old names here stay importable.
_resize = resize_image


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

    t0 = time.perf_counter()
    model = getattr(pipe, "model_name", "") or "brushnet"
    # 1. Check inputs
    if request.params.num_candidates == AUTO_CANDIDATES:  # no memory plan here (the Engine resolves it)
        request = replace(request, params=replace(request.params, num_candidates=1))
    image = check_image(request.image)
    mask = check_mask(request.mask, image.shape)
    p = request.params
    check_params(p)
    if is_cancelled is not None and is_cancelled():
        raise Cancelled()

    # 2. Seeds and sampling
    seed = int(p.seed) if p.seed is not None else secrets.randbelow(2**31 - 1 - MAX_CANDIDATES)
    seeds = [seed + i for i in range(p.num_candidates)]
    strength, conditioning_scale = sampling_for(request)
    if int(p.steps * strength) == 0:  # nothing to repaint: the photo, bit for bit
        whole = (0, 0, image.shape[1], image.shape[0])
        candidates = tuple(Candidate(image=image.copy(), seed=s, bbox=whole) for s in seeds)
        return EditResult(request=request, candidates=candidates, engine="brushedit", model=model,
                          seconds=time.perf_counter() - t0)

    # 3. The region painted, at its working size
    region = plan_region(image.shape, mask, p.resolution_mode, p.working_size)
    x, y, cw, ch = region.rect
    ww, wh = region.work_size
    work_img = resize_image(image[y:y + ch, x:x + cw], ww, wh)
    # Area-resize then any-coverage threshold keeps thin strokes that nearest-neighbour would drop.
    work_mask = np.where(mask_ops.resize(mask[y:y + ch, x:x + cw], ww, wh, smooth=True) > 0, 255, 0).astype(np.uint8)
    _tile_vae_above_1024(pipe.vae, ww, wh)

    # 4. Paint
    out = pipe(
        prompt=request.prompt, image=work_img, mask=work_mask, negative_prompt=negative_prompt_for(request),
        num_inference_steps=p.steps, guidance_scale=p.guidance, brushnet_conditioning_scale=conditioning_scale,
        control_guidance_start=p.control_guidance_start, control_guidance_end=p.control_guidance_end,
        strength=strength, num_images_per_prompt=p.num_candidates,
        generator=[torch.Generator("cpu").manual_seed(s) for s in seeds], blend_result=False, output_type="np",
        callback_on_step_end=_step_callback(p.steps, region.rect, on_progress, on_preview, is_cancelled),
    )
    if out.interrupted:
        raise Cancelled()

    # 5. Paste back into the full photo
    candidates = _paste_candidates(image, mask, region, out.images, seeds, p)
    return EditResult(request=request, candidates=candidates, engine="brushedit", model=model,
                      seconds=time.perf_counter() - t0, work_size=(int(ww), int(wh)))


def _tile_vae_above_1024(vae, width: int, height: int) -> None:
    if max(width, height) > 1024 and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    elif hasattr(vae, "disable_tiling"):
        vae.disable_tiling()


def _step_callback(steps: int, rect, on_progress, on_preview, is_cancelled):
    """The pipeline's ``callback_on_step_end``: progress, a preview of the first candidate, cancel."""
    from engine.brushnet.preview import latents_to_rgb

    def on_step(pipe_, i, t, tensors):
        total = getattr(pipe_, "_num_timesteps", steps)
        if on_progress is not None:
            on_progress(i + 1, total)
        if on_preview is not None and "latents" in tensors:
            on_preview(latents_to_rgb(tensors["latents"][0]), i + 1, rect)
        if is_cancelled is not None and is_cancelled():
            pipe_._interrupt = True
        return {}

    return on_step


def _paste_candidates(image, mask, region, painted, seeds, params) -> tuple[Candidate, ...]:
    """Each painted working-size image back at the region's size, pasted into a copy of ``image``."""
    x, y, cw, ch = region.rect
    crop, cmask = image[y:y + ch, x:x + cw], mask[y:y + ch, x:x + cw]
    if params.blend:
        bbox = grown_bbox(mask, feather_reach(region.blend_kernel), region.rect)
    else:
        bbox = region.rect
    candidates = []
    bx, by, bw, bh = bbox
    for s, work_painted in zip(seeds, painted):
        back = resize_image(work_painted, cw, ch)
        full = image.copy()
        if params.blend:
            # Only the bbox can change: blend there (the feathered mask is 0 at its edges), which keeps
            # a whole-image edit of a 24 MP photo from mixing 24 MP of floats.
            sub = (slice(by, by + bh), slice(bx, bx + bw))
            full[sub] = paste_back(image[sub], back[by - y:by - y + bh, bx - x:bx - x + bw], mask[sub],
                                   kernel=region.blend_kernel, harmonize_strength=params.harmonize)
        else:
            full[y:y + ch, x:x + cw] = harmonize(crop, back, cmask, params.harmonize, feather=0)
        candidates.append(Candidate(image=full, seed=s, bbox=bbox))
    return tuple(candidates)
