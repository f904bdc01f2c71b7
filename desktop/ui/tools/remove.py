"""Remove brush: paint over a blemish or an object; on release it is removed at once (Photoshop's
Remove tool, IOPaint's brush): the stroke is the mask, one candidate is painted with an empty
caption and accepted as a "Remove" layer, and the mask is cleared for the next stroke."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt

from desktop.ui.tools.brush import MaskBrushTool


class RemoveBrushTool(MaskBrushTool):
    def __init__(self, on_stroke: Callable[[int | None], None], size: int = 40, hardness: float = 0.8, parent=None) -> None:
        super().__init__("paint", size, hardness, parent)
        self.name, self.label = "remove", "Remove brush"
        self._on_stroke = on_stroke
        self.stroke_start: int | None = None  # history state before the current stroke

    def press(self, pt, event) -> None:
        doc = self.document
        if event.button() == Qt.LeftButton and doc is not None and not self._stroking:
            # Where the history stood before the stroke: the removal folds back into one undo step.
            self.stroke_start = doc.history.state_id
        if event.button() == Qt.LeftButton and doc is not None and doc.mask.any() and not self._stroking:
            # A stroke is its own removal: start from an empty mask, not from a previous selection.
            doc.mask_op("clear")
        super().press(pt, event)

    def release(self, pt, event) -> None:
        stroking = self._stroking
        super().release(pt, event)
        doc = self.document
        if not stroking or doc is None:
            return
        if doc.mask.any():
            self._on_stroke(self.stroke_start)
            return
        # The stroke covered no pixel (a click beside the picture): give the selection back, and
        # leave nothing of the gesture in History (not even a "Clear mask" to redo).
        if self.stroke_start is not None and doc.history.state_id != self.stroke_start:
            doc.history.discard_since(self.stroke_start)
