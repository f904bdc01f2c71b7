"""Weights are counted from the published configs with the real classes on the meta device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.memory import counts, model_gb

REFERENCE = Path("/work/shared/reference/brushnet_sd15_state_dict.json")
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("component, low, high", [
    ("sd15-unet", 859.4e6, 859.6e6),            # SD1.5 UNet: 859.52 M
    ("sd15-text-encoder", 123.0e6, 123.1e6),    # CLIP ViT-L/14 text: 123.06 M
    ("sd15-vae", 83.6e6, 83.7e6),               # AutoencoderKL: 83.65 M
    ("qwen2-vl-7b", 8.29e9, 8.30e9),            # "8.29 B" on the model card
    ("qwen2-vl-2b", 2.20e9, 2.21e9),            # "2.21 B" (tied embeddings counted once)
    ("sam-vit-h", 641.0e6, 641.2e6),            # 641 M
    ("sam-vit-l", 312.0e6, 312.5e6),
    ("sam-vit-b", 93.5e6, 93.9e6),
    ("grounding-dino-tiny", 170e6, 175e6),      # Swin-T + BERT-base + the fusion transformer
    ("grounding-dino-base", 230e6, 236e6),
])
def test_cached_counts_are_in_the_published_ranges(component, low, high):
    total = counts.param_count(component).total
    assert low <= total <= high, f"{component}: {total:,}"


def test_brushnet_count_is_the_sum_of_the_reference_checkpoint_shapes():
    if not REFERENCE.is_file():
        pytest.skip("shared reference JSON not present")
    ref = json.loads(REFERENCE.read_text())
    from math import prod

    total = sum(prod(shape) for shape in ref["state_dict_shapes"].values())
    assert counts.param_count("brushnet").total == total == ref["num_parameters"]
    assert {k: v for k, v in counts.load_config("brushnet").items() if not k.startswith("_")} == \
        {k: v for k, v in ref["config"].items() if not k.startswith("_")}


@pytest.mark.parametrize("component", ["sd15-text-encoder", "sd15-vae", "brushnet", "sam-vit-b", "sam-vit-h",
                                       "qwen2-vl-2b", "grounding-dino-tiny"])
def test_the_cache_equals_a_fresh_meta_count(component):
    entry = counts.read_cache()[component]
    assert entry["config_sha256"] == counts.config_digest(component)
    fresh = counts.fresh_count(component)
    assert (entry["total"], entry["quantizable"]) == (fresh.total, fresh.quantizable)


def test_every_shipped_config_is_cached_with_its_current_digest():
    cache = counts.read_cache()
    assert set(cache) == set(counts.COMPONENTS)
    for key in counts.COMPONENTS:
        assert cache[key]["config_sha256"] == counts.config_digest(key), f"re-run python -m engine.memory.counts ({key})"


def test_a_changed_config_misses_the_cache_and_is_counted(monkeypatch):
    monkeypatch.setattr(counts, "_memo", {})
    monkeypatch.setattr(counts, "read_cache", lambda: {"sam-vit-b": {"config_sha256": "stale", "total": 1,
                                                                       "quantizable": 1}})
    assert counts.param_count("sam-vit-b").total == counts.fresh_count("sam-vit-b").total > 1


def test_built_on_meta_holds_no_memory():
    model = counts.build_on_meta("sam-vit-b")
    assert {p.device.type for p in model.parameters()} == {"meta"}


def test_four_bit_keeps_the_head_and_the_vision_tower_in_16_bits():
    model = counts.build_on_meta("qwen2-vl-2b")
    c = counts.count_module(model)
    lm_linear = sum(m.weight.numel() for n, m in model.named_modules()
                    if type(m).__name__ == "Linear" and "visual" not in n and "lm_head" not in n)
    assert c.quantizable == lm_linear
    assert model_gb("qwen2-vl-7b", "nf4") < model_gb("qwen2-vl-7b", "bf16") / 2.3
    assert model_gb("qwen2-vl-7b", "bf16") == pytest.approx(8_291_375_616 * 2 / 2**30)


def test_configs_are_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"engine.memory.configs" = ["*.json"]' in text and '"engine.memory" = ["*.json"]' in text
    spec = (ROOT / "packaging" / "BrushEditStudio.spec").read_text()
    assert 'collect_data_files("engine.memory"' in spec
