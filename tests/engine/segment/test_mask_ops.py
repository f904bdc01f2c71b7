import numpy as np
import pytest

from masks import mask_ops as mo


def square(size=64, x=20, y=20, w=10, h=10):
    m = np.zeros((size, size), np.uint8)
    m[y:y + h, x:x + w] = 255
    return m


def test_as_mask_converts_bool_float_and_rgb():
    assert mo.as_mask(np.ones((2, 3), bool)).tolist() == [[255] * 3] * 2
    assert mo.as_mask(np.full((2, 2), 0.5)).max() == 128
    rgb = np.zeros((4, 4, 3), np.uint8); rgb[1, 1] = 255
    assert mo.as_mask(rgb)[1, 1] == 255 and mo.as_mask(rgb).shape == (4, 4)
    with pytest.raises(ValueError):
        mo.as_mask(np.zeros(5))


def test_dilate_and_erode_grow_and_shrink_by_radius():
    m = square()
    d = mo.dilate(m, 3)
    assert mo.bbox(d) == (17, 17, 16, 16)
    e = mo.erode(m, 2)
    assert mo.bbox(e) == (22, 22, 6, 6)
    assert np.array_equal(mo.dilate(m, 0), m) and mo.dilate(m, 0) is not m


def test_erode_does_not_treat_the_border_as_selected():
    full = np.full((10, 10), 255, np.uint8)
    assert mo.erode(full, 1)[0, 0] == 0 and mo.erode(full, 1)[5, 5] == 255


def test_feather_outward_keeps_inside_and_far_pixels():
    m = square()
    f = mo.feather_outward(m, 21)
    assert (f[m == 255] == 255).all()
    assert f[20, 18] > 0  # just outside is soft
    far = mo.dilate(m, 11) == 0
    assert (f[far] == 0).all()


def test_move_shifts_and_drops_what_leaves():
    m = square()
    assert mo.bbox(mo.move(m, 5, -3)) == (25, 17, 10, 10)
    assert mo.bbox(mo.move(m, 40, 0)) == (60, 20, 4, 10)
    assert mo.is_empty(mo.move(m, 100, 0))


def test_boolean_ops():
    a, b = square(x=10), square(x=15)
    assert mo.bbox(mo.union(a, b)) == (10, 20, 15, 10)
    assert mo.bbox(mo.subtract(a, b)) == (10, 20, 5, 10)
    assert mo.bbox(mo.intersect(a, b)) == (15, 20, 5, 10)
    assert mo.invert(a).sum() == 255 * (64 * 64 - 100)


def test_box_and_ellipse():
    m = np.zeros((50, 80), np.uint8); m[10, 10] = 255; m[30, 60] = 255
    assert mo.to_box(m).sum() == 255 * 51 * 21
    e = mo.to_ellipse(m)
    assert mo.bbox(e) == (10, 10, 51, 21)
    assert e[20, 35] == 255 and e[10, 10] == 0
    assert mo.box_mask((10, 10), (-5, -5, 8, 8)).sum() == 255 * 9
    assert mo.clamp_rect((20, 20, 5, 5), 10, 10) is None


def test_bbox_of_empty_is_none_and_resize():
    assert mo.bbox(np.zeros((5, 5), np.uint8)) is None
    r = mo.resize(square(), 32, 16)
    assert r.shape == (16, 32) and set(np.unique(r)) <= {0, 255}


def test_polygon_mask_covers_the_polygon():
    # a rectangle from edge coordinates (10, 10) to (30, 20): pixels 10..29 x 10..19, give or take
    # the one-pixel outline OpenCV's fill includes on the far edges
    sq = mo.polygon_mask((40, 50), [(10, 10), (30, 10), (30, 20), (10, 20)])
    x, y, w, h = mo.bbox(sq)
    assert (x, y) == (10, 10) and w in (20, 21) and h in (10, 11) and sq[15, 20] == 255
    # a triangle: about its area in pixels (0.5 * 40 * 30)
    tri = mo.polygon_mask((60, 60), [(5.5, 5.0), (45.5, 5.0), (5.5, 35.0)])
    assert abs(tri.sum() / 255 - 600) < 0.15 * 600 and set(np.unique(tri)) == {0, 255}
    # degenerate or non-finite input: nothing, never an error; huge coordinates are clipped
    assert not mo.polygon_mask((10, 10), [(0, 0), (5, 5)]).any()
    assert not mo.polygon_mask((10, 10), [(0, 0), (np.nan, 5), (5, 0)]).any()
    assert mo.polygon_mask((10, 10), [(-1e9, -1e9), (1e9, -1e9), (1e9, 1e9), (-1e9, 1e9)]).all()


def test_the_old_engine_segment_path_is_the_same_module():
    """Outside code still imports ``engine.segment.mask_ops``: it is ``masks.mask_ops`` itself (the same
    functions, so a monkeypatch on either reaches both); engine, CLI and tests import ``masks``."""
    from engine.segment import mask_ops as old
    import engine.segment.mask_ops as old_dotted

    assert old is mo and old_dotted is mo and old.dilate is mo.dilate
