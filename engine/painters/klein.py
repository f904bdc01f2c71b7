"""FLUX.2 [klein] 4B as a painter: masked edits through ``Flux2KleinInpaintPipeline``, whole-image
instruction edits through ``Flux2KleinPipeline`` with the photo as the reference image.

Rules (see docs/design/painters.md):

- **Working size.** klein works at about 1 MP (its pipelines shrink anything larger to 1024 x 1024
  of area) in multiples of 16 (VAE 8x, then 2x2 latent patches). A masked edit paints the mask's
  crop (BrushNet's crop rule, :func:`engine.brushnet.resolution.plan_region`) at
  ``params.klein_working_size`` on the long side, rounded to 16; a whole-image edit paints the photo
  at its aspect ratio, long side the same, rounded to 16.
- **Far pixels.** Every candidate is pasted back as every painter's is (:func:`engine.harmonize.paste_back`:
  the colour match at the seam, then the outward-feathered blend): beyond the feather, pixels are the
  photo's bit for bit.
  A whole-image edit repaints everything its mask covers (all of it, for an instruction edit); the
  photo's size is kept.
- **Staged.** The prompt is encoded first (the text encoder comes onto the device, encodes, and
  leaves it), then the transformer denoises and the VAE decodes: Qwen3-4B and the transformer are
  never on the card together. On the CPU the moves are no-ops; the order is the same.
- **Removal** keeps the object out of the prompt (klein, step-distilled, has no negative prompt).
- **Cancel** lands within one step: the step callback sets the pipeline's interrupt flag and stops
  the loop there, before the remaining steps and the VAE decode.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path


import numpy as np

from engine.api import Cancelled, Candidate, EditResult, EngineError
from engine.painters.base import PaintJob, Painted, WhatRan, with_ran

log = logging.getLogger("brushedit.engine")

NAME = "klein"
MODEL_NAME = "flux2-klein-4b"
MULTIPLE = 16  # VAE 8x downsampling, then 2x2 latent patches
MAX_AREA = 1024 * 1024  # the pipelines shrink larger images to this area
WHOLE_IMAGE = ("global",)  # categories painted as instruction edits of the whole photo
REMOVAL_PROMPT = "empty background, nothing there"
# Qwen3's chat template as far as the klein pipelines use it (one user turn, no thinking), for a
# tokenizer folder whose template is in a file we do not download.
_QWEN3_TEMPLATE = (
    "{%- for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n"
    "{%- if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{%- endif %}"
    "{%- endif %}"
)


class _Stop(Exception):
    """Raised from the step callback to leave the denoising loop at once (cancel)."""


def work_size(w: int, h: int, long_side: int) -> tuple[int, int]:
    """``(w, h)`` at the aspect ratio of ``w x h``, long side ``long_side``, multiples of 16, at most 1 MP."""
    long_side = max(4 * MULTIPLE, int(long_side))
    s = long_side / max(w, h)
    if w * h * s * s > MAX_AREA:
        s = (MAX_AREA / (w * h)) ** 0.5
    ww = max(4 * MULTIPLE, int(round(w * s / MULTIPLE)) * MULTIPLE)
    wh = max(4 * MULTIPLE, int(round(h * s / MULTIPLE)) * MULTIPLE)
    if ww * wh > MAX_AREA:  # rounding up went past 1 MP: round down instead
        ww = max(4 * MULTIPLE, int(w * s) // MULTIPLE * MULTIPLE)
        wh = max(4 * MULTIPLE, int(h * s) // MULTIPLE * MULTIPLE)
    return ww, wh


def removal_prompt(prompt: str, target: str | None) -> str:
    """The prompt of a removal: the caption unless it names the removed object, else a neutral fill."""
    words = [w for w in (target or "").lower().split() if len(w) > 2]
    text = (prompt or "").strip()
    if not text or any(w in text.lower() for w in words):
        return REMOVAL_PROMPT
    return text


class KleinPipes:
    """The loaded klein components, shared by the edit and the inpaint pipelines.

    ``device`` is where denoising runs; the text encoder visits it only to encode (``stage_encoder``).
    """

    def __init__(self, edit_pipe, device: str = "cpu", model_name: str = MODEL_NAME,
                 stage_encoder: bool = True) -> None:
        from diffusers import Flux2KleinInpaintPipeline

        self.edit = edit_pipe
        self.inpaint = Flux2KleinInpaintPipeline(**edit_pipe.components,
                                                 is_distilled=bool(edit_pipe.config.is_distilled))
        self.device = device
        self.model_name = model_name
        self.stage_encoder = stage_encoder
        self.moves: list[str] = []  # "encoder->device", "encoder->cpu": what staging did, in order
        self.to_device(device)

    @property
    def distilled(self) -> bool:
        return bool(self.edit.config.is_distilled)

    def to_device(self, device: str) -> None:
        """Move transformer and VAE (the memory plan's residency); the encoder stays where it is."""
        self.edit.transformer.to(device)
        self.edit.vae.to(device)
        if not self.stage_encoder:
            self.edit.text_encoder.to(device)

    def encode(self, prompt: str):
        """The prompt embeddings, the text encoder on the device only meanwhile."""
        import torch

        te = self.edit.text_encoder
        staged = self.stage_encoder
        if staged:
            te.to(self.device)
            self.moves.append("encoder->device")
        try:
            with torch.inference_mode():
                embeds, _ = self.edit.encode_prompt(prompt=prompt, device=self.device)
        finally:
            if staged:
                te.to("cpu")
                self.moves.append("encoder->cpu")
                from engine.device import empty_cuda_cache as _empty_cuda_cache

                _empty_cuda_cache()
        return embeds.to(self.edit.transformer.dtype)


def load_klein(folder: str | Path, device: str = "cpu", dtype=None, stage_encoder: bool = True) -> KleinPipes:
    """Load a klein folder (diffusers layout: model_index.json and five component folders).

    ``dtype`` defaults to bfloat16 on CUDA (the published weights' precision) and float32 on the CPU.
    Raises :class:`~engine.api.EngineError` (``kind="bad-input"``) naming the first missing file.
    """
    import torch
    from diffusers import Flux2KleinPipeline

    from engine.models.manifest import get_spec

    folder = Path(folder)
    for rel in get_spec(MODEL_NAME).files:
        if not (folder / rel).is_file():
            raise EngineError(f"{folder} is not a FLUX.2 [klein] folder: {rel} is missing",
                              hint="pass the folder that holds model_index.json (diffusers layout)",
                              kind="bad-input")
    if dtype is None:
        dtype = torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    pipe = Flux2KleinPipeline.from_pretrained(str(folder), dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    if getattr(pipe.tokenizer, "chat_template", None) is None:
        log.info("klein: the tokenizer folder has no chat template; using Qwen3's user-turn template")
        pipe.tokenizer.chat_template = _QWEN3_TEMPLATE
    pipes = KleinPipes(pipe, device=str(device), model_name=MODEL_NAME,
                       stage_encoder=stage_encoder)
    pipes.inpaint.set_progress_bar_config(disable=True)
    return pipes


def _preview(latents, size: tuple[int, int]) -> np.ndarray:
    """A cheap preview of packed latents ``(B, h*w, C)``: channel groups as RGB, stretched to 0..255."""
    ww, wh = size
    h, w = wh // MULTIPLE, ww // MULTIPLE
    x = latents[0, : h * w].float().reshape(h, w, -1).cpu().numpy()
    groups = np.array_split(np.arange(x.shape[-1]), 3)
    rgb = np.stack([x[..., g].mean(-1) for g in groups], -1)
    lo, hi = rgb.min(), rgb.max()
    return np.clip((rgb - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)


class KleinPainter:
    """The klein painter (:class:`engine.painters.base.Painter`)."""

    name = NAME

    def __init__(self, pipes: KleinPipes) -> None:
        self.pipes = pipes

    def paint_request(self, request, on_progress=None, on_preview=None, is_cancelled=None) -> EditResult:
        """Paint an :class:`~engine.api.InpaintRequest` with klein's own defaults (``klein_steps``)."""
        job = PaintJob.from_request(request, steps=request.params.klein_steps)
        painted = self.paint(job, on_progress=on_progress, on_preview=on_preview, is_cancelled=is_cancelled)
        return with_ran(painted.result, painted.ran)

    def paint(self, job: PaintJob, *, on_progress=None, on_preview=None, is_cancelled=None) -> Painted:
        import torch

        from engine.inputs import MAX_CANDIDATES, check_image, check_mask

        t0 = time.perf_counter()
        image = check_image(job.photo)
        h, w = image.shape[:2]
        mask = (check_mask(job.mask, image.shape) if job.mask is not None
                else np.full((h, w), 255, np.uint8))
        if job.steps < 1:
            raise EngineError(f"steps must be at least 1, got {job.steps}", kind="bad-input")
        if not 1 <= job.samples <= MAX_CANDIDATES:
            raise EngineError(f"samples must be 1..{MAX_CANDIDATES}, got {job.samples}", kind="bad-input")
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        seed = int(job.seed) if job.seed is not None else secrets.randbelow(2**31 - 1 - MAX_CANDIDATES)
        seeds = tuple(seed + i for i in range(job.samples))
        whole = job.category in WHOLE_IMAGE or job.mask is None
        prompt = self._prompt(job, whole)
        p = job.request.params
        long_side = int(getattr(p, "klein_working_size", 1024))
        notes = []
        if job.negative and self.pipes.distilled:
            notes.append("klein is step-distilled: no negative prompt")
        if whole:
            rect, size, kernel = (0, 0, w, h), work_size(w, h, long_side), 0
            strength = None  # an instruction edit paints from noise beside the reference photo
        else:
            rect, size, kernel = self._region(image, mask, p, long_side)
            strength = float(job.strength)
            if int(job.steps * strength) == 0:  # nothing to repaint: the photo, bit for bit
                cands = tuple(Candidate(image=image.copy(), seed=s, bbox=(0, 0, w, h)) for s in seeds)
                return self._done(job, cands, seeds, t0, strength, size, prompt, notes)
        x, y, cw, ch = rect
        ww, wh = size
        from engine.inputs import resize_image as _resize
        from masks import mask_ops

        crop = image[y:y + ch, x:x + cw]
        work_img = _resize(crop, ww, wh)

        embeds = self.pipes.encode(prompt)
        total = job.steps if whole else max(1, int(job.steps * strength))

        def on_step(pipe_, i, t, tensors):
            if on_progress is not None:
                on_progress(i + 1, getattr(pipe_, "_num_timesteps", total))
            if on_preview is not None and "latents" in tensors:
                on_preview(_preview(tensors["latents"], size), i + 1, rect)
            if is_cancelled is not None and is_cancelled():
                pipe_._interrupt = True
                raise _Stop()
            return {}

        generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
        common = dict(prompt_embeds=embeds, num_inference_steps=job.steps, guidance_scale=1.0,
                      num_images_per_prompt=job.samples, generator=generators, output_type="np",
                      callback_on_step_end=on_step, height=wh, width=ww)
        try:
            with torch.inference_mode():
                if whole:
                    from PIL import Image

                    out = self.pipes.edit(image=Image.fromarray(work_img), **common)
                else:
                    work_mask = np.where(mask_ops.resize(mask[y:y + ch, x:x + cw], ww, wh, smooth=True) > 0,
                                         1.0, 0.0).astype(np.float32)
                    ref = None
                    if job.reference is not None:
                        ref = np.asarray(check_image(job.reference), np.float32) / 255.0
                    out = self.pipes.inpaint(image=work_img.astype(np.float32) / 255.0, mask_image=work_mask,
                                             image_reference=ref, strength=strength, **common)
        except _Stop:
            raise Cancelled() from None
        painted = np.clip(np.rint(np.asarray(out.images) * 255), 0, 255).astype(np.uint8)
        cands = self._paste(image, mask, painted, rect, kernel, seeds, job.request.params)
        return self._done(job, cands, seeds, t0, strength, size, prompt, notes)

    # --- helpers ----------------------------------------------------------------------------

    def _prompt(self, job: PaintJob, whole: bool) -> str:
        if job.category == "removal":
            return removal_prompt(job.prompt, job.request.target)
        if whole and job.request.instruction.strip():
            return job.request.instruction.strip()  # klein edits from instructions
        return job.prompt

    def _region(self, image, mask, params, long_side):
        from engine.brushnet.blending import BLEND_KERNEL, odd_kernel
        from engine.brushnet.resolution import plan_region

        region = plan_region(image.shape, mask, params.resolution_mode, long_side)
        x, y, cw, ch = region.rect
        size = work_size(cw, ch, long_side)
        kernel = odd_kernel(max(BLEND_KERNEL, BLEND_KERNEL * max(cw, ch) / max(size)))
        return region.rect, size, kernel

    def _paste(self, image, mask, painted, rect, kernel, seeds, params) -> tuple[Candidate, ...]:
        from engine.brushnet.blending import BLEND_KERNEL, feather_reach, grown_bbox, odd_kernel
        from engine.harmonize import paste_back
        from engine.inputs import resize_image as _resize

        blend_on = params.blend

        x, y, cw, ch = rect
        H, W = image.shape[:2]
        if kernel == 0:  # a whole-image edit: the photo's feather at full size
            kernel = odd_kernel(max(BLEND_KERNEL, BLEND_KERNEL * max(W, H) / 1024))
        bbox = grown_bbox(mask, feather_reach(kernel), rect) if blend_on else rect
        bx, by, bw, bh = bbox
        out = []
        for s, img in zip(seeds, painted):
            back = _resize(img, cw, ch)
            full = image.copy()
            if blend_on:
                sub = (slice(by, by + bh), slice(bx, bx + bw))
                full[sub] = paste_back(image[sub], back[by - y:by - y + bh, bx - x:bx - x + bw], mask[sub],
                                       kernel=kernel, harmonize_strength=params.harmonize)
            else:
                full[y:y + ch, x:x + cw] = back
            out.append(Candidate(image=full, seed=s, bbox=bbox))
        return tuple(out)

    def _done(self, job, cands, seeds, t0, strength, size, prompt, notes) -> Painted:
        ran = WhatRan(painter=NAME, model=self.pipes.model_name, steps=job.steps,
                      guidance=None if self.pipes.distilled else 1.0, strength=strength,
                      working_size=tuple(size), seeds=tuple(seeds), samples=len(seeds), prompt=prompt,
                      notes=tuple(notes))
        result = EditResult(request=job.request, candidates=tuple(cands), engine=NAME,
                            model=self.pipes.model_name, seconds=time.perf_counter() - t0)
        return Painted(result=with_ran(result, ran), ran=ran)


