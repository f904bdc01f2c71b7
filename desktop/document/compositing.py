"""Flatten a layer stack to straight-alpha RGBA, for the whole canvas or only a dirty rectangle.

"normal" blending is Porter-Duff source-over on straight alpha, done by Pillow's C loops. Work is
cut with each layer's alpha tiles (min/max alpha per 32 px tile): compositing starts from the
topmost layer that is fully opaque over the rectangle (usually the photo); above it, transparent
tiles are skipped, opaque tiles copied, and only the soft edges (or a layer with opacity < 1) are
blended. Over an opaque base, source-over is a masked paste (bit-identical to
``alpha_composite`` there, about 2.5x faster). Every pixel is computed the same way whatever the
rectangle, so a dirty-rect update equals the same region of a full flatten exactly.
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


_map_buffer = getattr(Image.core, "map_buffer", None)


def _view(layer: Layer, box: tuple[int, int, int, int]):
    """A read-only Pillow core image of ``box`` (x0, y0, x1, y1) of the layer, without a copy.

    Pillow maps a strided buffer directly (the per-span Python wrappers of ``Image`` cost more
    than the pixels here, so the core object is used); near the end of the array the last row's
    stride would run past the buffer, and there a plain crop (a copy) is used instead.
    """
    px = layer.pixels
    stride = px.shape[1] * 4
    offset = (box[1] * px.shape[1] + box[0]) * 4
    size = (box[2] - box[0], box[3] - box[1])
    flat = layer._flat()
    if _map_buffer is not None and offset + size[1] * stride <= len(flat):
        return _map_buffer(flat[offset:], size, "raw", 0, ("RGBA", stride, 1))
    return layer._image().crop(box).im


def _alpha_lut(opacity: float) -> np.ndarray:
    return np.floor(np.arange(256) * float(opacity) + 0.5).astype(np.uint8)


def _alpha_view(layer: Layer, box: tuple[int, int, int, int]) -> Image.Image:
    """An "L" view of ``box`` of the layer's alpha times its opacity (cached per opacity)."""
    cached = layer.__dict__.get("_scaled_alpha")
    if cached is None or cached[0] != layer.opacity or cached[1] is not layer.pixels:
        scaled = np.ascontiguousarray(_alpha_lut(layer.opacity)[layer.pixels[..., 3]])
        cached = (layer.opacity, layer.pixels, scaled, memoryview(scaled).cast("B"))
        layer._scaled_alpha = cached
    arr, flat = cached[2], cached[3]
    stride = arr.shape[1]
    offset = box[1] * stride + box[0]
    size = (box[2] - box[0], box[3] - box[1])
    if _map_buffer is not None and offset + size[1] * stride <= len(flat):
        return _map_buffer(flat[offset:], size, "raw", 0, ("L", stride, 1))
    return Image.fromarray(np.ascontiguousarray(arr[box[1]:box[3], box[0]:box[2]])).im


def _spans(layer: Layer, sub: Rect):
    """Split canvas rect ``sub`` (inside the layer) into rects of one tile class each.

    Yields ``(cls, (x, y, w, h))``: cls 1 = partly transparent, 2 = fully opaque; fully
    transparent tiles (cls 0) are left out. Runs of tiles in a row are merged, and equal runs in
    consecutive rows are merged vertically, so an opaque interior is one big copy.
    """
    lo, hi = layer._alpha_tiles()
    ox, oy = layer.offset
    t = OPAQUE_TILE
    lx0, ly0 = sub[0] - ox, sub[1] - oy
    lx1, ly1 = lx0 + sub[2], ly0 + sub[3]
    tx0, ty0, tx1, ty1 = lx0 // t, ly0 // t, (lx1 - 1) // t + 1, (ly1 - 1) // t + 1
    lo_, hi_ = lo[ty0:ty1, tx0:tx1], hi[ty0:ty1, tx0:tx1]
    cls = np.where(hi_ == 0, 0, np.where(lo_ == 255, 2, 1))
    open_runs: dict[tuple[int, int, int], list[int]] = {}  # (cls, x0, x1) -> [y0, y1]
    out = []
    for r in range(cls.shape[0]):
        y0 = max(ly0, (ty0 + r) * t)
        y1 = min(ly1, (ty0 + r + 1) * t)
        row = cls[r]
        cuts = (np.flatnonzero(row[1:] != row[:-1]) + 1).tolist()
        runs = []
        for c0, c1 in zip([0] + cuts, cuts + [len(row)]):
            if row[c0]:
                runs.append((int(row[c0]), max(lx0, (tx0 + c0) * t), min(lx1, (tx0 + c1) * t)))
        keep = {}
        for key in runs:
            if key in open_runs:
                open_runs[key][1] = y1
                keep[key] = open_runs.pop(key)
            else:
                keep[key] = [y0, y1]
        for key, (a, b) in open_runs.items():
            out.append((key[0], (key[1] + ox, a + oy, key[2] - key[1], b - a)))
        open_runs = keep
    for key, (a, b) in open_runs.items():
        out.append((key[0], (key[1] + ox, a + oy, key[2] - key[1], b - a)))
    return out


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
        ``h x w x 4`` uint8, straight alpha. Every pixel is computed the same way whatever the
        rectangle, so ``composite(rect)`` equals the same region of the full composite exactly.
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

    # Start from the topmost layer that hides everything below it here.
    start = -1
    for i in range(len(active) - 1, -1, -1):
        layer, sub = active[i]
        if sub == r and _opaque_exact(layer, r):
            start = i
            break
    if start >= 0:
        layer, _ = active[start]
        ox, oy = layer.offset
        acc = layer._image().crop((x - ox, y - oy, x - ox + w, y - oy + h))
        rest = active[start + 1:]
    else:
        acc = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        rest = active
    # Over an opaque base the result stays opaque, and source-over reduces to a masked paste
    # (bit-identical to Pillow's alpha_composite there, and ~2.5x faster); the alpha band that
    # paste leaves behind is reset to 255 at the end.
    opaque = start >= 0

    core = acc.im
    for layer, sub in rest:
        ox, oy = layer.offset
        lut = _alpha_lut(layer.opacity) if layer.opacity < 1.0 else None
        for cls, (sx, sy, sw, sh) in _spans(layer, sub):
            box = (sx - ox, sy - oy, sx - ox + sw, sy - oy + sh)
            src = _view(layer, box)
            dest = (sx - x, sy - y, sx - x + sw, sy - y + sh)
            if cls == 2 and lut is None:
                core.paste(src, dest)
            elif opaque:
                core.paste(src, dest, src if lut is None else _alpha_view(layer, box))
            else:
                img = Image.new("RGBA", (sw, sh))
                img.im.paste(src, (0, 0, sw, sh))
                if lut is not None:
                    img.im.putband(_alpha_view(layer, box), 3)
                acc.alpha_composite(img, dest[:2])
                core = acc.im
    out = np.array(acc)
    if opaque:
        out[..., 3] = 255
    return out
