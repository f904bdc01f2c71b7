"""The OpenCV fill engine: same request/result shapes and blending rule as BrushNet, fast on big photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.api import Cancelled, EditParams, EngineError, InpaintRequest
from engine.fill import run_fill
from masks import mask_ops


@pytest.fixture(scope="module")
def coffee():
    from skimage import data

    return data.coffee()  # 400 x 600


def outside_bbox(c, shape):
    """Pixels outside candidate ``c``'s bbox (which must equal the input's)."""
    x, y, w, h = c.bbox
    keep = np.ones(shape[:2], bool)
    keep[y:y + h, x:x + w] = False
    return keep


@pytest.mark.parametrize("method", ["telea", "ns", "patch"])
def test_fill_paints_the_hole_from_its_surroundings(coffee, method):
    img = coffee.copy()
    mask = mask_ops.box_mask(img.shape, (250, 150, 60, 40))
    # A flat surrounding must fill to (about) the same flat colour.
    img[100:250, 200:360] = (200, 120, 40)
    img[150:190, 250:310] = (0, 255, 0)  # the object to remove
    res = run_fill(InpaintRequest(img, mask), method=method)
    (c,) = res.candidates
    assert res.engine == "fill" and c.image.shape == img.shape and c.image.dtype == np.uint8
    hole = c.image[mask > 0].astype(int)
    assert np.abs(hole - np.array([200, 120, 40])).max() <= 8


def test_pixels_beyond_the_feather_and_outside_the_bbox_are_untouched(coffee):
    mask = np.zeros(coffee.shape[:2], np.uint8)
    cv2.circle(mask, (300, 200), 50, 255, -1)
    c = run_fill(InpaintRequest(coffee, mask)).candidates[0]
    free = mask_ops.feather_outward(mask, 21) == 0
    assert np.array_equal(c.image[free], coffee[free])
    assert np.array_equal(c.image[outside_bbox(c, coffee.shape)], coffee[outside_bbox(c, coffee.shape)])
    x, y, w, h = c.bbox
    assert x <= 250 and y <= 150 and x + w >= 351 and y + h >= 251


def test_blend_off_changes_only_the_hole(coffee):
    mask = mask_ops.box_mask(coffee.shape, (100, 100, 40, 40))
    c = run_fill(InpaintRequest(coffee, mask, params=EditParams(blend=False))).candidates[0]
    assert np.array_equal(c.image[mask == 0], coffee[mask == 0])


def test_a_24mp_photo_with_a_big_hole(coffee):
    big = cv2.resize(coffee, (6000, 4000), interpolation=cv2.INTER_LINEAR)
    mask = mask_ops.ellipse_mask(big.shape, (2000, 1500, 1500, 1000))
    progress = []
    c = run_fill(InpaintRequest(big, mask, params=EditParams(seed=5)),
                 on_progress=lambda s, t: progress.append((s, t))).candidates[0]
    assert c.seed == 5 and c.image.shape == big.shape
    free = mask_ops.feather_outward(mask, 21) == 0
    assert np.array_equal(c.image[free], big[free])
    # prepare, crop, then the patch fill's own iterations: a bar that moves, never backwards
    steps = [s for s, _ in progress]
    assert progress[-1] == (progress[-1][1], progress[-1][1]) and len(set(steps)) > 5
    assert steps == sorted(set(steps)) and {t for _, t in progress} == {progress[-1][1]}


def test_diffusion_fill_reports_one_step_per_candidate(coffee):
    mask = mask_ops.ellipse_mask(coffee.shape, (200, 150, 80, 60))
    progress = []
    run_fill(InpaintRequest(coffee, mask, params=EditParams(num_candidates=2)), method="telea",
             on_progress=lambda s, t: progress.append((s, t)))
    assert progress == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]  # prepare, crop, two candidates, done


def test_fill_errors(coffee):
    with pytest.raises(EngineError) as err:
        run_fill(InpaintRequest(coffee, np.zeros(coffee.shape[:2], np.uint8)))
    assert err.value.kind == "bad-input"
    with pytest.raises(EngineError, match="64 px"):
        run_fill(InpaintRequest(coffee[:40, :40], np.full((40, 40), 255, np.uint8)))
    with pytest.raises(EngineError, match="method"):
        run_fill(InpaintRequest(coffee, mask_ops.box_mask(coffee.shape, (1, 1, 9, 9))), method="magic")
    with pytest.raises(Cancelled):
        run_fill(InpaintRequest(coffee, mask_ops.box_mask(coffee.shape, (1, 1, 9, 9))), is_cancelled=lambda: True)


def test_mask_of_another_size_is_resized_with_a_warning(coffee):
    small = mask_ops.box_mask((200, 300), (100, 50, 20, 20))
    with pytest.warns(UserWarning):
        c = run_fill(InpaintRequest(coffee, small)).candidates[0]
    x, y, w, h = c.bbox
    assert 180 < x + w / 2 < 240 and 100 < y + h / 2 < 140


def test_several_diffusion_candidates_are_different_variants_and_each_is_reproducible(coffee):
    # Telea is no longer the default (the patch fill is): ask for it to test its variant cycle.
    mask = mask_ops.ellipse_mask(coffee.shape, (200, 150, 120, 90))
    res = run_fill(InpaintRequest(coffee, mask, params=EditParams(seed=10, num_candidates=3)), method="telea")
    assert [c.seed for c in res.candidates] == [10, 11, 12]
    assert res.model == "opencv-telea+ns"
    images = [c.image for c in res.candidates]
    assert not np.array_equal(images[0], images[1]) and not np.array_equal(images[0], images[2])
    free = mask_ops.feather_outward(mask, 21) == 0
    for img in images:
        assert np.array_equal(img[free], coffee[free])
    # Candidate 1 is Navier-Stokes: asking for it with method="ns" alone gives the same pixels.
    alone = run_fill(InpaintRequest(coffee, mask, params=EditParams(seed=11)), method="ns").candidates[0]
    assert np.array_equal(alone.image, images[1])


def test_a_tight_mask_on_a_big_photo_fills_over_the_objects_soft_edge():
    # A SAM click gives a mask that ends where the object's anti-aliased edge begins: the fill grows
    # the hole a little, so the red fringe just outside the mask is painted over, not kept (a big
    # photo: filled at the working size, then carried up to full resolution).
    from skimage import data

    grass = np.dstack([data.grass()] * 3)  # 512 x 512, crisp: mirror-tiled, not upscaled
    img = np.ascontiguousarray(np.pad(grass, ((0, 1600 - 512), (0, 2400 - 512), (0, 0)), mode="symmetric"))
    obj = np.zeros(img.shape[:2], np.float32)
    cv2.circle(obj, (1200, 800), 300, 1.0, -1)
    soft = cv2.GaussianBlur(obj, (0, 0), 2.0)
    red = np.array([230, 20, 20], np.float32)
    img = np.clip(img * (1 - soft[..., None]) + red * soft[..., None], 0, 255).astype(np.uint8)
    mask = (soft > 0.5).astype(np.uint8) * 255  # the tight mask: the fringe stays out of it
    fringe = (mask_ops.dilate(mask, 1) > 0) & (mask == 0)  # the fringe's first pixel, reddest

    def redness(a):
        a = a.astype(np.float32)
        return float((a[..., 0] - a[..., 1])[fringe].mean())

    out = run_fill(InpaintRequest(img, mask, params=EditParams(seed=0))).candidates[0].image
    # (the outward feather keeps part of the original there, as BrushNet blends: not all of it goes)
    assert redness(img) > 60 and redness(out) < 0.75 * redness(img)
