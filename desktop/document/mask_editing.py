"""The edit mask's whole-mask operations as explicit document methods (grow, shrink, feather,
move, invert, clear, fill, to box/ellipse, box/ellipse/lasso shapes, harden).

:class:`MaskEditing` is mixed into :class:`~desktop.document.Document` and works only through its
public :attr:`mask` and :meth:`set_mask`: each operation computes the new mask and sets it, so it
is one undoable command (its changed tiles) like any other mask change. ``mask_op(name, ...)``,
the older by-name form the tools and tests call, dispatches to these methods.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from masks import mask_ops

from .errors import DocumentError
from .geometry import recrop

# mask_op's names -> (method, its positional arguments, the keywords it takes)
_SHAPE = ("add", "subtract")
_OPS = {"dilate": ("grow_mask", ("px",), ()), "erode": ("shrink_mask", ("px",), ()),
        "feather": ("feather_mask", ("px",), ()), "move": ("move_mask", ("dx", "dy"), ()),
        "invert": ("invert_mask", (), ()), "clear": ("clear_mask", (), ()), "fill": ("fill_mask", (), ()),
        "to_box": ("mask_to_box", (), ()), "to_ellipse": ("mask_to_ellipse", (), ()),
        "box": ("mask_box", ("rect",), _SHAPE), "ellipse": ("mask_ellipse", ("rect",), _SHAPE),
        "polygon": ("mask_polygon", ("points",), _SHAPE), "threshold": ("harden_mask", ("level",), ())}


def _rect(rect) -> tuple[int, int, int, int]:
    if rect is None or len(rect) != 4:
        raise ValueError("box/ellipse need rect=(x, y, w, h)")
    return tuple(int(round(v)) for v in rect)


def _points(points) -> np.ndarray:
    pts = np.asarray(points if points is not None else (), np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError("polygon needs points=[(x, y), ...] with at least 3 points")
    return pts


class MaskEditing:
    """Explicit mask operations; each is one undoable command (none when nothing changes)."""

    # The document's, which this works through: mask, size, index_of, set_mask.
    mask: np.ndarray
    size: tuple[int, int]

    def _new_mask(self, label: str, compute: Callable[[np.ndarray], np.ndarray]) -> None:
        try:
            new = compute(self.mask)
        except (TypeError, ValueError) as e:
            raise DocumentError(str(e)) from None
        self.set_mask(new, label)

    def _shape(self, label: str, shape: Callable[[tuple], np.ndarray], add: bool, subtract: bool) -> None:
        """A shape replaces the mask, or with ``add`` joins it, with ``subtract`` cuts it."""
        def combine(m: np.ndarray) -> np.ndarray:
            s = shape(m.shape)
            return mask_ops.subtract(m, s) if subtract else mask_ops.union(m, s) if add else s
        self._new_mask(label, combine)

    def mask_from_layer(self, layer, *, alpha: bool = False) -> None:
        """Set the edit mask to the mask an edit layer was made with or, with ``alpha``, to the
        layer's own pixels (its alpha; Photoshop's Ctrl+click on a thumbnail): one command."""
        self.index_of(layer)
        source = layer.pixels[..., 3] if alpha else getattr(layer, "mask", None)
        if source is None:
            raise DocumentError(f"{layer.name!r} has no edit mask")
        full = recrop(np.ascontiguousarray(source), layer.bbox, (0, 0, *self.size))
        self.set_mask(full, f"Mask from {layer.name}" if alpha else f"Mask of {layer.name}")

    def grow_mask(self, px: int = 8) -> None:
        self._new_mask("Grow mask", lambda m: mask_ops.dilate(m, int(px)))

    def shrink_mask(self, px: int = 8) -> None:
        self._new_mask("Shrink mask", lambda m: mask_ops.erode(m, int(px)))

    def feather_mask(self, px: float = 15) -> None:
        self._new_mask("Feather mask", lambda m: mask_ops.feather(m, float(px)))

    def move_mask(self, dx: int = 0, dy: int = 0) -> None:
        self._new_mask("Move mask", lambda m: mask_ops.move(m, int(dx), int(dy)))

    def invert_mask(self) -> None:
        self._new_mask("Invert mask", mask_ops.invert)

    def clear_mask(self) -> None:
        self._new_mask("Clear mask", np.zeros_like)

    def fill_mask(self) -> None:
        self._new_mask("Fill mask", lambda m: np.full_like(m, 255))

    def mask_to_box(self) -> None:
        self._new_mask("Mask to box", mask_ops.to_box)

    def mask_to_ellipse(self) -> None:
        self._new_mask("Mask to ellipse", mask_ops.to_ellipse)

    def mask_box(self, rect=None, *, add: bool = False, subtract: bool = False) -> None:
        """The box ``rect = (x, y, w, h)`` as the mask (``add``/``subtract``: combined with it)."""
        self._shape("Box mask", lambda shape: mask_ops.box_mask(shape, _rect(rect)), add, subtract)

    def mask_ellipse(self, rect=None, *, add: bool = False, subtract: bool = False) -> None:
        """The ellipse in ``rect = (x, y, w, h)`` as the mask (``add``/``subtract`` as mask_box)."""
        self._shape("Ellipse mask", lambda shape: mask_ops.ellipse_mask(shape, _rect(rect)), add, subtract)

    def mask_polygon(self, points=None, *, add: bool = False, subtract: bool = False) -> None:
        """A lasso: the polygon through ``points`` [(x, y), ...] (``add``/``subtract`` as mask_box)."""
        self._shape("Lasso mask", lambda shape: mask_ops.polygon_mask(shape, _points(points)), add, subtract)

    def harden_mask(self, level: int = 127) -> None:
        self._new_mask("Harden mask", lambda m: mask_ops.threshold(m, int(level)))

    def mask_op(self, name: str, *args, **kw) -> None:
        """Apply a mask operation by name as one command (the explicit methods above, by their
        older names): ``dilate``/``erode``/``feather`` (px), ``move`` (dx, dy), ``invert``,
        ``clear``, ``fill``, ``to_box``, ``to_ellipse``, ``box``/``ellipse`` (rect=(x, y, w, h))
        and ``polygon`` (points=[(x, y), ...], a lasso) with ``add=True`` or ``subtract=True`` to
        combine, ``threshold`` (level)."""
        if name not in _OPS:
            raise DocumentError(f"unknown mask operation {name!r}; one of {', '.join(_OPS)}")
        method, names, flags = _OPS[name]
        if len(args) > len(names):
            raise DocumentError(f"mask_op {name!r} takes at most {len(names)} positional arguments")
        kw.update(zip(names, args))
        getattr(self, method)(**{k: v for k, v in kw.items() if k in names or k in flags})
