"""The document's edit mask (``H x W`` uint8, 255 = repaint) and the brush stroke in progress.

Whole-mask operations (grow, invert, shapes...) are the document's methods (:mod:`.mask_editing`)."""

from __future__ import annotations

import numpy as np

from masks import mask_ops

from .brush import StrokePath, dab, dab_rect, stamp
from .patches import TileBackup, TilePatch, diff_patch

Rect = tuple[int, int, int, int]

class EditMask:
    """The mask array plus the state of the stroke in progress."""

    def __init__(self, height: int, width: int) -> None:
        self.array = np.zeros((height, width), np.uint8)
        self._backup: TileBackup | None = None
        self._path: StrokePath | None = None
        self._stamp: np.ndarray | None = None
        self._size = 0.0
        self._erase = False
        self.stroke_label = ""

    @property
    def stroking(self) -> bool:
        return self._backup is not None

    def begin(self, mode: str = "paint", size: float = 40.0, hardness: float = 0.8) -> None:
        if mode not in ("paint", "erase"):
            raise ValueError(f"mask stroke mode must be 'paint' or 'erase', got {mode!r}")
        size = float(size)
        if not np.isfinite(size) or size <= 0 or size > 10000:
            raise ValueError(f"brush size must be in (0, 10000] px, got {size!r}")
        self._size = size
        self._erase = mode == "erase"
        self._stamp = dab(round(size * 4) / 4, round(float(hardness) * 100) / 100)
        self._path = StrokePath(size)
        self._backup = TileBackup(self.array)
        self.stroke_label = "Erase mask" if self._erase else "Paint mask"

    def stroke_to(self, x: float, y: float, pressure: float = 1.0) -> Rect | None:
        """Dab from the last point to ``(x, y)``; returns the canvas rect touched (or None)."""
        if self._backup is None:
            raise RuntimeError("mask_stroke_to() without begin_mask_stroke()")
        x0 = y0 = 1 << 30
        x1 = y1 = -(1 << 30)
        for dx, dy, p in self._path.to(x, y, pressure):
            bx0, by0, bx1, by1 = dab_rect(dx, dy, self._size)
            self._backup.touch(bx0, by0, bx1, by1)
            r = stamp(self.array, dx, dy, self._stamp, self._erase, min(1.0, max(0.0, p)))
            if r is not None:
                x0, y0 = min(x0, r[0]), min(y0, r[1])
                x1, y1 = max(x1, r[0] + r[2]), max(y1, r[1] + r[3])
        return None if x1 < x0 else (x0, y0, x1 - x0, y1 - y0)

    def end(self) -> TilePatch | None:
        """Finish the stroke; the patch of the tiles it changed (None when nothing changed)."""
        if self._backup is None:
            return None
        patch = self._backup.finish()
        self._backup = self._path = None
        return patch

    def replace(self, new: np.ndarray) -> TilePatch | None:
        """Set the whole mask to ``new``; returns the undo patch of the changed tiles (or None)."""
        new = mask_ops.as_mask(new)
        if new.shape != self.array.shape:
            raise ValueError(f"mask must be {self.array.shape} (H x W), got {new.shape}")
        patch = diff_patch(self.array, new)
        if patch is not None:
            self.array[...] = new
        return patch
