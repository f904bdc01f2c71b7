"""Layers: a raster (photo, painted pixels) or an edit (an AI/fill result with its provenance).

A layer holds an ``h x w x 4`` uint8 RGBA (straight alpha) array placed at ``offset`` on the canvas;
it may cover only part of the canvas (or reach past it). Pixel arrays are read-only and never
modified in place: a change replaces the array, so history, duplicates and the composite cache
share them without copies. Change a layer only through the :class:`~desktop.document.Document`
methods, which make the change undoable and tell the views.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

import numpy as np

from .blend_modes import BLEND_MODES
from .provenance import Provenance

Rect = tuple[int, int, int, int]
OPAQUE_TILE = 32  # alpha classification granularity for compositing (32 measured best)
MAX_VARIANTS = 32  # an edit layer's variations; re-runs past it drop the oldest


def as_rgba(pixels: np.ndarray, what: str = "pixels") -> np.ndarray:
    """A read-only contiguous ``h x w x 4`` uint8 copy-or-view of RGB/RGBA/gray ``pixels``."""
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        raise ValueError(f"{what} must be uint8, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"{what} must be H x W x 3 or H x W x 4, got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{what} must not be empty, got shape {a.shape}")
    if a.shape[2] == 3:
        out = np.empty(a.shape[:2] + (4,), np.uint8)
        out[..., :3] = a
        out[..., 3] = 255
        a = out
    elif not a.flags.c_contiguous or a.flags.writeable:
        a = np.array(a, order="C")  # our own copy: callers keep theirs
    a.flags.writeable = False
    return a


class RenderState(NamedTuple):
    """What compositing reads from a layer, captured at once (see ``Layer._render_state``)."""

    pixels: np.ndarray
    x: int
    y: int
    w: int
    h: int
    opacity: float
    alpha_min: np.ndarray  # per OPAQUE_TILE tile
    alpha_max: np.ndarray
    flat: memoryview
    layer: "Layer"


def _alpha_tiles(px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per ``OPAQUE_TILE`` tile: (min alpha, max alpha); lets compositing skip or copy tiles."""
    a = px[..., 3]
    h, w = a.shape
    t = OPAQUE_TILE
    th, tw = -(-h // t), -(-w // t)
    pad = np.pad(a, ((0, th * t - h), (0, tw * t - w)), mode="edge")
    blocks = pad.reshape(th, t, tw, t)
    return blocks.min(axis=(1, 3)), blocks.max(axis=(1, 3))


class Layer:
    """Base of all layers. Read-only properties; see the module docstring."""

    kind = "raster"

    def __init__(self, pixels: np.ndarray, *, name: str = "Layer", offset: tuple[int, int] = (0, 0),
                 visible: bool = True, opacity: float = 1.0, blend_mode: str = "normal",
                 id: str | None = None) -> None:
        if blend_mode not in BLEND_MODES:
            raise ValueError(f"unsupported blend mode {blend_mode!r} (one of {', '.join(BLEND_MODES)})")
        self._id = str(id) if id else uuid.uuid4().hex
        self._name = str(name)
        self._visible = bool(visible)
        self._opacity = _clamp_opacity(opacity)
        self._blend_mode = blend_mode
        self._geom = (as_rgba(pixels), (int(offset[0]), int(offset[1])))
        self._tiles = self._flat_view = self._scaled_alpha = None

    # -- read-only view ---------------------------------------------------------------------
    id = property(lambda self: self._id, doc="Stable identifier (hex uuid), kept in saved files.")
    name = property(lambda self: self._name)
    visible = property(lambda self: self._visible)
    opacity = property(lambda self: self._opacity, doc="0..1, multiplies the pixels' alpha.")
    blend_mode = property(lambda self: self._blend_mode,
                          doc="How it mixes with what is below (see blend_modes.BLEND_MODES).")
    offset = property(lambda self: self._geom[1], doc="(x, y) of the top-left pixel on the canvas.")
    pixels = property(lambda self: self._geom[0], doc="h x w x 4 uint8 RGBA, straight alpha, read-only.")

    @property
    def width(self) -> int:
        return int(self._geom[0].shape[1])

    @property
    def height(self) -> int:
        return int(self._geom[0].shape[0])

    @property
    def bbox(self) -> Rect:
        """``(x, y, w, h)`` on the canvas."""
        px, (x, y) = self._geom
        return x, y, int(px.shape[1]), int(px.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self._geom[0].nbytes) + sum(int(getattr(v, "nbytes", 0)) for v in self._extra_arrays())

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self._name!r} id={self._id[:8]} bbox={self.bbox} "
                f"visible={self._visible} opacity={self._opacity:g}>")

    # -- internal: used by the document and its commands ------------------------------------
    def _extra_arrays(self) -> tuple:
        return ()

    def _set_pixels(self, pixels: np.ndarray, offset: tuple[int, int] | None = None) -> None:
        # One assignment, so a compositing thread never sees new pixels at the old offset.
        off = self._geom[1] if offset is None else (int(offset[0]), int(offset[1]))
        self._geom = (pixels, off)

    def _snapshot(self) -> dict:
        return {"pixels": self._geom[0], "offset": self._geom[1]}

    def _restore(self, state: dict) -> None:
        self._set_pixels(state["pixels"], state["offset"])

    def _props(self) -> dict:
        return {"name": self._name, "visible": self._visible, "opacity": self._opacity,
                "blend_mode": self._blend_mode}

    def _set_props(self, props: dict) -> None:
        if "name" in props:
            self._name = str(props["name"])
        if "visible" in props:
            self._visible = bool(props["visible"])
        if "opacity" in props:
            self._opacity = _clamp_opacity(props["opacity"])
        if "blend_mode" in props:
            self._blend_mode = str(props["blend_mode"])

    def _render_state(self) -> "RenderState":
        """A consistent view for compositing (safe against a change made by another thread).

        Derived data (alpha tiles, the flat buffer) is cached keyed on the pixel array itself,
        so it is never paired with another array.
        """
        px, (x, y) = self._geom
        tiles = self._tiles
        if tiles is None or tiles[0] is not px:
            tiles = (px, *_alpha_tiles(px))
            self._tiles = tiles
        flat = self._flat_view
        if flat is None or flat.obj is not px:
            flat = memoryview(px).cast("B")
            self._flat_view = flat
        return RenderState(px, x, y, int(px.shape[1]), int(px.shape[0]), self._opacity,
                           tiles[1], tiles[2], flat, self)

    def _copy(self, new_id: bool = True) -> "Layer":
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        if new_id:
            other._id = uuid.uuid4().hex
        return other


class RasterLayer(Layer):
    """Pixels from a photo or painted by the user."""

    kind = "raster"


class Variant(NamedTuple):
    """One of the candidates an edit layer was chosen from (what the layer shows if picked)."""

    pixels: np.ndarray  # h x w x 4 uint8, read-only
    offset: tuple[int, int]
    mask: np.ndarray | None  # h x w uint8 aligned with pixels, read-only
    provenance: Provenance

    def moved(self, dx: int, dy: int) -> "Variant":
        """The same variant ``(dx, dy)`` further on the canvas (it follows its layer)."""
        return self._replace(offset=(self.offset[0] + dx, self.offset[1] + dy))


class EditLayer(Layer):
    """The result of an AI or fill edit: its bounding-box pixels, the mask used and the provenance.

    ``mask`` is ``h x w`` uint8 (255 = repainted) aligned with ``pixels`` (same bbox), or None.
    ``variants`` are the candidates the edit was chosen from (Photoshop keeps a generative layer's
    variations the same way) and ``variant`` the index of the one shown, or None when the pixels
    are none of them (after a re-run or an erase). Projects (.ora) keep them; exports and other
    programs see only what the layer shows.
    """

    kind = "edit"

    def __init__(self, pixels: np.ndarray, provenance: Provenance | None = None, *,
                 mask: np.ndarray | None = None, name: str = "Edit", **kw) -> None:
        super().__init__(pixels, name=name, **kw)
        self._provenance = provenance if provenance is not None else Provenance()
        if not isinstance(self._provenance, Provenance):
            raise ValueError("provenance must be a Provenance")
        self._mask = None
        if mask is not None:
            m = np.asarray(mask)
            if m.shape != self._geom[0].shape[:2] or m.dtype != np.uint8:
                raise ValueError(f"an edit layer's mask must be {self._geom[0].shape[:2]} uint8, "
                                 f"got {m.shape} {m.dtype}")
            m = np.array(m, order="C")
            m.flags.writeable = False
            self._mask = m

    _variants: tuple = ()
    _variant: int | None = None

    provenance = property(lambda self: self._provenance)
    mask = property(lambda self: self._mask, doc="h x w uint8 mask used for the edit, or None.")
    variants = property(lambda self: self._variants, doc="The candidates it was chosen from (tuple of Variant).")
    variant = property(lambda self: self._variant, doc="Index of the variant shown, or None.")

    def _extra_arrays(self) -> tuple:
        arrays = () if self._mask is None else (self._mask,)
        return arrays + tuple(v.pixels for v in self._variants if v.pixels is not self._geom[0])

    def _snapshot(self) -> dict:
        return {"pixels": self._geom[0], "offset": self._geom[1], "mask": self._mask,
                "provenance": self._provenance, "variant": self._variant, "variants": self._variants}

    def _restore(self, state: dict) -> None:
        self._set_pixels(state["pixels"], state["offset"])
        self._mask = state.get("mask")
        self._provenance = state.get("provenance", self._provenance)
        self._variant = state.get("variant")
        self._variants = state.get("variants", self._variants)


def _clamp_opacity(value: float) -> float:
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"opacity must be a number in 0..1, got {value!r}")
    return min(1.0, max(0.0, v))
