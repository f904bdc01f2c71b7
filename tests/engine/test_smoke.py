"""The smoke test's SAM question on a tiny SAM (the manifest's SAM files pin Meta's exact sizes, so the
CLI test cannot install a tiny one by name): one point gives a mask."""

from __future__ import annotations

from engine.dispatch import Engine, EngineConfig
from engine.smoke import CHECKS, smoke_test


def test_sam_answers_one_point(tmp_path):
    from tests.builders.segment import save_tiny_sam

    sam = save_tiny_sam(tmp_path / "sam" / "tiny_sam.pth")
    answer = CHECKS["sam"](Engine(EngineConfig(device="cpu", sam_path=sam)), "sam-vit-b")
    assert answer.startswith("mask of ") and "score" in answer


def test_nothing_installed_asks_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert smoke_test(EngineConfig(device="cpu")) == []
