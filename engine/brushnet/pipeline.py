"""BrushNetPipeline: SD1.5 + BrushNet inpainting as a diffusers ``DiffusionPipeline``.

The pipeline takes the *original* image and a mask in which white = repaint, and does the masking
itself: the BrushNet condition is the VAE latent of the image with the hole painted black plus the
mask at latent size with **1 = keep**. Classifier-free guidance and candidates run as one batch; each
candidate draws its noise from its own generator, so any candidate can be re-made alone. Progress
and cancel follow diffusers: ``callback_on_step_end`` after every step and an ``_interrupt`` flag
that the loop checks before every step.
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
from engine.harmonize import paste_back
from engine.brushnet.unet_forward import unet_forward_with_brushnet
from masks import mask_ops


@dataclass
class BrushNetPipelineOutput(BaseOutput):
    """``images``: list of ``H x W x 3`` uint8 arrays (or PIL images / a latent tensor, per
    ``output_type``), empty when ``interrupted``."""

    images: Any
    interrupted: bool = False


def _to_rgb_array(image) -> np.ndarray:
    arr = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"image must be H x W x 3, got shape {arr.shape}")
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.max() <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _resize_rgb(img: np.ndarray, w: int, h: int) -> np.ndarray:
    if img.shape[1] == w and img.shape[0] == h:
        return img
    shrink = w < img.shape[1] and h < img.shape[0]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


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

    # ------------------------------------------------------------------ helpers
    def _encode_prompt(self, prompts: list[str], device) -> torch.Tensor:
        tok = self.tokenizer(prompts, padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt")
        out = self.text_encoder(tok.input_ids.to(device))[0]
        return out.to(dtype=self.unet.dtype, device=device)

    def _vae_encode(self, pixels: np.ndarray, device) -> torch.Tensor:
        x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float().div(127.5).sub(1.0)
        x = x.to(device=device, dtype=self.vae.dtype)
        # The distribution's mean, not a sample: deterministic, so a seed alone fixes a candidate.
        lat = self.vae.encode(x).latent_dist.mean
        return lat * self.vae.config.scaling_factor

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

    @staticmethod
    def _ensure_on_device(module) -> None:
        # unet_forward_with_brushnet calls submodules, which bypasses accelerate's forward hook.
        hook = getattr(module, "_hf_hook", None)
        if hook is not None:
            hook.pre_forward(module)

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

        Returns
        -------
        BrushNetPipelineOutput
            ``images`` at the input's exact size; ``interrupted`` when the loop was interrupted.
        """
        if image is None or mask is None:
            raise ValueError("image and mask are required")
        self._interrupt = False
        device = self._execution_device
        n = int(num_images_per_prompt)
        if n < 1:
            raise ValueError("num_images_per_prompt must be >= 1")
        if isinstance(generator, list) and len(generator) != n:
            raise ValueError(f"got {len(generator)} generators for {n} candidates")

        src = _to_rgb_array(image)
        H, W = src.shape[:2]
        m = mask_ops.as_mask(np.asarray(mask.convert("L")) if hasattr(mask, "convert") else mask)
        if m.shape != (H, W):
            raise ValueError(f"mask size {m.shape[::-1]} differs from image size {(W, H)}")
        hole_full = m > 0

        f = self.vae_scale_factor
        h8, w8 = max(f, int(round(H / f)) * f), max(f, int(round(W / f)) * f)
        work = _resize_rgb(src, w8, h8)
        hole = cv2.resize(hole_full.astype(np.uint8), (w8, h8), interpolation=cv2.INTER_NEAREST) > 0
        masked = np.where(hole[..., None], 0, work).astype(np.uint8)  # the hole painted black

        # Text: [negative x n, positive x n] for one batched classifier-free-guidance pass.
        do_cfg = guidance_scale > 1.0
        prompt_embeds = self._encode_prompt([prompt] * n, device)
        if do_cfg:
            prompt_embeds = torch.cat([self._encode_prompt([negative_prompt or ""] * n, device), prompt_embeds])

        dtype = self.unet.dtype
        cond = None
        if brushnet_conditioning_scale != 0.0:  # a scaled-out BrushNet needs no condition
            cond_lat = self._vae_encode(masked, device).to(dtype)
            keep = torch.from_numpy((~hole).astype(np.float32))[None, None].to(device=device, dtype=dtype)
            keep = F.interpolate(keep, size=cond_lat.shape[-2:], mode="nearest")
            cond = torch.cat([cond_lat, keep], dim=1).repeat(n, 1, 1, 1)
            if do_cfg:
                cond = torch.cat([cond, cond])

        # Latents and the scheduler's state stay in fp32 whatever the weights' dtype: UniPC's
        # multistep update mixes several past predictions, and a 16-bit mantissa (8 bits in bf16)
        # rounds them away. Only the UNet/BrushNet forward runs in the model dtype.
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        shape = (n, self.unet.config.in_channels, h8 // f, w8 // f)
        if latents is None:
            noise = randn_tensor(shape, generator=generator, device=device, dtype=torch.float32)
        else:
            noise = latents.to(device=device, dtype=torch.float32)
        strength = float(min(max(strength, 0.0), 1.0))
        if strength < 1.0:
            # diffusers' image-to-image convention: int(strength * steps) steps from the noised
            # original, starting at the first kept timestep; none at all returns the photo.
            kept = min(int(num_inference_steps * strength), num_inference_steps)
            if kept == 0:
                self.maybe_free_model_hooks()
                images = [src.copy() for _ in range(n)]
                if output_type == "pil":
                    from PIL import Image

                    images = [Image.fromarray(im) for im in images]
                elif output_type == "latent":
                    images = self._vae_encode(work, device).float().repeat(n, 1, 1, 1)
                return BrushNetPipelineOutput(images=images) if return_dict else (images, False)
            order = getattr(self.scheduler, "order", 1)
            t_start = num_inference_steps - kept
            timesteps = timesteps[t_start * order:]
            if hasattr(self.scheduler, "set_begin_index"):
                self.scheduler.set_begin_index(t_start * order)
            init = self._vae_encode(work, device).float().repeat(n, 1, 1, 1)
            latents = self.scheduler.add_noise(init, noise, timesteps[:1].repeat(n))
        else:
            latents = noise * self.scheduler.init_noise_sigma
        total = len(timesteps)
        self._num_timesteps = total

        self._ensure_on_device(self.unet)
        interrupted = False
        with self.progress_bar(total=total) as bar:
            for i, t in enumerate(timesteps):
                if self._interrupt:
                    interrupted = True
                    break
                lat_in = torch.cat([latents, latents]) if do_cfg else latents
                lat_in = self.scheduler.scale_model_input(lat_in, t).to(dtype)
                active = not (i / total < control_guidance_start or (i + 1) / total > control_guidance_end)
                scale = brushnet_conditioning_scale if active else 0.0
                if scale != 0.0:
                    down, mid, up = self.brushnet(lat_in, t, encoder_hidden_states=prompt_embeds,
                                                  brushnet_cond=cond, conditioning_scale=scale)
                    noise_pred = unet_forward_with_brushnet(self.unet, lat_in, t, prompt_embeds, down, mid, up)
                else:
                    noise_pred = unet_forward_with_brushnet(self.unet, lat_in, t, prompt_embeds, None, None, None)
                noise_pred = noise_pred.float()  # guidance and the scheduler step in fp32
                if do_cfg:
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
        if interrupted or self._interrupt:
            self.maybe_free_model_hooks()
            return BrushNetPipelineOutput(images=[], interrupted=True) if return_dict else ([], True)

        if output_type == "latent":
            self.maybe_free_model_hooks()
            return BrushNetPipelineOutput(images=latents) if return_dict else (latents, False)

        decoded = self._decode(latents)
        images = []
        for k in range(n):
            out = _resize_rgb(decoded[k], W, H)
            if blend_result:
                out = paste_back(src, out, hole_full.astype(np.uint8) * 255, kernel=blend_kernel,
                                 harmonize_strength=harmonize)
            images.append(out)
        if output_type == "pil":
            from PIL import Image

            images = [Image.fromarray(im) for im in images]
        self.maybe_free_model_hooks()
        if not return_dict:
            return images, False
        return BrushNetPipelineOutput(images=images)
