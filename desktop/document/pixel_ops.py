"""Operations on one layer's pixels: paint and erase strokes, erase the masked part, move the
content, re-run results and variations, and the making of an edit layer from an engine result.

Each function takes the layer and plain data (the canvas size, the edit mask), checks the
request and RETURNS the undoable command that does it, or None when nothing would change; the
document runs that command (one undo step) and announces it. Nothing here touches the document.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from masks import mask_ops

from .brush import StrokePath, dab, dab_rect, stamp
from .commands import MoveContent, ReplacePixels
from .compositing import composite
from .errors import DocumentError
from .geometry import MAX_SIDE, Rect, recrop, union
from .layers import MAX_VARIANTS, EditLayer, Layer, RasterLayer, Variant, as_rgba
from .provenance import Provenance


def crop_mask(mask, bbox: Rect, size: tuple[int, int]) -> np.ndarray | None:
    """``mask`` (canvas-sized ``H x W`` or already ``bbox``-sized) cut to ``bbox``, read-only."""
    if mask is None:
        return None
    m = mask_ops.as_mask(mask)
    x, y, w, h = bbox
    if m.shape == (h, w):
        out = m.copy()
    elif m.shape == (size[1], size[0]):
        out = recrop(m, (0, 0, *size), bbox)
    else:
        raise ValueError(f"mask must be {size[1]} x {size[0]} or {h} x {w}, got {m.shape}")
    out.flags.writeable = False
    return out


def variant(size, pixels, offset, mask=None, provenance=None) -> Variant:
    rgba = as_rgba(pixels)
    off = (int(offset[0]), int(offset[1]))
    prov = provenance if provenance is not None else Provenance()
    if not isinstance(prov, Provenance):
        raise ValueError("a variant's provenance must be a Provenance")
    return Variant(rgba, off, crop_mask(mask, (*off, rgba.shape[1], rgba.shape[0]), size), prov)


def edit_layer(size, pixels, offset=(0, 0), provenance: Provenance | None = None, *,
               name: str | None = None, mask=None, variants: Sequence | None = None,
               variant_index: int | None = None) -> EditLayer:
    """An engine result as an edit layer (see :meth:`Document.add_edit` for the arguments)."""
    provenance = provenance if provenance is not None else Provenance()
    try:
        rgba = as_rgba(pixels)
        ox, oy = int(offset[0]), int(offset[1])
        crop = crop_mask(mask, (ox, oy, rgba.shape[1], rgba.shape[0]), size)
        if name is None:
            text = provenance.instruction or provenance.prompt or "Edit"
            name = text if len(text) <= 48 else text[:47] + "…"
        layer = EditLayer(rgba, provenance, mask=crop, name=name, offset=(ox, oy))
        if variants:
            layer._variants = tuple(variant(size, *v) for v in variants)
            if len(layer._variants) > MAX_VARIANTS:
                raise ValueError(f"at most {MAX_VARIANTS} variants, got {len(layer._variants)}")
            if variant_index is not None and not 0 <= int(variant_index) < len(layer._variants):
                raise ValueError(f"variant {variant_index} is not one of the {len(layer._variants)} variants")
            layer._variant = None if variant_index is None else int(variant_index)
            shown = layer._variants[layer._variant] if variant_index is not None else None
            if shown is not None and shown.offset == layer.offset and np.array_equal(shown.pixels, rgba):
                layer._set_pixels(shown.pixels)  # one array for both: memory, and saves store it once
    except (TypeError, ValueError) as e:
        raise DocumentError(f"bad edit: {e}") from None
    return layer


def use_variant(layer: EditLayer, index: int) -> ReplacePixels | None:
    """``layer`` showing its variant ``index``; None when it shows it already."""
    variants = getattr(layer, "variants", ())
    if not 0 <= int(index) < len(variants):
        raise DocumentError(f"{layer.name!r} has no variant {index} (it has {len(variants)})")
    if layer.variant == index:
        return None
    v = variants[index]
    new = {"pixels": v.pixels, "offset": v.offset, "mask": v.mask, "provenance": v.provenance,
           "variant": int(index)}
    return ReplacePixels(layer, layer._snapshot(), new, f"Use variation {index + 1}")


def replace_pixels(size, layer: Layer, pixels, offset=None, *, provenance: Provenance | None = None,
                   mask=None, as_variant: bool = False) -> ReplacePixels:
    """New pixels for ``layer`` (see :meth:`Document.replace_layer_pixels`)."""
    try:
        rgba = as_rgba(pixels)
        off = layer.offset if offset is None else (int(offset[0]), int(offset[1]))
        old = layer._snapshot()
        new = {"pixels": rgba, "offset": off}
        if isinstance(layer, EditLayer):
            bbox = (off[0], off[1], rgba.shape[1], rgba.shape[0])
            if mask is not None:
                new["mask"] = crop_mask(mask, bbox, size)
            elif layer.mask is not None:
                new["mask"] = recrop(layer.mask, layer.bbox, bbox)
            else:
                new["mask"] = None
            new["provenance"] = provenance if provenance is not None else layer.provenance
            if as_variant:
                have = layer.variants or (Variant(layer.pixels, layer.offset, layer.mask, layer.provenance),)
                have = have[-(MAX_VARIANTS - 1):]
                new["variants"] = (*have, Variant(rgba, off, new["mask"], new["provenance"]))
                new["variant"] = len(have)
    except (TypeError, ValueError) as e:
        raise DocumentError(f"bad pixels: {e}") from None
    return ReplacePixels(layer, old, new, "Re-run edit" if isinstance(layer, EditLayer) else "Replace layer pixels")


def repainted(layer: Layer, pixels: np.ndarray, box: Rect, label: str) -> ReplacePixels:
    """``layer`` with new ``pixels`` covering canvas ``box``, painted over by the user. An edit
    layer keeps its provenance, its mask (re-cut to ``box``) and its variations, and then shows
    none of them."""
    pixels.flags.writeable = False  # ours alone: the layer keeps it without another copy
    old = layer._snapshot()
    new = dict(old, pixels=as_rgba(pixels), offset=box[:2])
    if isinstance(layer, EditLayer):
        if layer.mask is not None and box != layer.bbox:
            new["mask"] = recrop(layer.mask, layer.bbox, box)
        new["variant"] = None
    return ReplacePixels(layer, old, new, label)


def erase_masked(size, layer: Layer, mask: np.ndarray, *, keep: bool = False) -> ReplacePixels | None:
    """``layer`` with the part under the canvas ``mask`` erased (``keep``: everything else)."""
    try:
        full = mask_ops.as_mask(mask)
    except (TypeError, ValueError) as e:
        raise DocumentError(str(e)) from None
    if full.shape != (size[1], size[0]):
        raise DocumentError(f"mask must be {size[1]} x {size[0]}, got {full.shape}")
    region = recrop(full, (0, 0, *size), layer.bbox)
    weight = region if keep else 255 - region
    alpha = layer.pixels[..., 3]
    new_alpha = ((alpha.astype(np.uint16) * weight + 127) // 255).astype(np.uint8)
    if np.array_equal(new_alpha, alpha):
        return None
    pixels = np.array(layer.pixels)
    pixels[..., 3] = new_alpha
    return repainted(layer, pixels, layer.bbox, "Keep masked area" if keep else "Erase masked area")


def move_content(layer: Layer, x: int, y: int, drag=None) -> MoveContent | None:
    """``layer``'s top-left pixel put at canvas ``(x, y)`` (its variations move with it)."""
    x, y = int(x), int(y)
    if abs(x) > MAX_SIDE * 4 or abs(y) > MAX_SIDE * 4:
        raise DocumentError(f"position ({x}, {y}) is too far from the canvas")
    ox, oy = layer.offset
    if (x, y) == (ox, oy):
        return None
    old = layer._snapshot()
    new = dict(old, offset=(x, y))
    if getattr(layer, "variants", ()):
        new["variants"] = tuple(v.moved(x - ox, y - oy) for v in layer.variants)
    return MoveContent(layer, old, new, drag)


def paint_stroke(size, layer: Layer | None, points: Sequence, *, brush: float = 20.0,
                 hardness: float = 0.8, color=(0, 0, 0), opacity: float = 1.0,
                 erase: bool = False) -> ReplacePixels | RasterLayer | None:
    """One brush stroke through ``points`` on ``layer`` (see :meth:`Document.paint_stroke`): the
    command, or with ``layer`` None the new "Paint" layer to add; None when it touched nothing."""
    try:
        rgb = np.array([int(c) for c in tuple(color)[:3]], np.float32)
        brush, hardness, opacity = float(brush), float(hardness), float(opacity)
    except (TypeError, ValueError):
        raise DocumentError("paint_stroke needs a colour (r, g, b) and numeric size, hardness, opacity") from None
    if rgb.shape != (3,) or rgb.min() < 0 or rgb.max() > 255 or not 0 < brush <= 5000:
        raise DocumentError(f"bad brush: colour {tuple(color)!r}, size {brush}")
    path = StrokePath(brush)
    dabs = [d for p in points for d in path.to(*p[:3])]
    if not dabs:
        return None
    boxes = np.array([dab_rect(x, y, brush) for x, y, _ in dabs])
    rect = mask_ops.clamp_rect((int(boxes[:, 0].min()), int(boxes[:, 1].min()),
                                int(boxes[:, 2].max() - boxes[:, 0].min()),
                                int(boxes[:, 3].max() - boxes[:, 1].min())), *size)
    if rect is None:
        return None
    cov = np.zeros((rect[3], rect[2]), np.uint8)
    tip = dab(brush, hardness)
    for x, y, p in dabs:
        stamp(cov, x - rect[0], y - rect[1], tip, False, min(1.0, max(0.0, p)))
    a = cov.astype(np.float32) * (min(1.0, max(0.0, opacity)) / 255.0)
    if layer is None:
        if erase:
            return None
        px = np.zeros((rect[3], rect[2], 4), np.uint8)
        px[..., :3] = rgb.astype(np.uint8)
        px[..., 3] = np.rint(a * 255).astype(np.uint8)
        return RasterLayer(px, name="Paint", offset=rect[:2])
    # The layer's new box (a paint stroke may grow it), and the stroke's part of it.
    box = layer.bbox if erase else union(layer.bbox, rect)
    x0, y0 = max(box[0], rect[0]), max(box[1], rect[1])
    x1, y1 = min(box[0] + box[2], rect[0] + rect[2]), min(box[1] + box[3], rect[1] + rect[3])
    if x1 <= x0 or y1 <= y0:
        return None
    px = recrop(layer.pixels, layer.bbox, box)
    sub = np.s_[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]]
    a = a[y0 - rect[1]:y1 - rect[1], x0 - rect[0]:x1 - rect[0]]
    region = px[sub].astype(np.float32)
    da = region[..., 3] / 255.0
    if erase:
        px[sub][..., 3] = np.rint(region[..., 3] * (1.0 - a)).astype(np.uint8)
    else:  # straight-alpha source-over of the colour with the stroke's coverage
        oa = a + da * (1.0 - a)
        safe = np.where(oa > 0, oa, 1.0)[..., None]
        out_rgb = (rgb * a[..., None] + region[..., :3] * (da * (1.0 - a))[..., None]) / safe
        px[sub] = np.dstack([np.clip(np.rint(out_rgb), 0, 255),
                             np.clip(np.rint(oa * 255), 0, 255)]).astype(np.uint8)
    if np.array_equal(px, layer.pixels) and box == layer.bbox:
        return None
    return repainted(layer, px, box, "Erase stroke" if erase else "Paint stroke")


def masked_copy(layers: Sequence[Layer], size, mask: np.ndarray, layer: Layer | None = None):
    """What Ctrl+C copies (see :meth:`Document.copy_pixels`): ``(RGBA, (x, y))`` or None."""
    box = mask_ops.bbox(mask)
    rect = box if box is not None else (0, 0, *size)
    if layer is None:
        px = np.array(composite(layers, tuple(size), rect))
    else:
        px = recrop(layer.pixels, layer.bbox, rect)
    if box is not None:
        x, y, w, h = rect
        px[..., 3] = (px[..., 3].astype(np.uint16) * mask[y:y + h, x:x + w] + 127) // 255
    if not px[..., 3].any():
        return None
    return px, (rect[0], rect[1])
