"""Never silently: ``plan --json`` and ``edit --json`` say who read the instruction, a fallback is one
line on stderr, and ``edit --json`` says what painted (null where a setting did not apply).

The issue's reproduction: a tiny random Qwen2-VL holding exactly the files ``models where qwen2-vl-2b``
lists, ``plan PHOTO "make it a watercolor painting" --instructor local --instructor-model qwen2-vl-2b
--device cpu --json``. The random model answers gibberish: the VLM ran, its answer was refused, the
rule parser answered, and the report and stderr say so.
"""

from __future__ import annotations

import json
import shutil

import pytest


@pytest.fixture(scope="module")
def installed_qwen(tmp_path_factory):
    from engine.models import MANIFEST
    from tests.builders.segment import save_published_qwen2_vl

    root = tmp_path_factory.mktemp("qwen")
    full = save_published_qwen2_vl(root / "published", shards=2)
    folder = root / "models" / "qwen2-vl-2b"
    folder.mkdir(parents=True)
    for rel in MANIFEST["qwen2-vl-2b"].files:
        shutil.copy(full / rel, folder / rel)
    return root / "models"


def test_plan_with_the_local_vlm_reports_that_it_ran_and_why_it_was_not_used(brushedit, photos, tmp_path,
                                                                            isolated_env, installed_qwen):
    env = dict(isolated_env, BRUSHEDIT_MODELS_DIR=str(installed_qwen))
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    r = brushedit("plan", image, "make it a watercolor painting", "--instructor", "local",
                  "--instructor-model", "qwen2-vl-2b", "--device", "cpu", "--json", env=env)
    assert r.code == 0, r
    report = json.loads(r.out)["instructor"]
    assert report["requested"] == "local" and report["model"] == "qwen2-vl-2b"
    assert report["ran"] is True  # the chat template came with the download: the model answered
    assert report["used"] == "offline" and "refused" in report["why"]
    assert "chat template" not in report["why"]
    fallback = [line for line in r.err_lines if line.startswith("instructor:")]
    assert len(fallback) == 1 and "qwen2-vl-2b was not used" in fallback[0]


def test_plan_defaults_to_auto_which_stays_offline_without_a_cuda_card(brushedit, photos, tmp_path,
                                                                       isolated_env, installed_qwen):
    env = dict(isolated_env, BRUSHEDIT_MODELS_DIR=str(installed_qwen))
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    r = brushedit("plan", image, "make it look like winter", "--device", "cpu", "--json", env=env)
    assert r.code == 0, r
    report = json.loads(r.out)["instructor"]
    assert report == {"requested": "auto", "used": "offline", "model": None, "ran": False,
                      "why": report["why"]} and "no CUDA card" in report["why"]
    assert not [line for line in r.err_lines if line.startswith("instructor:")]  # a choice, not a fallback


def test_edit_json_says_what_painted_and_null_where_it_did_not_apply(brushedit, photos, tmp_path):
    out = tmp_path / "out.png"
    r = brushedit("edit", photos / "cat.png", "remove the cat", "--mask", photos / "cat_mask.png",
                  "--engine", "fill", "-o", out, "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert summary["painter"] == "fill" and summary["samples"] == 1
    assert (summary["steps"], summary["guidance"], summary["strength"]) == (None, None, None)
    assert "working_size" in summary and summary["negative_prompt"] == ""
    assert summary["instructor"]["used"] == "offline" and summary["instructor"]["requested"] == "auto"
