"""Shared helpers for the models tests: isolated model folders and fake copies of manifest entries."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def isolated_model_dirs(tmp_path, monkeypatch):
    """Point every search place at empty temporary folders, so nothing real is found."""
    models = tmp_path / "app-models"
    cache = tmp_path / "hf-home" / "hub"
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(models))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    for key in list(os.environ):
        if key.startswith("BRUSHEDIT_MODEL_"):
            monkeypatch.delenv(key)
    return models, cache
