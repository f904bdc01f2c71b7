"""Flatten a layer stack to straight-alpha RGBA, for the whole canvas or only a dirty rectangle.

"normal" blending is Porter-Duff source-over on straight alpha (Pillow's ``alpha_composite``, a C
loop). Work is cut per layer with its alpha tiles: layers that are transparent over the rectangle
are skipped, and compositing starts from the topmost layer that is fully opaque there (usually
the photo), so a dirty-rect update touches only the layers that can show in it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from .layers import OPAQUE_TILE, Layer

Rect = tuple[int, int, int, int]


def _intersect(a: Rect, b: Rect) -> Rect | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _alpha_range(layer: Layer, r: Rect) -> tuple[int, int]:
    """(min, max) alpha of ``layer`` over canvas rect ``r`` (tile-conservative), times opacity."""
    lo, hi = layer._alpha_tiles()
    ox, oy = layer.offset
    t = OPAQUE_TILE
    tx0, ty0 = (r[0] - ox) // t, (r[1] - oy) // t
    tx1, ty1 = (r[0] + r[2] - 1 - ox) // t + 1, (r[1] + r[3] - 1 - oy) // t + 1
    amin = int(lo[ty0:ty1, tx0:tx1].min())
    amax = int(hi[ty0:ty1, tx0:tx1].max())
    if layer.opacity < 1.0:
        amin = int(amin * layer.opacity)
        amax = int(np.ceil(amax * layer.opacity))
    return amin, amax


def _opaque_exact(layer: Layer, r: Rect) -> bool:
    """Whether ``layer`` is fully opaque over ``r`` (exact check where the tiles are mixed)."""
    if layer.opacity < 1.0:
        return False
    amin, _ = _alpha_range(layer, r)
    if amin == 255:
        return True
    ox, oy = layer.offset
    a = layer.pixels[r[1] - oy:r[1] - oy + r[3], r[0] - ox:r[0] - ox + r[2], 3]
    return bool(a.min() == 255)


def composite(layers: Sequence[Layer], size: tuple[int, int], rect: Rect | None = None) -> np.ndarray:
    """Flatten ``layers`` (bottom to top) on a transparent ``size = (w, h)`` canvas.

    Parameters
    ----------
    layers : sequence of Layer
        Bottom to top; invisible or fully transparent layers are skipped.
    size : (int, int)
        Canvas width and height.
    rect : (x, y, w, h), optional
        Only this region (clipped to the canvas); the result is ``h x w x 4``.

    Returns
    -------
    numpy.ndarray
        ``h x w x 4`` uint8, straight alpha.
    """
    W, H = size
    if rect is None:
        rect = (0, 0, W, H)
    r = _intersect((int(rect[0]), int(rect[1]), int(rect[2]), int(rect[3])), (0, 0, W, H))
    if r is None:
        w, h = max(0, int(rect[2])), max(0, int(rect[3]))
        return np.zeros((min(h, H), min(w, W), 4), np.uint8)
    x, y, w, h = r

    # Which layers can show here, and where each one lands.
    active: list[tuple[Layer, Rect]] = []
    for layer in layers:
        if not layer.visible or layer.opacity <= 0.0:
            continue
        sub = _intersect(layer.bbox, r)
        if sub is None or _alpha_range(layer, sub)[1] == 0:
            continue
        active.append((layer, sub))

    start = 0
    for i in range(len(active) - 1, -1, -1):
        layer, sub = active[i]
        if sub == r and _opaque_exact(layer, r):
            start = i
            break

    acc: Image.Image | None = None
    for i, (layer, sub) in enumerate(active[start:]):
        ox, oy = layer.offset
        box = (sub[0] - ox, sub[1] - oy, sub[0] - ox + sub[2], sub[1] - oy + sub[3])
        if acc is None:
            out = np.zeros((h, w, 4), np.uint8)
            out[sub[1] - y:sub[1] - y + sub[3], sub[0] - x:sub[0] - x + sub[2]] = \
                layer.pixels[box[1]:box[3], box[0]:box[2]]
            if layer.opacity < 1.0:
                a = out[..., 3]
                a[...] = np.rint(a * np.float32(layer.opacity)).astype(np.uint8)
            acc = Image.fromarray(out)
            continue
        src = layer._image().crop(box)
        if layer.opacity < 1.0:
            op = layer.opacity
            src.putalpha(src.getchannel("A").point(lambda v: int(v * op + 0.5)))
        elif _opaque_exact(layer, sub):
            acc.paste(src, (sub[0] - x, sub[1] - y))
            continue
        acc.alpha_composite(src, (sub[0] - x, sub[1] - y))
    if acc is None:
        return np.zeros((h, w, 4), np.uint8)
    return np.array(acc)
