"""Seamless results: remove a painter's colour and tone cast at the edge of an edit.

``harmonize(original, painted, mask, strength)`` measures, all along the hole's edge, how the
painting just inside differs from the photo there (local means in CIELAB, trusted only where the
photo just inside continued the photo just outside, so an old object's outline or an edge the hole
runs along says nothing), fits a chroma gain and then an additive CIELAB field to those differences
with a robust (Tukey-reweighted), edge-aware membrane on a coarse grid, and applies the smooth
fields to the painting. The fields hold only low frequencies, so the painted texture stays; a
difference that is the painter's content (a new object at the edge) is outvoted and the object keeps
its colours. The feather ring beyond the hole, where the blend still shows some of the painting,
gets the painting's own cast there removed (the photo minus the painting, low-passed). Pixels beyond
the feather are never written. See ``docs/design/harmonize.md``.

``paste_back(original, painted, mask, kernel=..., harmonize_strength=...)`` is the call a painter
makes to put its result into the photo: harmonize, then the outward-feathered blend.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.brushnet.blending import BLEND_KERNEL, blend, feather_reach
from engine.harmonize.field import BAND, FIELD_SIDE, correct_region
from masks import mask_ops

__all__ = ["harmonize", "paste_back", "DEFAULT_STRENGTH", "FIELD_SIDE"]

DEFAULT_STRENGTH = 1.0
# Holes closer than this (px, beyond their feathers) are solved together: their rings overlap.
_GROUP_GAP = 2 * BAND


def _check(original: np.ndarray, painted: np.ndarray, mask: np.ndarray, strength: float) -> np.ndarray:
    for name, arr in (("original", original), ("painted", painted)):
        if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise ValueError(f"harmonize: {name} must be an H x W x 3 uint8 array")
    if original.shape != painted.shape:
        raise ValueError(f"harmonize: image shapes differ: {original.shape} vs {painted.shape}")
    hole = mask_ops.as_mask(mask) > 0
    if hole.shape != original.shape[:2]:
        raise ValueError(f"harmonize: the mask is {hole.shape}, the image {original.shape[:2]}")
    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f"harmonize: strength must be within 0..1, got {strength}")
    return hole


def harmonize(original: np.ndarray, painted: np.ndarray, mask: np.ndarray, strength: float = DEFAULT_STRENGTH,
              *, feather: int = BLEND_KERNEL) -> np.ndarray:
    """``painted`` with its low-frequency colour/tone difference from the photo around the hole removed.

    Parameters
    ----------
    original, painted : np.ndarray
        ``H x W x 3`` uint8, the photo and the painter's result at the same size.
    mask : np.ndarray
        ``H x W``; non-zero / True = repainted (the hole).
    strength : float
        0..1: the fraction of the correction applied (0 returns ``painted`` unchanged).
    feather : int
        The blend's Gaussian kernel (``engine.brushnet.blending.BLEND_KERNEL``); the ring it feathers
        beyond the hole is harmonized too. 0 or 1: only the hole.

    Returns
    -------
    np.ndarray
        ``H x W x 3`` uint8. Equal to ``painted``, bit for bit, outside the hole and its feather; the
        same as ``painted`` (within one level) when the painting carries no cast.
    """
    hole = _check(original, painted, mask, strength)
    out = painted.copy()
    if float(strength) == 0.0 or not hole.any() or hole.all():
        return out  # nothing to match against: the painting as it is
    reach = feather_reach(feather) if feather > 1 else 0
    H, W = hole.shape
    margin = reach + 2 * BAND + 16  # the ring, the outside band, and room for the along-edge means
    # Holes are grouped inside the mask's box only: a small edit of a 24 MP photo stays small.
    gap = reach + _GROUP_GAP
    bx, by, bw, bh = cv2.boundingRect(hole.view(np.uint8))
    ox, oy = max(0, bx - gap), max(0, by - gap)
    box = np.s_[oy:min(H, by + bh + gap), ox:min(W, bx + bw + gap)]
    grown = cv2.dilate(hole[box].view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1,) * 2))
    n, box_labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    del grown
    for g in range(1, n):
        x, y, w, h = (int(v) for v in stats[g, :4])
        x, y = x + ox, y + oy
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(W, x + w + margin), min(H, y + h + margin)
        sub = np.s_[y0:y1, x0:x1]
        crop_hole = hole[sub]
        labels = np.zeros(crop_hole.shape, np.int32)  # this crop's view of the group labels
        ly0, lx0 = max(y0, oy), max(x0, ox)
        ly1, lx1 = min(y1, oy + box_labels.shape[0]), min(x1, ox + box_labels.shape[1])
        labels[ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0] = box_labels[ly0 - oy:ly1 - oy, lx0 - ox:lx1 - ox]
        mine = crop_hole & (labels == g)
        if not mine.any():
            continue
        if feather > 1:
            ring = (mask_ops.feather_outward(mine.astype(np.uint8) * 255, feather) > 0) & ~crop_hole
        else:
            ring = np.zeros_like(mine)
        correct_region(original[sub], painted[sub], mine, crop_hole & ~mine, ring, float(strength), out[sub])
    return out


def paste_back(original: np.ndarray, painted: np.ndarray, mask: np.ndarray, *, kernel: int = BLEND_KERNEL,
               harmonize_strength: float = DEFAULT_STRENGTH) -> np.ndarray:
    """Put a painter's result into the photo: :func:`harmonize`, then the outward-feathered blend.

    The one paste-back every painter calls (BrushNet, LaMa, the classical fill, FLUX.2 [klein]):
    ``harmonize_strength=0`` is a plain :func:`engine.brushnet.blending.blend`.
    """
    fixed = harmonize(original, painted, mask, harmonize_strength, feather=kernel) if harmonize_strength else painted
    return blend(original, fixed, mask, kernel)
