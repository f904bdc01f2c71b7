"""Paste a painted result back onto the original as BrushNet's evaluation does.

The mask is blurred with a Gaussian (21 px kernel by default) *only outward*
(:func:`engine.segment.mask_ops.feather_outward`): inside the hole the result is used as is, in the
feather ring the two are mixed, and every pixel beyond the feather is the original's, bit for bit.
"""

from __future__ import annotations

import numpy as np

from masks import mask_ops

BLEND_KERNEL = 21


def odd_kernel(px: float) -> int:
    """Round ``px`` to an odd Gaussian kernel size of at least 3."""
    k = max(3, int(round(px)))
    return k if k % 2 == 1 else k + 1


def feather_reach(kernel: int) -> int:
    """How many pixels beyond the hole an outward feather of ``kernel`` can change."""
    return kernel // 2 + 1


def grown_bbox(mask: np.ndarray, reach: int, within: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The mask's bounding box grown by ``reach`` px (a feather's, :func:`feather_reach`) and clipped to
    the rectangle ``within``: the only pixels a feathered paste-back can change."""
    x, y, w, h = mask_ops.bbox(mask)
    x0, y0 = max(within[0], x - reach), max(within[1], y - reach)
    x1 = min(within[0] + within[2], x + w + reach)
    y1 = min(within[1] + within[3], y + h + reach)
    return x0, y0, x1 - x0, y1 - y0


def blend(original: np.ndarray, painted: np.ndarray, mask: np.ndarray, kernel: int = BLEND_KERNEL) -> np.ndarray:
    """Mix ``painted`` into ``original`` through ``mask`` (255 = hole) feathered outward by ``kernel``.

    Parameters
    ----------
    original, painted : np.ndarray
        ``H x W x 3`` uint8 images of the same size.
    mask : np.ndarray
        ``H x W`` mask, non-zero = repainted.
    kernel : int
        Gaussian kernel size (odd); 0 or 1 pastes with the hard mask.

    Returns
    -------
    np.ndarray
        ``H x W x 3`` uint8; equal to ``original`` wherever the feathered mask is 0.
    """
    if original.shape != painted.shape:
        raise ValueError(f"blend: image shapes differ: {original.shape} vs {painted.shape}")
    hard = np.where(mask_ops.as_mask(mask) > 0, 255, 0).astype(np.uint8)
    alpha8 = mask_ops.feather_outward(hard, kernel) if kernel > 1 else hard
    a = (alpha8.astype(np.float32) / 255.0)[..., None]
    mixed = original.astype(np.float32) * (1.0 - a) + painted.astype(np.float32) * a
    out = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    # Exactness beyond the feather, whatever float rounding did.
    keep = alpha8 == 0
    out[keep] = original[keep]
    return out
