import numpy as np

from engine.segment import category_masks as cm
from engine.segment import mask_ops as mo

SHAPE = (300, 400)


def _square():
    return mo.box_mask(SHAPE, (100, 100, 50, 50))


def test_removal_grows_by_one_and_a_half_percent_of_the_diagonal():
    r = round(0.015 * np.hypot(*SHAPE))
    assert mo.bbox(cm.removal_mask(_square())) == (100 - r, 100 - r, 50 + 2 * r, 50 + 2 * r)
    assert mo.bbox(cm.removal_mask(_square(), 5)) == (95, 95, 60, 60)  # pixels
    assert cm.dilation_px(SHAPE, 0.01) == 5 and cm.dilation_px(SHAPE, 0) == 0


def test_local_grows_slightly_and_background_is_the_inverse():
    local = cm.local_mask(_square())
    assert 2500 < (local > 0).sum() < 2500 * 1.3
    bg = cm.background_mask(_square())
    assert bg[125, 125] == 0 and bg[0, 0] == 255 and bg[99, 125] == 0  # margin kept round the subject


def test_global_is_never_empty():
    g = cm.global_mask(SHAPE + (3,))
    assert g.shape == SHAPE and g.min() == 255


def test_clamp_box_validates():
    assert cm.clamp_box((-50, -50, 100, 100), SHAPE) == (0, 0, 100, 100)
    assert cm.clamp_box((100, 100, 10, 10), SHAPE) == (10, 10, 100, 100)
    assert cm.clamp_box((500, 500, 600, 600), SHAPE) is None
    assert cm.clamp_box(("a", 1, 2, 3), SHAPE) is None
    assert cm.clamp_box((0, 0, float("inf"), 5), SHAPE) is None
    x0, y0, x1, y1 = cm.clamp_box((50, 50, 51, 51), SHAPE)
    assert x1 - x0 == 8 and y1 - y0 == 8


def test_addition_regions():
    centre = cm.default_addition_box(SHAPE)
    left = cm.default_addition_box(SHAPE, "left")
    assert left[0] < centre[0]
    on = cm.default_addition_box(SHAPE, None, (100, 100, 200, 200), "on")
    assert on[1] < 100 and on[0] >= 100 and on[2] <= 200   # over the anchor's top edge
    beside = cm.default_addition_box(SHAPE, None, (100, 100, 200, 200), "next to")
    assert beside[0] >= 200
    under = cm.default_addition_box(SHAPE, None, (100, 100, 200, 200), "under")
    assert under[1] >= 200
    ell = cm.addition_mask(SHAPE, (50, 50, 150, 150))
    box = cm.addition_mask(SHAPE, (50, 50, 150, 150), "box")
    assert mo.bbox(box) == (50, 50, 100, 100) and 0 < (ell > 0).sum() < (box > 0).sum()
    assert (cm.addition_mask(SHAPE, (900, 900, 950, 950)) > 0).any()  # bad box -> default region
