"""The layered document: a canvas size, a stack of layers, the edit mask, history and file I/O.

Every change goes through a method here, becomes one undoable command (storing only what changed)
and is announced on :attr:`Document.events`. The operations that build those commands live beside
it, one concern each: :mod:`.layer_stack` (the stack and its active layer), :mod:`.pixel_ops` (a
layer's pixels), :mod:`.canvas_ops` (the canvas), :mod:`.mask_editing` (the edit mask); they
return commands, and the document runs them. Nothing here imports Qt: the editor, the CLI and the
tests drive the same object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from . import canvas_ops, layer_stack, pixel_ops
from .commands import MaskPatch
from .compositing import composite
from .edit_mask import EditMask
from .errors import DocumentError
from .events import Events
from .export import edit_summary, export_image
from .geometry import MAX_SIDE, Rect
from .history import DEFAULT_BUDGET, Command, History
from .image_import import DEFAULT_MAX_PIXELS, open_image
from .layer_stack import LayerStack
from .layers import EditLayer, Layer, RasterLayer, as_rgba
from .mask_editing import MaskEditing
from .ora import is_ora, load_ora, save_ora
from .provenance import Provenance

__all__ = ["Document", "MAX_SIDE"]


class Document(MaskEditing):
    """An image being edited. Build with :meth:`new`, :meth:`from_array` or :meth:`open`."""

    def __init__(self, width: int, height: int, *, history_budget: int = DEFAULT_BUDGET) -> None:
        width, height = int(width), int(height)
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise DocumentError(f"canvas size {width} x {height} is out of range (1..{MAX_SIDE})")
        self._w, self._h = width, height
        self._stack = LayerStack()
        self._edit_mask = EditMask(height, width)
        self.events = Events()
        self.active_events = Events()  # "active": the active layer changed (see active_layer)
        self._history = History(self, history_budget, on_change=self._history_moved)
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
            doc._stack = LayerStack([RasterLayer(pixels, name="Background")])
        return doc

    @classmethod
    def from_array(cls, pixels: np.ndarray, name: str = "Background") -> "Document":
        """A document holding ``pixels`` (H x W x 3 or 4 uint8) as its only layer."""
        try:
            rgba = as_rgba(pixels)
        except ValueError as e:
            raise DocumentError(str(e)) from None
        doc = cls(rgba.shape[1], rgba.shape[0])
        doc._stack = LayerStack([RasterLayer(rgba, name=name)])
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
            doc._stack = LayerStack(data.layers)
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
        return self._stack.layers

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
        return self._stack.by_id(layer_id)

    def index_of(self, layer: Layer) -> int:
        return self._stack.index_of(layer)

    def flatten(self, rect: Rect | None = None) -> np.ndarray:
        """The composite, ``H x W x 4`` uint8 straight alpha; with ``rect`` only that region."""
        return composite(self._stack.layers, (self._w, self._h), rect)

    # ------------------------------------------------------------------------- active layer
    @property
    def active_layer(self) -> Layer | None:
        """The layer the user works on (the Layers panel's selection; None only with no layers).

        A layer that is the only one a step adds becomes active (a new edit or paint layer, a
        duplicate, the merged layer, a layer whose deletion is undone); when the active layer
        leaves the stack (deleted, undone), the top layer takes over. A change is announced on
        :attr:`active_events` (kind ``active``), after the step's own events.
        """
        return self._stack.active

    def set_active_layer(self, layer: Layer | str) -> None:
        """Make ``layer`` (one of this document's, or its id) the active layer; not an undo step."""
        if isinstance(layer, str):
            found = self._stack.by_id(layer)
            if found is None:
                raise DocumentError(f"no layer with id {layer!r} in this document")
            layer = found
        if self._stack.set_active(layer):
            self.active_events.emit("active")

    # ------------------------------------------------------------------------------ history
    def undo(self) -> bool:
        self._finish_stroke()
        return self._history.undo()

    def redo(self) -> bool:
        self._finish_stroke()
        return self._history.redo()

    def _history_moved(self) -> None:
        active_changed = self._stack.settle()  # a step added or removed layers: keep it valid
        self._emit("history")
        if active_changed:
            self.active_events.emit("active")

    def _run(self, command: Command | None, merge: bool = False) -> None:
        """Apply ``command`` and record it (``merge``: into the previous step when it can); None
        (an operation that would change nothing) is no step."""
        if command is None:
            return
        command.redo(self)
        self._push(command, merge)

    def _push(self, command: Command, merge: bool = False) -> None:
        # Never into the saved state's command: it must stay what the file holds.
        if merge and self._history.state_id != self._saved_state and self._history.merge_into_top(command):
            return
        self._history.push(command)

    # ----------------------------------------------- what the commands change (no history here)
    @property
    def stack(self) -> LayerStack:
        """The layer stack the commands change. Change layers through the methods below instead:
        a direct change is no undo step and announces nothing."""
        return self._stack

    @property
    def edit_mask(self) -> EditMask:
        """The live edit mask the commands change (read :attr:`mask` otherwise)."""
        return self._edit_mask

    def set_canvas(self, size: tuple[int, int], mask: np.ndarray) -> None:
        """For commands: the canvas becomes ``size`` with edit mask ``mask`` (copied); use
        :meth:`resize_canvas` and the like instead (this is no undo step and announces nothing)."""
        self._w, self._h = int(size[0]), int(size[1])
        self._edit_mask = EditMask(self._h, self._w)
        self._edit_mask.array[...] = mask  # a copy: strokes change the live array in place

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
            self._push(MaskPatch(label, patch))

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

    def _mask_changed(self, patch, label: str) -> None:
        if patch is None:
            return
        self._emit("mask", patch.rect)
        self._push(MaskPatch(label, patch))

    # ------------------------------------------------------------------------------- layers
    def add_layer(self, layer: Layer, index: int | None = None) -> Layer:
        """Insert ``layer`` (default: on top) as one command; it becomes the active layer."""
        self._run(layer_stack.add(self._stack, layer, index))
        return layer

    def remove_layer(self, layer: Layer) -> None:
        self._run(layer_stack.remove(self._stack, layer))

    def move_layer(self, layer: Layer, new_index: int) -> None:
        self._run(layer_stack.move(self._stack, layer, new_index))

    def duplicate_layer(self, layer: Layer) -> Layer:
        """A copy (new id, name + " copy") just above ``layer``; one command."""
        command = layer_stack.duplicate(self._stack, layer)
        self._run(command)
        return command.layer

    def set_layer_props(self, layer: Layer, name: str | None = None, visible: bool | None = None,
                        opacity: float | None = None, blend_mode: str | None = None) -> None:
        """Rename, show/hide, change opacity or blend mode: one command (opacity drags merge
        into one)."""
        self.index_of(layer)
        command = layer_stack.layer_props(layer, name, visible, opacity, blend_mode)
        self._run(command, merge=command is not None and set(command.new) == {"opacity"})

    def merge_down(self, layer: Layer) -> Layer:
        """Merge ``layer`` into the layer below it: one command; returns the merged raster layer.

        Both layers' opacities are baked in, so the picture does not change; the result keeps the
        lower layer's name and covers both layers' area on the canvas. An edit layer merged this
        way loses its provenance (undo brings it back). The result keeps the lower layer's blend
        mode, as in Krita: with modes other than normal the picture can change (no one layer can
        hold "A, then B in another mode").
        """
        self._finish_stroke()
        command = layer_stack.merge_down(self._stack, self.size, layer)
        self._run(command)
        return command.commands[-1].layer

    def flatten_image(self) -> Layer:
        """Replace all layers by one ``Background`` layer holding the composite: one command.

        Hidden layers are dropped, as in Photoshop and Krita; areas no layer covers stay
        transparent."""
        self._finish_stroke()
        command = layer_stack.flatten(self._stack, self.size)
        self._run(command)
        return command.commands[-1].layer

    # ------------------------------------------------------------------------- layer pixels
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
        return self.add_layer(pixel_ops.edit_layer(self.size, pixels, offset, provenance, name=name, mask=mask,
                                                   variants=variants, variant_index=variant))

    def use_variant(self, layer: EditLayer, index: int) -> None:
        """Show variant ``index`` of edit layer ``layer`` (its pixels, mask and provenance):
        one command, unless it already shows it."""
        self._finish_stroke()
        self.index_of(layer)
        self._run(pixel_ops.use_variant(layer, index))

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
        self._run(pixel_ops.replace_pixels(self.size, layer, pixels, offset, provenance=provenance,
                                           mask=mask, as_variant=as_variant))

    def erase_masked(self, layer: Layer, *, keep: bool = False, mask: np.ndarray | None = None) -> bool:
        """Erase the masked part of ``layer`` (``keep=True``: erase everything else): one command.

        The mask (default: the edit mask; else an ``H x W`` canvas mask) scales the layer's alpha,
        so a feathered mask gives a soft edge. Parts of the layer outside the canvas count as
        unmasked. An edit layer keeps its provenance and mask. Returns False (no command) when
        nothing would change.
        """
        self._finish_stroke()
        self.index_of(layer)
        command = pixel_ops.erase_masked(self.size, layer, self.mask if mask is None else mask, keep=keep)
        self._run(command)
        return command is not None

    def move_layer_content(self, layer: Layer, x: int, y: int, *, drag=None) -> None:
        """Put ``layer``'s top-left pixel at canvas ``(x, y)``: one command. Calls passing the same
        ``drag`` key (one mouse drag) merge into a single undo step. An edit layer's variations
        move with it."""
        self._finish_stroke()
        self.index_of(layer)
        self._run(pixel_ops.move_content(layer, x, y, drag), merge=drag is not None)

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
        out = pixel_ops.paint_stroke(self.size, layer, points, brush=size, hardness=hardness, color=color,
                                     opacity=opacity, erase=erase)
        if isinstance(out, Layer):  # a new "Paint" layer
            return self.add_layer(out, None if above is None else self.index_of(above) + 1)
        self._run(out)
        return None if out is None else layer

    # -------------------------------------------------------------------------------- copy
    def copy_pixels(self, layer: Layer | None = None) -> tuple[np.ndarray, tuple[int, int]] | None:
        """What Ctrl+C copies: the masked part of ``layer`` (None: of the composite, "copy
        merged"), or all of it without a mask, cut to the mask's bounding box (the canvas without
        one) and with the mask as alpha. Returns ``(h x w x 4 RGBA, (x, y) on the canvas)``, or
        None when nothing visible is there."""
        if layer is not None:
            self.index_of(layer)
        return pixel_ops.masked_copy(self._stack.layers, self.size, self._edit_mask.array, layer)

    # ------------------------------------------------------------------------------- canvas
    def resize_canvas(self, rect: Rect, *, label: str | None = None,
                      max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """Make the canvas the rectangle ``rect = (x, y, w, h)`` of the current one: one command.

        Inside the canvas it crops, reaching past it it expands (the new area is transparent until
        something is painted there: mask it and run an edit for a generative expand). Layers keep
        all their pixels and move with the origin, so nothing is lost to a crop and undo restores
        it exactly; the edit mask is cut or extended (with zeros).
        """
        self._finish_stroke()
        self._run(canvas_ops.resize_canvas(self.size, self._edit_mask.array, rect, label, max_pixels))

    def expand_canvas(self, left: int = 0, top: int = 0, right: int = 0, bottom: int = 0, *,
                      mask_new_area: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """Add transparent borders (px per side); with ``mask_new_area`` the edit mask becomes the
        new area, ready for a fill or a generative expand. One command either way."""
        self._finish_stroke()
        self._run(canvas_ops.expand_canvas(self.size, self._edit_mask.array, left, top, right, bottom,
                                           mask_new_area=mask_new_area, max_pixels=max_pixels))

    def crop_to_mask(self, margin: int = 0) -> None:
        """Crop the canvas to the edit mask's bounding box grown by ``margin`` px: one command."""
        self._finish_stroke()
        self._run(canvas_ops.crop_to_mask(self.size, self._edit_mask.array, margin))

    def rotate(self, degrees: int) -> None:
        """Rotate the image 90 (clockwise), 270 / -90 (counter-clockwise) or 180 degrees: one
        command; layers, edit masks and variations turn with it."""
        self._finish_stroke()
        self._run(canvas_ops.rotate(self._stack.layers, self.size, self._edit_mask.array, degrees))

    def flip(self, horizontal: bool = True) -> None:
        """Mirror the image left-right (``horizontal``) or top-bottom: one command."""
        self._finish_stroke()
        self._run(canvas_ops.flip(self._stack.layers, self.size, self._edit_mask.array, horizontal))

    def resize_image(self, width: int, height: int, resample: str = "lanczos", *,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """Scale the whole image to ``width x height`` (``resample``: lanczos, bicubic, bilinear,
        nearest): one command; every layer is resampled and keeps its place in the picture."""
        self._finish_stroke()
        self._run(canvas_ops.resize_image(self._stack.layers, self.size, self._edit_mask.array, width, height,
                                          resample, max_pixels))

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
        layers = self._stack.layers
        mask = self._edit_mask.array.copy()
        meta = {"history": self._history.entries[:self._history.index],
                "source": str(self.source_path.name) if self.source_path else None}
        merged = composite(layers, (self._w, self._h))
        save_ora(path, self._w, self._h, layers, merged, mask, meta)
        return path

    def export(self, path: str | Path, *, quality: int = 92, lossless: bool = False) -> Path:
        """Write the flattened image by extension (.png .jpg .jpeg .webp) with history metadata."""
        self._finish_stroke()
        summary, history = edit_summary(self._stack.layers)
        export_image(path, self.flatten(), summary=summary, history=history, quality=quality,
                     lossless=lossless)
        return Path(path)

    # ------------------------------------------------------------------------------ helpers
    def _emit(self, kind: str, rect: Rect | None = None) -> None:
        self.events.emit(kind, rect)

    def __repr__(self) -> str:
        return f"<Document {self.title!r} {self._w}x{self._h} layers={len(self._stack)}>"
