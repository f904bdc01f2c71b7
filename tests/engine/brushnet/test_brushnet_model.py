"""BrushNetModel: the published key layout, from_unet and the save/load round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.brushnet import BrushNetModel

# A copy of shared/reference/brushnet_sd15_state_dict.json: the published names and shapes.
REFERENCE = Path(__file__).resolve().parent / "data" / "brushnet_sd15_state_dict.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text())


def test_published_config_builds_the_published_key_layout_on_meta(reference):
    # A full fp32 build is 2.5 GB; the meta device gives names and shapes without memory.
    with torch.device("meta"):
        model = BrushNetModel.from_config(reference["config"])
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    expected = reference["state_dict_shapes"]
    assert sorted(set(expected) - set(shapes)) == []  # nothing missing
    assert sorted(set(shapes) - set(expected)) == []  # nothing unexpected
    assert {k: shapes[k] for k in expected} == expected
    assert sum(p.numel() for p in model.parameters()) == reference["num_parameters"]


def test_published_config_keys_are_all_accepted(reference):
    with torch.device("meta"):
        model = BrushNetModel.from_config(reference["config"])
    for key, value in reference["config"].items():
        if key.startswith("_"):
            continue
        got = model.config[key]
        assert (list(got) if isinstance(got, tuple) else got) == value, key


def test_from_unet_copies_weights_and_zero_inits_the_feature_convs(components):
    unet = components["unet"]
    bn = BrushNetModel.from_unet(unet)
    k = unet.config.in_channels
    w = bn.conv_in_condition.weight
    assert torch.equal(w[:, :k], unet.conv_in.weight)
    assert torch.equal(w[:, k:2 * k], unet.conv_in.weight)
    assert torch.count_nonzero(w[:, 2 * k:]) == 0  # the mask channel starts silent
    assert torch.equal(bn.down_blocks[0].resnets[0].conv1.weight, unet.down_blocks[0].resnets[0].conv1.weight)
    assert torch.equal(bn.up_blocks[-1].resnets[0].conv1.weight, unet.up_blocks[-1].resnets[0].conv1.weight)
    for name, p in bn.named_parameters():
        if name.startswith("brushnet_"):
            assert torch.count_nonzero(p) == 0, name


def test_feature_counts_and_shapes_follow_the_unet(components):
    unet, bn = components["unet"], components["brushnet"]
    x = torch.randn(2, 4, 16, 16)
    cond = torch.randn(2, 5, 16, 16)
    with torch.no_grad():
        down, mid, up = bn(x, 10, torch.randn(2, 77, 32), cond)
    n_down = 1 + sum(len(b.resnets) + (b.downsamplers is not None) for b in unet.down_blocks)
    n_up = sum(len(b.resnets) + (b.upsamplers is not None) for b in unet.up_blocks)
    assert len(down) == n_down == len(bn.brushnet_down_blocks)
    assert len(up) == n_up == len(bn.brushnet_up_blocks)
    assert mid.shape[1] == unet.config.block_out_channels[-1]


def test_conditioning_scale_scales_every_feature(components):
    bn = components["brushnet"]
    args = (torch.randn(1, 4, 16, 16), 500, None, torch.randn(1, 5, 16, 16))
    with torch.no_grad():
        d1, m1, u1 = bn(*args, conditioning_scale=1.0)
        d2, m2, u2 = bn(*args, conditioning_scale=0.5)
    assert all(torch.allclose(a * 0.5, b, atol=1e-6) for a, b in zip(d1 + [m1] + u1, d2 + [m2] + u2))


def test_save_load_round_trip(components, tmp_path):
    bn = components["brushnet"]
    bn.save_pretrained(tmp_path, safe_serialization=True)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    loaded = BrushNetModel.from_pretrained(tmp_path)
    a, b = bn.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    norm = lambda c: {k: list(v) if isinstance(v, tuple) else v for k, v in c.items() if not k.startswith("_")}
    assert norm(loaded.config) == norm(bn.config)


def test_unsupported_unet_families_are_refused():
    with pytest.raises(ValueError, match="SD1.5"):
        BrushNetModel(addition_embed_type="text_time", block_out_channels=(8, 16), norm_num_groups=4,
                      down_block_types=("DownBlock2D",) * 2, up_block_types=("UpBlock2D",) * 2)


def test_from_unet_on_an_sd15_unet_reproduces_the_published_config_and_layout(reference):
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768)  # SD1.5's UNet config
        bn = BrushNetModel.from_unet(unet)
    assert {k: list(v.shape) for k, v in bn.state_dict().items()} == reference["state_dict_shapes"]
    for key, value in reference["config"].items():
        if not key.startswith("_"):
            got = bn.config[key]
            assert (list(got) if isinstance(got, tuple) else got) == value, key
