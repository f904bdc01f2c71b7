"""The mask each edit category paints (pure numpy/OpenCV, from :mod:`engine.segment.mask_ops`).

- removal: the object grown by about 1.5 % of the image diagonal, to take edges and shadow along;
- local: the object grown a little;
- addition: the box where the new object goes (the model's box, or a default region), or an ellipse
  that holds that box;
- background: everything but the subject (grown a little so its edge is kept);
- global: the whole image. (BrushEdit's code leaves this mask empty, so its global edits do
  nothing.)
"""

from __future__ import annotations

import numpy as np

from masks import mask_ops as mo

REMOVAL_DILATION = 0.015  # fraction of the image diagonal
LOCAL_DILATION = 0.005
BACKGROUND_MARGIN = 0.004


def dilation_px(shape: tuple[int, ...], amount: float) -> int:
    """``amount`` as pixels: a value below 1 is a fraction of the image diagonal, else pixels."""
    if amount is None or amount <= 0:
        return 0
    if amount < 1:
        return max(1, int(round(amount * mo.diagonal(shape))))
    return int(round(amount))


def removal_mask(object_mask: np.ndarray, dilation: float | None = None) -> np.ndarray:
    """The object grown to cover its edges and shadow (default 1.5 % of the diagonal)."""
    m = mo.threshold(object_mask)
    return mo.dilate(m, dilation_px(m.shape, REMOVAL_DILATION if dilation is None else dilation))


def local_mask(object_mask: np.ndarray, dilation: float | None = None) -> np.ndarray:
    """The object grown slightly (default 0.5 % of the diagonal)."""
    m = mo.threshold(object_mask)
    return mo.dilate(m, dilation_px(m.shape, LOCAL_DILATION if dilation is None else dilation))


def background_mask(subject_mask: np.ndarray, margin: float | None = None) -> np.ndarray:
    """Everything but the subject, which keeps a thin margin."""
    m = mo.threshold(subject_mask)
    return mo.invert(mo.dilate(m, dilation_px(m.shape, BACKGROUND_MARGIN if margin is None else margin)))


def global_mask(shape: tuple[int, ...]) -> np.ndarray:
    """The whole image."""
    return np.full(shape[:2], 255, np.uint8)


def clamp_box(box, shape: tuple[int, ...], min_size: int = 8) -> tuple[int, int, int, int] | None:
    """Validate an ``(x0, y0, x1, y1)`` box against an image of ``shape``: sorted, clipped, at least
    ``min_size`` pixels each way (grown around its centre if smaller). None when unusable."""
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        return None
    if not all(np.isfinite(v) for v in (x0, y0, x1, y1)):
        return None
    h, w = shape[:2]
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    x0, x1 = max(0.0, x0), min(float(w), x1)
    y0, y1 = max(0.0, y0), min(float(h), y1)
    if x1 <= x0 or y1 <= y0:
        return None
    ms = min(min_size, w, h)
    if x1 - x0 < ms:
        c = (x0 + x1) / 2
        x0 = max(0.0, min(c - ms / 2, w - ms))
        x1 = x0 + ms
    if y1 - y0 < ms:
        c = (y0 + y1) / 2
        y0 = max(0.0, min(c - ms / 2, h - ms))
        y1 = y0 + ms
    return int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))


def default_addition_box(shape: tuple[int, ...], spatial: str | None = None,
                         anchor_box=None, relation: str | None = None) -> tuple[int, int, int, int]:
    """Where to put a new object when no model proposed a box.

    Next to a detected ``anchor_box`` following ``relation`` ("on" -> the anchor's upper part and
    just above it; "next to"/"right of"/"left of" -> beside it; "under" -> below it; "in" -> its
    centre), else a region a third of the image in size placed by the spatial word (default: centre,
    slightly low, where objects usually stand).
    """
    h, w = shape[:2]
    rel = (relation or "").lower()
    if anchor_box is not None:
        ax0, ay0, ax1, ay1 = (float(v) for v in anchor_box)
        aw, ah = ax1 - ax0, ay1 - ay0
        if rel in ("on", "on top of", "atop", "upon", "over", "above"):
            bw, bh = aw * 0.6, ah * 0.5
            box = (ax0 + (aw - bw) / 2, ay0 - bh * 0.6, ax0 + (aw + bw) / 2, ay0 + bh * 0.4)
        elif rel in ("under", "underneath", "below", "beneath"):
            box = (ax0, ay1, ax1, ay1 + ah * 0.5)
        elif rel in ("left of",):
            box = (ax0 - aw * 0.8, ay0 + ah * 0.2, ax0, ay1)
        elif rel in ("behind",):
            box = (ax0 + aw * 0.1, ay0 - ah * 0.3, ax1 - aw * 0.1, ay0 + ah * 0.5)
        elif rel in ("in", "inside", "into", "within", "at", "among", "amongst", "throughout", "all over"):
            box = (ax0 + aw * 0.25, ay0 + ah * 0.25, ax1 - aw * 0.25, ay1 - ah * 0.25)
        else:  # next to, near, beside, right of, by ...
            box = (ax1, ay0 + ah * 0.2, ax1 + aw * 0.8, ay1)
            if box[2] > w and ax0 - aw * 0.8 >= 0:
                box = (ax0 - aw * 0.8, ay0 + ah * 0.2, ax0, ay1)
        clamped = clamp_box(box, shape, min_size=max(8, int(min(h, w) * 0.05)))
        if clamped is not None:
            return clamped
    bw, bh = w / 3.0, h / 3.0
    cx, cy = w / 2.0, h * 0.58
    for word in (spatial or "").lower().split():
        if word == "left":
            cx = w / 6.0
        elif word == "right":
            cx = w * 5 / 6.0
        elif word == "top":
            cy = h / 6.0
        elif word == "bottom":
            cy = h * 5 / 6.0
        elif word in ("center", "middle"):
            cx, cy = w / 2.0, h / 2.0
        elif word == "back":
            cy, bw, bh = h * 0.4, w / 5.0, h / 5.0
        elif word == "front":
            cy, bw, bh = h * 0.75, w / 2.5, h / 2.5
    box = (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
    return clamp_box(box, shape) or (0, 0, w, h)


def addition_mask(shape: tuple[int, ...], box, shape_kind: str = "box") -> np.ndarray:
    """The region for a new object over ``box`` ``(x0, y0, x1, y1)`` (validated and clamped).

    ``"box"``: the box itself, as the reference paints an addition (BrushNet fills the mask's shape,
    so the object gets the whole box). ``"ellipse"``: the ellipse through the box's corners (semi-axes
    sqrt(2) x the box's halves), clipped to the image: a rounder edge that still holds the whole box.
    The ellipse *inscribed* in the box, which we used to paint, loses 21 % of it (1 - pi / 4).
    """
    b = clamp_box(box, shape)
    if b is None:
        b = default_addition_box(shape)
    x0, y0, x1, y1 = b
    rect = (x0, y0, x1 - x0, y1 - y0)
    inside = mo.box_mask(shape[:2], rect)
    if shape_kind == "box":
        return inside
    if shape_kind != "ellipse":
        raise ValueError(f"unknown addition shape {shape_kind!r}: 'box' or 'ellipse'")
    w, h = x1 - x0, y1 - y0
    grow = np.sqrt(2.0)
    around = (int(np.floor(x0 - (grow - 1) * w / 2)), int(np.floor(y0 - (grow - 1) * h / 2)),
              int(np.ceil(grow * w)) + 1, int(np.ceil(grow * h)) + 1)
    return mo.union(mo.ellipse_mask(shape[:2], around), inside)  # the union: rasterising never nibbles it
