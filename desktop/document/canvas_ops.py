"""Whole-canvas operations: crop / expand (canvas size), resize (resample), rotate by 90/180
degrees, flip.

Each function takes plain data (the layers, the canvas size, the edit mask), checks the request
and RETURNS the one undoable command that does it (None when nothing would change); the document
runs that command. A canvas size change moves every layer by the shift of the origin (nothing is
cut, so undo is exact); a transform replaces every layer's snapshot (its pixels and place, an edit
layer's mask and variations) and the edit mask. Layers stay layers: a layer covering part of the
canvas still covers the same part of the picture afterwards. The commands keep references to the
old arrays (never copies) and the new ones made here.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from PIL import Image

from masks import mask_ops

from .errors import DocumentError
from .geometry import MAX_SIDE, Rect, recrop
from .history import Command
from .layers import EditLayer, Layer, as_rgba

RESAMPLE = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC,
            "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}
# Rotations clockwise, in degrees, and the flips, by the name the document's methods take.
TURNS = {90: -1, 180: 2, 270: 1, -90: 1}


class _CanvasCommand(Command):
    """A new canvas size and edit mask, and every layer changed with it."""

    def __init__(self, label: str, old_size, new_size, old_mask: np.ndarray, new_mask: np.ndarray) -> None:
        self.label, self.old_size, self.new_size = label, old_size, new_size
        self.old_mask, self.new_mask = old_mask, new_mask

    def _layers_to(self, doc, which: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _apply(self, doc, which: int) -> None:
        doc.set_canvas(self.new_size if which else self.old_size, self.new_mask if which else self.old_mask)
        self._layers_to(doc, which)
        doc.events.emit("size")
        doc.events.emit("layers")
        doc.events.emit("mask")

    def undo(self, doc) -> None:
        self._apply(doc, 0)

    def redo(self, doc) -> None:
        self._apply(doc, 1)


class CanvasSize(_CanvasCommand):
    """A new canvas size (crop or expand): the edit mask is swapped whole, every layer moves by
    the shift of the origin and keeps its pixels, so undo gives back exactly what was there."""

    def __init__(self, label: str, old_size, new_size, origin, old_mask, new_mask) -> None:
        super().__init__(label, old_size, new_size, old_mask, new_mask)
        self.origin = origin  # the new canvas's top-left in the old canvas's coordinates

    @property
    def nbytes(self) -> int:
        return int(self.old_mask.nbytes + self.new_mask.nbytes)

    def _layers_to(self, doc, which: int) -> None:
        dx, dy = (-self.origin[0], -self.origin[1]) if which else self.origin
        for layer in doc.layers:
            state = layer._snapshot()
            x, y = state["offset"]
            state["offset"] = (x + dx, y + dy)
            if state.get("variants"):
                state["variants"] = tuple(v.moved(dx, dy) for v in state["variants"])
            layer._restore(state)


class CanvasTransform(_CanvasCommand):
    """A new canvas size with every layer and the edit mask replaced (resize, rotate, flip)."""

    def __init__(self, label: str, old_size, new_size, old_mask: np.ndarray, new_mask: np.ndarray,
                 layers: list[tuple[Layer, dict, dict]]) -> None:
        super().__init__(label, old_size, new_size, old_mask, new_mask)
        self.layers = layers

    @property
    def nbytes(self) -> int:
        total = self.old_mask.nbytes + self.new_mask.nbytes
        for _, old, new in self.layers:
            for state in (old, new):
                total += sum(int(getattr(v, "nbytes", 0)) for v in state.values())
                total += sum(v.pixels.nbytes for v in state.get("variants", ()))
        return int(total)

    def _layers_to(self, doc, which: int) -> None:
        for layer, *states in self.layers:
            layer._restore(states[which])


# --------------------------------------------------------------------------- canvas size
def _check_size(w: int, h: int, max_pixels: int | None, what: str = "canvas") -> None:
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise DocumentError(f"{what} size {w} x {h} is out of range (1..{MAX_SIDE})")
    if max_pixels is not None and w * h > max_pixels:
        prefix = "canvas " if what == "canvas" else ""
        raise DocumentError(f"{prefix}{w} x {h} is over the limit of {max_pixels / 1e6:g} megapixels")


def resize_canvas(size: tuple[int, int], mask: np.ndarray, rect, label: str | None = None,
                  max_pixels: int | None = None, new_mask: np.ndarray | None = None) -> CanvasSize | None:
    """The canvas made the rectangle ``rect = (x, y, w, h)`` of the current one (``size``, edit
    mask ``mask``): inside it crops, past it it expands; ``new_mask`` (default: ``mask`` cut or
    extended with zeros) becomes the edit mask. None when ``rect`` is the canvas."""
    try:
        x, y, w, h = (int(v) for v in rect)
    except (TypeError, ValueError):
        raise DocumentError(f"canvas rectangle must be (x, y, w, h), got {rect!r}") from None
    _check_size(w, h, max_pixels)
    if (x, y, w, h) == (0, 0, *size):
        return None
    if label is None:
        inside = x >= 0 and y >= 0 and x + w <= size[0] and y + h <= size[1]
        label = "Crop canvas" if inside else "Canvas size"
    old_mask = np.array(mask)
    if new_mask is None:
        new_mask = recrop(old_mask, (0, 0, *size), (x, y, w, h))
    return CanvasSize(label, tuple(size), (w, h), (x, y), old_mask, new_mask)


def expand_canvas(size: tuple[int, int], mask: np.ndarray, left: int = 0, top: int = 0, right: int = 0,
                  bottom: int = 0, *, mask_new_area: bool = False,
                  max_pixels: int | None = None) -> CanvasSize | None:
    """Transparent borders (px per side); with ``mask_new_area`` the edit mask becomes the new area."""
    try:
        left, top, right, bottom = (int(v) for v in (left, top, right, bottom))
    except (TypeError, ValueError):
        raise DocumentError("expand_canvas takes whole numbers of px per side") from None
    if min(left, top, right, bottom) < 0:
        raise DocumentError("expand_canvas adds space: every side must be 0 or more px")
    w, h = size
    new_mask = None
    if mask_new_area:
        new_mask = np.full((h + top + bottom, w + left + right), 255, np.uint8)
        new_mask[top:top + h, left:left + w] = 0
    return resize_canvas(size, mask, (-left, -top, w + left + right, h + top + bottom), "Expand canvas",
                         max_pixels, new_mask)


def crop_to_mask(size: tuple[int, int], mask: np.ndarray, margin: int = 0) -> CanvasSize | None:
    """The canvas cropped to the edit mask's bounding box grown by ``margin`` px."""
    if not mask.any():
        raise DocumentError("the mask is empty: paint or select the area to keep first")
    x, y, w, h = mask_ops.bbox(mask)
    rect = mask_ops.clamp_rect((x - margin, y - margin, w + 2 * margin, h + 2 * margin), *size)
    return resize_canvas(size, mask, rect, "Crop to mask")


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


def _transform(layers: Sequence[Layer], size, mask: np.ndarray, label: str, new_size: tuple[int, int],
               place, pixels, mask_fn) -> CanvasTransform:
    states = [(layer, layer._snapshot(), _layer_state(layer, place, pixels, mask_fn)) for layer in layers]
    old_mask = np.array(mask)
    new_mask = np.ascontiguousarray(mask_fn(old_mask, (0, 0, *new_size)))
    if new_mask.shape != (new_size[1], new_size[0]):
        raise DocumentError("internal: the mask does not fit the new canvas")
    return CanvasTransform(label, tuple(size), new_size, old_mask, new_mask, states)


def rotate(layers: Sequence[Layer], size, mask: np.ndarray, degrees: int) -> CanvasTransform:
    """The image rotated by 90 (clockwise), -90/270 (counter-clockwise) or 180 degrees."""
    if int(degrees) not in TURNS:
        raise DocumentError(f"rotate by 90, 180 or 270 degrees, not {degrees!r}")
    fn, place, new_size = _turned(TURNS[int(degrees)], None, size)
    label = {90: "Rotate 90° clockwise", 180: "Rotate 180°"}.get(int(degrees), "Rotate 90° counter-clockwise")
    return _transform(layers, size, mask, label, new_size,
                      lambda x, y, w, h: (*place(x, y, w, h), *_wh(fn, w, h)),
                      lambda a, _r: fn(a), lambda a, _r: fn(a))


def flip(layers: Sequence[Layer], size, mask: np.ndarray, horizontal: bool = True) -> CanvasTransform:
    """The image mirrored left-right (``horizontal``) or top-bottom."""
    fn, place, new_size = _turned(0, "h" if horizontal else "v", size)
    return _transform(layers, size, mask, "Flip horizontal" if horizontal else "Flip vertical", new_size,
                      lambda x, y, w, h: (*place(x, y, w, h), w, h), lambda a, _r: fn(a), lambda a, _r: fn(a))


def resize_image(layers: Sequence[Layer], size, mask: np.ndarray, width: int, height: int,
                 resample: str = "lanczos", max_pixels: int | None = None) -> CanvasTransform | None:
    """The whole image (every layer, the mask) scaled to ``width x height`` px; None when it is
    that size already."""
    try:
        width, height = int(width), int(height)
    except (TypeError, ValueError):
        raise DocumentError("the new size must be whole numbers of px") from None
    if resample not in RESAMPLE:
        raise DocumentError(f"resample must be one of {', '.join(RESAMPLE)}, not {resample!r}")
    _check_size(width, height, max_pixels, "image")
    if (width, height) == tuple(size):
        return None
    box, pixels, mask_fn = _scaled(tuple(size), (width, height), resample)
    return _transform(layers, size, mask, f"Resize image to {width} × {height}", (width, height),
                      box, pixels, mask_fn)


def _wh(fn, w: int, h: int) -> tuple[int, int]:
    """Width and height of a ``w x h`` box after ``fn`` (a quarter turn swaps them)."""
    probe = fn(np.empty((h, w, 0), np.uint8))
    return int(probe.shape[1]), int(probe.shape[0])
