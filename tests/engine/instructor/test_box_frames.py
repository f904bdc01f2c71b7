"""Boxes from the local VLM land where the model meant, on photos of any size and shape.

Each family is asked for its own grounding frame (Qwen2-VL: a 0..1000 grid; Qwen2.5-VL: pixels of
the image as its processor resized it) and read back in that frame. The models are tiny and random;
``generate`` is scripted to answer a known box, so only the prompt, the processor and the reader run.
"""

import cv2
import numpy as np
import pytest

from engine.instructor.backends import OpenAICompatBackend, QwenVLBackend
from masks import mask_ops as mo

# (width, height) of the test photos: square, landscape and portrait.
PHOTO_SIZES = [(512, 512), (2048, 1536), (1536, 2048)]
# Qwen2.5-VL's released preprocessor budget (min_pixels 56*56, max_pixels 1280*28*28).
MIN_PIXELS, MAX_PIXELS = 56 * 56, 1280 * 28 * 28


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data
    return np.ascontiguousarray(data.astronaut())


def _photo(astronaut, w, h):
    return cv2.resize(astronaut, (w, h), interpolation=cv2.INTER_CUBIC)


def _backend(family):
    from transformers import Qwen2VLImageProcessor

    from tests.builders.segment import tiny_qwen2_5_vl, tiny_qwen2_vl

    model, processor = (tiny_qwen2_vl if family == "qwen2_vl" else tiny_qwen2_5_vl)()
    # The released models' pixel budget, so the frame the model sees is the real one.
    processor.image_processor = Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    return QwenVLBackend(model, processor, max_new_tokens=8, max_side=768)


def _script(backend, monkeypatch, answer):
    """Make ``generate`` answer ``answer``; return the prompt texts the model was given."""
    import torch

    ids = backend.processor.tokenizer(answer, return_tensors="pt")["input_ids"]
    prompts = []

    def generate(**inputs):
        prompts.append(backend.processor.tokenizer.decode(inputs["input_ids"][0]))
        return torch.cat([inputs["input_ids"], ids], dim=1)
    monkeypatch.setattr(backend.model, "generate", generate)
    return prompts


def _expected_seen(w, h, max_side=768):
    """The size Qwen's processor resizes our downscaled image to (computed independently)."""
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    s = min(1.0, max_side / max(w, h))
    return smart_resize(round(h * s), round(w * s), factor=28, min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)


@pytest.mark.parametrize("w,h", PHOTO_SIZES)
def test_qwen2_vl_box_is_a_0_1000_grid_of_the_photo(astronaut, monkeypatch, w, h):
    b = _backend("qwen2_vl")
    assert b.box_frame == "1000"
    prompts = _script(b, monkeypatch, '{"category": "addition", "target": "moon", '
                                      '"box": [300, 200, 550, 600], "caption": "a moon over a woman"}')
    photo = _photo(astronaut, w, h)
    box = b.understand(photo, "add a moon").intent.box
    intended = (0.3 * w, 0.2 * h, 0.55 * w, 0.6 * h)
    assert box is not None and np.allclose(box, intended, atol=1.0), (box, intended)
    # The prompt asks for the frame the reader reads.
    assert "0-1000 grid" in prompts[0] and "pixel coordinates" not in prompts[0]


@pytest.mark.parametrize("w,h", PHOTO_SIZES)
def test_qwen2_5_vl_box_is_pixels_of_the_resized_image(astronaut, monkeypatch, w, h):
    b = _backend("qwen2_5_vl")
    assert b.box_frame == "pixels"
    seen_h, seen_w = _expected_seen(w, h)
    if (w, h) == (2048, 1536):
        assert (seen_w, seen_h) == (756, 588)  # 768 x 576 sent, whole 28 px patches seen
    answer_box = [200, 120, 420, 500] if seen_h > seen_w else [210, 100, 500, 400]
    prompts = _script(b, monkeypatch, '{"category": "addition", "target": "moon", "box": %s, '
                                      '"caption": "a moon over a woman"}' % answer_box)
    photo = _photo(astronaut, w, h)
    box = b.understand(photo, "add a moon").intent.box
    sx, sy = w / seen_w, h / seen_h
    intended = (answer_box[0] * sx, answer_box[1] * sy, answer_box[2] * sx, answer_box[3] * sy)
    assert box is not None and np.allclose(box, intended, atol=1.0), (box, intended)
    # The prompt states the size of the image the model sees, not the photo's or the sent one's.
    assert f"{seen_w} x {seen_h} pixels" in prompts[0]


def test_qwen2_5_vl_box_drives_the_addition_mask(astronaut, monkeypatch):
    from engine.instructor import plan

    b = _backend("qwen2_5_vl")
    _script(b, monkeypatch, '{"category": "addition", "target": "moon", "box": [378, 147, 567, 441], '
                            '"caption": "a moon"}')
    photo = _photo(astronaut, 2048, 1536)  # seen as 756 x 588
    p = plan(photo, "add a moon", b)
    x, y, bw, bh = mo.bbox(p.mask)  # the addition mask is the box itself
    assert np.array_equal(p.mask, p.candidate_masks[0]) and int((p.mask > 0).sum()) == bw * bh
    assert p.backend == "local"
    assert abs(x - 1024) <= 1 and abs(y - 384) <= 1 and abs(x + bw - 1536) <= 1 and abs(y + bh - 1152) <= 1


def test_qwen2_vl_native_box_tokens_are_read(astronaut, monkeypatch):
    # Qwen2-VL's own grounding form, its box markers stripped by the decoder.
    b = _backend("qwen2_vl")
    _script(b, monkeypatch, '{"category": "addition", "target": "moon", '
                            '"box": "<|box_start|>(100,250),(400,750)<|box_end|>", "caption": "a moon"}')
    box = b.understand(_photo(astronaut, 2048, 1536), "add a moon").intent.box
    assert np.allclose(box, (204.8, 384.0, 819.2, 1152.0), atol=1.0)


@pytest.mark.parametrize("w,h", PHOTO_SIZES)
def test_openai_compatible_box_is_a_0_1000_grid(astronaut, w, h):
    sent = {}

    def transport(url, headers, body, timeout):
        sent.update(body)
        return {"choices": [{"message": {"content": '{"category": "addition", "target": "kite", '
                                                    '"box": [500, 100, 750, 300], "caption": "a kite"}'}}]}
    b = OpenAICompatBackend("http://x/v1", "m", transport=transport)
    box = b.understand(_photo(astronaut, w, h), "add a kite").intent.box
    assert np.allclose(box, (0.5 * w, 0.1 * h, 0.75 * w, 0.3 * h), atol=1.0)
    assert "0-1000 grid" in sent["messages"][0]["content"]
