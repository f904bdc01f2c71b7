"""Mask operations shared by the engine and the editor's document: pure numpy + OpenCV.

Every function takes and returns ``H x W`` ``uint8`` masks in which 255 = selected (repaint) and
0 = not selected; values in between are soft edges. Inputs are never modified. This package imports
neither ``engine`` nor ``desktop`` (nor torch, nor Qt): both sides use it, so it belongs to neither.
``engine.segment.mask_ops`` re-exports it for older imports.
"""

from __future__ import annotations

import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x, y, width, height


def as_mask(mask: np.ndarray) -> np.ndarray:
    """Return ``mask`` as a contiguous ``H x W`` uint8 array (bool -> 0/255, float 0..1 -> 0..255)."""
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[..., 0] if m.shape[2] in (1, 3, 4) else m.max(axis=2)
    if m.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {m.shape}")
    if m.dtype == bool:
        return np.where(m, 255, 0).astype(np.uint8)
    if np.issubdtype(m.dtype, np.floating):
        return np.clip(np.rint(m * 255.0), 0, 255).astype(np.uint8)
    if m.dtype != np.uint8:
        return np.clip(m, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(m)


def _disk(radius: int) -> np.ndarray:
    d = 2 * radius + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))


def dilate(mask: np.ndarray, px: int) -> np.ndarray:
    """Grow the selection by ``px`` pixels (a round structuring element)."""
    m = as_mask(mask)
    if px <= 0:
        return m.copy()
    return cv2.dilate(m, _disk(int(px)))


def erode(mask: np.ndarray, px: int) -> np.ndarray:
    """Shrink the selection by ``px`` pixels."""
    m = as_mask(mask)
    if px <= 0:
        return m.copy()
    # Pad with zeros so the image border does not count as selected.
    return cv2.erode(m, _disk(int(px)), borderType=cv2.BORDER_CONSTANT, borderValue=0)


def _gaussian(m: np.ndarray, px: float) -> np.ndarray:
    k = int(px) | 1  # odd kernel size
    return cv2.GaussianBlur(m, (k, k), 0, borderType=cv2.BORDER_REPLICATE)


def feather(mask: np.ndarray, px: float) -> np.ndarray:
    """Soften the edge on both sides with a Gaussian of kernel size ``px`` (odd, OpenCV's sigma)."""
    m = as_mask(mask)
    if px <= 1:
        return m.copy()
    return _gaussian(m, px)


def feather_outward(mask: np.ndarray, px: float = 21) -> np.ndarray:
    """Soften the edge only outside the selection: inside stays 255, so the hole is fully repainted.

    This is BrushNet's blending mask (Gaussian 21 px by default). Pixels further than the kernel
    from the selection stay exactly 0.
    """
    m = as_mask(mask)
    if px <= 1:
        return m.copy()
    return np.maximum(m, _gaussian(m, px))


def move(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Shift the selection by ``(dx, dy)`` pixels; what leaves the canvas is lost, what enters is 0."""
    m = as_mask(mask)
    h, w = m.shape
    out = np.zeros_like(m)
    dx, dy = int(dx), int(dy)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src = m[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


def invert(mask: np.ndarray) -> np.ndarray:
    return 255 - as_mask(mask)


def union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(as_mask(a), as_mask(b))


def subtract(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` without ``b``."""
    return np.minimum(as_mask(a), 255 - as_mask(b))


def intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.minimum(as_mask(a), as_mask(b))


def bbox(mask: np.ndarray, threshold: int = 0) -> Rect | None:
    """The bounding box ``(x, y, w, h)`` of pixels above ``threshold``, or None for an empty mask."""
    m = as_mask(mask) > threshold
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(m.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def is_empty(mask: np.ndarray) -> bool:
    return not np.any(as_mask(mask))


def clamp_rect(rect: Rect, width: int, height: int) -> Rect | None:
    """Clip ``rect`` to a ``width x height`` canvas; None where nothing is left."""
    x, y, w, h = (int(round(v)) for v in rect)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def box_mask(shape: tuple[int, int], rect: Rect) -> np.ndarray:
    """A mask of ``shape`` (H, W) with the rectangle ``rect`` selected (clipped to the canvas)."""
    out = np.zeros(shape[:2], np.uint8)
    r = clamp_rect(rect, shape[1], shape[0])
    if r is not None:
        x, y, w, h = r
        out[y:y + h, x:x + w] = 255
    return out


def polygon_mask(shape: tuple[int, int], points) -> np.ndarray:
    """A mask of ``shape`` (H, W) with the polygon through ``points`` ((x, y) pixel-edge
    coordinates, any count >= 3) selected: the pixels whose centres it covers, like box_mask."""
    out = np.zeros(shape[:2], np.uint8)
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    if len(pts) < 3 or not np.isfinite(pts).all():
        return out
    s = 16  # OpenCV's fixed point (shift=4): sub-pixel vertices
    # Pixel centres sit at +0.5 in edge coordinates; OpenCV puts them at integers.
    fixed = np.round((np.clip(pts, -4 * max(shape), 4 * max(shape)) - 0.5) * s).astype(np.int32)
    cv2.fillPoly(out, [fixed], 255, lineType=cv2.LINE_8, shift=4)
    return out


def ellipse_mask(shape: tuple[int, int], rect: Rect) -> np.ndarray:
    """A mask of ``shape`` (H, W) with the ellipse inscribed in ``rect`` selected."""
    out = np.zeros(shape[:2], np.uint8)
    x, y, w, h = rect
    if w <= 0 or h <= 0:
        return out
    center = (x + (w - 1) / 2.0, y + (h - 1) / 2.0)
    # OpenCV draws with fixed-point coordinates (shift=4) for sub-pixel accuracy.
    s = 16
    cv2.ellipse(out, (int(round(center[0] * s)), int(round(center[1] * s))),
                (int(round((w - 1) / 2.0 * s)), int(round((h - 1) / 2.0 * s))), 0, 0, 360, 255, -1,
                lineType=cv2.LINE_8, shift=4)
    return out


def to_box(mask: np.ndarray) -> np.ndarray:
    """Replace the selection by its bounding box."""
    m = as_mask(mask)
    r = bbox(m)
    return np.zeros_like(m) if r is None else box_mask(m.shape, r)


def to_ellipse(mask: np.ndarray) -> np.ndarray:
    """Replace the selection by the ellipse inscribed in its bounding box."""
    m = as_mask(mask)
    r = bbox(m)
    return np.zeros_like(m) if r is None else ellipse_mask(m.shape, r)


def resize(mask: np.ndarray, width: int, height: int, smooth: bool = False) -> np.ndarray:
    """Resize to ``width x height``: nearest neighbour for hard masks, area/linear if ``smooth``."""
    m = as_mask(mask)
    if m.shape == (height, width):
        return m.copy()
    if smooth:
        shrink = width < m.shape[1] and height < m.shape[0]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    else:
        interp = cv2.INTER_NEAREST
    return cv2.resize(m, (int(width), int(height)), interpolation=interp)


def threshold(mask: np.ndarray, level: int = 127) -> np.ndarray:
    """Harden a soft mask: 255 where above ``level``, else 0."""
    return np.where(as_mask(mask) > level, 255, 0).astype(np.uint8)


def diagonal(shape: tuple[int, ...]) -> float:
    return float(np.hypot(shape[0], shape[1]))
