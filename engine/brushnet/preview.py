"""Cheap live preview: SD1.5 latents -> RGB with a fixed linear map (no VAE decode).

The 4x3 matrix is the well-known least-squares fit from SD1.x latent channels (as the sampler
holds them, i.e. already multiplied by the VAE scaling factor) to RGB in [-1, 1]; it costs one tiny
matrix product per step, so a preview can be shown every step.
"""

from __future__ import annotations

import numpy as np

# rows: latent channels 0..3; columns: R, G, B
SD15_LATENT_RGB = np.array([
    [0.298, 0.207, 0.208],
    [0.187, 0.286, 0.173],
    [-0.158, 0.189, 0.264],
    [-0.184, -0.271, -0.473],
], dtype=np.float32)


def latents_to_rgb(latents) -> np.ndarray:
    """Map one latent ``(4, h, w)`` (torch tensor or numpy array) to an ``h x w x 3`` uint8 preview."""
    if hasattr(latents, "detach"):
        latents = latents.detach().float().cpu().numpy()
    lat = np.asarray(latents, dtype=np.float32)
    if lat.ndim == 4:
        lat = lat[0]
    if lat.shape[0] != 4:
        raise ValueError(f"expected 4 latent channels, got shape {lat.shape}")
    rgb = np.einsum("chw,ck->hwk", lat, SD15_LATENT_RGB)
    return np.clip((rgb + 1.0) * 127.5, 0, 255).astype(np.uint8)
