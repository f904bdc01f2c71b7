"""run_inpaint: the product path (resolution policy, blending, seeds, progress, cancel, bad input)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.api import Cancelled, EditParams, EngineError, InpaintRequest
from engine.brushnet import run_inpaint
from masks import mask_ops

FAST = dict(steps=2, working_size=128)


def _req(img, mask, **params):
    return InpaintRequest(image=img, mask=mask, prompt="a small boat", params=EditParams(**{**FAST, **params}))


def _outside(c, shape):
    x, y, w, h = c.bbox
    keep = np.ones(shape[:2], bool)
    keep[y:y + h, x:x + w] = False
    return keep


@pytest.fixture(scope="module")
def big_photo():
    from skimage import data

    # A 24 MP photo: the astronaut tiled 2 x 3 (keeps real texture), then resized to 6000 x 4000.
    tiled = np.tile(data.astronaut(), (2, 3, 1))
    return cv2.resize(tiled, (6000, 4000), interpolation=cv2.INTER_LINEAR)


def test_crop_to_mask_leaves_a_24mp_photo_untouched_outside_the_mask(tiny_pipe, big_photo):
    mask = np.zeros(big_photo.shape[:2], np.uint8)
    cv2.ellipse(mask, (3100, 1900), (120, 80), 0, 0, 360, 255, -1)
    res = run_inpaint(tiny_pipe, _req(big_photo, mask, seed=3))
    (c,) = res.candidates
    assert c.image.shape == big_photo.shape and c.image.dtype == np.uint8
    from engine.brushnet.resolution import plan_region

    kernel = plan_region(big_photo.shape, mask, "crop", FAST["working_size"]).blend_kernel
    feather_free = mask_ops.feather_outward(mask, kernel) == 0
    assert np.array_equal(c.image[feather_free], big_photo[feather_free])
    assert np.array_equal(c.image[_outside(c, big_photo.shape)], big_photo[_outside(c, big_photo.shape)])
    x, y, w, h = c.bbox
    assert w < 400 and h < 300  # the bbox hugs the mask: the layer stays small
    assert not np.array_equal(c.image[mask > 0], big_photo[mask > 0])


def test_whole_mode_keeps_the_size_and_the_pixels_beyond_the_feather(tiny_pipe, chelsea, box_mask):
    mask = box_mask(chelsea.shape, 200, 100, 40, 40)
    res = run_inpaint(tiny_pipe, _req(chelsea, mask, seed=1, resolution_mode="whole"))
    c = res.candidates[0]
    assert c.image.shape == chelsea.shape
    assert np.array_equal(c.image[_outside(c, chelsea.shape)], chelsea[_outside(c, chelsea.shape)])


def test_blend_off_replaces_the_worked_region_and_reports_it(tiny_pipe, big_photo):
    mask = np.zeros(big_photo.shape[:2], np.uint8)
    mask[1000:1100, 1000:1150] = 255
    c = run_inpaint(tiny_pipe, _req(big_photo, mask, seed=3, blend=False)).candidates[0]
    x, y, w, h = c.bbox
    assert x <= 1000 and y <= 1000 and x + w >= 1150 and y + h >= 1100
    assert np.array_equal(c.image[_outside(c, big_photo.shape)], big_photo[_outside(c, big_photo.shape)])
    inside_not_mask = np.zeros(mask.shape, bool)
    inside_not_mask[y:y + h, x:x + w] = True
    inside_not_mask &= mask_ops.dilate(mask, 30) == 0
    assert not np.array_equal(c.image[inside_not_mask], big_photo[inside_not_mask])


def test_odd_sized_image_round_trips(tiny_pipe):
    from skimage import data

    img = np.ascontiguousarray(data.coffee()[:97, :75])
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[40:60, 20:50] = 255
    c = run_inpaint(tiny_pipe, _req(img, mask, seed=0)).candidates[0]
    assert c.image.shape == (97, 75, 3)


def test_seeds_are_consecutive_reported_and_reproduce_alone(tiny_pipe, chelsea, box_mask):
    mask = box_mask(chelsea.shape, 150, 80, 60, 50)
    res = run_inpaint(tiny_pipe, _req(chelsea, mask, seed=41, num_candidates=3))
    assert [c.seed for c in res.candidates] == [41, 42, 43]
    assert not np.array_equal(res.candidates[0].image, res.candidates[1].image)
    again = run_inpaint(tiny_pipe, _req(chelsea, mask, seed=42, num_candidates=1)).candidates[0]
    assert np.abs(again.image.astype(int) - res.candidates[1].image.astype(int)).max() <= 1
    assert again.bbox == res.candidates[1].bbox
    rnd = run_inpaint(tiny_pipe, _req(chelsea, mask, seed=None, num_candidates=2))
    s0 = rnd.candidates[0].seed
    assert isinstance(s0, int) and rnd.candidates[1].seed == s0 + 1
    assert rnd.engine == "brushedit" and rnd.model and rnd.seconds > 0


def test_progress_and_previews_every_step(tiny_pipe, chelsea, box_mask):
    progress, previews = [], []
    run_inpaint(tiny_pipe, _req(chelsea, box_mask(chelsea.shape, 100, 100, 50, 50), steps=3, seed=0),
                on_progress=lambda s, t: progress.append((s, t)),
                on_preview=lambda im, s, rect: previews.append((im.dtype, im.ndim, im.shape[2], s, rect)))
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert [p[:4] for p in previews] == [(np.uint8, 3, 3, 1), (np.uint8, 3, 3, 2), (np.uint8, 3, 3, 3)]
    # Each preview says which region of the photo it shows: the worked crop, holding the mask.
    x, y, w, h = previews[0][4]
    assert len({p[4] for p in previews}) == 1
    assert 0 <= x <= 100 and 0 <= y <= 100 and x + w >= 150 and y + h >= 150
    assert x + w <= chelsea.shape[1] and y + h <= chelsea.shape[0]


def test_cancel_lands_within_one_step(tiny_pipe, chelsea, box_mask):
    steps_run = []
    handle = tiny_pipe.unet.conv_out.register_forward_hook(lambda *a: steps_run.append(1))
    try:
        with pytest.raises(Cancelled):
            run_inpaint(tiny_pipe, _req(chelsea, box_mask(chelsea.shape, 100, 100, 50, 50), steps=20, seed=0),
                        is_cancelled=lambda: len(steps_run) >= 2)
    finally:
        handle.remove()
    assert len(steps_run) == 2
    with pytest.raises(Cancelled):  # cancelled before it started: nothing runs
        run_inpaint(tiny_pipe, _req(chelsea, box_mask(chelsea.shape, 100, 100, 50, 50)), is_cancelled=lambda: True)


def test_empty_mask_is_bad_input(tiny_pipe, chelsea):
    with pytest.raises(EngineError, match="empty") as err:
        run_inpaint(tiny_pipe, _req(chelsea, np.zeros(chelsea.shape[:2], np.uint8)))
    assert err.value.kind == "bad-input"


def test_tiny_image_is_bad_input(tiny_pipe):
    img = np.zeros((50, 80, 3), np.uint8)
    mask = np.full((50, 80), 255, np.uint8)
    with pytest.raises(EngineError, match="64 px") as err:
        run_inpaint(tiny_pipe, _req(img, mask))
    assert err.value.kind == "bad-input"


def test_mask_of_another_size_is_resized_with_a_warning(tiny_pipe, chelsea):
    small = np.zeros((150, 225), np.uint8)
    small[50:80, 100:130] = 255
    with pytest.warns(UserWarning, match="resizing the mask"):
        res = run_inpaint(tiny_pipe, _req(chelsea, small, seed=0))
    x, y, w, h = res.candidates[0].bbox
    assert 150 < x + w / 2 < 300 and 80 < y + h / 2 < 140  # the mask landed where it was drawn


# num_candidates=0 is AUTO_CANDIDATES (the engine picks; run_inpaint alone paints one): -1 and 17 are bad.
@pytest.mark.parametrize("params", [dict(steps=0), dict(num_candidates=-1), dict(num_candidates=17),
                                    dict(working_size=16)])
def test_bad_parameters_are_bad_input(tiny_pipe, chelsea, box_mask, params):
    with pytest.raises(EngineError) as err:
        run_inpaint(tiny_pipe, _req(chelsea, box_mask(chelsea.shape, 10, 10, 30, 30), **params))
    assert err.value.kind == "bad-input"
