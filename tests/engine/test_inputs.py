"""engine.inputs: the one set of input checks that BrushNet, klein, LaMa and the fill share."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from engine.api import EditParams, EngineError, InpaintRequest
from engine.inputs import MIN_IMAGE_SIDE, check_image, check_mask, resize_image, rgb_array


def _photo(h=80, w=96):
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:h, :w])


def test_importing_the_checks_imports_no_torch():
    code = "import sys, engine.inputs; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_check_image_repeats_grey_drops_alpha_and_returns_contiguous_uint8():
    img = _photo()
    grey = check_image(img[..., 0])
    assert grey.shape == img.shape and np.array_equal(grey[..., 2], img[..., 0])
    rgba = np.dstack([img, np.full(img.shape[:2], 7, np.uint8)])
    rgb = check_image(rgba)
    assert rgb.shape == img.shape and rgb.flags.c_contiguous and np.array_equal(rgb, img)


@pytest.mark.parametrize("image,words", [
    (np.zeros((80, 80, 2), np.uint8), "the image must be H x W x 3, got shape (80, 80, 2)"),
    (np.zeros((80, 80, 3), np.float32), "the image must be 8-bit (uint8), got float32"),
    (np.zeros((63, 200, 3), np.uint8), f"the image is 200 x 63 px; at least {MIN_IMAGE_SIDE} px on each side"),
])
def test_check_image_refuses_as_bad_input(image, words):
    with pytest.raises(EngineError) as err:
        check_image(image)
    assert words in str(err.value) and err.value.kind == "bad-input"


def test_rgb_array_takes_pil_and_floats_and_refuses_other_shapes():
    from PIL import Image

    img = _photo(40, 40)  # no size limit here
    palette = Image.fromarray(img).convert("P", palette=Image.Palette.ADAPTIVE)
    assert rgb_array(palette).shape == img.shape  # converted to RGB, not read as palette indices
    assert np.array_equal(rgb_array(img.astype(np.float32) / 255.0), img)
    with pytest.raises(ValueError, match=r"image must be H x W x 3, got shape \(4, 4, 5\)"):
        rgb_array(np.zeros((4, 4, 5), np.uint8))


def test_check_mask_binarizes_resizes_with_a_warning_and_refuses_an_empty_one():
    mask = np.zeros((40, 48), np.uint8)
    mask[10:20, 10:30] = 3
    with pytest.warns(UserWarning, match="mask is 48 x 40 px, image 96 x 80 px: resizing the mask"):
        big = check_mask(mask, (80, 96, 3))
    assert big.shape == (80, 96) and set(np.unique(big)) == {0, 255}
    assert big[30, 40] == 255 and big[0, 0] == 0
    with pytest.raises(EngineError, match="the mask is empty") as err:
        check_mask(np.zeros((80, 96), bool), (80, 96))
    assert err.value.kind == "bad-input"
    with pytest.raises(EngineError, match="bad mask: a mask must be 2-D") as err:
        check_mask(np.zeros((2, 80, 96, 1), np.uint8), (80, 96))
    assert err.value.kind == "bad-input"


def test_resize_image_area_down_cubic_up_and_the_override():
    img = _photo()
    assert resize_image(img, 96, 80) is img  # the same size is no copy
    down = resize_image(img, 48, 80)  # one side shrinks, none grows: area
    assert np.array_equal(down, cv2.resize(img, (48, 80), interpolation=cv2.INTER_AREA))
    up = resize_image(img, 48, 100)  # a side grows: bicubic
    assert np.array_equal(up, cv2.resize(img, (48, 100), interpolation=cv2.INTER_CUBIC))
    forced = resize_image(img, 48, 80, shrink=False)
    assert np.array_equal(forced, cv2.resize(img, (48, 80), interpolation=cv2.INTER_CUBIC))
    floats = resize_image(img.astype(np.float32), 40, 30, shrink=True)  # LaMa's float levels
    assert floats.dtype == np.float32 and floats.shape == (30, 40, 3)


def test_old_import_paths_are_the_same_functions():
    from engine.brushnet import runner
    from engine.fill import opencv_fill
    from engine.inputs import MAX_CANDIDATES

    assert runner.check_image is check_image and runner.check_mask is check_mask
    assert runner._resize is resize_image and runner.MAX_CANDIDATES == MAX_CANDIDATES
    assert runner.MIN_IMAGE_SIDE == opencv_fill.MIN_IMAGE_SIDE == MIN_IMAGE_SIDE


def test_the_brushnet_path_and_the_fill_refuse_a_small_photo_in_the_same_words():
    from engine.brushnet import run_inpaint
    from engine.fill import run_fill

    small = np.zeros((40, 90, 3), np.uint8)
    mask = np.full((40, 90), 255, np.uint8)
    request = InpaintRequest(image=small, mask=mask, prompt="", params=EditParams(seed=0))
    messages = []
    for paint in (lambda: run_inpaint(None, request), lambda: run_fill(request)):  # checked before any model
        with pytest.raises(EngineError) as err:
            paint()
        messages.append(str(err.value))
    assert messages[0] == messages[1] == "the image is 90 x 40 px; at least 64 px on each side is needed"
