"""BrushNetPipeline: SD1.5 + BrushNet inpainting as a diffusers ``DiffusionPipeline``.

The pipeline takes the *original* image and a mask in which white = repaint, and does the masking
itself: the BrushNet condition is the VAE latent of the image with the hole painted black plus the
mask at latent size with **1 = keep**. Classifier-free guidance and candidates run as one batch; each
candidate draws its noise from its own generator, so any candidate can be re-made alone. Progress
and cancel follow diffusers: ``callback_on_step_end`` after every step and an ``_interrupt`` flag
that the loop checks before every step.

``__call__`` runs diffusers' numbered steps (``pipelines/controlnet/pipeline_controlnet_inpaint.py``),
each a method: 1. :meth:`~BrushNetPipeline.check_inputs` (and :meth:`~BrushNetPipeline.prepare_image`
onto the VAE's grid), 2. :meth:`~BrushNetPipeline.encode_prompt`, 3. :meth:`~BrushNetPipeline.get_timesteps`,
4. :meth:`~BrushNetPipeline.prepare_latents`, 5. :meth:`~BrushNetPipeline.prepare_brushnet_cond`,
6. :meth:`~BrushNetPipeline.denoise`, 7. :meth:`~BrushNetPipeline.decode_to_images`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DiffusionPipeline
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from engine.api import DEFAULT_NEGATIVE_PROMPT
from engine.brushnet.blending import BLEND_KERNEL
from engine.brushnet.unet_forward import unet_forward_with_brushnet
from engine.harmonize import paste_back
from engine.inputs import resize_image, rgb_array
from masks import mask_ops


@dataclass
class BrushNetPipelineOutput(BaseOutput):
    """``images``: list of ``H x W x 3`` uint8 arrays (or PIL images / a latent tensor, per
    ``output_type``), empty when ``interrupted``."""

    images: Any
    interrupted: bool = False


def _snap_resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    # Area only when both sides shrink: this pipeline's rule since it was written (the snap to the
    # VAE's grid moves a side by at most 4 px), kept so its pixels stay the same. The product path
    # (run_inpaint) hands it sizes already on the grid, so there it never resizes.
    return resize_image(image, width, height, shrink=width < image.shape[1] and height < image.shape[0])


def _as_output_type(images: list[np.ndarray], output_type: str) -> list:
    if output_type == "pil":
        from PIL import Image

        return [Image.fromarray(im) for im in images]
    return images


class BrushNetPipeline(DiffusionPipeline):
    """Inpaint with Stable Diffusion 1.5 steered by a :class:`engine.brushnet.BrushNetModel`.

    Parameters
    ----------
    vae, text_encoder, tokenizer, unet, scheduler
        Stock components of a diffusers SD1.5 folder (the UNet has 4 input channels).
    brushnet : BrushNetModel
        The branch, made for this UNet.
    """

    model_cpu_offload_seq = "text_encoder->unet->vae"
    # BrushNet runs every step next to the UNet; keep it on the GPU instead of ping-ponging it.
    _exclude_from_cpu_offload = ["brushnet"]
    _callback_tensor_inputs = ["latents", "prompt_embeds"]

    def __init__(self, vae, text_encoder, tokenizer, unet, brushnet, scheduler) -> None:
        super().__init__()
        self.register_modules(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                              brushnet=brushnet, scheduler=scheduler)
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        self.model_name = ""
        self._interrupt = False
        # Decode candidates one by one (None: on a GPU when there are several; see _decode).
        self.decode_one_at_a_time: bool | None = None

    @property
    def interrupt(self) -> bool:
        return self._interrupt

    # ------------------------------------------------------------------ 1. check inputs
    def check_inputs(self, image, mask, num_images_per_prompt: int, generator,
                     callback_on_step_end_tensor_inputs=("latents",)) -> tuple[np.ndarray, np.ndarray]:
        """The photo as ``H x W x 3`` uint8 and its hole (``H x W`` bool, True = repaint).

        Raises
        ------
        ValueError
            A missing image or mask, a mask of another size, fewer than one candidate, a generator
            list of another length, or a callback tensor the pipeline does not hand out.
        """
        if image is None or mask is None:
            raise ValueError("image and mask are required")
        n = int(num_images_per_prompt)
        if n < 1:
            raise ValueError("num_images_per_prompt must be >= 1")
        if isinstance(generator, list) and len(generator) != n:
            raise ValueError(f"got {len(generator)} generators for {n} candidates")
        unknown = [k for k in callback_on_step_end_tensor_inputs if k not in self._callback_tensor_inputs]
        if unknown:
            raise ValueError(f"callback_on_step_end_tensor_inputs {unknown} are not among "
                             f"{self._callback_tensor_inputs}")
        source = rgb_array(image)
        height, width = source.shape[:2]
        hole = mask_ops.as_mask(np.asarray(mask.convert("L")) if hasattr(mask, "convert") else mask) > 0
        if hole.shape != (height, width):
            raise ValueError(f"mask size {hole.shape[::-1]} differs from image size {(width, height)}")
        return source, hole

    def prepare_image(self, source: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``source`` and ``hole`` at the working size: each side the nearest multiple of the VAE's
        factor (at least one)."""
        vae_factor = self.vae_scale_factor
        height, width = source.shape[:2]
        work_h = max(vae_factor, int(round(height / vae_factor)) * vae_factor)
        work_w = max(vae_factor, int(round(width / vae_factor)) * vae_factor)
        work = _snap_resize(source, work_w, work_h)
        work_hole = cv2.resize(hole.astype(np.uint8), (work_w, work_h), interpolation=cv2.INTER_NEAREST) > 0
        return work, work_hole

    # ------------------------------------------------------------------ 2. encode prompt
    def encode_prompt(self, prompt: str, negative_prompt: str, num_images_per_prompt: int, device,
                      do_classifier_free_guidance: bool) -> torch.Tensor:
        """Text embeddings for every candidate; with guidance ``[negative x n, positive x n]``, so
        one batched pass serves both halves."""
        prompt_embeds = self._encode_prompt([prompt] * num_images_per_prompt, device)
        if do_classifier_free_guidance:
            negative = self._encode_prompt([negative_prompt or ""] * num_images_per_prompt, device)
            prompt_embeds = torch.cat([negative, prompt_embeds])
        return prompt_embeds

    def _encode_prompt(self, prompts: list[str], device) -> torch.Tensor:
        tok = self.tokenizer(prompts, padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt")
        out = self.text_encoder(tok.input_ids.to(device))[0]
        return out.to(dtype=self.unet.dtype, device=device)

    # ------------------------------------------------------------------ 3. timesteps
    def get_timesteps(self, num_inference_steps: int, strength: float, device) -> torch.Tensor:
        """The timesteps to run: all ``num_inference_steps`` at strength 1; below, diffusers'
        image-to-image convention, the last ``int(strength * steps)`` of them (the scheduler told
        where it begins); none at all when that is 0."""
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        if strength >= 1.0:
            return timesteps
        kept = min(int(num_inference_steps * strength), num_inference_steps)
        if kept == 0:
            return timesteps[:0]
        order = getattr(self.scheduler, "order", 1)
        t_start = num_inference_steps - kept
        timesteps = timesteps[t_start * order:]
        if hasattr(self.scheduler, "set_begin_index"):
            self.scheduler.set_begin_index(t_start * order)
        return timesteps

    # ------------------------------------------------------------------ 4. prepare latents
    def prepare_latents(self, num_images: int, work: np.ndarray, timesteps: torch.Tensor, strength: float,
                        generator, latents: torch.Tensor | None, device) -> torch.Tensor:
        """The starting latents: noise scaled to the scheduler's first sigma at strength 1; below,
        the photo's latents noised to the first kept timestep.

        Latents and the scheduler's state stay in fp32 whatever the weights' dtype: UniPC's
        multistep update mixes several past predictions, and a 16-bit mantissa (8 bits in bf16)
        rounds them away. Only the UNet/BrushNet forward runs in the model dtype.
        """
        vae_factor = self.vae_scale_factor
        shape = (num_images, self.unet.config.in_channels, work.shape[0] // vae_factor, work.shape[1] // vae_factor)
        if latents is None:
            noise = randn_tensor(shape, generator=generator, device=device, dtype=torch.float32)
        else:
            noise = latents.to(device=device, dtype=torch.float32)
        if strength < 1.0:
            photo = self._vae_encode(work, device).float().repeat(num_images, 1, 1, 1)
            return self.scheduler.add_noise(photo, noise, timesteps[:1].repeat(num_images))
        return noise * self.scheduler.init_noise_sigma

    def _vae_encode(self, pixels: np.ndarray, device) -> torch.Tensor:
        x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float().div(127.5).sub(1.0)
        x = x.to(device=device, dtype=self.vae.dtype)
        # The distribution's mean, not a sample: deterministic, so a seed alone fixes a candidate.
        lat = self.vae.encode(x).latent_dist.mean
        return lat * self.vae.config.scaling_factor

    # ------------------------------------------------------------------ 5. BrushNet condition
    def prepare_brushnet_cond(self, work: np.ndarray, work_hole: np.ndarray, num_images: int,
                              do_classifier_free_guidance: bool, device) -> torch.Tensor:
        """BrushNet's 5-channel condition for every candidate (twice over with guidance): the VAE
        latent of the photo with the hole painted black, and :meth:`prepare_mask_latents`."""
        dtype = self.unet.dtype
        masked = np.where(work_hole[..., None], 0, work).astype(np.uint8)  # the hole painted black
        masked_latents = self._vae_encode(masked, device).to(dtype)
        keep = self.prepare_mask_latents(work_hole, masked_latents.shape[-2:], dtype, device)
        cond = torch.cat([masked_latents, keep], dim=1).repeat(num_images, 1, 1, 1)
        return torch.cat([cond, cond]) if do_classifier_free_guidance else cond

    @staticmethod
    def prepare_mask_latents(hole: np.ndarray, size, dtype, device) -> torch.Tensor:
        """``hole`` at the latents' ``size`` in BrushNet's convention, **1 = keep**, 0 = hole
        (``[1, 1, h, w]``, nearest neighbour)."""
        keep = torch.from_numpy((~hole).astype(np.float32))[None, None].to(device=device, dtype=dtype)
        return F.interpolate(keep, size=size, mode="nearest")

    # ------------------------------------------------------------------ 6. denoising loop
    def denoise(self, latents: torch.Tensor, timesteps: torch.Tensor, prompt_embeds: torch.Tensor,
                brushnet_cond: torch.Tensor | None, *, guidance_scale: float, do_classifier_free_guidance: bool,
                conditioning_scale: float, control_guidance_start: float, control_guidance_end: float,
                callback_on_step_end: Callable | None, callback_on_step_end_tensor_inputs) -> torch.Tensor | None:
        """Run ``timesteps``; the final latents, or None when interrupted.

        ``_interrupt`` is checked before every step, ``callback_on_step_end`` called after each
        (it may replace ``latents`` and ``prompt_embeds``, or set ``_interrupt``).
        """
        dtype = self.unet.dtype
        total = len(timesteps)
        self._ensure_on_device(self.unet)
        with self.progress_bar(total=total) as bar:
            for i, t in enumerate(timesteps):
                if self._interrupt:
                    return None
                latent_input = torch.cat([latents, latents]) if do_classifier_free_guidance else latents
                latent_input = self.scheduler.scale_model_input(latent_input, t).to(dtype)
                scale = self._scale_at(i, total, conditioning_scale, control_guidance_start, control_guidance_end)
                noise_pred = self._predict_noise(latent_input, t, prompt_embeds, brushnet_cond, scale)
                noise_pred = noise_pred.float()  # guidance and the scheduler step in fp32
                if do_classifier_free_guidance:
                    uncond, text = noise_pred.chunk(2)
                    noise_pred = uncond + guidance_scale * (text - uncond)
                latents = self.scheduler.step(noise_pred, t, latents, return_dict=False)[0]
                if callback_on_step_end is not None:
                    tensors = {"latents": latents, "prompt_embeds": prompt_embeds}
                    out = callback_on_step_end(self, i, t, {k: tensors[k] for k in callback_on_step_end_tensor_inputs})
                    if out:
                        latents = out.get("latents", latents)
                        prompt_embeds = out.get("prompt_embeds", prompt_embeds)
                bar.update()
        return None if self._interrupt else latents

    @staticmethod
    def _scale_at(step: int, total: int, scale: float, start: float, end: float) -> float:
        # BrushNet steers only inside [start, end] (fractions of the steps), diffusers' controlnet_keep.
        active = not (step / total < start or (step + 1) / total > end)
        return scale if active else 0.0

    def _predict_noise(self, latent_input, t, prompt_embeds, brushnet_cond, scale: float) -> torch.Tensor:
        if scale == 0.0:  # BrushNet scaled out (the global edit, or outside its window): plain SD1.5
            return unet_forward_with_brushnet(self.unet, latent_input, t, prompt_embeds, None, None, None)
        down, mid, up = self.brushnet(latent_input, t, encoder_hidden_states=prompt_embeds,
                                      brushnet_cond=brushnet_cond, conditioning_scale=scale)
        return unet_forward_with_brushnet(self.unet, latent_input, t, prompt_embeds, down, mid, up)

    @staticmethod
    def _ensure_on_device(module) -> None:
        # unet_forward_with_brushnet calls submodules, which bypasses accelerate's forward hook.
        hook = getattr(module, "_hf_hook", None)
        if hook is not None:
            hook.pre_forward(module)

    # ------------------------------------------------------------------ 7. decode
    def decode_to_images(self, latents: torch.Tensor, source: np.ndarray, hole: np.ndarray, *,
                         blend_result: bool, blend_kernel: int, harmonize: float) -> list[np.ndarray]:
        """Each candidate decoded, resized to the input's size and (``blend_result``) pasted over
        ``source`` with the hole feathered outward only."""
        height, width = source.shape[:2]
        images = []
        for decoded in self._decode(latents):
            image = _snap_resize(decoded, width, height)
            if blend_result:
                image = paste_back(source, image, hole.astype(np.uint8) * 255, kernel=blend_kernel,
                                   harmonize_strength=harmonize)
            images.append(image)
        return images

    def _decode_one_at_a_time(self, latents: torch.Tensor) -> bool:
        if self.decode_one_at_a_time is not None:
            return bool(self.decode_one_at_a_time)
        # On a GPU one 512 px decode already fills the device, so decoding candidates one by one
        # costs ~nothing and keeps the VAE's peak at one image's (on the CPU it measured 3.1 GiB
        # extra for four 512 px candidates batched vs 1.0 GiB one by one, fp32) — that is what
        # keeps 4 candidates inside an 8 GB card. On the CPU batching was faster and RAM is ample.
        return latents.shape[0] > 1 and latents.device.type != "cpu"

    def _decode(self, latents: torch.Tensor) -> np.ndarray:
        scaled = latents.to(self.vae.dtype) / self.vae.config.scaling_factor
        if self._decode_one_at_a_time(latents):
            img = torch.cat([self.vae.decode(scaled[i:i + 1], return_dict=False)[0] for i in range(len(scaled))])
        else:
            img = self.vae.decode(scaled, return_dict=False)[0]
        img = ((img.float() / 2 + 0.5).clamp(0, 1) * 255.0).round()
        return img.permute(0, 2, 3, 1).to(torch.uint8).cpu().numpy()

    def _finish(self, images, return_dict: bool, interrupted: bool = False):
        self.maybe_free_model_hooks()
        if not return_dict:
            return images, interrupted
        return BrushNetPipelineOutput(images=images, interrupted=interrupted)

    # ------------------------------------------------------------------ call
    @torch.no_grad()
    def __call__(
        self,
        prompt: str = "",
        image=None,
        mask=None,
        negative_prompt: str = DEFAULT_NEGATIVE_PROMPT,
        num_inference_steps: int = 50,
        guidance_scale: float = 7.5,
        brushnet_conditioning_scale: float = 1.0,
        control_guidance_start: float = 0.0,
        control_guidance_end: float = 1.0,
        strength: float = 1.0,
        num_images_per_prompt: int = 1,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        blend_result: bool = True,
        blend_kernel: int = BLEND_KERNEL,
        harmonize: float = 1.0,
        output_type: str = "np",
        callback_on_step_end: Callable | None = None,
        callback_on_step_end_tensor_inputs: list[str] | tuple[str, ...] = ("latents",),
        return_dict: bool = True,
    ):
        """Paint the white part of ``mask`` in ``image`` following ``prompt``.

        Parameters
        ----------
        prompt, negative_prompt : str
            Text prompts (negative defaults to the paper's "ugly, low quality").
        image : np.ndarray or PIL.Image
            The original ``H x W x 3`` uint8 image, any size (worked at the nearest multiple of 8 and
            resized back).
        mask : np.ndarray or PIL.Image
            ``H x W``, non-zero = repaint.
        num_inference_steps, guidance_scale, brushnet_conditioning_scale
            Paper defaults 50, 7.5, 1.0. A conditioning scale of 0 leaves BrushNet out: plain SD1.5
            image-to-image (the global edit, see :func:`engine.brushnet.runner.run_inpaint`).
        control_guidance_start, control_guidance_end : float
            Fraction of the steps during which BrushNet steers the UNet.
        strength : float
            1.0 paints from pure noise; lower values run ``int(strength * steps)`` steps from the
            original's latents noised to the first kept timestep; 0 returns the image unchanged.
        num_images_per_prompt : int
            Candidates, batched.
        generator : torch.Generator or list of them
            One per candidate for per-candidate reproducibility.
        blend_result : bool
            Paste back with the mask feathered outward by ``blend_kernel`` (pixels beyond it are the
            original's bit for bit).
        harmonize : float
            0..1, how much of the painting's colour cast at the seam is removed before that paste
            (:func:`engine.harmonize.harmonize`).
        output_type : {"np", "pil", "latent"}
        callback_on_step_end : callable
            ``fn(pipe, step, timestep, tensors) -> dict``; may set ``pipe._interrupt = True``.
        callback_on_step_end_tensor_inputs : sequence of str
            Which of ``"latents"``, ``"prompt_embeds"`` the callback is handed.

        Returns
        -------
        BrushNetPipelineOutput
            ``images`` at the input's exact size; ``interrupted`` when the loop was interrupted.
        """
        self._interrupt = False
        # 1. Check inputs, and put the photo and its hole on the VAE's grid
        source, hole = self.check_inputs(image, mask, num_images_per_prompt, generator,
                                         callback_on_step_end_tensor_inputs)
        n = int(num_images_per_prompt)
        device = self._execution_device
        work, work_hole = self.prepare_image(source, hole)

        # 2. Encode prompt
        do_cfg = guidance_scale > 1.0
        prompt_embeds = self.encode_prompt(prompt, negative_prompt, n, device, do_cfg)

        # 3. Timesteps
        strength = float(min(max(strength, 0.0), 1.0))
        timesteps = self.get_timesteps(num_inference_steps, strength, device)
        if len(timesteps) == 0:  # nothing to repaint: the photo itself
            if output_type == "latent":
                return self._finish(self._vae_encode(work, device).float().repeat(n, 1, 1, 1), return_dict)
            return self._finish(_as_output_type([source.copy() for _ in range(n)], output_type), return_dict)
        self._num_timesteps = len(timesteps)

        # 4. Prepare latents
        latents = self.prepare_latents(n, work, timesteps, strength, generator, latents, device)

        # 5. BrushNet condition (a scaled-out BrushNet needs none)
        brushnet_cond = None
        if brushnet_conditioning_scale != 0.0:
            brushnet_cond = self.prepare_brushnet_cond(work, work_hole, n, do_cfg, device)

        # 6. Denoising loop
        latents = self.denoise(
            latents, timesteps, prompt_embeds, brushnet_cond, guidance_scale=guidance_scale,
            do_classifier_free_guidance=do_cfg, conditioning_scale=brushnet_conditioning_scale,
            control_guidance_start=control_guidance_start, control_guidance_end=control_guidance_end,
            callback_on_step_end=callback_on_step_end,
            callback_on_step_end_tensor_inputs=callback_on_step_end_tensor_inputs,
        )
        if latents is None:
            return self._finish([], return_dict, interrupted=True)
        if output_type == "latent":
            return self._finish(latents, return_dict)

        # 7. Decode, back at the input's size, pasted over the original
        images = self.decode_to_images(latents, source, hole, blend_result=blend_result,
                                       blend_kernel=blend_kernel, harmonize=harmonize)
        return self._finish(_as_output_type(images, output_type), return_dict)
