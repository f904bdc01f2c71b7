"""The edit mask's outline ("marching ants"): its boundary along pixel edges, as a QPainterPath.

The canvas draws the outline of ``mask > 127`` (the level at which the engine hardens a soft mask)
as a dashed cosmetic line. It is traced once per mask change, never per paint: ``cv2.findContours``
on the mask (or on a copy downscaled by a power of two picked from the zoom, so a traced cell is
at most one screen pixel), cropped to the mask's bounding box. The contours OpenCV returns run
through the centres of the boundary pixels; :func:`mask_polygons` turns each into the "crack"
path around those pixels' outer edges, so the outline lies exactly between masked and unmasked
pixels at any zoom instead of half a pixel inside them. The path is in image coordinates, drawn
with the view transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QByteArray, QDataStream, QRectF
from PySide6.QtGui import QPainterPath

from desktop.ui.canvas.tile_cache import level_for_zoom

THRESHOLD = 127  # a mask pixel is inside the outline when its value is above this

# Pixel corners as offsets from its top-left, in the order a boundary walks round a pixel with
# the pixel on its right (clockwise on screen, y down): top-left, top-right, bottom-right, bottom-left.
_CORNERS = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], np.int64)
# For each step (dx, dy) between 8-connected boundary pixels, indexed (dx + 1) * 3 + (dy + 1):
# the corner of the pixel *entered* by that step where the walk reaches it, and the corner of the
# pixel *left* by that step where the walk leaves it (-1: not a step).
#                       (-1,-1) (-1,0) (-1,1) (0,-1) (0,0) (0,1) (1,-1) (1,0) (1,1)
_FIRST = np.array([2, 2, 1, 3, -1, 1, 3, 0, 0], np.int64)
_LAST = np.array([0, 3, 3, 0, -1, 2, 1, 1, 2], np.int64)


def outline_scale(zoom: float) -> int:
    """Mask pixels per traced cell at ``zoom`` (device pixels per image pixel): the coarsest power
    of two whose cell is still at most one screen pixel, so the outline is pixel-accurate on screen."""
    return 1 << level_for_zoom(zoom)


def _crack(contour: np.ndarray) -> np.ndarray:
    """The corner points of the walk round the outer edges of a closed chain of 8-connected
    boundary pixels (given with the background on their left), turns only."""
    n = len(contour)
    if n == 1:
        return contour + _CORNERS
    step_in = contour - np.roll(contour, 1, axis=0)
    step_out = np.roll(contour, -1, axis=0) - contour
    first = _FIRST[(step_in[:, 0] + 1) * 3 + step_in[:, 1] + 1]
    last = _LAST[(step_out[:, 0] + 1) * 3 + step_out[:, 1] + 1]
    count = (last - first) % 4 + 1
    # Back along a diagonal (the tip of a one-pixel-wide diagonal line): all the way round the pixel.
    back = np.all(step_in == -step_out, axis=1) & (step_in[:, 0] != 0) & (step_in[:, 1] != 0)
    count[back] = 5
    idx = np.repeat(np.arange(n), count)
    within = np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count)
    pts = contour[idx] + _CORNERS[(first[idx] + within) % 4]
    # Consecutive pixels share a corner; drop the repeats, then the corners inside straight runs.
    pts = pts[np.any(pts != np.roll(pts, 1, axis=0), axis=1)]
    d_in = pts - np.roll(pts, 1, axis=0)
    d_out = np.roll(pts, -1, axis=0) - pts
    return pts[np.any(d_in != d_out, axis=1)]


def mask_polygons(mask: np.ndarray, scale: int = 1, level: int = THRESHOLD) -> list[np.ndarray]:
    """The outline of ``mask > level`` as closed polygons (``N x 2`` float64 image coordinates,
    the last vertex not repeated) along the edges of pixels, or of ``scale x scale`` cells of a
    copy downscaled ``scale`` times. Holes are polygons too: fill them even-odd."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or not mask.size:
        return []
    scale = max(1, int(scale))
    x, y, w, h = cv2.boundingRect(np.ascontiguousarray(mask, np.uint8))  # the nonzero pixels
    if w == 0 or h == 0:
        return []
    x0, y0 = x - x % scale, y - y % scale
    cw, ch = -(-(x + w - x0) // scale), -(-(y + h - y0) // scale)  # cells, rounded up
    crop = mask[y0 : y0 + ch * scale, x0 : x0 + cw * scale]
    if scale > 1:
        if crop.shape != (ch * scale, cw * scale):  # a partial cell at the image's edge: pad it
            crop = cv2.copyMakeBorder(crop, 0, ch * scale - crop.shape[0], 0, cw * scale - crop.shape[1],
                                      cv2.BORDER_REPLICATE)
        # Linear interpolation samples each cell's centre (the mean of its middle 2 x 2 pixels):
        # as good as an area average for an outline of at most a screen pixel, and several times faster.
        crop = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_LINEAR)
    _, binary = cv2.threshold(crop, level, 1, cv2.THRESH_BINARY)
    contours, _ = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    out = []
    for c in contours:
        # OpenCV's chains keep the background on their right: walk them the other way.
        chain = c[::-1, 0, :].astype(np.int64)
        poly = _crack(chain).astype(np.float64) * scale + (x0, y0)
        if scale > 1:  # a partial cell at the image's edge ends at the edge
            np.clip(poly, 0, (mask.shape[1], mask.shape[0]), out=poly)
        out.append(poly)
    return out


def polygons_to_path(polygons: list[np.ndarray]) -> QPainterPath:
    """A QPainterPath of closed ``polygons``, built in one go from QPainterPath's QDataStream form
    (count, then type/x/y per element, big-endian) instead of one Python call per vertex."""
    polygons = [p for p in polygons if len(p)]
    path = QPainterPath()
    if not polygons:
        return path
    total = sum(len(p) + 1 for p in polygons)
    elements = np.empty(total, dtype=[("type", ">i4"), ("x", ">f8"), ("y", ">f8")])
    elements["type"] = 1  # LineToElement
    i = 0
    for p in polygons:
        n = len(p)
        elements["type"][i] = 0  # MoveToElement
        elements["x"][i : i + n], elements["y"][i : i + n] = p[:, 0], p[:, 1]
        elements["x"][i + n], elements["y"][i + n] = p[0]  # close the subpath
        i += n + 1
    last_move = total - (len(polygons[-1]) + 1)
    data = np.array([total], ">i4").tobytes() + elements.tobytes() + np.array([last_move, 0], ">i4").tobytes()
    buffer = QByteArray(data)
    stream = QDataStream(buffer)  # read-only over the bytes; ``buffer`` must outlive it
    stream >> path  # fill rule 0: Qt.OddEvenFill
    if stream.status() != QDataStream.Status.Ok or path.elementCount() != total:
        raise RuntimeError("could not build the outline path")
    return path


def _edge_boxes(poly: np.ndarray, fine: float, run: int = 8) -> np.ndarray:
    """Boxes (``x0, y0, x1, y1``) around the edges of a closed polygon: one per run of ``run``
    consecutive edges whose box stays thin (at most ``fine`` across), else one per edge (edges are
    horizontal or vertical, so each is thin). Fewer boxes to map each time the ants step, all
    hugging the outline."""
    nxt = np.roll(poly, -1, axis=0)
    edges = np.hstack([np.minimum(poly, nxt), np.maximum(poly, nxt)])
    starts = np.arange(0, len(poly), run)
    runs = np.hstack([np.minimum.reduceat(edges[:, :2], starts), np.maximum.reduceat(edges[:, 2:], starts)])
    thin = np.minimum(runs[:, 2] - runs[:, 0], runs[:, 3] - runs[:, 1]) <= fine
    loose = np.repeat(~thin, np.diff(np.append(starts, len(poly))))
    return np.vstack([runs[thin], edges[loose]])


def covered_cells(boxes: np.ndarray, transform: tuple[float, float, float], size: tuple[int, int],
                  cell: int = 32, margin: float = 2.0) -> np.ndarray:
    """Which ``cell x cell`` squares of a ``size = (w, h)`` widget the ``boxes`` (``M x 4``: x0, y0,
    x1, y1 in image coordinates) come within ``margin`` pixels of, once mapped by ``transform =
    (zoom, dx, dy)``: a boolean ``rows x columns`` grid. The ants repaint only those squares."""
    w, h = size
    cols, rows = -(-int(w) // cell), -(-int(h) // cell)
    covered = np.zeros((rows, cols), bool)
    if not len(boxes) or rows <= 0 or cols <= 0:
        return covered
    z, dx, dy = transform  # zoom > 0: a box's corners stay its corners
    x0, x1 = boxes[:, 0] * z + dx - margin, boxes[:, 2] * z + dx + margin
    y0, y1 = boxes[:, 1] * z + dy - margin, boxes[:, 3] * z + dy + margin
    on = (x1 >= 0) & (x0 < w) & (y1 >= 0) & (y0 < h)
    if not on.any():
        return covered
    c0 = np.clip(x0[on] // cell, 0, cols - 1).astype(np.int64)
    c1 = np.clip(x1[on] // cell, 0, cols - 1).astype(np.int64)
    r0 = np.clip(y0[on] // cell, 0, rows - 1).astype(np.int64)
    r1 = np.clip(y1[on] // cell, 0, rows - 1).astype(np.int64)
    # Mark each edge's box of cells in a difference grid; two running sums fill the boxes.
    stride = cols + 1
    idx = np.concatenate([r0 * stride + c0, r0 * stride + c1 + 1, (r1 + 1) * stride + c0, (r1 + 1) * stride + c1 + 1])
    n = len(r0)
    weights = np.repeat(np.array([1.0, -1.0, -1.0, 1.0]), n)
    diff = np.bincount(idx, weights, minlength=(rows + 1) * stride).reshape(rows + 1, stride)
    return diff.cumsum(axis=0).cumsum(axis=1)[:rows, :cols] > 0.5


@dataclass
class MaskOutline:
    """A traced outline: the path in image coordinates, its bounding rect, the cell size it was
    traced at, the number of vertices, and boxes (``M x 4``: x0, y0, x1, y1) around its edges."""

    path: QPainterPath
    bounds: QRectF
    scale: int
    vertices: int
    boxes: np.ndarray

    @property
    def empty(self) -> bool:
        return self.vertices == 0

    @classmethod
    def trace(cls, mask: np.ndarray, scale: int = 1, level: int = THRESHOLD) -> "MaskOutline":
        polygons = mask_polygons(mask, scale, level)
        path = polygons_to_path(polygons)
        fine = 4.0 * max(1, int(scale))
        boxes = np.concatenate([_edge_boxes(p, fine) for p in polygons]) if polygons else np.zeros((0, 4))
        return cls(path, path.boundingRect() if polygons else QRectF(), max(1, int(scale)),
                   sum(len(p) for p in polygons), boxes)
