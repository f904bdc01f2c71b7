"""The exemplar ("patch") fill: copies texture from known pixels only, reproducible by seed, robust."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.api import Cancelled, EditParams, InpaintRequest
from engine.fill import run_fill
from engine.fill.patch_fill import patch_fill
from masks import mask_ops
from test_fill import outside_bbox


@pytest.fixture(scope="module")
def chelsea():
    from skimage import data

    return data.chelsea()  # 300 x 451


def _high_freq(img: np.ndarray, hole: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(cv2.Laplacian(g, cv2.CV_32F, ksize=1)[hole].var())


def _stripes_and_noise() -> np.ndarray:
    """Left half: vertical stripes (period 8); right half: colour noise."""
    h, w = 128, 256
    img = np.zeros((h, w, 3), np.uint8)
    cols = np.arange(w // 2)
    img[:, : w // 2] = np.where((cols % 8) < 4, 40, 210)[None, :, None]
    img[:, w // 2:] = np.random.default_rng(1).integers(0, 256, (h, w // 2, 3), dtype=np.uint8)
    return img


def test_the_hole_in_stripes_is_filled_with_stripes_copied_from_known_pixels():
    img = _stripes_and_noise()
    truth = img.copy()
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[40:90, 30:80] = 255
    hole = mask > 0
    img[hole] = (0, 255, 0)  # the object to remove: none of it may survive
    out = patch_fill(img, mask, seed=0)
    filled = out[hole].astype(int)
    assert not np.any((filled[:, 1] > 150) & (filled[:, 0] < 100))  # no green left
    # Copied from the stripes, not the noise: the fill is (nearly) grey, like the stripes.
    assert np.abs(filled - filled.mean(axis=1, keepdims=True)).max() <= 12
    # Stripes, not a smear: vertical structure (varies along x, hardly along y) with the
    # original's high-frequency energy, far above Telea's.
    g = out[40:90, 30:80, 0].astype(np.float32)
    assert g.var(axis=0).mean() < 0.1 * g.var(axis=1).mean()
    telea = cv2.inpaint(img, mask, 5, cv2.INPAINT_TELEA)
    ours, theirs, real = _high_freq(out, hole), _high_freq(telea, hole), _high_freq(truth, hole)
    assert ours > 0.5 * real and ours > 5 * theirs


def test_pixels_outside_the_hole_are_untouched(chelsea):
    mask = np.zeros(chelsea.shape[:2], np.uint8)
    cv2.ellipse(mask, (225, 150), (60, 40), 20, 0, 360, 255, -1)
    out = patch_fill(chelsea, mask, seed=3)
    assert out.shape == chelsea.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], chelsea[mask == 0])
    assert not np.array_equal(out[mask > 0], chelsea[mask > 0])


def test_same_seed_same_pixels_other_seed_other_fill(chelsea):
    mask = mask_ops.ellipse_mask(chelsea.shape, (180, 110, 90, 70))
    a = patch_fill(chelsea, mask, seed=7)
    b = patch_fill(chelsea, mask, seed=7)
    c = patch_fill(chelsea, mask, seed=8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(c[mask == 0], chelsea[mask == 0])


def test_a_one_pixel_hole(chelsea):
    mask = np.zeros(chelsea.shape[:2], np.uint8)
    mask[150, 200] = 255
    img = chelsea.copy()
    img[150, 200] = (0, 255, 0)
    out = patch_fill(img, mask, seed=0)
    changed = np.argwhere(np.any(out != img, axis=2))
    assert changed.tolist() == [[150, 200]]
    around = chelsea[147:154, 197:204].reshape(-1, 3).astype(int)
    assert np.all(out[150, 200] >= around.min(axis=0) - 10) and np.all(out[150, 200] <= around.max(axis=0) + 10)


@pytest.mark.parametrize("where", ["corner", "edge"])
def test_a_hole_touching_the_image_border(chelsea, where):
    mask = np.zeros(chelsea.shape[:2], np.uint8)
    if where == "corner":
        mask[:70, :90] = 255
    else:
        mask[100:180, 380:] = 255
    img = chelsea.copy()
    img[mask > 0] = (0, 255, 0)
    out = patch_fill(img, mask, seed=0)
    assert np.array_equal(out[mask == 0], img[mask == 0])
    filled = out[mask > 0].astype(int)
    assert not np.any((filled[:, 1] > 200) & (filled[:, 0] < 60) & (filled[:, 2] < 60))
    # Fur colours, not black or a constant
    assert filled.std(axis=0).min() > 3 and 40 < filled.mean() < 230


@pytest.mark.parametrize("border", [2, 10])
def test_a_hole_covering_most_of_the_image_still_fills(chelsea, border):
    """2 px of known pixels: no patch fits, so a diffusion fill; 10 px: patches copied from it."""
    img = cv2.resize(chelsea, (120, 90), interpolation=cv2.INTER_AREA)
    mask = np.full(img.shape[:2], 255, np.uint8)
    mask[border:-border, border:-border] = 255
    mask[:border] = mask[-border:] = 0
    mask[:, :border] = mask[:, -border:] = 0
    marked = img.copy()
    marked[mask > 0] = (0, 255, 0)
    out = patch_fill(marked, mask, seed=0)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], img[mask == 0])
    filled = out[mask > 0].astype(int)
    assert not np.any((filled[:, 1] > 200) & (filled[:, 0] < 60) & (filled[:, 2] < 60))
    known = img[mask == 0].astype(int)
    assert np.all(filled.min(axis=0) >= known.min(axis=0) - 30)
    assert np.all(filled.max(axis=0) <= known.max(axis=0) + 30)


def test_a_mask_covering_everything_does_not_crash(chelsea):
    img = chelsea[:64, :64].copy()
    out = patch_fill(img, np.full((64, 64), 255, np.uint8), seed=0)
    assert out.shape == img.shape and out.dtype == np.uint8


def test_cancel_raises_between_iterations(chelsea):
    mask = mask_ops.ellipse_mask(chelsea.shape, (180, 110, 90, 70))
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 3  # past the start, in the middle of the iterations

    with pytest.raises(Cancelled):
        patch_fill(chelsea, mask, seed=0, is_cancelled=cancelled)
    assert len(calls) == 4


def test_progress_counts_up_to_the_total(chelsea):
    mask = mask_ops.ellipse_mask(chelsea.shape, (180, 110, 90, 70))
    seen = []
    patch_fill(chelsea, mask, seed=0, on_progress=lambda s, t: seen.append((s, t)))
    steps = [s for s, _ in seen]
    assert steps == sorted(steps) and len(set(t for _, t in seen)) == 1
    assert seen[-1][0] == seen[-1][1] > 3


def test_bad_inputs_are_refused(chelsea):
    with pytest.raises(ValueError):
        patch_fill(chelsea[..., 0], np.zeros(chelsea.shape[:2], np.uint8))
    with pytest.raises(ValueError):
        patch_fill(chelsea, np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError):
        patch_fill(chelsea, np.zeros(chelsea.shape[:2], np.uint8), patch_size=4)
    empty = patch_fill(chelsea, np.zeros(chelsea.shape[:2], np.uint8))
    assert np.array_equal(empty, chelsea)


# -- through run_fill ----------------------------------------------------------------------------

def test_run_fill_patch_keeps_the_outward_only_feather_contract(chelsea):
    mask = np.zeros(chelsea.shape[:2], np.uint8)
    cv2.circle(mask, (230, 160), 45, 255, -1)
    res = run_fill(InpaintRequest(chelsea, mask, params=EditParams(seed=4)), method="patch")
    (c,) = res.candidates
    assert res.engine == "fill" and res.model == "patchmatch" and c.seed == 4
    assert c.image.shape == chelsea.shape and c.image.dtype == np.uint8
    free = mask_ops.feather_outward(mask, 21) == 0
    assert np.array_equal(c.image[free], chelsea[free])
    outside = outside_bbox(c, mask.shape)
    assert np.array_equal(c.image[outside], chelsea[outside])
    x, y, w, h = c.bbox
    assert x <= 185 and y <= 115 and x + w >= 276 and y + h >= 206
    # Texture, not a smear: far more high-frequency energy in the hole than Telea leaves.
    telea = run_fill(InpaintRequest(chelsea, mask), method="telea").candidates[0].image
    assert _high_freq(c.image, mask > 0) > 5 * _high_freq(telea, mask > 0)


def test_patch_is_the_default_and_candidates_are_seeds(chelsea):
    mask = mask_ops.ellipse_mask(chelsea.shape, (200, 120, 70, 60))
    res = run_fill(InpaintRequest(chelsea, mask, params=EditParams(seed=10, num_candidates=2)))
    assert res.model == "patchmatch"
    assert [c.seed for c in res.candidates] == [10, 11]
    assert not np.array_equal(res.candidates[0].image, res.candidates[1].image)
    alone = run_fill(InpaintRequest(chelsea, mask, params=EditParams(seed=11))).candidates[0]
    assert np.array_equal(alone.image, res.candidates[1].image)


def test_run_fill_without_a_seed_reports_the_one_it_drew(chelsea):
    mask = mask_ops.ellipse_mask(chelsea.shape, (200, 120, 40, 30))
    first = run_fill(InpaintRequest(chelsea, mask), method="patch").candidates[0]
    again = run_fill(InpaintRequest(chelsea, mask, params=EditParams(seed=first.seed)), method="patch")
    assert np.array_equal(again.candidates[0].image, first.image)


def test_run_fill_patch_cancel_inside_the_fill(chelsea):
    mask = mask_ops.ellipse_mask(chelsea.shape, (200, 120, 70, 60))
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 4  # run_fill checks twice before the fill starts

    with pytest.raises(Cancelled):
        run_fill(InpaintRequest(chelsea, mask, params=EditParams(seed=1)), method="patch", is_cancelled=cancelled)
    assert len(calls) == 5


# -- full-resolution detail (the fill carried up from the working size) ----------------------------

def _crisp_texture(h: int, w: int) -> np.ndarray:
    """Gravel mirror-tiled to ``h x w``: sharp at every pixel (no upscaling blur)."""
    from skimage import data

    t = np.dstack([data.gravel()] * 3)
    t = np.concatenate([t, t[:, ::-1]], axis=1)
    t = np.concatenate([t, t[::-1]], axis=0)
    return np.ascontiguousarray(np.tile(t, (h // t.shape[0] + 1, w // t.shape[1] + 1, 1))[:h, :w])


@pytest.fixture(scope="module")
def hires():
    """A crisp 960 x 1440 texture with a 400 x 560 hole painted green, and its 1/3-size working copy."""
    truth = _crisp_texture(960, 1440)
    mask = np.zeros(truth.shape[:2], np.uint8)
    mask[280:680, 440:1000] = 255
    img = truth.copy()
    img[mask > 0] = (0, 255, 0)
    small = cv2.resize(img, (480, 320), interpolation=cv2.INTER_AREA)
    smask = mask_ops.dilate(np.where(cv2.resize(mask, (480, 320), interpolation=cv2.INTER_AREA) > 0, 255, 0)
                            .astype(np.uint8), 1)
    return truth, img, mask, small, smask


def test_detail_gives_the_hole_full_resolution_texture(hires):
    truth, img, mask, small, smask = hires
    hole = mask > 0
    out = patch_fill(small, smask, seed=0, detail=(img, mask))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[~hole], img[~hole])  # outside the hole: the input, bit for bit
    filled = out[hole].astype(int)
    assert not np.any((filled[:, 1] > 150) & (filled[:, 0] < 100))  # nothing of the green object
    # The old way: fill at the working size, upscale (cubic). Soft: far less high-frequency energy.
    upscaled = img.copy()
    upscaled[hole] = cv2.resize(patch_fill(small, smask, seed=0), (1440, 960), interpolation=cv2.INTER_CUBIC)[hole]
    real, ours, soft = _high_freq(truth, hole), _high_freq(out, hole), _high_freq(upscaled, hole)
    assert soft < 0.3 * real
    assert 0.6 * real < ours < 1.6 * real
    assert abs(np.log(ours / real)) < 0.25 * abs(np.log(soft / real))
    # Still a fill of this picture: grey gravel of about the original's brightness.
    assert abs(filled.mean() - truth[hole].mean()) < 12


def test_detail_same_seed_same_pixels(hires):
    _, img, mask, small, smask = hires
    a = patch_fill(small, smask, seed=3, detail=(img, mask))
    b = patch_fill(small, smask, seed=3, detail=(img, mask))
    c = patch_fill(small, smask, seed=4, detail=(img, mask))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_detail_progress_and_cancel_in_the_full_resolution_stage(hires):
    _, img, mask, small, smask = hires
    plain = []
    patch_fill(small, smask, seed=0, on_progress=lambda s, t: plain.append((s, t)))
    seen = []
    patch_fill(small, smask, seed=0, detail=(img, mask), on_progress=lambda s, t: seen.append((s, t)))
    steps = [s for s, _ in seen]
    assert steps == sorted(set(steps)) and {t for _, t in seen} == {seen[-1][1]}
    assert seen[-1][0] == seen[-1][1] > plain[-1][1]  # the detail levels have steps of their own
    # Cancelled once the working-size fill is done: it stops in the detail stage.
    progress = []
    with pytest.raises(Cancelled):
        patch_fill(small, smask, seed=0, detail=(img, mask), on_progress=lambda s, t: progress.append(s),
                   is_cancelled=lambda: bool(progress) and progress[-1] > plain[-1][1])
    assert plain[-1][1] < progress[-1] < seen[-1][1]


def test_detail_hole_at_the_image_corner():
    truth = _crisp_texture(600, 900)
    mask = np.zeros(truth.shape[:2], np.uint8)
    mask[:220, :300] = 255
    img = truth.copy()
    img[mask > 0] = (0, 255, 0)
    small = cv2.resize(img, (300, 200), interpolation=cv2.INTER_AREA)
    smask = mask_ops.dilate(np.where(cv2.resize(mask, (300, 200), interpolation=cv2.INTER_AREA) > 0, 255, 0)
                            .astype(np.uint8), 1)
    out = patch_fill(small, smask, seed=0, detail=(img, mask))
    assert np.array_equal(out[mask == 0], img[mask == 0])
    filled = out[mask > 0].astype(int)
    assert not np.any((filled[:, 1] > 150) & (filled[:, 0] < 100))
    assert _high_freq(out, mask > 0) > 0.6 * _high_freq(truth, mask > 0)


def test_detail_inputs_are_checked(hires):
    _, img, mask, small, smask = hires
    with pytest.raises(ValueError):
        patch_fill(small, smask, detail=(img, mask[:100]))
    with pytest.raises(ValueError):
        patch_fill(small, smask, detail=(img[..., 0], mask))
    # detail at the working size itself: nothing to carry up, the plain fill
    assert np.array_equal(patch_fill(small, smask, seed=1, detail=(small, smask)), patch_fill(small, smask, seed=1))


def test_run_fill_patch_on_a_crisp_big_photo_keeps_full_resolution_texture(monkeypatch):
    from engine.fill import opencv_fill

    truth = _crisp_texture(1800, 2700)
    mask = mask_ops.ellipse_mask(truth.shape, (1000, 600, 800, 560))
    hole = mask > 0
    req = InpaintRequest(truth, mask, params=EditParams(seed=2))
    res = run_fill(req)
    (c,) = res.candidates
    assert c.seed == 2 and c.image.shape == truth.shape
    free = mask_ops.feather_outward(mask, 21) == 0
    assert np.array_equal(c.image[free], truth[free])
    outside = outside_bbox(c, mask.shape)
    assert np.array_equal(c.image[outside], truth[outside])
    assert np.array_equal(run_fill(req).candidates[0].image, c.image)  # same seed, same pixels
    real = _high_freq(truth, hole)
    monkeypatch.setattr(opencv_fill, "FULL_RES_DETAIL", False)  # the fill upscaled from the working size
    soft = _high_freq(run_fill(req).candidates[0].image, hole)
    ours = _high_freq(c.image, hole)
    assert soft < 0.3 * real and 0.6 * real < ours < 1.6 * real
