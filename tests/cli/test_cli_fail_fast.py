"""Fail before the slow part (issue 25 item 8): without a CUDA GPU and with ``--device auto``, ``edit``
ran GroundingDINO and SAM for 68 s and then said BrushEdit needs a GPU. Now the painter is checked
first; ``doctor`` and ``plan`` agree that text-to-mask runs on the CPU by default."""

from __future__ import annotations

import json

import pytest


def test_edit_says_no_gpu_before_planning(brushedit, photos, tmp_path, tiny_weights):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("the check is for a machine without CUDA")
    base, brushnet = tiny_weights
    # A GroundingDINO folder that cannot load: planning first would fail on it, with another message.
    broken = tmp_path / "gdino"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    r = brushedit("edit", photos / "cat.png", "make the sky a sunset", "--base-model", base, "--brushnet", brushnet,
                  "--grounding", broken, "-o", tmp_path / "out.png", "--json")
    assert r.code == 4, r
    failure = json.loads(r.out)
    assert "needs BrushEdit and there is no CUDA GPU" in failure["error"]
    assert "--device cpu" in failure["fix"]
    assert "understanding the instruction" not in r.err and "finding" not in r.err
    assert not (tmp_path / "out.png").exists()


def test_edit_says_brushedit_is_missing_before_planning(brushedit, photos, tmp_path):
    r = brushedit("edit", photos / "cat.png", "make the cat blue", "-o", tmp_path / "out.png")
    assert r.code == 3, r
    assert "needs BrushEdit" in r.err and "brushedit models download brushnet-x sd15-realistic-vision" in r.err
    assert "GroundingDINO" not in r.err


def test_doctor_and_plan_agree_that_text_to_mask_runs_on_the_cpu_by_default():
    from cli.doctor import features
    from engine.models import ModelStatus

    from engine.models import MANIFEST

    statuses = {n: ModelStatus(n, "missing") for n in MANIFEST}
    for name in ("grounding-dino-tiny", "sam-vit-h", "qwen2-vl-7b", "brushnet-x", "sd15-realistic-vision"):
        statuses[name] = ModelStatus(name, "installed")
    found = {f["feature"]: f for f in features(statuses, gpu=None)}
    masks = found["masks from instructions (GroundingDINO + SAM)"]
    assert masks["can_run"] == "slow" and "runs on the CPU" in masks["why"] and "only when asked" not in masks["why"]
    assert "only when asked" not in found["select by clicking (SAM)"]["why"]
    # Painting with BrushEdit is the one that needs --device cpu (the engine's auto refuses the CPU).
    assert "only when asked (--device cpu)" in found["inpaint with BrushEdit"]["why"]
