"""The stack of layers and the operations on it (napari keeps its ``LayerList`` apart from each
layer's edits; so do we).

:class:`LayerStack` holds the layers, bottom to top, and which one is *active* (the one the
Layers panel selects and the tools work on). The functions below check a stack operation and
return the command that does it (add, remove, move, duplicate, merge down, flatten, layer
properties); the document runs that command, so each operation is one undo step.
"""

from __future__ import annotations

import numpy as np

from .blend_modes import BLEND_MODES
from .commands import AddLayer, LayerProps, MoveLayer, RemoveLayer
from .compositing import composite
from .errors import DocumentError
from .geometry import clip, union
from .history import Compound
from .layers import EditLayer, Layer, RasterLayer


class LayerStack:
    """The layers, bottom to top, and the active layer.

    ``insert``/``remove``/``move`` change the list and nothing else: the document's commands call
    them (and announce the change). :meth:`settle` is called once a change is complete (after each
    undo step) and keeps the active layer valid: see there.
    """

    def __init__(self, layers=()) -> None:
        self._layers: list[Layer] = list(layers)
        self._active: Layer | None = None
        self._known: list[Layer] = []  # the layers at the last settle
        self.settle()

    # -- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self):
        return iter(list(self._layers))

    def __getitem__(self, index: int) -> Layer:
        return self._layers[index]

    @property
    def layers(self) -> list[Layer]:
        """The layers, bottom to top (a copy)."""
        return list(self._layers)

    def index_of(self, layer: Layer) -> int:
        for i, item in enumerate(self._layers):
            if item is layer:
                return i
        raise DocumentError(f"layer {getattr(layer, 'name', layer)!r} is not in this document")

    def __contains__(self, layer) -> bool:
        return any(item is layer for item in self._layers)

    def by_id(self, layer_id: str) -> Layer | None:
        return next((layer for layer in self._layers if layer.id == layer_id), None)

    # -- changing (for commands) --------------------------------------------------------------
    def insert(self, index: int, layer: Layer) -> None:
        self._layers.insert(index, layer)

    def remove(self, layer: Layer) -> None:
        del self._layers[self.index_of(layer)]

    def move(self, layer: Layer, index: int) -> None:
        self.remove(layer)
        self._layers.insert(index, layer)

    # -- the active layer ---------------------------------------------------------------------
    @property
    def active(self) -> Layer | None:
        return self._active

    def set_active(self, layer: Layer | None) -> bool:
        """Make ``layer`` (one of the stack's, or None when the stack is empty) active; True when
        that changed it."""
        if layer is None:
            if self._layers:
                raise DocumentError("a document with layers always has an active layer")
        elif layer not in self:
            raise DocumentError(f"layer {getattr(layer, 'name', layer)!r} is not in this document")
        changed = layer is not self._active
        self._active = layer
        return changed

    def settle(self) -> bool:
        """After a change of the stack: a layer that is the only one added since the last settle
        becomes active (a new edit, a duplicate, a merged layer, an undone delete); an active
        layer that left the stack gives way to the top layer. True when the active layer changed.
        """
        before = self._active
        known = {id(layer) for layer in self._known}
        added = [layer for layer in self._layers if id(layer) not in known]
        if self._known and len(added) == 1:
            self._active = added[0]
        elif self._active is None or self._active not in self:
            self._active = self._layers[-1] if self._layers else None
        self._known = list(self._layers)  # holds them, so the ids above stay theirs
        return self._active is not before


# ------------------------------------------------------------------------------ operations
def add(stack: LayerStack, layer: Layer, index: int | None = None) -> AddLayer:
    """Insert ``layer`` at ``index`` (default: on top)."""
    if not isinstance(layer, Layer):
        raise DocumentError("add_layer() needs a Layer")
    if any(item is layer or item.id == layer.id for item in stack):
        raise DocumentError(f"layer {layer.name!r} is already in this document")
    index = len(stack) if index is None else max(0, min(int(index), len(stack)))
    label = f"Edit: {layer.name}" if isinstance(layer, EditLayer) else "Add layer"
    return AddLayer(layer, index, label)


def remove(stack: LayerStack, layer: Layer) -> RemoveLayer:
    return RemoveLayer(layer, stack.index_of(layer))


def move(stack: LayerStack, layer: Layer, new_index: int) -> MoveLayer | None:
    """Move ``layer`` to ``new_index`` (clamped to the stack); None when it is there already."""
    old = stack.index_of(layer)
    new = max(0, min(int(new_index), len(stack) - 1))
    return None if new == old else MoveLayer(layer, old, new)


def duplicate(stack: LayerStack, layer: Layer) -> AddLayer:
    """A copy (new id, name + " copy") just above ``layer``."""
    index = stack.index_of(layer)
    copy = layer._copy(new_id=True)
    copy._name = f"{layer.name} copy"
    return AddLayer(copy, index + 1, "Duplicate layer")


def merge_down(stack: LayerStack, size: tuple[int, int], layer: Layer) -> Compound:
    """``layer`` merged into the layer below it; the merged raster layer is the last command's.

    Both layers' opacities are baked in, so the picture does not change; the result keeps the
    lower layer's name and blend mode (as Krita) and covers both layers' area on the canvas.
    """
    index = stack.index_of(layer)
    if index == 0:
        raise DocumentError(f"there is no layer below {layer.name!r} to merge it into")
    below = stack[index - 1]
    if not (layer.visible and below.visible):
        raise DocumentError("show both layers before merging them")
    rect = clip(union(below.bbox, layer.bbox), size)
    if not rect[2] or not rect[3]:
        raise DocumentError("neither layer covers any of the canvas")
    merged = RasterLayer(composite([below, layer], size, rect), name=below.name,
                         offset=rect[:2], blend_mode=below.blend_mode)  # as Krita: the lower one's mode
    return Compound("Merge down", [RemoveLayer(layer, index), RemoveLayer(below, index - 1),
                                   AddLayer(merged, index - 1)])


def flatten(stack: LayerStack, size: tuple[int, int]) -> Compound:
    """Every layer replaced by one ``Background`` layer holding the composite (hidden layers
    dropped); the new layer is the last command's."""
    merged = RasterLayer(composite(stack.layers, size), name="Background")
    steps = [RemoveLayer(layer, i) for i, layer in reversed(list(enumerate(stack.layers)))]
    return Compound("Flatten image", [*steps, AddLayer(merged, 0)])


def layer_props(layer: Layer, name: str | None = None, visible: bool | None = None,
                opacity: float | None = None, blend_mode: str | None = None) -> LayerProps | None:
    """Rename, show/hide, opacity, blend mode of ``layer``; None when nothing would change."""
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
        return None
    old = {k: old_all[k] for k in new}
    label = {frozenset({"name"}): "Rename layer", frozenset({"opacity"}): "Layer opacity",
             frozenset({"blend_mode"}): "Blend mode"}.get(frozenset(new), "Layer properties")
    if set(new) == {"visible"}:
        label = "Show layer" if new["visible"] else "Hide layer"
    return LayerProps(layer, old, new, label)
