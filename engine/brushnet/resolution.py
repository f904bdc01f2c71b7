"""Where and at what size the model paints: the resolution policy for real photos.

SD1.5 (and BrushNet on it) was trained on 512 px squares, and the BrushEdit demo paints every photo
with its **short side** at 640 px. BrushNet's reference squashes the whole photo to that size, which
throws away the detail of a 24 MP photo everywhere. Our default, ``"crop"``, takes the mask's
bounding box plus context, paints that at the working size and pastes it back, so everything outside
the crop is untouched; ``"whole"`` paints the whole image at the working size.

The working size is the painted frame's short side (default 640, as the reference): a 4:3 region is
painted at 856 x 640, not 640 x 480. The long side is capped at :data:`LONG_SIDE_CAP` (1024 px, the
reference's largest preset), so a 2:1 crop is painted at 1024 x 512; only a frame more elongated
than 2:1 (a panorama in ``"whole"`` mode) keeps a 512 px short side and goes past the cap, up to
:data:`LONG_SIDE_LIMIT`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.brushnet.blending import BLEND_KERNEL, feather_reach, odd_kernel
from masks import mask_ops

MIN_CROP = 384  # px: below this a crop shows the model too little context
WHOLE_IF_COVERS = 0.8  # a crop covering this much of the image is no better than the whole image
MAX_ASPECT = 2.0  # SD1.5 composes poorly in very elongated frames
LONG_SIDE_CAP = 1024  # px at the default working size: the reference's largest preset
DEFAULT_WORKING_SIZE = 640  # px, short side: the BrushEdit demo's resize
TRAINED_SIDE = 512  # px: SD1.5's training size, the short side an elongated frame keeps
LONG_SIDE_LIMIT = 2048  # px: past this even a panorama's short side gives way


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


def long_side_cap(working_size: int) -> int:
    """The longest side painted for ``working_size``: :data:`LONG_SIDE_CAP` up to the default working
    size, and in the same 1.6 ratio above it (a user who asks for a 1024 px short side gets 1640)."""
    return max(LONG_SIDE_CAP, int(round(working_size * LONG_SIDE_CAP / DEFAULT_WORKING_SIZE)))


def work_scale(w: int, h: int, working_size: int) -> float:
    """Working pixels per pixel of a ``w`` x ``h`` frame: its short side to ``working_size``, its
    long side at most :func:`long_side_cap`, but the short side not below
    ``min(working_size, TRAINED_SIDE)`` unless the long side would pass :data:`LONG_SIDE_LIMIT`."""
    short, long_ = min(w, h), max(w, h)
    cap = long_side_cap(working_size)
    s = working_size / short
    if long_ * s > cap:
        s = cap / long_
    floor = min(working_size, TRAINED_SIDE)
    if short * s < floor:  # more elongated than cap / floor (2:1): keep the trained short side
        s = min(floor / short, max(LONG_SIDE_LIMIT, cap) / long_)
    return s


def fit_work_size(w: int, h: int, working_size: int, multiple: int = 8) -> tuple[int, int]:
    """The ``(width, height)`` at which a ``w`` x ``h`` frame is painted (see :func:`work_scale`),
    each a multiple of ``multiple`` and at least 64 px."""
    s = work_scale(w, h, working_size)
    ww = max(multiple * 8, int(round(w * s / multiple)) * multiple)
    wh = max(multiple * 8, int(round(h * s / multiple)) * multiple)
    return ww, wh


def largest_work_pixels(working_size: int) -> int:
    """The most pixels a frame is painted at for ``working_size`` when its aspect is at most
    :data:`MAX_ASPECT` (every crop; a whole photo up to 2:1): what the memory plan budgets for."""
    sizes = (fit_work_size(w, h, working_size) for w, h in ((1000, 1000), (1600, 1000), (2000, 1000)))
    return max(ww * wh for ww, wh in sizes)


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
        Short side in pixels at which the model works (the long side capped at
        :data:`LONG_SIDE_CAP`; both rounded to a multiple of 8): see :func:`work_scale`.
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
        k = odd_kernel(max(base_kernel, base_kernel / work_scale(cw, ch, max(64, working_size))))
        reach = feather_reach(k)
        cw, ch = max(cw, bw + 2 * (reach + 8)), max(ch, bh + 2 * (reach + 8))
        x, cw = _span(bx + bw / 2, cw, W)
        y, ch = _span(by + bh / 2, ch, H)
        if cw * ch < WHOLE_IF_COVERS * W * H:
            rect = (x, y, cw, ch)
    ww, wh = fit_work_size(rect[2], rect[3], working_size)
    kernel = odd_kernel(max(base_kernel, base_kernel * max(rect[2], rect[3]) / max(ww, wh)))
    return WorkRegion(rect=rect, work_size=(ww, wh), blend_kernel=kernel)
