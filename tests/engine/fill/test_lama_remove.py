"""``run_lama``: the crop-and-paste remover around the LaMa port (tiny random LaMa, real photos)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import Cancelled, EditParams, InpaintRequest
from engine.fill import lama_remove
from engine.fill.lama import tiny_lama
from engine.fill.lama_remove import _level_sizes, fill_crop, run_lama
from masks import mask_ops

FEATHER = 21


@pytest.fixture(scope="module")
def lama():
    return tiny_lama(seed=0, ngf=4, n_blocks=1)


def _photo(h, w):
    from skimage import data

    img = data.astronaut()
    reps = (-(-h // img.shape[0]), -(-w // img.shape[1]), 1)
    return np.ascontiguousarray(np.tile(img, reps)[:h, :w])


def _far(mask):
    return mask_ops.dilate(mask, FEATHER) == 0


@pytest.mark.parametrize("h,w", [(97, 131), (301, 449)])
def test_far_pixels_are_bit_exact_and_the_hole_changes(lama, h, w):
    image = _photo(h, w)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 3:h // 3 + h // 4, w // 5:w // 5 + w // 3] = 255
    result = run_lama(lama, InpaintRequest(image, mask))
    out = result.candidates[0].image
    assert result.engine == "lama" and out.shape == image.shape and out.dtype == np.uint8
    far = _far(mask)
    assert np.array_equal(out[far], image[far])
    assert not np.array_equal(out[mask > 0], image[mask > 0])
    x, y, bw, bh = result.candidates[0].bbox
    outside = np.ones((h, w), bool)
    outside[y:y + bh, x:x + bw] = False
    assert np.array_equal(out[outside], image[outside])


def test_hole_at_the_image_corner(lama):
    image = _photo(120, 90)
    mask = np.zeros((120, 90), np.uint8)
    mask[:30, 70:] = 255
    out = run_lama(lama, InpaintRequest(image, mask)).candidates[0].image
    assert np.array_equal(out[_far(mask)], image[_far(mask)])


def test_candidates_differ_by_context_and_are_reproducible(lama):
    image = _photo(200, 260)
    mask = np.zeros((200, 260), np.uint8)
    mask[60:140, 80:180] = 255
    two = run_lama(lama, InpaintRequest(image, mask, params=EditParams(num_candidates=2)))
    assert "deterministic" in two.model
    a, b = (c.image for c in two.candidates)
    assert not np.array_equal(a, b)  # "More" gives a different fill, not a copy
    again = run_lama(lama, InpaintRequest(image, mask)).candidates[0].image
    assert np.array_equal(again, a)
    # "More" asks for the next seed alone: it gets the second variant, not a copy of the first.
    more = run_lama(lama, InpaintRequest(image, mask, params=EditParams(seed=1))).candidates[0]
    assert more.seed == 1 and np.array_equal(more.image, b)


def test_a_crop_up_to_the_work_side_runs_once_at_its_own_size():
    side = lama_remove.WORK_SIDE
    assert _level_sizes(300, 200, side) == [(300, 200)]
    assert _level_sizes(side, side - 301, side) == [(side, side - 301)]  # no downscale, no second pass


def test_a_larger_crop_halves_down_to_the_work_side_and_keeps_the_cap():
    side, cap = lama_remove.WORK_SIDE, lama_remove.FINE_MAX_SIDE
    assert _level_sizes(side + 100, 800, side) == [((side + 100) // 2, 400), (side + 100, 800)]
    sizes = _level_sizes(4000, 3000, side)
    assert max(sizes[-1]) == cap and max(sizes[0]) <= side
    for (w0, h0), (w1, h1) in zip(sizes, sizes[1:]):
        assert abs(w1 / w0 - 2) < 0.01 and abs(h1 / h0 - 2) < 0.01  # each level twice the one below
    assert max(sizes[0]) > side / 2  # and no level more than needed


class _Counting:
    """Wraps a LaMa: records the size of every forward (what ``fill_crop`` paid for)."""

    def __init__(self, model):
        self.model, self.sizes = model, []

    def parameters(self):
        return self.model.parameters()

    def to(self, *args, **kwargs):
        self.model.to(*args, **kwargs)
        return self

    def __call__(self, image, mask):
        self.sizes.append(tuple(image.shape[-2:]))
        return self.model(image, mask)


def test_fill_crop_pays_one_forward_at_the_crop_size_below_the_work_side(lama):
    crop = _photo(600, 600)  # a 300 px hole with its context on a 2048 x 1536 photo
    hole = np.zeros((600, 600), bool)
    hole[150:450, 150:450] = True
    counting = _Counting(lama)
    out = fill_crop(counting, crop, hole)
    assert counting.sizes == [(600, 600)] and out.shape == (600, 600, 3)
    counting.sizes.clear()
    fill_crop(counting, _photo(700, 1100), np.pad(hole, ((50, 50), (250, 250))))
    assert counting.sizes == [(350, 550), (700, 1100)]


def test_coarse_to_fine_keeps_the_coarse_low_frequencies(lama, monkeypatch):
    """The fine level adds detail to the coarse fill; its own low frequencies are replaced."""
    import cv2

    from engine.inputs import resize_image

    crop = _photo(700, 900)
    hole = np.zeros((700, 900), bool)
    hole[200:500, 300:650] = True
    monkeypatch.setattr(lama_remove, "FINE_MAX_SIDE", 900)
    two_levels = fill_crop(lama, crop, hole, work_side=450)
    coarse_only = fill_crop(lama, crop, hole, work_side=900)  # one level, at full size
    small = (450, 350)

    def low(a):
        return cv2.resize(cv2.resize(a, small, interpolation=cv2.INTER_AREA), (900, 700),
                          interpolation=cv2.INTER_CUBIC)

    coarse = resize_image(lama_remove.lama_inpaint(lama, cv2.resize(crop, small, interpolation=cv2.INTER_AREA),
                                                   mask_ops.dilate(np.where(mask_ops.resize(hole, *small, smooth=True) > 0, 255, 0).astype(np.uint8), 1) > 0) * 255.0,
                          900, 700, shrink=False)
    inner = mask_ops.erode(hole, 40) > 0
    err_two = np.abs(low(two_levels) - low(coarse))[inner].mean()
    err_one = np.abs(low(coarse_only) - low(coarse))[inner].mean()
    assert err_two < err_one


def test_cancel_stops_before_work(lama):
    image = _photo(100, 100)
    mask = np.zeros((100, 100), np.uint8)
    mask[40:60, 40:60] = 255
    with pytest.raises(Cancelled):
        run_lama(lama, InpaintRequest(image, mask), is_cancelled=lambda: True)
