"""Flatten a layer stack to straight-alpha RGBA, for the whole canvas or only a dirty rectangle.

"normal" blending is Porter-Duff source-over on straight alpha, done by Pillow's C loops. Work is
cut with each layer's alpha tiles (min/max alpha per 32 px tile): compositing starts from the
topmost layer that is fully opaque over the rectangle (usually the photo); above it, transparent
tiles are skipped, opaque tiles copied, and only the soft edges (or a layer with opacity < 1) are
blended. Over an opaque base, source-over is a masked paste (bit-identical to
``alpha_composite`` there, about 2.5x faster). Every pixel is computed the same way whatever the
rectangle, so a dirty-rect update equals the same region of a full flatten exactly.

A layer with another blend mode (multiply, screen, ...: see ``blend_modes.py``) is blended in
numpy over its non-transparent spans only; it never starts the stack and is never copied as
opaque, since what is below shows through it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from .blend_modes import blend
from .layers import OPAQUE_TILE, Layer, RenderState

Rect = tuple[int, int, int, int]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 inside a layer

_map_buffer = getattr(Image.core, "map_buffer", None)
_BLEND_BAND_PIXELS = 1 << 18  # pixels a blend-mode layer is mixed in at once (bounded memory)


def _intersect(a: Rect, b: Rect) -> Rect | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _tile_range(st: RenderState, r: Rect) -> tuple[slice, slice]:
    t = OPAQUE_TILE
    return (slice((r[1] - st.y) // t, (r[1] + r[3] - 1 - st.y) // t + 1),
            slice((r[0] - st.x) // t, (r[0] + r[2] - 1 - st.x) // t + 1))


def _shows(st: RenderState, r: Rect) -> bool:
    """Whether any pixel of the layer over canvas rect ``r`` has alpha (tile-conservative)."""
    return int(np.floor(int(st.alpha_max[_tile_range(st, r)].max()) * st.opacity + 0.5)) > 0


def _opaque(st: RenderState, r: Rect) -> bool:
    """Whether the layer is fully opaque over ``r`` (exact where its tiles are mixed)."""
    if st.opacity < 1.0:
        return False
    if int(st.alpha_min[_tile_range(st, r)].min()) == 255:
        return True
    a = st.pixels[r[1] - st.y:r[1] - st.y + r[3], r[0] - st.x:r[0] - st.x + r[2], 3]
    return bool(a.min() == 255)


def _view(st: RenderState, box: Box):
    """A read-only Pillow core image of ``box`` of the layer, without copying pixels.

    Pillow maps a strided buffer directly (the per-span Python wrappers of ``Image`` cost more
    than the pixels here, so the core object is used); near the end of the array the last row's
    stride would run past the buffer, and there a copy is used instead.
    """
    stride = st.w * 4
    offset = (box[1] * st.w + box[0]) * 4
    size = (box[2] - box[0], box[3] - box[1])
    if _map_buffer is not None and offset + size[1] * stride <= len(st.flat):
        return _map_buffer(st.flat[offset:], size, "raw", 0, ("RGBA", stride, 1))
    return Image.fromarray(np.ascontiguousarray(st.pixels[box[1]:box[3], box[0]:box[2]])).im


def _alpha_lut(opacity: float) -> np.ndarray:
    return np.floor(np.arange(256) * float(opacity) + 0.5).astype(np.uint8)


def _alpha_view(st: RenderState, box: Box):
    """An "L" core view of ``box`` of the layer's alpha times its opacity (cached on the layer)."""
    cached = st.layer._scaled_alpha
    if cached is None or cached[0] != st.opacity or cached[1] is not st.pixels:
        scaled = np.ascontiguousarray(_alpha_lut(st.opacity)[st.pixels[..., 3]])
        cached = (st.opacity, st.pixels, scaled, memoryview(scaled).cast("B"))
        st.layer._scaled_alpha = cached
    arr, flat = cached[2], cached[3]
    offset = box[1] * st.w + box[0]
    size = (box[2] - box[0], box[3] - box[1])
    if _map_buffer is not None and offset + size[1] * st.w <= len(flat):
        return _map_buffer(flat[offset:], size, "raw", 0, ("L", st.w, 1))
    return Image.fromarray(np.ascontiguousarray(arr[box[1]:box[3], box[0]:box[2]])).im


def _spans(st: RenderState, sub: Rect) -> list[tuple[int, Rect]]:
    """Split canvas rect ``sub`` (inside the layer) into rects of one tile class each.

    Returns ``(cls, (x, y, w, h))``: cls 1 = partly transparent, 2 = fully opaque; fully
    transparent tiles (cls 0) are left out. Runs of tiles in a row are merged, and equal runs in
    consecutive rows are merged vertically, so an opaque interior is one big copy.
    """
    ox, oy, t = st.x, st.y, OPAQUE_TILE
    lx0, ly0 = sub[0] - ox, sub[1] - oy
    lx1, ly1 = lx0 + sub[2], ly0 + sub[3]
    rows, cols = _tile_range(st, sub)
    tx0, ty0 = cols.start, rows.start
    lo, hi = st.alpha_min[rows, cols], st.alpha_max[rows, cols]
    cls = np.where(hi == 0, 0, np.where(lo == 255, 2, 1))
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

    Safe to call from a worker thread on a copy of the layer list (``doc.layers``): each layer's
    pixels and offset are read together once.

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
    active: list[tuple[RenderState, Rect]] = []
    for layer in layers:
        if not layer.visible or layer.opacity <= 0.0:
            continue
        st = layer._render_state()
        sub = _intersect((st.x, st.y, st.w, st.h), r)
        if sub is not None and _shows(st, sub):
            active.append((st, sub))

    # Start from the topmost layer that hides everything below it here.
    start = next((i for i in range(len(active) - 1, -1, -1)
                  if active[i][0].layer.blend_mode == "normal" and active[i][1] == r
                  and _opaque(active[i][0], r)), -1)
    if start >= 0:
        st = active[start][0]
        acc = Image.new("RGBA", (w, h))
        acc.im.paste(_view(st, (x - st.x, y - st.y, x - st.x + w, y - st.y + h)), (0, 0, w, h))
        rest = active[start + 1:]
    else:
        acc = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        rest = active
    # Over an opaque base the result stays opaque, and source-over reduces to a masked paste
    # (bit-identical to Pillow's alpha_composite there, and ~2.5x faster); the alpha band that
    # paste leaves behind is reset to 255 at the end.
    opaque = start >= 0

    core = acc.im
    for st, sub in rest:
        scaled = st.opacity < 1.0
        mode = st.layer.blend_mode
        for cls, (sx, sy, sw, sh) in _spans(st, sub):
            box = (sx - st.x, sy - st.y, sx - st.x + sw, sy - st.y + sh)
            dest = (sx - x, sy - y, sx - x + sw, sy - y + sh)
            if mode != "normal":
                # In bands of rows: float32 temporaries of a whole 24 MP layer would take GBs.
                band = max(1, _BLEND_BAND_PIXELS // max(1, sw))
                for y0 in range(0, sh, band):
                    y1 = min(sh, y0 + band)
                    d = (dest[0], dest[1] + y0, dest[2], dest[1] + y1)
                    below = np.asarray(acc.crop(d))
                    mixed = blend(mode, st.pixels[box[1] + y0:box[1] + y1, box[0]:box[2]], below,
                                  st.opacity, dst_opaque=opaque)
                    acc.paste(Image.fromarray(mixed), d[:2])
                core = acc.im
                continue
            src = _view(st, box)
            if cls == 2 and not scaled:
                core.paste(src, dest)
            elif opaque:
                core.paste(src, dest, _alpha_view(st, box) if scaled else src)
            else:
                img = Image.new("RGBA", (sw, sh))
                img.im.paste(src, (0, 0, sw, sh))
                if scaled:
                    img.im.putband(_alpha_view(st, box), 3)
                acc.alpha_composite(img, dest[:2])
                core = acc.im
    out = np.array(acc)
    if opaque:
        out[..., 3] = 255
    return out
