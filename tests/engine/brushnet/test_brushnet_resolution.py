"""The resolution policy: crop rectangle, working size and feather."""

from __future__ import annotations

import numpy as np
import pytest

from engine.brushnet.blending import blend
from engine.brushnet.resolution import LONG_SIDE_CAP, fit_work_size, largest_work_pixels, plan_region
from masks import mask_ops


def test_small_mask_in_a_big_photo_gets_a_crop_with_context():
    mask = mask_ops.box_mask((4000, 6000), (3000, 2000, 100, 60))
    r = plan_region((4000, 6000, 3), mask, "crop", 640)
    x, y, w, h = r.rect
    assert x < 3000 and y < 2000 and x + w > 3100 and y + h > 2060
    assert w * h < 0.05 * 6000 * 4000
    assert min(r.work_size) == 640 and all(v % 8 == 0 for v in r.work_size)
    assert r.blend_kernel % 2 == 1 and r.blend_kernel >= 21


def test_crop_is_shifted_inside_the_image_at_the_border():
    mask = mask_ops.box_mask((4000, 6000), (0, 3950, 50, 50))
    x, y, w, h = plan_region((4000, 6000, 3), mask, "crop", 512).rect
    assert x == 0 and y + h == 4000 and w >= 384 and h >= 384


def test_a_mask_covering_most_of_the_image_works_on_the_whole_image():
    mask = mask_ops.box_mask((300, 400), (20, 20, 360, 260))
    assert plan_region((300, 400, 3), mask, "crop", 512).rect == (0, 0, 400, 300)


def test_whole_mode_and_feather_scale_with_the_downscale():
    mask = mask_ops.box_mask((4000, 6000), (3000, 2000, 100, 60))
    r = plan_region((4000, 6000, 3), mask, "whole", 600)
    assert r.rect == (0, 0, 6000, 4000)
    assert r.work_size == (896, 600)  # 3:2, short side 600 (900 rounded to a multiple of 8)
    assert r.blend_kernel >= 21 * (6000 / 896) - 1


@pytest.mark.parametrize("size,working,expected", [
    ((4000, 3000), 640, (856, 640)),   # a 4:3 photo: short side 640 (it was 640 x 480)
    ((3000, 4000), 640, (640, 856)),   # portrait
    ((2000, 1000), 640, (1024, 512)),  # a 2:1 frame: long side capped at 1024, short side 512 (was 640 x 320)
    ((1920, 1080), 640, (1024, 576)),  # 16:9: capped
    ((1000, 1000), 512, (512, 512)),
    ((3000, 2000), 512, (768, 512)),
    ((300, 200), 640, (960, 640)),     # a small photo is painted at the trained size, not below it
    ((3000, 1000), 640, (1536, 512)),  # a panorama keeps SD1.5's 512 px short side past the cap
    ((4000, 3000), 1024, (1368, 1024)),  # asked for more: the cap grows with it
])
def test_the_working_size_is_the_short_side_and_the_long_side_is_capped(size, working, expected):
    w, h = size
    assert fit_work_size(w, h, working) == expected
    r = plan_region((h, w, 3), mask_ops.box_mask((h, w), (0, 0, w, h)), "whole", working)
    assert r.work_size == expected and all(v % 8 == 0 for v in r.work_size)


@pytest.mark.parametrize("box", [(2000, 1500, 400, 300), (1000, 1000, 800, 400), (100, 2000, 60, 900)])
def test_a_crop_is_painted_at_no_less_than_the_trained_size(box):
    mask = mask_ops.box_mask((3000, 4000), box)
    r = plan_region((3000, 4000, 3), mask, "crop", 640)
    assert r.rect != (0, 0, 4000, 3000)
    assert min(r.work_size) >= 512 and max(r.work_size) <= LONG_SIDE_CAP
    assert min(r.work_size) == 640 or max(r.work_size) == LONG_SIDE_CAP


def test_the_memory_plan_budgets_the_largest_frame():
    assert largest_work_pixels(640) == 1024 * 640
    assert largest_work_pixels(512) == 1024 * 512


def test_empty_mask_and_bad_mode_are_refused():
    with pytest.raises(ValueError):
        plan_region((100, 100, 3), np.zeros((100, 100), np.uint8))
    with pytest.raises(ValueError):
        plan_region((100, 100, 3), mask_ops.box_mask((100, 100), (1, 1, 5, 5)), "tile")


def test_blend_mixes_only_inside_the_feather():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (80, 90, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (80, 90, 3), dtype=np.uint8)
    mask = mask_ops.box_mask((80, 90), (30, 30, 20, 20))
    out = blend(a, b, mask, 21)
    ring = mask_ops.feather_outward(mask, 21)
    assert np.array_equal(out[ring == 0], a[ring == 0])
    assert np.array_equal(out[mask > 0], b[mask > 0])
    mixed = (ring > 0) & (ring < 255)
    assert mixed.any() and not np.array_equal(out[mixed], a[mixed])


def test_blending_inside_the_grown_bbox_equals_blending_the_whole_image():
    from engine.brushnet.blending import feather_reach
    from engine.brushnet.runner import grown_bbox

    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    mask = mask_ops.ellipse_mask((200, 300), (5, 120, 90, 70))  # touches the image border too
    kernel = 31
    full = blend(a, b, mask, kernel)
    x, y, w, h = grown_bbox(mask, feather_reach(kernel), (0, 0, 300, 200))
    part = a.copy()
    part[y:y + h, x:x + w] = blend(a[y:y + h, x:x + w], b[y:y + h, x:x + w], mask[y:y + h, x:x + w], kernel)
    assert np.array_equal(part, full)
