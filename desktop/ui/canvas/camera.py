"""Where the image sits in the canvas: zoom and position as plain numbers, no Qt.

napari keeps zoom and centre as model state (``components/camera.py``) and lets the view draw from
it; so does the canvas. :class:`Camera` holds the zoom (view pixels per image pixel), the view
position of the image's top-left corner and whether the view is fitted, and answers the mapping
between view and image coordinates. :class:`~desktop.ui.canvas.canvas_view.CanvasView` owns one and
wraps its answers in ``QPointF``/``QRectF``; :class:`~desktop.ui.canvas.stand_in.PhotoStandIn` uses
:func:`fit_zoom` and :func:`centred_offset`, so the first frame and the canvas agree to the pixel.
Plain floats and tuples, testable without a display.
"""

from __future__ import annotations

import math

MIN_ZOOM, MAX_ZOOM = 0.01, 32.0
FIT_MARGIN = 16  # px of canvas background around a fitted image

Point = tuple[float, float]
Size = tuple[int, int]
Rect = tuple[int, int, int, int]  # x, y, width, height in image pixels


def clamp_zoom(zoom: float) -> float:
    """``zoom`` within :data:`MIN_ZOOM` .. :data:`MAX_ZOOM`."""
    return float(min(MAX_ZOOM, max(MIN_ZOOM, zoom)))


def fit_zoom(view_w: int, view_h: int, image_w: int, image_h: int) -> float:
    """The zoom that fits an ``image_w x image_h`` image in the view, inside :data:`FIT_MARGIN`."""
    w, h = max(1, view_w - 2 * FIT_MARGIN), max(1, view_h - 2 * FIT_MARGIN)
    return max(MIN_ZOOM, min(MAX_ZOOM, min(w / image_w, h / image_h)))


def centred_offset(view_w: int, view_h: int, image_w: int, image_h: int, zoom: float) -> Point:
    """The view position of the top-left corner of an image centred in the view at ``zoom``."""
    return (view_w - image_w * zoom) / 2, (view_h - image_h * zoom) / 2


class Camera:
    """The canvas's zoom and pan.

    ``zoom`` is view pixels per image pixel; ``offset`` the view position of the image's top-left
    corner; ``fit_mode`` whether the image follows the view's size (until the user zooms or pans).
    """

    def __init__(self, zoom: float = 1.0, offset: Point = (0.0, 0.0)) -> None:
        self.zoom = float(zoom)
        self.offset: Point = (float(offset[0]), float(offset[1]))
        self.fit_mode = True

    def __repr__(self) -> str:
        return f"Camera(zoom={self.zoom!r}, offset={self.offset!r}, fit_mode={self.fit_mode!r})"

    @property
    def transform(self) -> tuple[float, float, float]:
        """``(zoom, dx, dy)``: image to view is ``x * zoom + dx``, ``y * zoom + dy``."""
        return self.zoom, self.offset[0], self.offset[1]

    # --- mapping ----------------------------------------------------------------------------
    def to_image(self, x: float, y: float) -> Point:
        """The image point under view point ``(x, y)``."""
        ox, oy = self.offset
        return (x - ox) / self.zoom, (y - oy) / self.zoom

    def to_view(self, x: float, y: float) -> Point:
        """The view point of image point ``(x, y)``."""
        ox, oy = self.offset
        return x * self.zoom + ox, y * self.zoom + oy

    def rect_to_view(self, rect: Rect) -> tuple[float, float, float, float]:
        """Image rect ``(x, y, w, h)`` in view coordinates, as ``(x, y, w, h)``: its two corners
        mapped (so neighbouring rects share their edges exactly)."""
        x, y, w, h = rect
        x0, y0 = self.to_view(x, y)
        x1, y1 = self.to_view(x + w, y + h)
        return x0, y0, x1 - x0, y1 - y0

    def image_rect_under(self, left: float, top: float, right: float, bottom: float,
                         image_size: Size) -> Rect | None:
        """The whole image pixels under the view box from ``(left, top)`` to ``(right, bottom)``,
        clipped to an image of ``image_size``; ``None`` when the box misses the image."""
        tl_x, tl_y = self.to_image(left, top)
        br_x, br_y = self.to_image(right, bottom)
        x0, y0 = max(0, math.floor(tl_x)), max(0, math.floor(tl_y))
        x1, y1 = min(image_size[0], math.ceil(br_x)), min(image_size[1], math.ceil(br_y))
        if x1 <= x0 or y1 <= y0:
            return None
        return x0, y0, x1 - x0, y1 - y0

    # --- moving -----------------------------------------------------------------------------
    def set_zoom(self, zoom: float, anchor: Point) -> float:
        """Zoom to ``zoom`` (clamped) keeping the image point under view point ``anchor`` still;
        the view is no longer fitted. Returns the zoom set."""
        zoom = clamp_zoom(zoom)
        fixed_x, fixed_y = self.to_image(*anchor)
        self.zoom = zoom
        self.offset = (anchor[0] - fixed_x * zoom, anchor[1] - fixed_y * zoom)
        self.fit_mode = False
        return zoom

    def fit(self, view_size: Size, image_size: Size | None) -> float:
        """Fit an image of ``image_size`` in a view of ``view_size``, centred (100 % at the
        corner without an image); the view stays fitted. Returns the zoom set."""
        self.fit_mode = True
        if image_size is None:
            self.zoom, self.offset = 1.0, (0.0, 0.0)
        else:
            self.zoom = fit_zoom(view_size[0], view_size[1], image_size[0], image_size[1])
            self.offset = centred_offset(view_size[0], view_size[1], image_size[0], image_size[1], self.zoom)
        return self.zoom

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by ``(dx, dy)`` view pixels; the view is no longer fitted."""
        self.offset = (self.offset[0] + dx, self.offset[1] + dy)
        self.fit_mode = False
