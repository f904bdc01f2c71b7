"""The cheap latent -> RGB preview."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.brushnet.preview import SD15_LATENT_RGB, latents_to_rgb


def test_preview_is_uint8_rgb_at_latent_size():
    out = latents_to_rgb(torch.randn(1, 4, 12, 20))
    assert out.shape == (12, 20, 3) and out.dtype == np.uint8


def test_preview_is_the_linear_map():
    lat = np.zeros((4, 2, 2), np.float32)
    lat[0] = 1.0  # channel 0 alone -> its row of the matrix
    expected = np.clip((SD15_LATENT_RGB[0] + 1.0) * 127.5, 0, 255).astype(np.uint8)
    assert np.array_equal(latents_to_rgb(lat)[0, 0], expected)
    assert np.array_equal(latents_to_rgb(np.zeros((4, 3, 3), np.float32))[1, 1], [127, 127, 127])


def test_preview_refuses_other_channel_counts():
    with pytest.raises(ValueError):
        latents_to_rgb(np.zeros((3, 4, 4), np.float32))
