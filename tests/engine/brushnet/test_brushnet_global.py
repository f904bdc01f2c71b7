"""Global edits keep the photo: image-to-image from the noised original, BrushNet scaled out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.api import EditParams, InpaintRequest
from engine.brushnet.runner import run_inpaint, sampling_for


@pytest.fixture()
def photo(chelsea):
    return np.ascontiguousarray(chelsea[:64, :96])


def _whole(img):
    return np.full(img.shape[:2], 255, np.uint8)


@pytest.fixture()
def recorder(tiny_pipe, monkeypatch):
    """Record the scheduler's add_noise and step calls and the BrushNet / UNet passes."""
    seen = {"add_noise": [], "steps": [], "brushnet": 0, "unet": 0}
    sched = tiny_pipe.scheduler
    add_noise, step = sched.add_noise, sched.step

    def rec_add_noise(original, noise, timesteps):
        seen["add_noise"].append((original.clone(), noise.clone(), timesteps.clone()))
        return add_noise(original, noise, timesteps)

    def rec_step(model_output, timestep, sample, *a, **kw):
        seen["steps"].append((timestep, model_output.dtype, sample.dtype))
        return step(model_output, timestep, sample, *a, **kw)
    monkeypatch.setattr(sched, "add_noise", rec_add_noise)
    monkeypatch.setattr(sched, "step", rec_step)
    h1 = tiny_pipe.brushnet.register_forward_hook(lambda *a: seen.__setitem__("brushnet", seen["brushnet"] + 1))
    h2 = tiny_pipe.unet.conv_out.register_forward_hook(lambda *a: seen.__setitem__("unet", seen["unet"] + 1))
    yield seen
    h1.remove()
    h2.remove()


def _global(img, **params):
    # Worked at the photo's own size (96 x 64), so its latents can be compared.
    params.setdefault("working_size", min(img.shape[:2]))
    return InpaintRequest(img, _whole(img), "a watercolor painting of a cat", EditParams(seed=3, **params),
                          category="global")


@pytest.mark.parametrize("strength,steps,expected", [(0.7, 10, 7), (0.5, 8, 4), (0.65, 10, 6), (1.0, 4, 4)])
def test_global_runs_strength_times_steps_from_the_noised_original(tiny_pipe, photo, recorder,
                                                                  strength, steps, expected):
    res = run_inpaint(tiny_pipe, _global(photo, steps=steps, global_strength=strength))
    assert res.candidates[0].image.shape == photo.shape
    assert recorder["unet"] == expected and len(recorder["steps"]) == expected
    assert recorder["brushnet"] == 0  # scaled out: plain SD1.5 image-to-image
    if strength < 1.0:
        # Started from the photo's own latents, noised at the first kept timestep.
        (original, _noise, t), = recorder["add_noise"]
        tiny_pipe.scheduler.set_timesteps(steps)
        first_kept = tiny_pipe.scheduler.timesteps[steps - expected]
        assert int(t[0]) == int(first_kept) and recorder["steps"][0][0] == first_kept
        x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        want = tiny_pipe.vae.encode(x).latent_dist.mean * tiny_pipe.vae.config.scaling_factor
        assert torch.allclose(original, want, atol=1e-5)


def test_global_at_strength_zero_returns_the_photo_exactly(tiny_pipe, photo, recorder):
    res = run_inpaint(tiny_pipe, _global(photo, steps=10, global_strength=0.0, num_candidates=2))
    assert len(res.candidates) == 2 and recorder["unet"] == 0
    for c in res.candidates:
        assert np.array_equal(c.image, photo)
    out = tiny_pipe("x", photo, _whole(photo), num_inference_steps=10, strength=0.05)  # int(0.5) = 0 steps
    assert np.array_equal(out.images[0], photo)


def test_other_categories_keep_their_strength_and_brushnet():
    img = np.zeros((64, 64, 3), np.uint8)
    p = EditParams(strength=0.9, conditioning_scale=0.8, global_strength=0.6)
    assert sampling_for(InpaintRequest(img, _whole(img), "x", p, category="local")) == (0.9, 0.8)
    assert sampling_for(InpaintRequest(img, _whole(img), "x", p, category="global")) == (0.6, 0.0)
    assert EditParams().global_strength == 0.7


def test_removal_puts_the_object_in_the_negative_prompt_once():
    from engine.brushnet.runner import negative_prompt_for

    img = np.zeros((64, 64, 3), np.uint8)
    req = lambda neg, **kw: InpaintRequest(img, _whole(img), "empty table", EditParams(negative_prompt=neg), **kw)  # noqa: E731
    assert negative_prompt_for(req("ugly, low quality", category="removal", target="red cup")) == \
        "ugly, low quality, red cup"
    assert negative_prompt_for(req("ugly, low quality, red cup", category="removal", target="red cup")) == \
        "ugly, low quality, red cup"
    assert negative_prompt_for(req("ugly", category="local", target="red cup")) == "ugly"
    assert negative_prompt_for(req("", category="removal", target="cat")) == "cat"
