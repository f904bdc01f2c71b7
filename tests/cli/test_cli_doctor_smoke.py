"""``brushedit doctor --smoke``: each installed model is loaded and asked one tiny question.

Tiny random models in their published layouts, holding exactly the manifest's files: a Qwen2-VL-2B,
GroundingDINO tiny, SD1.5 + BrushNetX and LaMa. A model that is complete on paper but does not load is
reported as failed (exit 4) and the others still run.
"""

from __future__ import annotations

import json
import shutil

import pytest


def _copy(spec, full, folder):
    for rel in spec.files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(full / rel, folder / rel)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    from tests.builders.brushnet import save_tiny_weights
    from engine.fill.lama import save_lama, tiny_lama
    from engine.models import MANIFEST
    from tests.builders.segment import save_published_grounding_dino, save_published_qwen2_vl

    root = tmp_path_factory.mktemp("smoke")
    models = root / "models"
    _copy(MANIFEST["qwen2-vl-2b"], save_published_qwen2_vl(root / "qwen", shards=2), models / "qwen2-vl-2b")
    _copy(MANIFEST["grounding-dino-tiny"], save_published_grounding_dino(root / "gdino"),
          models / "grounding-dino-tiny")
    base, brushnet = save_tiny_weights(root / "sd")
    (base / "tokenizer" / "special_tokens_map.json").write_text(json.dumps(
        {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
         "unk_token": "<|endoftext|>"}))
    _copy(MANIFEST["sd15-realistic-vision"], base, models / "sd15-realistic-vision")
    _copy(MANIFEST["brushnet-x"], brushnet, models / "brushnet-x")
    save_lama(tiny_lama(), models / "lama" / MANIFEST["lama"].files[0])
    return models


def test_doctor_smoke_asks_each_installed_model_one_question(brushedit, isolated_env, installed):
    env = dict(isolated_env, BRUSHEDIT_MODELS_DIR=str(installed))
    r = brushedit("doctor", "--smoke", "--device", "cpu", "--json", env=env)
    assert r.code == 0, r
    checks = {c["model"]: c for c in json.loads(r.out)["smoke"]}
    assert set(checks) == {"qwen2-vl-2b", "grounding-dino-tiny", "brushnet-x", "lama"}
    assert all(c["ok"] for c in checks.values()), checks
    assert "one token" in checks["qwen2-vl-2b"]["answer"] and "folder" in checks["qwen2-vl-2b"]["answer"]
    assert "box" in checks["grounding-dino-tiny"]["answer"]
    assert "one step at 64 px" in checks["brushnet-x"]["answer"]
    assert "64 px fill" in checks["lama"]["answer"]


def test_doctor_smoke_reports_a_broken_model_and_runs_the_others(brushedit, isolated_env, installed, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(installed, models)
    # Complete on paper (every file there, well-formed JSON), but not a GroundingDINO config.
    (models / "grounding-dino-tiny" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    env = dict(isolated_env, BRUSHEDIT_MODELS_DIR=str(models))
    r = brushedit("doctor", "--smoke", "--device", "cpu", env=env)
    assert r.code == 4, r
    assert "[fail] grounding-dino-tiny: FAILED:" in r.out
    assert "[ ok ] lama" in r.out and "[ ok ] brushnet-x" in r.out and "[ ok ] qwen2-vl-2b" in r.out
