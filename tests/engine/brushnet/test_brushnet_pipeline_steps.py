"""BrushNetPipeline's numbered steps, each a method: run by hand they make ``__call__``'s pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.api import DEFAULT_NEGATIVE_PROMPT


def _gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


@pytest.mark.parametrize("guidance,strength,scale", [(7.5, 1.0, 1.0), (1.0, 0.5, 1.0), (7.5, 0.75, 0.0)])
def test_the_steps_run_by_hand_equal_the_call_bit_for_bit(tiny_pipe, chelsea, box_mask, guidance, strength, scale):
    pipe = tiny_pipe
    img = np.ascontiguousarray(chelsea[:75, :97])  # off the VAE's grid: resized in and back out
    mask = box_mask(img.shape, 20, 20, 40, 30)
    kw = dict(num_inference_steps=4, guidance_scale=guidance, strength=strength, brushnet_conditioning_scale=scale)
    called = pipe("a ball", img, mask, num_images_per_prompt=2, generator=_gens(3, 4), **kw).images

    device = pipe._execution_device
    source, hole = pipe.check_inputs(img, mask, 2, None)  # 1.
    work, work_hole = pipe.prepare_image(source, hole)
    assert work.shape == (72, 96, 3) and work_hole.shape == (72, 96)
    do_cfg = guidance > 1.0
    prompt_embeds = pipe.encode_prompt("a ball", DEFAULT_NEGATIVE_PROMPT, 2, device, do_cfg)  # 2.
    assert prompt_embeds.shape[0] == (4 if do_cfg else 2)
    timesteps = pipe.get_timesteps(4, strength, device)  # 3.
    assert len(timesteps) == int(4 * strength)
    latents = pipe.prepare_latents(2, work, timesteps, strength, _gens(3, 4), None, device)  # 4.
    assert latents.shape == (2, 4, 9, 12) and latents.dtype == torch.float32
    cond = pipe.prepare_brushnet_cond(work, work_hole, 2, do_cfg, device) if scale else None  # 5.
    latents = pipe.denoise(latents, timesteps, prompt_embeds, cond, guidance_scale=guidance,  # 6.
                           do_classifier_free_guidance=do_cfg, conditioning_scale=scale, control_guidance_start=0.0,
                           control_guidance_end=1.0, callback_on_step_end=None,
                           callback_on_step_end_tensor_inputs=("latents",))
    by_hand = pipe.decode_to_images(latents, source, hole, blend_result=True, blend_kernel=21, harmonize=1.0)  # 7.
    assert len(by_hand) == len(called) == 2
    for a, b in zip(by_hand, called, strict=True):
        assert a.shape == img.shape and np.array_equal(a, b)


def test_the_condition_is_the_blacked_out_photo_and_the_mask_with_one_for_keep(tiny_pipe, chelsea, box_mask):
    img = np.ascontiguousarray(chelsea[:64, :64])
    hole = box_mask(img.shape, 16, 16, 32, 32) > 0
    cond = tiny_pipe.prepare_brushnet_cond(img, hole, 3, True, torch.device("cpu"))
    assert cond.shape == (6, 5, 8, 8)  # 3 candidates x 2 (guidance), 4 latent channels + the mask
    keep = cond[0, 4]
    assert keep[0, 0] == 1 and keep[4, 4] == 0  # 1 = keep, 0 = hole, at latent size
    assert torch.equal(keep, tiny_pipe.prepare_mask_latents(hole, (8, 8), torch.float32, "cpu")[0, 0])
    blacked = np.where(hole[..., None], 0, img).astype(np.uint8)
    assert torch.equal(cond[0, :4], tiny_pipe._vae_encode(blacked, "cpu")[0])
    assert all(torch.equal(cond[0], cond[k]) for k in range(6))


def test_timesteps_follow_strength_and_none_leaves_the_photo(tiny_pipe, chelsea, box_mask):
    assert len(tiny_pipe.get_timesteps(8, 1.0, "cpu")) == 8
    assert len(tiny_pipe.get_timesteps(8, 0.5, "cpu")) == 4
    assert len(tiny_pipe.get_timesteps(8, 0.1, "cpu")) == 0
    img = np.ascontiguousarray(chelsea[:64, :64])
    out = tiny_pipe("", img, box_mask(img.shape, 8, 8, 20, 20), strength=0.1, num_inference_steps=8,
                    num_images_per_prompt=2, generator=_gens(0, 1))
    assert len(out.images) == 2 and all(np.array_equal(im, img) for im in out.images)


def test_check_inputs_refuses_a_callback_tensor_it_does_not_hand_out(tiny_pipe, chelsea, box_mask):
    img = np.ascontiguousarray(chelsea[:64, :64])
    with pytest.raises(ValueError, match=r"\['noise'\] are not among \['latents', 'prompt_embeds'\]"):
        tiny_pipe("", img, box_mask(img.shape, 8, 8, 20, 20), num_inference_steps=2,
                  callback_on_step_end=lambda *a: {}, callback_on_step_end_tensor_inputs=["latents", "noise"])
