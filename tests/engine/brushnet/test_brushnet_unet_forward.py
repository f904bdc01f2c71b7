"""unet_forward_with_brushnet against the stock UNet forward."""

from __future__ import annotations

import pytest
import torch

from engine.brushnet import unet_forward_with_brushnet


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    return (torch.randn(2, 4, 16, 16, generator=g), torch.tensor(321),
            torch.randn(2, 77, 32, generator=g), torch.randn(2, 5, 16, 16, generator=g))


def _features(bn, x, t, e, c):
    with torch.no_grad():
        return bn(x, t, e, c)


def test_zero_features_equal_the_plain_unet(components, batch):
    unet, bn = components["unet"], components["brushnet"]
    x, t, e, c = batch
    down, mid, up = _features(bn, x, t, e, c)
    with torch.no_grad():
        plain = unet(x, t, e).sample
        ours = unet_forward_with_brushnet(unet, x, t, e, [torch.zeros_like(f) for f in down],
                                          torch.zeros_like(mid), [torch.zeros_like(f) for f in up])
        none = unet_forward_with_brushnet(unet, x, t, e, None, None, None)
    torch.testing.assert_close(ours, plain, rtol=0, atol=1e-6)
    torch.testing.assert_close(none, plain, rtol=0, atol=1e-6)


@pytest.mark.parametrize("hw", [(13, 11), (9, 16)])
def test_odd_latent_sizes_match_the_plain_unet(components, hw):
    unet = components["unet"]
    x = torch.randn(1, 4, *hw)
    e = torch.randn(1, 77, 32)
    with torch.no_grad():
        torch.testing.assert_close(unet_forward_with_brushnet(unet, x, 5, e, None, None, None),
                                   unet(x, 5, e).sample, rtol=0, atol=1e-6)


def test_features_change_the_output_at_every_injection_point(components, batch):
    unet, bn = components["unet"], components["brushnet"]
    x, t, e, c = batch
    down, mid, up = _features(bn, x, t, e, c)
    with torch.no_grad():
        base = unet_forward_with_brushnet(unet, x, t, e, None, None, None)
        full = unet_forward_with_brushnet(unet, x, t, e, down, mid, up)
        assert not torch.allclose(full, base, atol=1e-4)
        zeros_d = [torch.zeros_like(f) for f in down]
        zeros_u = [torch.zeros_like(f) for f in up]
        # Each single feature on its own must reach the output.
        for i in range(len(down)):
            only = [f if j == i else z for j, (f, z) in enumerate(zip(down, zeros_d))]
            out = unet_forward_with_brushnet(unet, x, t, e, only, torch.zeros_like(mid), zeros_u)
            assert not torch.allclose(out, base, atol=1e-6), f"down feature {i} had no effect"
        for i in range(len(up)):
            only = [f if j == i else z for j, (f, z) in enumerate(zip(up, zeros_u))]
            out = unet_forward_with_brushnet(unet, x, t, e, zeros_d, torch.zeros_like(mid), only)
            assert not torch.allclose(out, base, atol=1e-6), f"up feature {i} had no effect"
        out = unet_forward_with_brushnet(unet, x, t, e, zeros_d, mid, zeros_u)
        assert not torch.allclose(out, base, atol=1e-6)


def test_input_lists_are_not_mutated(components, batch):
    unet, bn = components["unet"], components["brushnet"]
    x, t, e, c = batch
    down, mid, up = _features(bn, x, t, e, c)
    down_copy, up_copy = [f.clone() for f in down], [f.clone() for f in up]
    ids_down, ids_up = [id(f) for f in down], [id(f) for f in up]
    with torch.no_grad():
        unet_forward_with_brushnet(unet, x, t, e, down, mid, up)
    assert [id(f) for f in down] == ids_down and [id(f) for f in up] == ids_up
    assert all(torch.equal(a, b) for a, b in zip(down, down_copy))
    assert all(torch.equal(a, b) for a, b in zip(up, up_copy))
    tup_down = tuple(down)
    with torch.no_grad():
        unet_forward_with_brushnet(unet, x, t, e, tup_down, mid, tuple(up))  # tuples work too
