"""The document's undoable commands. Each stores only what it changed (tiles, or layer references)."""

from __future__ import annotations

from .edit_mask import EditMask
from .history import Command
from .layers import EditLayer, Layer
from .patches import TilePatch


def _canvas_rect(doc, layer: Layer):
    return doc._clip(layer.bbox)


class MaskPatch(Command):
    """A change of the edit mask (a stroke, an operation, a new mask): the changed tiles only."""

    def __init__(self, label: str, patch: TilePatch) -> None:
        self.label = label
        self.patch = patch

    @property
    def nbytes(self) -> int:
        return self.patch.nbytes

    def undo(self, doc) -> None:
        doc._emit("mask", self.patch.swap(doc._edit_mask.array))

    redo = undo  # the swap is its own inverse


class AddLayer(Command):
    def __init__(self, layer: Layer, index: int, label: str = "Add layer") -> None:
        self.layer, self.index, self.label = layer, index, label

    @property
    def nbytes(self) -> int:
        return self.layer.nbytes

    def undo(self, doc) -> None:
        doc._layers.remove(self.layer)
        doc._emit("layers", _canvas_rect(doc, self.layer))

    def redo(self, doc) -> None:
        doc._layers.insert(self.index, self.layer)
        doc._emit("layers", _canvas_rect(doc, self.layer))


class RemoveLayer(AddLayer):
    def __init__(self, layer: Layer, index: int) -> None:
        super().__init__(layer, index, "Delete layer")

    undo, redo = AddLayer.redo, AddLayer.undo


class MoveLayer(Command):
    label = "Move layer"

    def __init__(self, layer: Layer, old: int, new: int) -> None:
        self.layer, self.old, self.new = layer, old, new

    def _go(self, doc, index: int) -> None:
        doc._layers.remove(self.layer)
        doc._layers.insert(index, self.layer)
        doc._emit("layers", _canvas_rect(doc, self.layer))

    def undo(self, doc) -> None:
        self._go(doc, self.old)

    def redo(self, doc) -> None:
        self._go(doc, self.new)


class LayerProps(Command):
    """Name / visibility / opacity. Successive opacity changes of one layer merge (slider drags)."""

    def __init__(self, layer: Layer, old: dict, new: dict, label: str) -> None:
        self.layer, self.old, self.new, self.label = layer, old, new, label

    def undo(self, doc) -> None:
        self.layer._set_props(self.old)
        doc._emit("layers", _canvas_rect(doc, self.layer))

    def redo(self, doc) -> None:
        self.layer._set_props(self.new)
        doc._emit("layers", _canvas_rect(doc, self.layer))

    def merge(self, other: Command) -> bool:
        if (isinstance(other, LayerProps) and other.layer is self.layer
                and set(self.new) == set(other.new) == {"opacity"}):
            self.new = other.new
            return True
        return False


class ReplacePixels(Command):
    """New pixels/offset (and mask, provenance for an edit layer) for one layer."""

    def __init__(self, layer: Layer, old: dict, new: dict, label: str = "Replace layer pixels") -> None:
        self.layer, self.old, self.new, self.label = layer, old, new, label

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(v, "nbytes", 0)) for v in (*self.old.values(), *self.new.values()))

    def _apply(self, doc, state: dict) -> None:
        before = _canvas_rect(doc, self.layer)
        self.layer._restore(state)
        after = _canvas_rect(doc, self.layer)
        doc._emit("pixels", doc._union(before, after))

    def undo(self, doc) -> None:
        self._apply(doc, self.old)

    def redo(self, doc) -> None:
        self._apply(doc, self.new)


class MoveContent(ReplacePixels):
    """A layer dragged to a new place. Moves of one drag (the same ``key``) merge into one step."""

    def __init__(self, layer: Layer, old: dict, new: dict, key=None) -> None:
        super().__init__(layer, old, new, "Move layer content")
        self.key = key

    def merge(self, other: Command) -> bool:
        if (isinstance(other, MoveContent) and other.layer is self.layer and self.key is not None
                and other.key == self.key):
            self.new = other.new
            return True
        return False


class Compound(Command):
    """Several commands that undo and redo as one step (merge down, flatten)."""

    def __init__(self, label: str, commands: list[Command]) -> None:
        self.label, self.commands = label, list(commands)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.commands)

    def undo(self, doc) -> None:
        for c in reversed(self.commands):
            c.undo(doc)

    def redo(self, doc) -> None:
        for c in self.commands:
            c.redo(doc)


class CanvasSize(Command):
    """A new canvas size (crop or expand): the edit mask is swapped whole, every layer moves by
    the shift of the origin and keeps its pixels, so undo gives back exactly what was there."""

    def __init__(self, label: str, old_size, new_size, origin, old_mask, new_mask) -> None:
        self.label, self.old_size, self.new_size = label, old_size, new_size
        self.origin = origin  # the new canvas's top-left in the old canvas's coordinates
        self.old_mask, self.new_mask = old_mask, new_mask

    @property
    def nbytes(self) -> int:
        return int(self.old_mask.nbytes + self.new_mask.nbytes)

    def _apply(self, doc, size, mask, dx: int, dy: int) -> None:
        doc._w, doc._h = size
        doc._edit_mask = EditMask(size[1], size[0])
        doc._edit_mask.array[...] = mask  # a copy: strokes change the live array in place
        for layer in doc._layers:
            px, (x, y) = layer._geom
            layer._set_pixels(px, (x + dx, y + dy))
            if isinstance(layer, EditLayer) and layer._variants:
                layer._variants = tuple(v.moved(dx, dy) for v in layer._variants)
        doc._emit("size")
        doc._emit("layers")
        doc._emit("mask")

    def undo(self, doc) -> None:
        self._apply(doc, self.old_size, self.old_mask, self.origin[0], self.origin[1])

    def redo(self, doc) -> None:
        self._apply(doc, self.new_size, self.new_mask, -self.origin[0], -self.origin[1])
