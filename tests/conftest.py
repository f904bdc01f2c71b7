"""Fixtures shared across the test tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.ray_local import loopback_env, start_ray

ROOT = Path(__file__).resolve().parents[1]
loopback_env()  # read when ray is first imported, which test modules do at collection


@pytest.fixture(scope="session")
def ray_local():
    """ONE local Ray (2 CPUs, loopback, this checkout importable by its workers) for every Ray test of
    the session: the studio server's pool and ``brushedit batch --ray``. Starting Ray costs seconds and
    a second start in the same process is an error, so tests share it and clean up what they deploy."""
    ray = pytest.importorskip("ray")
    start_ray(num_cpus=2)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def no_installed_models(tmp_path, monkeypatch):
    """This computer has no model weights: an empty models folder and Hugging Face home, no hub cache
    and no per-model path overrides (``BRUSHEDIT_MODEL_*``)."""
    import os

    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    for key in [k for k in os.environ if k.startswith("BRUSHEDIT_MODEL_")]:
        monkeypatch.delenv(key)
    return tmp_path / "models"
