"""Where and at what size the model paints: the resolution policy for real photos.

SD1.5 paints well at about 512-768 px. BrushNet's reference squashes every photo to that size, which
throws away the detail of a 24 MP photo everywhere. Our default, ``"crop"``, takes the mask's
bounding box plus context, paints that at the working size and pastes it back, so everything outside
the crop is untouched; ``"whole"`` paints the whole image at the working size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.brushnet.blending import BLEND_KERNEL, feather_reach, odd_kernel
from engine.segment import mask_ops

MIN_CROP = 384  # px: below this a crop shows the model too little context
WHOLE_IF_COVERS = 0.8  # a crop covering this much of the image is no better than the whole image
MAX_ASPECT = 2.0  # SD1.5 composes poorly in very elongated frames


@dataclass(frozen=True)
class WorkRegion:
    """``rect`` ``(x, y, w, h)`` of the image that is painted, at ``work_size`` ``(w, h)`` (multiples of 8);
    ``blend_kernel`` is the outward feather at full resolution."""

    rect: tuple[int, int, int, int]
    work_size: tuple[int, int]
    blend_kernel: int

    @property
    def downscale(self) -> float:
        """Full-resolution pixels per working pixel (long side)."""
        return max(self.rect[2], self.rect[3]) / max(self.work_size)


def _fit_work_size(w: int, h: int, working_size: int, multiple: int = 8) -> tuple[int, int]:
    long_side = max(multiple * 8, int(round(working_size / multiple)) * multiple)
    s = long_side / max(w, h)
    ww = max(multiple * 8, int(round(w * s / multiple)) * multiple)
    wh = max(multiple * 8, int(round(h * s / multiple)) * multiple)
    return ww, wh


def _span(center: float, length: int, limit: int) -> tuple[int, int]:
    """A window of ``length`` around ``center`` shifted to fit in ``[0, limit)``."""
    length = min(length, limit)
    start = int(round(center - length / 2))
    start = min(max(0, start), limit - length)
    return start, length


def plan_region(image_shape: tuple[int, ...], mask: np.ndarray, mode: str = "crop", working_size: int = 640,
                base_kernel: int = BLEND_KERNEL) -> WorkRegion:
    """Choose the painted region and its working size.

    Parameters
    ----------
    image_shape : tuple
        ``(H, W, ...)`` of the full image.
    mask : np.ndarray
        ``H x W`` mask (non-empty), 255 = repaint.
    mode : {"crop", "whole"}
    working_size : int
        Long side in pixels at which the model works (rounded to a multiple of 8).
    base_kernel : int
        Feather at working resolution (BrushNet's 21 px); it grows with the downscale factor.
    """
    H, W = int(image_shape[0]), int(image_shape[1])
    if mode not in ("crop", "whole"):
        raise ValueError(f"resolution mode must be 'crop' or 'whole', not {mode!r}")
    box = mask_ops.bbox(mask)
    if box is None:
        raise ValueError("the mask is empty")
    rect = (0, 0, W, H)
    if mode == "crop":
        bx, by, bw, bh = box
        long_side = max(bw, bh)
        ctx = max(32, int(round(0.25 * long_side)))
        cw, ch = max(bw + 2 * ctx, MIN_CROP), max(bh + 2 * ctx, MIN_CROP)
        cw, ch = max(cw, int(ch / MAX_ASPECT)), max(ch, int(cw / MAX_ASPECT))
        # Make sure the outward feather fits inside the crop.
        k = odd_kernel(max(base_kernel, base_kernel * max(cw, ch) / max(64, working_size)))
        reach = feather_reach(k)
        cw, ch = max(cw, bw + 2 * (reach + 8)), max(ch, bh + 2 * (reach + 8))
        x, cw = _span(bx + bw / 2, cw, W)
        y, ch = _span(by + bh / 2, ch, H)
        if cw * ch < WHOLE_IF_COVERS * W * H:
            rect = (x, y, cw, ch)
    ww, wh = _fit_work_size(rect[2], rect[3], working_size)
    kernel = odd_kernel(max(base_kernel, base_kernel * max(rect[2], rect[3]) / max(ww, wh)))
    return WorkRegion(rect=rect, work_size=(ww, wh), blend_kernel=kernel)
