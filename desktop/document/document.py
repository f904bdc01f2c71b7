"""The layered document: a canvas size, a stack of layers, the edit mask, history and file I/O.

Every change goes through a method here, becomes one undoable command (storing only what changed)
and is announced on :attr:`Document.events`. Nothing here imports Qt: the editor, the CLI and the
tests drive the same object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from masks import mask_ops

from . import canvas_ops
from . import commands as cmd
from .brush import StrokePath, dab, dab_rect, stamp
from .compositing import composite
from .edit_mask import EditMask
from .errors import DocumentError
from .events import Events
from .export import export_image
from .history import DEFAULT_BUDGET, History
from .image_import import DEFAULT_MAX_PIXELS, open_image
from .blend_modes import BLEND_MODES
from .layers import MAX_VARIANTS, EditLayer, Layer, RasterLayer, Variant, as_rgba
from .ora import is_ora, load_ora, save_ora
from .provenance import Provenance

Rect = tuple[int, int, int, int]
MAX_SIDE = 1 << 16

# Positional arguments of mask_op, by operation.
_OP_ARGS = {"dilate": ("px",), "erode": ("px",), "feather": ("px",), "move": ("dx", "dy"),
            "box": ("rect",), "ellipse": ("rect",), "polygon": ("points",), "threshold": ("level",)}


class Document:
    """An image being edited. Build with :meth:`new`, :meth:`from_array` or :meth:`open`."""

    def __init__(self, width: int, height: int, *, history_budget: int = DEFAULT_BUDGET) -> None:
        width, height = int(width), int(height)
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise DocumentError(f"canvas size {width} x {height} is out of range (1..{MAX_SIDE})")
        self._w, self._h = width, height
        self._layers: list[Layer] = []
        self._edit_mask = EditMask(height, width)
        self.events = Events()
        self._history = History(self, history_budget, on_change=lambda: self._emit("history"))
        self._saved_state = self._history.state_id
        self._path: Path | None = None
        self.source_path: Path | None = None  # the photo this document was opened from
        self.source_info: dict = {}

    # ----------------------------------------------------------------------------- creation
    @classmethod
    def new(cls, width: int, height: int, background=(255, 255, 255, 255), *,
            max_pixels: int = DEFAULT_MAX_PIXELS) -> "Document":
        """A blank canvas with one background layer of colour ``background`` (None: no layer)."""
        if int(width) * int(height) > max_pixels:
            raise DocumentError(f"canvas {width} x {height} is over the limit of "
                                f"{max_pixels / 1e6:g} megapixels")
        doc = cls(width, height)
        if background is not None:
            color = tuple(int(c) for c in background)
            if len(color) == 3:
                color += (255,)
            if len(color) != 4 or not all(0 <= c <= 255 for c in color):
                raise DocumentError(f"background must be RGB(A) 0..255, got {background!r}")
            pixels = np.empty((doc._h, doc._w, 4), np.uint8)
            pixels[...] = color
            doc._layers.append(RasterLayer(pixels, name="Background"))
        return doc

    @classmethod
    def from_array(cls, pixels: np.ndarray, name: str = "Background") -> "Document":
        """A document holding ``pixels`` (H x W x 3 or 4 uint8) as its only layer."""
        try:
            rgba = as_rgba(pixels)
        except ValueError as e:
            raise DocumentError(str(e)) from None
        doc = cls(rgba.shape[1], rgba.shape[0])
        doc._layers.append(RasterLayer(rgba, name=name))
        return doc

    @classmethod
    def open(cls, path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> "Document":
        """Open a photo (PNG, JPEG, WebP, TIFF, BMP) or an OpenRaster project.

        A photo becomes a one-layer document with no project path (``save`` then needs a path, so
        the photo is never overwritten by a project); an ``.ora`` keeps its path.

        Raises
        ------
        DocumentError
            One line naming the file and the problem.
        """
        path = Path(path)
        if is_ora(path) or (path.suffix.lower() == ".ora" and path.is_file()):
            data = load_ora(path, max_pixels=max_pixels)
            doc = cls(data.width, data.height)
            doc._layers = list(data.layers)
            if data.mask is not None:
                doc._edit_mask.array[...] = data.mask
            doc._path = path.resolve()
            doc.source_path = doc._path
            doc.source_info = {"format": "ORA"}
            return doc
        pixels, info = open_image(path, max_pixels=max_pixels)
        pixels.flags.writeable = False  # ours alone: the layer can keep it without a copy
        doc = cls.from_array(pixels)
        doc.source_path = path.resolve()
        doc.source_info = info
        return doc

    # ------------------------------------------------------------------------------ reading
    @property
    def width(self) -> int:
        return self._w

    @property
    def height(self) -> int:
        return self._h

    @property
    def size(self) -> tuple[int, int]:
        return self._w, self._h

    @property
    def layers(self) -> list[Layer]:
        """The layers, bottom to top (a copy: change them through the document's methods)."""
        return list(self._layers)

    @property
    def path(self) -> Path | None:
        """The project (.ora) file this document was opened from or last saved to."""
        return self._path

    @property
    def title(self) -> str:
        src = self._path or self.source_path
        return src.name if src else "Untitled"

    @property
    def dirty(self) -> bool:
        """Whether the document changed since it was opened or saved (undoing back clears it)."""
        return self._history.state_id != self._saved_state

    @property
    def history(self) -> History:
        return self._history

    @property
    def can_undo(self) -> bool:
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._history.can_redo

    @property
    def mask(self) -> np.ndarray:
        """The edit mask, ``H x W`` uint8 (255 = repaint), as a read-only view."""
        view = self._edit_mask.array.view()
        view.flags.writeable = False
        return view

    def layer_by_id(self, layer_id: str) -> Layer | None:
        return next((layer for layer in self._layers if layer.id == layer_id), None)

    def index_of(self, layer: Layer) -> int:
        for i, item in enumerate(self._layers):
            if item is layer:
                return i
        raise DocumentError(f"layer {layer.name!r} is not in this document")

    def flatten(self, rect: Rect | None = None) -> np.ndarray:
        """The composite, ``H x W x 4`` uint8 straight alpha; with ``rect`` only that region."""
        return composite(self._layers, (self._w, self._h), rect)

    # ------------------------------------------------------------------------------ history
    def undo(self) -> bool:
        self._finish_stroke()
        return self._history.undo()

    def redo(self) -> bool:
        self._finish_stroke()
        return self._history.redo()

    def _run(self, command: cmd.Command, merge: bool = False) -> None:
        """Apply ``command`` and record it (``merge``: into the previous step when it can)."""
        command.redo(self)
        self._push(command, merge)

    def _push(self, command: cmd.Command, merge: bool = False) -> None:
        h = self._history
        if merge and h.index == len(h.entries) and h.index and h.index > 0:
            top = h._commands[h.index - 1]
            # Not into the saved state's command: it must stay what the file holds.
            if h.state_id != self._saved_state and hasattr(top, "merge") and top.merge(command):
                h._changed()
                return
        h.push(command)

    # --------------------------------------------------------------------------------- mask
    def begin_mask_stroke(self, mode: str = "paint", size: float = 40.0, hardness: float = 0.8) -> None:
        """Start a brush stroke on the edit mask (``size`` = diameter in px, hardness 0..1)."""
        self._finish_stroke()
        self._edit_mask.begin(mode, size, hardness)

    def mask_stroke_to(self, x: float, y: float, pressure: float = 1.0) -> None:
        """Dab from the last stroke point to ``(x, y)`` (the first call dabs at the point)."""
        rect = self._edit_mask.stroke_to(x, y, pressure)
        if rect is not None:
            self._emit("mask", rect)

    def end_mask_stroke(self) -> None:
        """Finish the stroke: the whole stroke becomes one undo command (its changed tiles)."""
        label = self._edit_mask.stroke_label
        patch = self._edit_mask.end()
        if patch is not None:
            self._push(cmd.MaskPatch(label, patch))

    def _finish_stroke(self) -> None:
        if self._edit_mask.stroking:
            self.end_mask_stroke()

    def set_mask(self, array: np.ndarray, label: str = "Set mask") -> None:
        """Replace the edit mask (e.g. a SAM result or a plan's mask): one command."""
        self._finish_stroke()
        try:
            patch = self._edit_mask.replace(array)
        except ValueError as e:
            raise DocumentError(str(e)) from None
        self._mask_changed(patch, label)

    def mask_from_layer(self, layer: Layer, *, alpha: bool = False) -> None:
        """Set the edit mask to the mask an edit layer was made with or, with ``alpha``, to the
        layer's own pixels (its alpha; Photoshop's Ctrl+click on a thumbnail): one command."""
        self.index_of(layer)
        source = layer.pixels[..., 3] if alpha else getattr(layer, "mask", None)
        if source is None:
            raise DocumentError(f"{layer.name!r} has no edit mask")
        full = _recrop(np.ascontiguousarray(source), layer.bbox, (0, 0, self._w, self._h))
        self.set_mask(full, f"Mask from {layer.name}" if alpha else f"Mask of {layer.name}")

    def mask_op(self, name: str, *args, **kw) -> None:
        """Apply a mask operation as one command.

        ``dilate``/``erode``/``feather`` (px), ``move`` (dx, dy), ``invert``, ``clear``, ``fill``,
        ``to_box``, ``to_ellipse``, ``box``/``ellipse`` (rect=(x, y, w, h)) and ``polygon``
        (points=[(x, y), ...], a lasso) with ``add=True`` or ``subtract=True`` to combine,
        ``threshold`` (level).
        """
        self._finish_stroke()
        names = _OP_ARGS.get(name, ())
        if len(args) > len(names):
            raise DocumentError(f"mask_op {name!r} takes at most {len(names)} positional arguments")
        kw.update(zip(names, args))
        try:
            patch, label = self._edit_mask.apply_op(name, **kw)
        except (TypeError, ValueError) as e:
            raise DocumentError(str(e)) from None
        self._mask_changed(patch, label)

    def _mask_changed(self, patch, label: str) -> None:
        if patch is None:
            return
        self._emit("mask", patch.rect)
        self._push(cmd.MaskPatch(label, patch))

    # ------------------------------------------------------------------------------- layers
    def add_layer(self, layer: Layer, index: int | None = None) -> Layer:
        """Insert ``layer`` (default: on top) as one command."""
        if not isinstance(layer, Layer):
            raise DocumentError("add_layer() needs a Layer")
        if any(item is layer or item.id == layer.id for item in self._layers):
            raise DocumentError(f"layer {layer.name!r} is already in this document")
        index = len(self._layers) if index is None else max(0, min(int(index), len(self._layers)))
        self._layers.insert(index, layer)
        self._emit("layers", self._clip(layer.bbox))
        label = f"Edit: {layer.name}" if isinstance(layer, EditLayer) else "Add layer"
        self._push(cmd.AddLayer(layer, index, label))
        return layer

    def remove_layer(self, layer: Layer) -> None:
        index = self.index_of(layer)
        del self._layers[index]
        self._emit("layers", self._clip(layer.bbox))
        self._push(cmd.RemoveLayer(layer, index))

    def move_layer(self, layer: Layer, new_index: int) -> None:
        old = self.index_of(layer)
        new = max(0, min(int(new_index), len(self._layers) - 1))
        if new == old:
            return
        c = cmd.MoveLayer(layer, old, new)
        self._run(c)

    def duplicate_layer(self, layer: Layer) -> Layer:
        """A copy (new id, name + " copy") just above ``layer``; one command."""
        index = self.index_of(layer)
        copy = layer._copy(new_id=True)
        copy._name = f"{layer.name} copy"
        self._layers.insert(index + 1, copy)
        self._emit("layers", self._clip(copy.bbox))
        self._push(cmd.AddLayer(copy, index + 1, "Duplicate layer"))
        return copy

    def set_layer_props(self, layer: Layer, name: str | None = None, visible: bool | None = None,
                        opacity: float | None = None, blend_mode: str | None = None) -> None:
        """Rename, show/hide, change opacity or blend mode: one command (opacity drags merge
        into one)."""
        self.index_of(layer)
        if blend_mode is not None and blend_mode not in BLEND_MODES:
            raise DocumentError(f"unknown blend mode {blend_mode!r} (one of {', '.join(BLEND_MODES)})")
        new = {k: v for k, v in (("name", name), ("visible", visible), ("opacity", opacity),
                                 ("blend_mode", blend_mode)) if v is not None}
        if opacity is not None:
            try:
                new["opacity"] = min(1.0, max(0.0, float(opacity)))
            except (TypeError, ValueError):
                raise DocumentError(f"opacity must be a number in 0..1, got {opacity!r}") from None
            if not np.isfinite(new["opacity"]):
                raise DocumentError(f"opacity must be a number in 0..1, got {opacity!r}")
        old_all = layer._props()
        new = {k: v for k, v in new.items() if old_all[k] != v}
        if not new:
            return
        old = {k: old_all[k] for k in new}
        if set(new) == {"visible"}:
            label = "Show layer" if new["visible"] else "Hide layer"
        elif set(new) == {"name"}:
            label = "Rename layer"
        elif set(new) == {"opacity"}:
            label = "Layer opacity"
        elif set(new) == {"blend_mode"}:
            label = "Blend mode"
        else:
            label = "Layer properties"
        c = cmd.LayerProps(layer, old, new, label)
        self._run(c, merge=set(new) == {"opacity"})

    def add_edit(self, pixels: np.ndarray, offset: tuple[int, int] = (0, 0),
                 provenance: Provenance | None = None, *, name: str | None = None,
                 mask: np.ndarray | None = None, variants: Sequence | None = None,
                 variant: int | None = None) -> EditLayer:
        """Add an engine result as a new top layer: ONE command.

        Parameters
        ----------
        pixels : ndarray
            ``h x w x 3`` (opaque) or ``h x w x 4`` uint8: only the edited bounding box.
        offset : (int, int)
            Where the crop's top-left pixel lands on the canvas.
        provenance : Provenance
            How the edit was made.
        name : str, optional
            Layer name; default from the instruction or prompt.
        mask : ndarray, optional
            The mask used, full canvas size (``H x W``) or the crop's size; stored cropped.
        variants : sequence of (pixels, offset, mask, provenance), optional
            The candidates the edit was chosen from, each given like the layer itself; the layer
            can switch to any of them later (:meth:`use_variant`). ``variant`` is the index of the
            one ``pixels`` shows.
        """
        provenance = provenance if provenance is not None else Provenance()
        try:
            rgba = as_rgba(pixels)
            ox, oy = int(offset[0]), int(offset[1])
            crop = self._crop_mask(mask, (ox, oy, rgba.shape[1], rgba.shape[0]))
            if name is None:
                text = provenance.instruction or provenance.prompt or "Edit"
                name = text if len(text) <= 48 else text[:47] + "…"
            layer = EditLayer(rgba, provenance, mask=crop, name=name, offset=(ox, oy))
            if variants:
                layer._variants = tuple(self._variant(*v) for v in variants)
                if len(layer._variants) > MAX_VARIANTS:
                    raise ValueError(f"at most {MAX_VARIANTS} variants, got {len(layer._variants)}")
                if variant is not None and not 0 <= int(variant) < len(layer._variants):
                    raise ValueError(f"variant {variant} is not one of the {len(layer._variants)} variants")
                layer._variant = None if variant is None else int(variant)
                shown = layer._variants[layer._variant] if variant is not None else None
                if shown is not None and shown.offset == layer.offset and np.array_equal(shown.pixels, rgba):
                    layer._set_pixels(shown.pixels)  # one array for both: memory, and saves store it once
        except (TypeError, ValueError) as e:
            raise DocumentError(f"bad edit: {e}") from None
        return self.add_layer(layer)

    def _variant(self, pixels, offset, mask=None, provenance=None) -> Variant:
        rgba = as_rgba(pixels)
        off = (int(offset[0]), int(offset[1]))
        prov = provenance if provenance is not None else Provenance()
        if not isinstance(prov, Provenance):
            raise ValueError("a variant's provenance must be a Provenance")
        return Variant(rgba, off, self._crop_mask(mask, (*off, rgba.shape[1], rgba.shape[0])), prov)

    def use_variant(self, layer: EditLayer, index: int) -> None:
        """Show variant ``index`` of edit layer ``layer`` (its pixels, mask and provenance):
        one command, unless it already shows it."""
        self._finish_stroke()
        self.index_of(layer)
        variants = getattr(layer, "variants", ())
        if not 0 <= int(index) < len(variants):
            raise DocumentError(f"{layer.name!r} has no variant {index} (it has {len(variants)})")
        if layer.variant == index:
            return
        v = variants[index]
        new = {"pixels": v.pixels, "offset": v.offset, "mask": v.mask, "provenance": v.provenance,
               "variant": int(index)}
        c = cmd.ReplacePixels(layer, layer._snapshot(), new, f"Use variation {index + 1}")
        self._run(c)

    def replace_layer_pixels(self, layer: Layer, pixels: np.ndarray,
                             offset: tuple[int, int] | None = None, *,
                             provenance: Provenance | None = None,
                             mask: np.ndarray | None = None, as_variant: bool = False) -> None:
        """New pixels (and offset; for edit layers new provenance/mask) for ``layer``: one command.

        Used by "re-run with a new seed". An edit layer without a new ``mask`` keeps its old one,
        re-cropped to the new bounding box. ``as_variant`` (edit layers) adds the new pixels to the
        layer's variations and shows them, so the old look stays one click away (a layer without
        variations first gets its current look as variation 1).
        """
        self.index_of(layer)
        try:
            rgba = as_rgba(pixels)
            off = layer.offset if offset is None else (int(offset[0]), int(offset[1]))
            old = layer._snapshot()
            new = {"pixels": rgba, "offset": off}
            if isinstance(layer, EditLayer):
                bbox = (off[0], off[1], rgba.shape[1], rgba.shape[0])
                if mask is not None:
                    new["mask"] = self._crop_mask(mask, bbox)
                elif layer.mask is not None:
                    new["mask"] = _recrop(layer.mask, layer.bbox, bbox)
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
        c = cmd.ReplacePixels(layer, old, new,
                              "Re-run edit" if isinstance(layer, EditLayer) else "Replace layer pixels")
        self._run(c)

    def erase_masked(self, layer: Layer, *, keep: bool = False, mask: np.ndarray | None = None) -> bool:
        """Erase the masked part of ``layer`` (``keep=True``: erase everything else): one command.

        The mask (default: the edit mask; else an ``H x W`` canvas mask) scales the layer's alpha,
        so a feathered mask gives a soft edge. Parts of the layer outside the canvas count as
        unmasked. An edit layer keeps its provenance and mask. Returns False (no command) when
        nothing would change.
        """
        self._finish_stroke()
        self.index_of(layer)
        if mask is None:
            full = self.mask
        else:
            try:
                full = mask_ops.as_mask(mask)
            except (TypeError, ValueError) as e:
                raise DocumentError(str(e)) from None
            if full.shape != (self._h, self._w):
                raise DocumentError(f"mask must be {self._h} x {self._w}, got {full.shape}")
        region = _recrop(full, (0, 0, self._w, self._h), layer.bbox)
        weight = region if keep else 255 - region
        alpha = layer.pixels[..., 3]
        new_alpha = ((alpha.astype(np.uint16) * weight + 127) // 255).astype(np.uint8)
        if np.array_equal(new_alpha, alpha):
            return False
        pixels = np.array(layer.pixels)
        pixels[..., 3] = new_alpha
        self._repainted(layer, pixels, layer.bbox, "Keep masked area" if keep else "Erase masked area")
        return True

    def move_layer_content(self, layer: Layer, x: int, y: int, *, drag=None) -> None:
        """Put ``layer``'s top-left pixel at canvas ``(x, y)``: one command. Calls passing the same
        ``drag`` key (one mouse drag) merge into a single undo step. An edit layer's variations
        move with it."""
        self._finish_stroke()
        self.index_of(layer)
        x, y = int(x), int(y)
        if abs(x) > MAX_SIDE * 4 or abs(y) > MAX_SIDE * 4:
            raise DocumentError(f"position ({x}, {y}) is too far from the canvas")
        ox, oy = layer.offset
        if (x, y) == (ox, oy):
            return
        old = layer._snapshot()
        new = dict(old, offset=(x, y))
        if getattr(layer, "variants", ()):
            new["variants"] = tuple(v.moved(x - ox, y - oy) for v in layer.variants)
        c = cmd.MoveContent(layer, old, new, drag)
        self._run(c, merge=drag is not None)

    def paint_stroke(self, layer: Layer | None, points: Sequence, *, size: float = 20.0,
                     hardness: float = 0.8, color=(0, 0, 0), opacity: float = 1.0,
                     erase: bool = False, above: Layer | None = None) -> Layer | None:
        """Paint one brush stroke through ``points`` ((x, y) or (x, y, pressure) on the canvas)
        onto ``layer``, or onto a new "Paint" layer when ``layer`` is None (right above ``above``
        when given, else on top): one command.

        The round brush is the mask brush's (``size`` = diameter, ``hardness``); ``color`` is RGB
        0..255 laid over the layer with ``opacity``, or with ``erase`` the stroke lowers the layer's
        alpha. A layer grows to take a stroke reaching past it (within the canvas). An edit layer
        keeps its provenance and mask (then shows none of its variations). Returns the layer
        painted, or None when the stroke touched nothing (no command).
        """
        self._finish_stroke()
        if layer is not None:
            self.index_of(layer)
        try:
            rgb = np.array([int(c) for c in tuple(color)[:3]], np.float32)
            size, hardness, opacity = float(size), float(hardness), float(opacity)
        except (TypeError, ValueError):
            raise DocumentError("paint_stroke needs a colour (r, g, b) and numeric size, hardness, opacity") from None
        if rgb.shape != (3,) or rgb.min() < 0 or rgb.max() > 255 or not 0 < size <= 5000:
            raise DocumentError(f"bad brush: colour {tuple(color)!r}, size {size}")
        path = StrokePath(size)
        dabs = [d for p in points for d in path.to(*p[:3])]
        if not dabs:
            return None
        boxes = np.array([dab_rect(x, y, size) for x, y, _ in dabs])
        rect = mask_ops.clamp_rect((int(boxes[:, 0].min()), int(boxes[:, 1].min()),
                                    int(boxes[:, 2].max() - boxes[:, 0].min()),
                                    int(boxes[:, 3].max() - boxes[:, 1].min())), self._w, self._h)
        if rect is None:
            return None
        cov = np.zeros((rect[3], rect[2]), np.uint8)
        tip = dab(size, hardness)
        for x, y, p in dabs:
            stamp(cov, x - rect[0], y - rect[1], tip, False, min(1.0, max(0.0, p)))
        a = cov.astype(np.float32) * (min(1.0, max(0.0, opacity)) / 255.0)
        if layer is None:
            if erase:
                return None
            px = np.zeros((rect[3], rect[2], 4), np.uint8)
            px[..., :3] = rgb.astype(np.uint8)
            px[..., 3] = np.rint(a * 255).astype(np.uint8)
            index = None if above is None else self.index_of(above) + 1
            return self.add_layer(RasterLayer(px, name="Paint", offset=rect[:2]), index)
        # The layer's new box (a paint stroke may grow it), and the stroke's part of it.
        box = layer.bbox if erase else self._union(layer.bbox, rect)
        x0, y0 = max(box[0], rect[0]), max(box[1], rect[1])
        x1, y1 = min(box[0] + box[2], rect[0] + rect[2]), min(box[1] + box[3], rect[1] + rect[3])
        if x1 <= x0 or y1 <= y0:
            return None
        px = _recrop(layer.pixels, layer.bbox, box)
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
        self._repainted(layer, px, box, "Erase stroke" if erase else "Paint stroke")
        return layer

    def _repainted(self, layer: Layer, pixels: np.ndarray, box: Rect, label: str) -> None:
        """``layer`` with new ``pixels`` covering canvas ``box``, painted over by the user: one
        command. An edit layer keeps its provenance, its mask (re-cut to ``box``) and its
        variations, and then shows none of them."""
        pixels.flags.writeable = False  # ours alone: the layer keeps it without another copy
        old = layer._snapshot()
        new = dict(old, pixels=as_rgba(pixels), offset=box[:2])
        if isinstance(layer, EditLayer):
            if layer.mask is not None and box != layer.bbox:
                new["mask"] = _recrop(layer.mask, layer.bbox, box)
            new["variant"] = None
        self._run(cmd.ReplacePixels(layer, old, new, label))

    def merge_down(self, layer: Layer) -> Layer:
        """Merge ``layer`` into the layer below it: one command; returns the merged raster layer.

        Both layers' opacities are baked in, so the picture does not change; the result keeps the
        lower layer's name and covers both layers' area on the canvas. An edit layer merged this
        way loses its provenance (undo brings it back). The result keeps the lower layer's blend
        mode, as in Krita: with modes other than normal the picture can change (no one layer can
        hold "A, then B in another mode").
        """
        self._finish_stroke()
        index = self.index_of(layer)
        if index == 0:
            raise DocumentError(f"there is no layer below {layer.name!r} to merge it into")
        below = self._layers[index - 1]
        if not (layer.visible and below.visible):
            raise DocumentError("show both layers before merging them")
        rect = self._clip(self._union(below.bbox, layer.bbox))
        if not rect[2] or not rect[3]:
            raise DocumentError("neither layer covers any of the canvas")
        merged = RasterLayer(composite([below, layer], (self._w, self._h), rect), name=below.name,
                             offset=rect[:2], blend_mode=below.blend_mode)  # as Krita: the lower one's mode
        c = cmd.Compound("Merge down", [cmd.RemoveLayer(layer, index), cmd.RemoveLayer(below, index - 1),
                                        cmd.AddLayer(merged, index - 1)])
        self._run(c)
        return merged

    def flatten_image(self) -> Layer:
        """Replace all layers by one ``Background`` layer holding the composite: one command.

        Hidden layers are dropped, as in Photoshop and Krita; areas no layer covers stay
        transparent."""
        self._finish_stroke()
        merged = RasterLayer(self.flatten(), name="Background")
        steps: list[cmd.Command] = [cmd.RemoveLayer(layer, i)
                                    for i, layer in reversed(list(enumerate(self._layers)))]
        c = cmd.Compound("Flatten image", [*steps, cmd.AddLayer(merged, 0)])
        self._run(c)
        return merged

    def _crop_mask(self, mask, bbox: Rect) -> np.ndarray | None:
        if mask is None:
            return None
        m = mask_ops.as_mask(mask)
        x, y, w, h = bbox
        if m.shape == (h, w):
            out = m.copy()
        elif m.shape == (self._h, self._w):
            out = _recrop(m, (0, 0, self._w, self._h), bbox)
        else:
            raise ValueError(f"mask must be {self._h} x {self._w} or {h} x {w}, got {m.shape}")
        out.flags.writeable = False
        return out

    # -------------------------------------------------------------------------------- copy
    def copy_pixels(self, layer: Layer | None = None) -> tuple[np.ndarray, tuple[int, int]] | None:
        """What Ctrl+C copies: the masked part of ``layer`` (None: of the composite, "copy
        merged"), or all of it without a mask, cut to the mask's bounding box (the canvas without
        one) and with the mask as alpha. Returns ``(h x w x 4 RGBA, (x, y) on the canvas)``, or
        None when nothing visible is there."""
        m = self._edit_mask.array
        box = mask_ops.bbox(m)
        rect = box if box is not None else (0, 0, self._w, self._h)
        if layer is None:
            px = np.array(self.flatten(rect))
        else:
            self.index_of(layer)
            px = _recrop(layer.pixels, layer.bbox, rect)
        if box is not None:
            x, y, w, h = rect
            px[..., 3] = (px[..., 3].astype(np.uint16) * m[y:y + h, x:x + w] + 127) // 255
        if not px[..., 3].any():
            return None
        return px, (rect[0], rect[1])

    # ------------------------------------------------------------------------------- canvas
    def resize_canvas(self, rect: Rect, *, label: str | None = None,
                      max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """Make the canvas the rectangle ``rect = (x, y, w, h)`` of the current one: one command.

        Inside the canvas it crops, reaching past it it expands (the new area is transparent until
        something is painted there: mask it and run an edit for a generative expand). Layers keep
        all their pixels and move with the origin, so nothing is lost to a crop and undo restores
        it exactly; the edit mask is cut or extended (with zeros).
        """
        self._resize_canvas(rect, label, max_pixels)

    def expand_canvas(self, left: int = 0, top: int = 0, right: int = 0, bottom: int = 0, *,
                      mask_new_area: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """Add transparent borders (px per side); with ``mask_new_area`` the edit mask becomes the
        new area, ready for a fill or a generative expand. One command either way."""
        try:
            left, top, right, bottom = (int(v) for v in (left, top, right, bottom))
        except (TypeError, ValueError):
            raise DocumentError("expand_canvas takes whole numbers of px per side") from None
        if min(left, top, right, bottom) < 0:
            raise DocumentError("expand_canvas adds space: every side must be 0 or more px")
        w, h = self._w, self._h
        new_mask = None
        if mask_new_area:
            new_mask = np.full((h + top + bottom, w + left + right), 255, np.uint8)
            new_mask[top:top + h, left:left + w] = 0
        self._resize_canvas((-left, -top, w + left + right, h + top + bottom), "Expand canvas",
                            max_pixels, new_mask)

    def _resize_canvas(self, rect, label: str | None, max_pixels: int,
                       new_mask: np.ndarray | None = None) -> None:
        self._finish_stroke()
        try:
            x, y, w, h = (int(v) for v in rect)
        except (TypeError, ValueError):
            raise DocumentError(f"canvas rectangle must be (x, y, w, h), got {rect!r}") from None
        if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
            raise DocumentError(f"canvas size {w} x {h} is out of range (1..{MAX_SIDE})")
        if w * h > max_pixels:
            raise DocumentError(f"canvas {w} x {h} is over the limit of {max_pixels / 1e6:g} megapixels")
        if (x, y, w, h) == (0, 0, self._w, self._h):
            return
        if label is None:
            inside = x >= 0 and y >= 0 and x + w <= self._w and y + h <= self._h
            label = "Crop canvas" if inside else "Canvas size"
        old_mask = self._edit_mask.array.copy()
        if new_mask is None:
            new_mask = _recrop(old_mask, (0, 0, self._w, self._h), (x, y, w, h))
        c = cmd.CanvasSize(label, (self._w, self._h), (w, h), (x, y), old_mask, new_mask)
        self._run(c)

    def crop_to_mask(self, margin: int = 0) -> None:
        """Crop the canvas to the edit mask's bounding box grown by ``margin`` px: one command."""
        m = self._edit_mask.array
        if not m.any():
            raise DocumentError("the mask is empty: paint or select the area to keep first")
        x, y, w, h = mask_ops.bbox(m)
        rect = mask_ops.clamp_rect((x - margin, y - margin, w + 2 * margin, h + 2 * margin), self._w, self._h)
        self.resize_canvas(rect, label="Crop to mask")

    def rotate(self, degrees: int) -> None:
        """Rotate the image 90 (clockwise), 270 / -90 (counter-clockwise) or 180 degrees: one
        command; layers, edit masks and variations turn with it."""
        canvas_ops.rotate(self, degrees)

    def flip(self, horizontal: bool = True) -> None:
        """Mirror the image left-right (``horizontal``) or top-bottom: one command."""
        canvas_ops.flip(self, horizontal)

    def resize_image(self, width: int, height: int, resample: str = "lanczos", *,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """Scale the whole image to ``width x height`` (``resample``: lanczos, bicubic, bilinear,
        nearest): one command; every layer is resampled and keeps its place in the picture."""
        canvas_ops.resize_image(self, width, height, resample, max_pixels)

    # --------------------------------------------------------------------------------- files
    def save(self, path: str | Path | None = None) -> Path:
        """Write the project as OpenRaster (atomically); sets :attr:`path`, clears :attr:`dirty`."""
        if path is None:
            if self._path is None:
                raise DocumentError("this document has no project file yet: give a path")
            path = self._path
        state = self._history.state_id
        path = self.save_copy(path)
        self._path = path.resolve()
        self._saved_state = state
        self._emit("path")
        return self._path

    def save_copy(self, path: str | Path) -> Path:
        """Write the project to ``path`` (atomically) without making it the document's file.

        For autosave and recovery copies: :attr:`path` and :attr:`dirty` do not change. The
        layers and mask are snapshotted first, so later edits cannot tear the file.
        """
        self._finish_stroke()
        path = Path(path)
        if path.suffix.lower() != ".ora":
            raise DocumentError("projects are saved as OpenRaster (.ora); use export() for images",
                                path)
        layers = list(self._layers)
        mask = self._edit_mask.array.copy()
        meta = {"history": self._history.entries[:self._history.index],
                "source": str(self.source_path.name) if self.source_path else None}
        merged = composite(layers, (self._w, self._h))
        save_ora(path, self._w, self._h, layers, merged, mask, meta)
        return path

    def export(self, path: str | Path, *, quality: int = 92, lossless: bool = False) -> Path:
        """Write the flattened image by extension (.png .jpg .jpeg .webp) with history metadata."""
        self._finish_stroke()
        edits = [layer for layer in self._layers if isinstance(layer, EditLayer) and layer.visible]
        summary = "Edited with BrushEdit Studio"
        if edits:
            summary += f" ({len(edits)} edit{'s' if len(edits) > 1 else ''}): " + "; ".join(
                f"{i + 1}) {layer.provenance.summary()}" for i, layer in enumerate(edits))
        history = [dict(layer.provenance.to_dict(), layer=layer.name) for layer in edits]
        export_image(path, self.flatten(), summary=summary, history=history, quality=quality,
                     lossless=lossless)
        return Path(path)

    # ------------------------------------------------------------------------------ helpers
    def _emit(self, kind: str, rect: Rect | None = None) -> None:
        self.events.emit(kind, rect)

    def _clip(self, rect: Rect | None) -> Rect | None:
        if rect is None:
            return None
        return mask_ops.clamp_rect(rect, self._w, self._h) or (0, 0, 0, 0)

    @staticmethod
    def _union(a: Rect | None, b: Rect | None) -> Rect | None:
        if a is None or b is None:
            return None
        if not a[2] or not a[3]:
            return b
        if not b[2] or not b[3]:
            return a
        x0, y0 = min(a[0], b[0]), min(a[1], b[1])
        x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
        return x0, y0, x1 - x0, y1 - y0

    def __repr__(self) -> str:
        return f"<Document {self.title!r} {self._w}x{self._h} layers={len(self._layers)}>"


def _recrop(mask: np.ndarray, src: Rect, dst: Rect) -> np.ndarray:
    """``mask`` (or RGBA pixels) placed at canvas rect ``src``, cut to canvas rect ``dst`` (0 where
    it has none)."""
    out = np.zeros((dst[3], dst[2]) + mask.shape[2:], np.uint8)
    x0, y0 = max(src[0], dst[0]), max(src[1], dst[1])
    x1, y1 = min(src[0] + src[2], dst[0] + dst[2]), min(src[1] + src[3], dst[1] + dst[3])
    if x1 > x0 and y1 > y0:
        out[y0 - dst[1]:y1 - dst[1], x0 - dst[0]:x1 - dst[0]] = \
            mask[y0 - src[1]:y1 - src[1], x0 - src[0]:x1 - src[0]]
    return out
