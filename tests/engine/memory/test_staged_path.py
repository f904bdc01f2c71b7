"""One behaviour on every device: the staged model path (what every managed card runs) answers what the
direct path answers. Selected on the CPU by ``BRUSHEDIT_STAGED=1`` or by a ``vram_gb`` budget.

A tiny Qwen2-VL, installed from the manifest's files, answers a scripted plan through the engine; the
plan (category, caption, mask) must be the same with and without staging. The box is Qwen2-VL's 0-1000
grid: ``[300, 200, 500, 400]`` on a 2048 x 1536 photo is (614, 307, 1024, 614). Before the redesign, the
staged stand-in inherited ``box_scale = "auto"`` and read it as pixels, (300, 200, 500, 400).
"""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from engine.api import PlanRequest
from engine.dispatch import Engine, EngineConfig
from engine.models import MANIFEST
from masks import mask_ops as mo

ANSWER = ('{"category": "addition", "target": "moon", "box": [300, 200, 500, 400], '
          '"caption": "a woman under a moon"}')
MODES = ["direct", "staged-switch", "staged-vram-budget"]


@pytest.fixture(scope="module")
def installed_qwen(tmp_path_factory):
    from tests.builders.segment import save_published_qwen2_vl

    root = tmp_path_factory.mktemp("qwen")
    full = save_published_qwen2_vl(root / "published", shards=2)
    models = root / "models"
    for rel in MANIFEST["qwen2-vl-2b"].files:
        (models / "qwen2-vl-2b").mkdir(parents=True, exist_ok=True)
        shutil.copy(full / rel, models / "qwen2-vl-2b" / rel)
    return models


@pytest.fixture(scope="module")
def photo():
    from skimage import data
    return cv2.resize(np.ascontiguousarray(data.astronaut()), (2048, 1536), interpolation=cv2.INTER_CUBIC)


def _engine(mode, installed_qwen, monkeypatch):
    import torch

    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(installed_qwen))
    monkeypatch.delenv("BRUSHEDIT_STAGED", raising=False)
    extra = {}
    if mode == "staged-switch":
        monkeypatch.setenv("BRUSHEDIT_STAGED", "1")
    elif mode == "staged-vram-budget":
        extra["vram_gb"] = 80.0
    engine = Engine(EngineConfig(device="cpu", instructor="local", instructor_model="qwen2-vl-2b", **extra))
    backend = engine.instructor_backend("local")  # loaded once and cached: the staged path finds it there
    ids = backend.processor.tokenizer(ANSWER, return_tensors="pt")["input_ids"]
    monkeypatch.setattr(backend.model, "generate", lambda **inputs: torch.cat([inputs["input_ids"], ids], dim=1))
    assert engine.staged() == (mode != "direct")
    return engine


@pytest.mark.parametrize("mode", MODES)
def test_qwen2_vl_grid_box_lands_on_the_photo_on_every_path(mode, installed_qwen, photo, monkeypatch):
    engine = _engine(mode, installed_qwen, monkeypatch)
    plan = engine.plan(PlanRequest(photo, "add a moon", backend="local"))
    assert plan.backend == "local" and plan.category == "addition", plan.notes
    x, y, w, h = mo.bbox(plan.mask)
    assert np.allclose((x, y, x + w, y + h), (614.4, 307.2, 1024, 614.4), atol=2), (x, y, x + w, y + h)


def test_the_same_answer_gives_the_same_plan_with_and_without_staging(installed_qwen, photo, monkeypatch):
    plans = {}
    for mode in MODES:
        with monkeypatch.context() as m:
            plans[mode] = _engine(mode, installed_qwen, m).plan(PlanRequest(photo, "add a moon", backend="local"))
    direct = plans["direct"]
    for mode in MODES[1:]:
        p = plans[mode]
        assert (p.category, p.target, p.caption, p.backend) == (direct.category, direct.target, direct.caption,
                                                                 direct.backend), mode
        assert np.array_equal(p.mask, direct.mask), mode
        assert len(p.candidate_masks) == len(direct.candidate_masks)
        assert all(np.array_equal(a, b) for a, b in zip(p.candidate_masks, direct.candidate_masks)), mode
