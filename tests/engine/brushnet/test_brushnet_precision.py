"""Weights in 16 bits, the sampler's math in fp32: UniPC never steps in a short mantissa."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def bf16_pipe():
    from tests.builders.brushnet import tiny_pipeline

    pipe = tiny_pipeline(seed=0)
    pipe.to(torch.bfloat16)  # bf16 runs on any CPU; fp16 convolutions may not
    return pipe


@pytest.mark.parametrize("strength,scale", [(1.0, 1.0), (0.5, 1.0), (0.75, 0.0)])
def test_scheduler_steps_fp32_latents_with_a_bf16_model(bf16_pipe, chelsea, monkeypatch, strength, scale):
    img = np.ascontiguousarray(chelsea[:64, :64])
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[16:48, 16:48] = 255
    seen, forward = [], []
    step = bf16_pipe.scheduler.step

    def rec_step(model_output, timestep, sample, *a, **kw):
        seen.append((model_output.dtype, sample.dtype))
        out = step(model_output, timestep, sample, *a, **kw)
        seen.append((out[0].dtype,))
        return out
    monkeypatch.setattr(bf16_pipe.scheduler, "step", rec_step)
    hook = bf16_pipe.unet.conv_in.register_forward_hook(lambda m, i, o: forward.append(i[0].dtype))
    try:
        out = bf16_pipe("a cat", img, mask, num_inference_steps=4, strength=strength,
                        brushnet_conditioning_scale=scale, generator=[torch.Generator().manual_seed(0)])
    finally:
        hook.remove()
    assert seen and all(d == torch.float32 for pair in seen for d in pair)
    assert forward and all(d == torch.bfloat16 for d in forward)  # the forward in the model's dtype
    assert out.images[0].shape == img.shape and out.images[0].dtype == np.uint8
    # UniPC's stored predictions are fp32 too.
    assert all(m is None or m.dtype == torch.float32 for m in bf16_pipe.scheduler.model_outputs)


def test_cuda_default_dtype_is_fp16(monkeypatch):
    from engine.brushnet import loading

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert loading.default_device_dtype("cuda")[1] == torch.float16  # the reference's precision
    assert loading.default_device_dtype("cuda", torch.bfloat16)[1] == torch.bfloat16  # the option
    assert loading.default_device_dtype("cpu")[1] == torch.float32
