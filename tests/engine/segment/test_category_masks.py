import numpy as np

from engine.segment import category_masks as cm
from masks import mask_ops as mo

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
    box = cm.addition_mask(SHAPE, (50, 50, 150, 150))
    assert mo.bbox(box) == (50, 50, 100, 100) and (box > 0).sum() == 100 * 100  # the whole box, as the reference
    assert (cm.addition_mask(SHAPE, (900, 900, 950, 950)) > 0).any()  # bad box -> default region


def test_the_addition_ellipse_holds_the_whole_box():
    for b in [(50, 50, 150, 150), (10, 120, 390, 180), (0, 0, 60, 300), (330, 240, 400, 300)]:
        box = cm.addition_mask(SHAPE, b, "box") > 0
        around = cm.addition_mask(SHAPE, b, "ellipse") > 0
        assert around[box].all()  # nothing of the box is lost (the inscribed ellipse lost 21 %)
        x, y, w, h = mo.bbox(around.astype(np.uint8) * 255)
        assert around.sum() > box.sum() and x >= 0 and y >= 0 and x + w <= SHAPE[1] and y + h <= SHAPE[0]
    inscribed = mo.ellipse_mask(SHAPE, (50, 50, 100, 100)) > 0
    assert abs(1 - inscribed.sum() / 100**2 - (1 - np.pi / 4)) < 0.02  # what the old mask gave up
    around = cm.addition_mask(SHAPE, (100, 100, 200, 200), "ellipse") > 0
    assert around.sum() / 100**2 < 2.0  # about pi/2 of the box: a margin, not a land grab
