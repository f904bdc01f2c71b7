"""engine.models.weights.WeightLocator: the explicit path, the manifest's model, or another of its kind."""

from __future__ import annotations

import zipfile

import pytest

from engine.config import EngineConfig
from engine.models.weights import WeightLocator


@pytest.fixture(autouse=True)
def no_real_weights(no_installed_models):
    """Every test here runs on a computer without model weights (tests/conftest.py)."""


def test_nothing_installed_names_what_is_missing():
    weights = WeightLocator(EngineConfig())
    assert weights.base_model_dir() is None and weights.brushnet_dir() is None
    assert weights.brushedit_missing() == ["brushnet-x", "sd15-realistic-vision"]
    assert weights.lama_path() is None and weights.klein_dir() is None and weights.grounding_dir() is None
    with pytest.raises(ValueError, match="unknown model 'no-such-model'"):  # a typo is no stand-in's cue
        weights.resolve(None, "no-such-model")


def test_explicit_paths_win(tmp_path):
    base, bn, lama = tmp_path / "base", tmp_path / "bn", tmp_path / "big-lama.safetensors"
    weights = WeightLocator(EngineConfig(base_model_dir=base, brushnet_dir=str(bn), lama_path=lama))
    assert weights.base_model_dir() == base and weights.brushnet_dir() == bn and weights.lama_path() == lama
    assert weights.brushedit_missing() == []
    assert weights.resolve("~/x", "sam-vit-h") == (tmp_path.home() / "x", "")  # the user's ~ expanded


def test_another_installed_model_of_the_kind_stands_in(tmp_path, monkeypatch):
    small = tmp_path / "my-small-sam.pth"
    with zipfile.ZipFile(small, "w") as zf:
        zf.writestr("archive/data.pkl", b"x")
    weights = WeightLocator(EngineConfig())
    assert weights.sam_checkpoint() == (None, "vit_h")
    monkeypatch.setenv("BRUSHEDIT_MODEL_SAM_VIT_B", str(small))
    assert weights.resolve(None, "sam-vit-h") == (small, "sam-vit-b")
    assert weights.sam_checkpoint() == (small, "vit_b")
