"""The document's undoable commands. Each stores only what it changed (tiles, or layer references).

A command changes the document through the small surface the document opens to its commands
(:attr:`Document.stack`, :attr:`Document.edit_mask`, :meth:`Document.set_canvas`,
:attr:`Document.events`), never through its private fields. The operations that build commands
live beside them: :mod:`.layer_stack` (the stack), :mod:`.pixel_ops` (a layer's pixels),
:mod:`.canvas_ops` (the canvas).
"""

from __future__ import annotations

from .geometry import clip, union
from .history import Command, Compound
from .layers import Layer
from .patches import TilePatch

__all__ = ["AddLayer", "Command", "Compound", "LayerProps", "MaskPatch", "MoveContent",
           "MoveLayer", "RemoveLayer", "ReplacePixels"]


def _canvas_rect(doc, layer: Layer):
    return clip(layer.bbox, doc.size)


class MaskPatch(Command):
    """A change of the edit mask (a stroke, an operation, a new mask): the changed tiles only."""

    def __init__(self, label: str, patch: TilePatch) -> None:
        self.label = label
        self.patch = patch

    @property
    def nbytes(self) -> int:
        return self.patch.nbytes

    def undo(self, doc) -> None:
        doc.events.emit("mask", self.patch.swap(doc.edit_mask.array))

    redo = undo  # the swap is its own inverse


class AddLayer(Command):
    def __init__(self, layer: Layer, index: int, label: str = "Add layer") -> None:
        self.layer, self.index, self.label = layer, index, label

    @property
    def nbytes(self) -> int:
        return self.layer.nbytes

    def undo(self, doc) -> None:
        doc.stack.remove(self.layer)
        doc.events.emit("layers", _canvas_rect(doc, self.layer))

    def redo(self, doc) -> None:
        doc.stack.insert(self.index, self.layer)
        doc.events.emit("layers", _canvas_rect(doc, self.layer))


class RemoveLayer(AddLayer):
    def __init__(self, layer: Layer, index: int) -> None:
        super().__init__(layer, index, "Delete layer")

    undo, redo = AddLayer.redo, AddLayer.undo


class MoveLayer(Command):
    label = "Move layer"

    def __init__(self, layer: Layer, old: int, new: int) -> None:
        self.layer, self.old, self.new = layer, old, new

    def _go(self, doc, index: int) -> None:
        doc.stack.move(self.layer, index)
        doc.events.emit("layers", _canvas_rect(doc, self.layer))

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
        doc.events.emit("layers", _canvas_rect(doc, self.layer))

    def redo(self, doc) -> None:
        self.layer._set_props(self.new)
        doc.events.emit("layers", _canvas_rect(doc, self.layer))

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
        doc.events.emit("pixels", union(before, after))

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

