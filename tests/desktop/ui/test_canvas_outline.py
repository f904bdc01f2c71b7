"""The mask's outline: polygons along pixel edges that enclose exactly the masked pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from desktop.ui.canvas.outline import MaskOutline, covered_cells, mask_polygons, outline_scale, polygons_to_path


def inside_even_odd(polygons, h, w) -> np.ndarray:
    """Which pixel centres the polygons enclose (even-odd crossing count, independent of Qt)."""
    ys, xs = np.mgrid[0:h, 0:w]
    px, py = xs + 0.5, ys + 0.5
    inside = np.zeros((h, w), bool)
    for poly in polygons:
        for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0)):
            if y1 == y2:
                continue
            crosses = (y1 > py) != (y2 > py)
            inside ^= crosses & (px < x1 + (py - y1) * (x2 - x1) / (y2 - y1))
    return inside


def test_a_rectangle_is_outlined_on_its_pixel_edges():
    mask = np.zeros((40, 60), np.uint8)
    mask[10:25, 7:31] = 255  # x 7..30, y 10..24
    (poly,) = mask_polygons(mask)
    assert sorted(map(tuple, poly.tolist())) == sorted([(7, 10), (31, 10), (31, 25), (7, 25)])
    outline = MaskOutline.trace(mask)
    assert outline.bounds.getRect() == (7, 10, 24, 15)
    assert outline.vertices == 4 and not outline.empty


@pytest.mark.parametrize("seed", range(6))
def test_random_masks_are_enclosed_exactly(seed):
    """Holes, one-pixel lines, lone pixels, diagonal touches: the polygons hold exactly the pixels
    above the threshold, and every edge is a horizontal or vertical pixel edge."""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        h, w = rng.integers(1, 24, 2)
        on = rng.random((h, w)) < rng.random()
        mask = np.where(on, rng.integers(128, 256, (h, w)), rng.integers(0, 128, (h, w))).astype(np.uint8)
        polygons = mask_polygons(mask)
        np.testing.assert_array_equal(inside_even_odd(polygons, h, w), mask > 127)
        for poly in polygons:
            step = np.roll(poly, -1, axis=0) - poly
            assert np.all((step[:, 0] == 0) != (step[:, 1] == 0))


def test_the_path_is_the_polygons():
    rng = np.random.default_rng(7)
    mask = (rng.random((18, 22)) < 0.5).astype(np.uint8) * 255
    polygons = mask_polygons(mask)
    path = polygons_to_path(polygons)
    assert path.elementCount() == sum(len(p) + 1 for p in polygons)
    e = path.elementAt(len(polygons[0]) + 1)  # the second subpath starts with a move
    assert e.isMoveTo() and (e.x, e.y) == tuple(polygons[1][0])
    inside = np.array([[path.contains(QPointF(x + 0.5, y + 0.5)) for x in range(22)] for y in range(18)])
    np.testing.assert_array_equal(inside, mask > 127)


def test_a_soft_mask_is_outlined_at_its_middle_level():
    mask = np.zeros((10, 10), np.uint8)
    mask[2:8, 2:8] = 127
    assert mask_polygons(mask) == [] and polygons_to_path([]).isEmpty()
    mask[4:6, 3:7] = 128
    assert MaskOutline.trace(mask).bounds.getRect() == (3, 4, 4, 2)
    assert MaskOutline.trace(np.zeros((10, 10), np.uint8)).empty


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_a_coarse_outline_is_within_a_cell(scale):
    mask = np.zeros((301, 403), np.uint8)
    mask[37:250, 51:333] = 255
    outline = MaskOutline.trace(mask, scale)
    x, y, w, h = outline.bounds.getRect()
    assert abs(x - 51) <= scale and abs(y - 37) <= scale
    assert abs(x + w - 333) <= scale and abs(y + h - 250) <= scale
    assert outline.scale == scale
    # A mask that reaches the image's right and bottom edges ends there, not past them.
    mask[:] = 0
    mask[150:, 200:] = 255
    x, y, w, h = MaskOutline.trace(mask, scale).bounds.getRect()
    assert (x + w, y + h) == (403, 301)


def test_the_scale_keeps_a_cell_at_most_a_screen_pixel():
    assert outline_scale(1.0) == outline_scale(3.0) == 1
    assert outline_scale(0.5) == 2
    assert outline_scale(0.16) == 4
    for zoom in (0.9, 0.3, 0.11, 0.04):
        assert outline_scale(zoom) * zoom <= 1.0 < outline_scale(zoom) * 2 * zoom


def test_the_repainted_cells_follow_the_outline():
    mask = np.zeros((400, 400), np.uint8)
    mask[100:300, 100:300] = 255
    outline = MaskOutline.trace(mask)
    grid = covered_cells(outline.boxes, (1.0, 0.0, 0.0), (400, 400), cell=20, margin=2)
    assert grid.shape == (20, 20)
    ring = np.zeros((20, 20), bool)
    ring[4:16, 4:16] = True  # cells within 2 px of the square's edges at x, y = 100 and 300
    ring[6:14, 6:14] = False
    np.testing.assert_array_equal(grid, ring)
    # Zoomed 2x and shifted: the same square lands on other cells; off-screen edges mark nothing.
    grid = covered_cells(outline.boxes, (2.0, -150.0, -150.0), (400, 400), cell=20, margin=2)
    assert grid[2, 2:].all() and grid[2:, 2].all() and not grid[4:, 4:].any()
    assert not covered_cells(np.zeros((0, 4)), (1.0, 0.0, 0.0), (400, 400)).any()
