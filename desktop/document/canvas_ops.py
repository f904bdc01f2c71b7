"""Whole-image operations: resize (resample), rotate by 90/180 degrees, flip.

Each changes the canvas size and every layer (its pixels and place, an edit layer's mask and
variations), and the edit mask, as ONE undoable :class:`CanvasTransform`. Layers stay layers: a
layer covering part of the canvas still covers the same part of the picture afterwards. The
command keeps references to the old arrays (never copies them) and the new ones it made.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image

from .edit_mask import EditMask
from .errors import DocumentError
from .history import Command
from .layers import EditLayer, Layer, as_rgba

Rect = tuple[int, int, int, int]
RESAMPLE = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC,
            "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}
# Rotations clockwise, in degrees, and the flips, by the name the document's methods take.
TURNS = {90: -1, 180: 2, 270: 1, -90: 1}


class CanvasTransform(Command):
    """A new canvas size with every layer and the edit mask replaced (resize, rotate, flip)."""

    def __init__(self, label: str, old_size, new_size, old_mask: np.ndarray, new_mask: np.ndarray,
                 layers: list[tuple[Layer, dict, dict]]) -> None:
        self.label, self.old_size, self.new_size = label, old_size, new_size
        self.old_mask, self.new_mask, self.layers = old_mask, new_mask, layers

    @property
    def nbytes(self) -> int:
        total = self.old_mask.nbytes + self.new_mask.nbytes
        for _, old, new in self.layers:
            for state in (old, new):
                total += sum(int(getattr(v, "nbytes", 0)) for v in state.values())
                total += sum(v.pixels.nbytes for v in state.get("variants", ()))
        return int(total)

    def _apply(self, doc, size, mask, which: int) -> None:
        doc._w, doc._h = size
        doc._edit_mask = EditMask(size[1], size[0])
        doc._edit_mask.array[...] = mask  # a copy: strokes change the live array in place
        for layer, *states in self.layers:
            layer._restore(states[which])
        doc._emit("size")
        doc._emit("layers")
        doc._emit("mask")

    def undo(self, doc) -> None:
        self._apply(doc, self.old_size, self.old_mask, 0)

    def redo(self, doc) -> None:
        self._apply(doc, self.new_size, self.new_mask, 1)


# -------------------------------------------------------------------------------- geometry
def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, order="C")  # our own array: layers keep it read-only
    out.flags.writeable = False
    return out


def _turned(k: int, flip: str | None, size: tuple[int, int]):
    """(array function, box function, new canvas size) for a rotation by ``k`` quarter turns
    counter-clockwise (numpy's rot90) or a flip ("h"/"v")."""
    W, H = size
    if flip == "h":
        return (lambda a: a[:, ::-1]), (lambda x, y, w, h: (W - x - w, y)), (W, H)
    if flip == "v":
        return (lambda a: a[::-1]), (lambda x, y, w, h: (x, H - y - h)), (W, H)
    k %= 4
    if k == 1:  # counter-clockwise: (cx, cy) -> (cy, W - 1 - cx)
        return (lambda a: np.rot90(a, 1)), (lambda x, y, w, h: (y, W - x - w)), (H, W)
    if k == 2:
        return (lambda a: a[::-1, ::-1]), (lambda x, y, w, h: (W - x - w, H - y - h)), (W, H)
    # clockwise: (cx, cy) -> (H - 1 - cy, cx)
    return (lambda a: np.rot90(a, -1)), (lambda x, y, w, h: (H - y - h, x)), (H, W)


def _scaled(size: tuple[int, int], new_size: tuple[int, int], resample: str):
    W, H = size
    W2, H2 = new_size
    sx, sy = W2 / W, H2 / H
    method = RESAMPLE[resample]

    def box(x, y, w, h) -> Rect:
        x0, y0 = int(round(x * sx)), int(round(y * sy))
        x1, y1 = int(round((x + w) * sx)), int(round((y + h) * sy))
        return x0, y0, max(1, x1 - x0), max(1, y1 - y0)

    def pixels(a: np.ndarray, target: Rect) -> np.ndarray:
        # Pillow resamples RGBA premultiplied, so transparent edges do not darken.
        img = Image.fromarray(np.ascontiguousarray(a))
        return np.asarray(img.resize((target[2], target[3]), method))

    def mask(a: np.ndarray, target: Rect) -> np.ndarray:
        img = Image.fromarray(np.ascontiguousarray(a))
        m = Image.Resampling.NEAREST if resample == "nearest" else Image.Resampling.BILINEAR
        return np.asarray(img.resize((target[2], target[3]), m))

    return box, pixels, mask


def _layer_state(layer: Layer, place: Callable, pixels: Callable, mask: Callable) -> dict:
    """``layer``'s new snapshot: ``place(x, y, w, h) -> (x, y, w, h)`` on the new canvas,
    ``pixels``/``mask(array, new_rect)`` the new arrays."""
    old = layer._snapshot()
    rect = place(*layer.bbox)
    new = dict(old, pixels=as_rgba(pixels(layer.pixels, rect)), offset=rect[:2])
    if isinstance(layer, EditLayer):
        if layer.mask is not None:
            new["mask"] = _frozen(mask(layer.mask, rect))
        variants = []
        for v in layer.variants:
            if v.pixels is layer.pixels:  # the shown variant shares the layer's array: keep sharing
                vpx = new["pixels"]
            else:
                vpx = as_rgba(pixels(v.pixels, place(*v.offset, v.pixels.shape[1], v.pixels.shape[0])))
            vrect = place(*v.offset, v.pixels.shape[1], v.pixels.shape[0])
            vmask = None if v.mask is None else _frozen(mask(v.mask, vrect))
            variants.append(v._replace(pixels=vpx, offset=vrect[:2], mask=vmask))
        new["variants"] = tuple(variants)
    return new


def _run(doc, label: str, new_size: tuple[int, int], place, pixels, mask) -> None:
    doc._finish_stroke()
    layers = [(layer, layer._snapshot(), _layer_state(layer, place, pixels, mask))
              for layer in doc._layers]
    old_mask = doc._edit_mask.array.copy()
    new_mask = np.ascontiguousarray(mask(old_mask, (0, 0, *new_size)))
    if new_mask.shape != (new_size[1], new_size[0]):
        raise DocumentError("internal: the mask does not fit the new canvas")
    doc._run(CanvasTransform(label, (doc._w, doc._h), new_size, old_mask, new_mask, layers))


def rotate(doc, degrees: int) -> None:
    """Rotate the image by 90 (clockwise), -90/270 (counter-clockwise) or 180 degrees."""
    if int(degrees) not in TURNS:
        raise DocumentError(f"rotate by 90, 180 or 270 degrees, not {degrees!r}")
    fn, place, size = _turned(TURNS[int(degrees)], None, doc.size)
    label = {90: "Rotate 90° clockwise", 180: "Rotate 180°"}.get(int(degrees), "Rotate 90° counter-clockwise")
    _run(doc, label, size, lambda x, y, w, h: (*place(x, y, w, h), *_wh(fn, w, h)),
         lambda a, _r: fn(a), lambda a, _r: fn(a))


def flip(doc, horizontal: bool = True) -> None:
    """Mirror the image left-right (``horizontal``) or top-bottom."""
    fn, place, size = _turned(0, "h" if horizontal else "v", doc.size)
    _run(doc, "Flip horizontal" if horizontal else "Flip vertical", size,
         lambda x, y, w, h: (*place(x, y, w, h), w, h), lambda a, _r: fn(a), lambda a, _r: fn(a))


def resize_image(doc, width: int, height: int, resample: str = "lanczos",
                 max_pixels: int | None = None) -> None:
    """Scale the whole image (every layer, the mask) to ``width x height`` px."""
    from .document import MAX_SIDE
    try:
        width, height = int(width), int(height)
    except (TypeError, ValueError):
        raise DocumentError("the new size must be whole numbers of px") from None
    if resample not in RESAMPLE:
        raise DocumentError(f"resample must be one of {', '.join(RESAMPLE)}, not {resample!r}")
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise DocumentError(f"image size {width} x {height} is out of range (1..{MAX_SIDE})")
    if max_pixels is not None and width * height > max_pixels:
        raise DocumentError(f"{width} x {height} is over the limit of {max_pixels / 1e6:g} megapixels")
    if (width, height) == doc.size:
        return
    box, pixels, mask = _scaled(doc.size, (width, height), resample)
    _run(doc, f"Resize image to {width} × {height}", (width, height), box, pixels, mask)


def _wh(fn, w: int, h: int) -> tuple[int, int]:
    """Width and height of a ``w x h`` box after ``fn`` (a quarter turn swaps them)."""
    probe = fn(np.empty((h, w, 0), np.uint8))
    return int(probe.shape[1]), int(probe.shape[0])
