"""Tiles of an image pyramid, rendered on demand into QImages and invalidated by dirty rects.

The canvas asks for the tiles under the viewport at the pyramid level that matches its zoom
(level ``L`` is the image scaled by ``2**-L``). A tile is made from only its own region of the
source (``source(rect)``), so an edit or a brush dab re-renders the few tiles it touches, never the
whole photo, and a fit-to-window view of a 6000 x 4000 photo draws about two dozen small tiles.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import cv2
import numpy as np
from PySide6.QtGui import QImage

Rect = tuple[int, int, int, int]
TILE = 256


def array_to_qimage(arr: np.ndarray) -> QImage:
    """Wrap a ``H x W x {1,3,4}`` uint8 array as a QImage that owns a copy of the pixels."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        fmt, ch = QImage.Format_Grayscale8, 1
    elif arr.shape[2] == 3:
        fmt, ch = QImage.Format_RGB888, 3
    else:
        fmt, ch = QImage.Format_RGBA8888, 4
    return QImage(arr.data, w, h, w * ch, fmt).copy()


def array_to_display_image(arr: np.ndarray) -> QImage:
    """Like :func:`array_to_qimage`, in the raster engine's native premultiplied 32-bit format so
    drawing a tile needs no per-paint format conversion (the bulk of a repaint's cost otherwise)."""
    img = array_to_qimage(arr)
    fmt = QImage.Format_ARGB32_Premultiplied if img.hasAlphaChannel() else QImage.Format_RGB32
    return img.convertToFormat(fmt)


def level_for_zoom(zoom: float, max_level: int = 6) -> int:
    """The pyramid level to draw at ``zoom``: the coarsest one still at least as sharp as the screen."""
    if zoom >= 1.0 or zoom <= 0:
        return 0
    return int(min(max_level, np.floor(np.log2(1.0 / zoom))))


class TileCache:
    """An LRU cache of pyramid tiles of one image source.

    Parameters
    ----------
    source : callable
        ``source((x, y, w, h)) -> H x W x C uint8`` of the image (full resolution), or ``None``.
    convert : callable
        Turns a (downscaled) region into the QImage to draw.
    max_tiles : int
        How many tiles to keep (256 x 256 each).
    """

    def __init__(
        self,
        source: Callable[[Rect], np.ndarray | None],
        convert: Callable[[np.ndarray], QImage] = array_to_display_image,
        max_tiles: int = 400,
    ) -> None:
        self._source = source
        self._convert = convert
        self._max = max_tiles
        self._tiles: OrderedDict[tuple[int, int, int], QImage | None] = OrderedDict()
        self.size = (0, 0)
        self.renders = 0  # tiles rendered so far (tests and benchmarks read it)

    def reset(self, width: int, height: int) -> None:
        self.size = (int(width), int(height))
        self._tiles.clear()

    def __len__(self) -> int:
        return len(self._tiles)

    def tile_rect(self, level: int, tx: int, ty: int) -> Rect | None:
        """The image rect covered by tile ``(tx, ty)`` of ``level``, clipped to the image."""
        span = TILE << level
        x, y = tx * span, ty * span
        w, h = min(span, self.size[0] - x), min(span, self.size[1] - y)
        if w <= 0 or h <= 0:
            return None
        return x, y, w, h

    def tiles_in(self, level: int, rect: Rect) -> list[tuple[int, int]]:
        """The tile indices of ``level`` that meet image rect ``rect``."""
        span = TILE << level
        x, y, w, h = rect
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.size[0], x + w), min(self.size[1], y + h)
        if x1 <= x0 or y1 <= y0:
            return []
        return [
            (tx, ty)
            for ty in range(y0 // span, (y1 - 1) // span + 1)
            for tx in range(x0 // span, (x1 - 1) // span + 1)
        ]

    def invalidate(self, rect: Rect | None = None) -> None:
        """Forget the tiles that meet ``rect`` (all tiles when ``None``)."""
        if rect is None:
            self._tiles.clear()
            return
        x, y, w, h = rect
        for key in list(self._tiles):
            level, tx, ty = key
            span = TILE << level
            if tx * span < x + w and x < (tx + 1) * span and ty * span < y + h and y < (ty + 1) * span:
                del self._tiles[key]

    def has(self, level: int, tx: int, ty: int) -> bool:
        """Whether the tile is rendered (an empty tile counts: it is cached as ``None``)."""
        return (level, tx, ty) in self._tiles

    def cached(self, level: int, tx: int, ty: int) -> QImage | None:
        """The tile when it is cached, without rendering it."""
        return self._tiles.get((level, tx, ty))

    def tile(self, level: int, tx: int, ty: int) -> QImage | None:
        """The tile's QImage (``TILE`` px or less a side), rendered when not cached."""
        key = (level, tx, ty)
        if key in self._tiles:
            self._tiles.move_to_end(key)
            return self._tiles[key]
        rect = self.tile_rect(level, tx, ty)
        img = None
        if rect is not None:
            region = self._source(rect)
            if region is not None:
                if level:
                    w = max(1, -(-rect[2] >> level))
                    h = max(1, -(-rect[3] >> level))
                    region = cv2.resize(np.ascontiguousarray(region), (w, h), interpolation=cv2.INTER_AREA)
                img = self._convert(region)
                self.renders += 1
        self._tiles[key] = img
        while len(self._tiles) > self._max:
            self._tiles.popitem(last=False)
        return img
