"""Canvas rectangles ``(x, y, w, h)`` and the size limit: the little geometry every document part shares."""

from __future__ import annotations

import numpy as np

from masks import mask_ops

Rect = tuple[int, int, int, int]
MAX_SIDE = 1 << 16  # the longest canvas side, in px


def clip(rect: Rect | None, size: tuple[int, int]) -> Rect | None:
    """``rect`` cut to a canvas of ``size = (w, h)`` (an empty rect when it misses); None stays None."""
    if rect is None:
        return None
    return mask_ops.clamp_rect(rect, size[0], size[1]) or (0, 0, 0, 0)


def union(a: Rect | None, b: Rect | None) -> Rect | None:
    """The smallest rect holding ``a`` and ``b`` (None, "everything", when either is None)."""
    if a is None or b is None:
        return None
    if not a[2] or not a[3]:
        return b
    if not b[2] or not b[3]:
        return a
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def recrop(mask: np.ndarray, src: Rect, dst: Rect) -> np.ndarray:
    """``mask`` (or RGBA pixels) placed at canvas rect ``src``, cut to canvas rect ``dst`` (0 where
    it has none)."""
    out = np.zeros((dst[3], dst[2]) + mask.shape[2:], np.uint8)
    x0, y0 = max(src[0], dst[0]), max(src[1], dst[1])
    x1, y1 = min(src[0] + src[2], dst[0] + dst[2]), min(src[1] + src[3], dst[1] + dst[3])
    if x1 > x0 and y1 > y0:
        out[y0 - dst[1]:y1 - dst[1], x0 - dst[0]:x1 - dst[0]] = \
            mask[y0 - src[1]:y1 - src[1], x0 - src[0]:x1 - src[0]]
    return out
