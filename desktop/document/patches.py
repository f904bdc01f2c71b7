"""Tile patches: store only the changed tiles of a 2-D or 3-D array, and swap them to undo/redo.

A :class:`TilePatch` holds, per changed ``TILE x TILE`` tile, the other version of that tile (before
the change while applied, after it while undone). Undo and redo are the same swap. Uniform tiles
(for example the empty mask under a new stroke) are stored as one value.
"""

from __future__ import annotations

import numpy as np

TILE = 64
Rect = tuple[int, int, int, int]


def tiles_in(x0: int, y0: int, x1: int, y1: int, t: int = TILE):
    """Tile keys ``(ty, tx)`` covering the half-open pixel box ``[x0, x1) x [y0, y1)``."""
    for ty in range(y0 // t, (y1 - 1) // t + 1):
        for tx in range(x0 // t, (x1 - 1) // t + 1):
            yield ty, tx


def _slices(key, shape, t: int = TILE):
    ty, tx = key
    return slice(ty * t, min((ty + 1) * t, shape[0])), slice(tx * t, min((tx + 1) * t, shape[1]))


def _pack(tile: np.ndarray):
    flat = tile.reshape(-1, *tile.shape[2:]) if tile.ndim > 2 else tile.reshape(-1)
    first = flat[0]
    if (flat == first).all():
        return (first.copy() if isinstance(first, np.ndarray) else first.item(),)
    return tile.copy()


def _unpack(stored, shape, dtype) -> np.ndarray:
    if isinstance(stored, tuple):
        return np.broadcast_to(np.asarray(stored[0], dtype), shape)
    return stored


class TileBackup:
    """Records the original of each tile the first time a region of ``array`` is about to change."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.tiles: dict[tuple[int, int], object] = {}
        self._last = None

    def touch(self, x0: int, y0: int, x1: int, y1: int) -> None:
        h, w = self.array.shape[:2]
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            return
        span = (x0 // TILE, y0 // TILE, (x1 - 1) // TILE, (y1 - 1) // TILE)
        if span == self._last:  # consecutive dabs mostly touch the same tiles
            return
        self._last = span
        tiles = self.tiles
        for ty in range(span[1], span[3] + 1):
            for tx in range(span[0], span[2] + 1):
                if (ty, tx) not in tiles:
                    tiles[(ty, tx)] = _pack(self.array[_slices((ty, tx), self.array.shape)])

    def finish(self) -> "TilePatch | None":
        """The patch of the tiles that really changed (None if nothing did)."""
        changed = {}
        for key, stored in self.tiles.items():
            sl = _slices(key, self.array.shape)
            cur = self.array[sl]
            if not np.array_equal(_unpack(stored, cur.shape, cur.dtype), cur):
                changed[key] = stored
        self.tiles = {}
        return TilePatch(changed, self.array.shape) if changed else None


def diff_patch(old: np.ndarray, new: np.ndarray) -> "TilePatch | None":
    """The patch that turns ``new`` back into ``old`` (tiles where they differ), or None."""
    if old.shape != new.shape:
        raise ValueError(f"shape mismatch {old.shape} vs {new.shape}")
    h, w = old.shape[:2]
    th, tw = -(-h // TILE), -(-w // TILE)
    neq = old != new
    if neq.ndim == 3:
        neq = neq.any(axis=2)
    if not neq.any():
        return None
    pad = np.zeros((th * TILE, tw * TILE), bool)
    pad[:h, :w] = neq
    hit = pad.reshape(th, TILE, tw, TILE).any(axis=(1, 3))
    tiles = {}
    for ty, tx in zip(*np.nonzero(hit)):
        key = (int(ty), int(tx))
        tiles[key] = _pack(old[_slices(key, old.shape)])
    return TilePatch(tiles, old.shape)


class TilePatch:
    """Changed tiles of one array; :meth:`swap` exchanges them with the array's current tiles."""

    def __init__(self, tiles: dict, shape: tuple[int, ...]) -> None:
        self.tiles = tiles
        self.shape = tuple(shape)
        self._nbytes = self._count()

    def _count(self) -> int:
        return sum(8 if isinstance(v, tuple) else v.nbytes for v in self.tiles.values())

    @property
    def nbytes(self) -> int:
        """Bytes held (a uniform tile counts 8)."""
        return self._nbytes

    @property
    def rect(self) -> Rect:
        """Bounding box of the changed tiles, clipped to the array."""
        tys = [k[0] for k in self.tiles]
        txs = [k[1] for k in self.tiles]
        x0, y0 = min(txs) * TILE, min(tys) * TILE
        x1 = min((max(txs) + 1) * TILE, self.shape[1])
        y1 = min((max(tys) + 1) * TILE, self.shape[0])
        return x0, y0, x1 - x0, y1 - y0

    def swap(self, array: np.ndarray) -> Rect:
        """Put the stored tiles into ``array`` and keep what was there; returns the changed rect."""
        if array.shape != self.shape:
            raise ValueError("patch applied to an array of another shape")
        for key, stored in self.tiles.items():
            sl = _slices(key, array.shape)
            cur = _pack(array[sl])
            array[sl] = _unpack(stored, array[sl].shape, array.dtype)
            self.tiles[key] = cur
        self._nbytes = self._count()
        return self.rect
