"""BrushNetPipeline on tiny random components: sizes, blending, candidates, seeds, interrupt."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from masks import mask_ops


def _gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


@pytest.fixture()
def conv_out_calls(tiny_pipe):
    """Count UNet passes (one per denoising step: guidance and candidates are batched)."""
    calls = []
    handle = tiny_pipe.unet.conv_out.register_forward_hook(lambda *a: calls.append(a[1][0].shape[0]))
    yield calls
    handle.remove()


@pytest.fixture()
def brushnet_calls(tiny_pipe):
    calls = []
    handle = tiny_pipe.brushnet.register_forward_hook(lambda *a: calls.append(1))
    yield calls
    handle.remove()


@pytest.fixture(scope="module")
def photo_97x75():
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[100:197, 200:275])


def test_output_has_the_input_exact_odd_size(tiny_pipe, photo_97x75, box_mask):
    mask = box_mask(photo_97x75.shape, 20, 30, 30, 25)
    out = tiny_pipe("a red hat", photo_97x75, mask, num_inference_steps=2, generator=_gens(0))
    assert not out.interrupted
    assert [im.shape for im in out.images] == [(97, 75, 3)]
    assert out.images[0].dtype == np.uint8


def test_pixels_beyond_the_feather_are_the_original_bit_for_bit(tiny_pipe, chelsea, box_mask):
    img = np.ascontiguousarray(chelsea[:128, :160])
    mask = box_mask(img.shape, 60, 40, 30, 30)
    out = tiny_pipe("", img, mask, num_inference_steps=2, generator=_gens(1)).images[0]
    outside = mask_ops.feather_outward(mask, 21) == 0
    assert outside.sum() > 0.5 * outside.size
    assert np.array_equal(out[outside], img[outside])
    assert not np.array_equal(out[mask > 0], img[mask > 0])  # the hole was repainted


def test_blend_switch_off_changes_pixels_far_from_the_mask(tiny_pipe, chelsea, box_mask):
    img = np.ascontiguousarray(chelsea[:128, :160])
    mask = box_mask(img.shape, 60, 40, 30, 30)
    out = tiny_pipe("", img, mask, num_inference_steps=2, generator=_gens(1), blend_result=False).images[0]
    outside = mask_ops.feather_outward(mask, 21) == 0
    assert not np.array_equal(out[outside], img[outside])  # the VAE round trip shows everywhere


def test_candidates_are_batched_differ_and_each_seed_reproduces_alone(tiny_pipe, chelsea, box_mask, conv_out_calls):
    img = np.ascontiguousarray(chelsea[:96, :128])
    mask = box_mask(img.shape, 40, 30, 40, 30)
    many = tiny_pipe("a ball", img, mask, num_inference_steps=3, num_images_per_prompt=3,
                     generator=_gens(7, 8, 9)).images
    assert conv_out_calls == [6, 6, 6]  # 3 steps, each one pass of 3 candidates x 2 (guidance)
    hole = mask > 0
    assert not np.array_equal(many[0][hole], many[1][hole])
    assert not np.array_equal(many[1][hole], many[2][hole])
    alone = tiny_pipe("a ball", img, mask, num_inference_steps=3, num_images_per_prompt=1,
                      generator=_gens(8)).images[0]
    assert np.abs(alone.astype(int) - many[1].astype(int)).max() <= 1


def test_guidance_one_runs_without_the_negative_batch(tiny_pipe, chelsea, box_mask, conv_out_calls):
    img = np.ascontiguousarray(chelsea[:64, :64])
    tiny_pipe("", img, box_mask(img.shape, 10, 10, 20, 20), num_inference_steps=2, guidance_scale=1.0,
              generator=_gens(0))
    assert conv_out_calls == [1, 1]


def test_interrupt_stops_within_one_step(tiny_pipe, chelsea, box_mask, conv_out_calls):
    img = np.ascontiguousarray(chelsea[:64, :64])

    def stop_after_second(pipe, i, t, tensors):
        if i == 1:
            pipe._interrupt = True
        return {}

    out = tiny_pipe("", img, box_mask(img.shape, 10, 10, 20, 20), num_inference_steps=10,
                    generator=_gens(0), callback_on_step_end=stop_after_second)
    assert out.interrupted and out.images == []
    assert len(conv_out_calls) == 2


def test_control_guidance_window_limits_the_brushnet_steps(tiny_pipe, chelsea, box_mask, brushnet_calls):
    img = np.ascontiguousarray(chelsea[:64, :64])
    mask = box_mask(img.shape, 10, 10, 20, 20)
    tiny_pipe("", img, mask, num_inference_steps=4, control_guidance_start=0.0, control_guidance_end=0.5,
              generator=_gens(0))
    assert len(brushnet_calls) == 2


def test_strength_below_one_runs_fewer_steps(tiny_pipe, chelsea, box_mask, conv_out_calls):
    img = np.ascontiguousarray(chelsea[:64, :64])
    out = tiny_pipe("", img, box_mask(img.shape, 10, 10, 20, 20), num_inference_steps=8, strength=0.5,
                    generator=_gens(0))
    assert len(conv_out_calls) == 4 and out.images[0].shape == (64, 64, 3)


def test_callback_can_read_latents(tiny_pipe, chelsea, box_mask):
    img = np.ascontiguousarray(chelsea[:64, :80])
    seen = []
    tiny_pipe("", img, box_mask(img.shape, 10, 10, 20, 20), num_inference_steps=2, generator=_gens(0),
              callback_on_step_end=lambda p, i, t, k: seen.append((i, tuple(k["latents"].shape))) or {})
    assert seen == [(0, (1, 4, 8, 10)), (1, (1, 4, 8, 10))]


def test_mismatched_generators_and_mask_size_are_refused(tiny_pipe, chelsea, box_mask):
    img = np.ascontiguousarray(chelsea[:64, :64])
    with pytest.raises(ValueError, match="generators"):
        tiny_pipe("", img, box_mask(img.shape, 1, 1, 9, 9), num_images_per_prompt=2, generator=_gens(0))
    with pytest.raises(ValueError, match="mask size"):
        tiny_pipe("", img, np.zeros((10, 10), np.uint8))


def test_diffusers_from_pretrained_with_a_brushnet_component(tmp_path):
    from engine.brushnet import BrushNetModel, BrushNetPipeline
    from tests.builders.brushnet import save_tiny_weights

    base, bn_dir = save_tiny_weights(tmp_path)
    pipe = BrushNetPipeline.from_pretrained(base, brushnet=BrushNetModel.from_pretrained(bn_dir))
    pipe.set_progress_bar_config(disable=True)
    img = np.full((64, 64, 3), 128, np.uint8)
    m = np.zeros((64, 64), np.uint8)
    m[8:24, 8:24] = 255
    assert pipe("", img, m, num_inference_steps=1).images[0].shape == (64, 64, 3)


def test_candidates_decoded_one_at_a_time_equal_the_batched_decode(tiny_pipe, chelsea, box_mask):
    # On a GPU the VAE decodes candidates one by one (the peak of one image, not four); forced here
    # on the CPU, it must give the batched decode's pixels, one VAE pass per candidate.
    calls = []
    handle = tiny_pipe.vae.decoder.register_forward_hook(lambda m, inputs, out: calls.append(inputs[0].shape[0]))
    try:
        assert tiny_pipe.decode_one_at_a_time is None and not tiny_pipe._decode_one_at_a_time(torch.zeros(3, 4, 8, 8))
        img = np.ascontiguousarray(chelsea[:96, :128])
        mask = box_mask(img.shape, 40, 30, 40, 30)
        kw = dict(num_inference_steps=2, num_images_per_prompt=3)
        batched = tiny_pipe("a cat", img, mask, generator=_gens(1, 2, 3), **kw).images
        assert calls == [3]
        tiny_pipe.decode_one_at_a_time = True
        sliced = tiny_pipe("a cat", img, mask, generator=_gens(1, 2, 3), **kw).images
        assert calls == [3, 1, 1, 1]
    finally:
        tiny_pipe.decode_one_at_a_time = None
        handle.remove()
    for a, b in zip(batched, sliced, strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
