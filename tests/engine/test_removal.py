"""Removal with LaMa first and BrushNet on top: the choice, the prompts, and the plumbing (tiny
LaMa and tiny BrushNet pipeline; the default strength itself could not be judged on real weights)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import EditParams, InpaintRequest, MissingModelsError
from engine.dispatch import Engine, EngineConfig
from engine.fill.lama import save_lama, tiny_lama
from engine.removal import BACKGROUND_CAPTION, DEFAULT_REMOVAL_STRENGTH, removal_prompts, run_lama_then_brushnet
from masks import mask_ops


@pytest.fixture(autouse=True)
def no_real_weights(no_installed_models):
    """Every test here runs on a computer without model weights (tests/conftest.py)."""


@pytest.fixture(scope="module")
def cat():
    from skimage import data

    image = np.ascontiguousarray(data.chelsea()[:200, 100:356])
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[60:140, 80:170] = 255
    return image, mask


@pytest.fixture(scope="module")
def lama():
    return tiny_lama(seed=0)


def _req(cat, **kw):
    image, mask = cat
    params = EditParams(steps=4, seed=3, **kw.pop("params", {}))
    return InpaintRequest(image, mask, kw.pop("prompt", ""), params, category="removal", **kw)


def test_default_strength_is_exposed_and_partial():
    assert EditParams().removal_strength == DEFAULT_REMOVAL_STRENGTH
    assert 0 < DEFAULT_REMOVAL_STRENGTH < 0.7


def test_prompts_paint_the_background_and_forbid_the_object(cat):
    prompt, negative = removal_prompts(_req(cat, target="cat"))
    assert prompt == BACKGROUND_CAPTION and negative.startswith("cat, ")
    prompt, negative = removal_prompts(_req(cat, prompt="a wooden floor", target="Cat",
                                            params={"negative_prompt": "cat, blurry"}))
    assert prompt == "a wooden floor" and negative == "cat, blurry"  # not added twice


def test_lama_then_brushnet_paints_from_lamas_fill_and_keeps_far_pixels(cat, lama, monkeypatch):
    from engine.brushnet import runner
    from tests.builders.brushnet import tiny_pipeline

    seen = {}
    real = runner.run_inpaint

    def spy(pipe, request, **kw):
        seen["request"] = request
        return real(pipe, request, **kw)

    import engine.brushnet as brushnet

    monkeypatch.setattr(brushnet, "run_inpaint", spy)
    request = _req(cat, target="cat", params={"num_candidates": 2, "removal_strength": 0.4})
    result = run_lama_then_brushnet(lama, tiny_pipeline(), request)
    assert result.engine == "lama+brushedit" and result.request is request
    second = seen["request"]
    assert second.params.strength == pytest.approx(0.4)
    assert second.prompt == BACKGROUND_CAPTION and "cat" in second.params.negative_prompt
    image, mask = cat
    assert not np.array_equal(second.image[mask > 0], image[mask > 0])  # BrushNet starts from LaMa's fill
    far = mask_ops.dilate(mask, 21) == 0
    assert len(result.candidates) == 2
    for c in result.candidates:
        assert np.array_equal(c.image[far], image[far])
        x, y, w, h = c.bbox
        outside = np.ones(mask.shape, bool)
        outside[y:y + h, x:x + w] = False
        assert np.array_equal(c.image[outside], image[outside])


def test_strength_zero_is_lamas_fill_alone(cat, lama):
    from tests.builders.brushnet import tiny_pipeline
    from engine.fill.lama_remove import run_lama

    request = _req(cat, params={"removal_strength": 0.0})
    result = run_lama_then_brushnet(lama, tiny_pipeline(), request)
    assert result.engine == "lama"
    assert np.array_equal(result.candidates[0].image, run_lama(lama, request).candidates[0].image)


def test_auto_picks_lama_then_brushnet_for_removals_only(cat, tmp_path):
    path = save_lama(tiny_lama(), tmp_path / "lama.safetensors")
    base, bn = tmp_path / "base", tmp_path / "bn"
    base.mkdir(), bn.mkdir()
    both = Engine(EngineConfig(device="cpu", lama_path=path, base_model_dir=base, brushnet_dir=bn))
    assert both.choose_engine(_req(cat))[0] == "lama+brushedit"
    image, mask = cat
    assert both.choose_engine(InpaintRequest(image, mask, "a dog", category="local"))[0] == "brushedit"
    only = Engine(EngineConfig(device="cpu", lama_path=path))
    assert only.choose_engine(_req(cat))[0] == "lama"
    assert Engine(EngineConfig(device="cpu")).choose_engine(_req(cat))[0] == "fill"
    with pytest.raises(MissingModelsError, match="models import lama"):
        Engine(EngineConfig(device="cpu")).choose_engine(_req(cat, params={"engine": "lama"}))


def test_engine_runs_lama_and_caches_it(cat, tmp_path):
    path = save_lama(tiny_lama(), tmp_path / "lama.safetensors")
    engine = Engine(EngineConfig(device="cpu", lama_path=path))
    result = engine.inpaint(_req(cat, params={"engine": "lama"}))
    assert result.engine == "lama"
    first = engine.lama()
    engine.inpaint(_req(cat))
    assert engine.lama() is first
