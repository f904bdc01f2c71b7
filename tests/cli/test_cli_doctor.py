"""``brushedit doctor``: what is there, and for each feature whether it can run and why not."""

from __future__ import annotations

import json
import platform

import pytest


def test_doctor_with_no_weights(brushedit):
    r = brushedit("doctor")
    assert r.code == 0, r
    assert f"Python    {platform.python_version()}" in r.out
    assert "torch" in r.out and ("GPU" in r.out)
    assert "disk" in r.out and "GB free" in r.out
    assert "[ no ] inpaint with BrushEdit: missing weights: run: brushedit models download brushnet-x " \
           "sd15-realistic-vision" in r.out
    assert "[yes ] remove with the fill engine" in r.out


def test_doctor_json_reports_features_and_weights(brushedit):
    r = brushedit("doctor", "--json")
    assert r.code == 0, r
    report = json.loads(r.out)
    import torch

    assert report["torch"]["torch"] == torch.__version__
    assert report["torch"]["cuda_available"] == torch.cuda.is_available()
    features = {f["feature"]: f for f in report["features"]}
    assert features["remove with the fill engine"]["can_run"] == "yes"
    assert features["masks from instructions (GroundingDINO + SAM)"]["can_run"] == "no"
    assert "grounding-dino-tiny sam-vit-h" in features["masks from instructions (GroundingDINO + SAM)"]["why"]
    assert features["plan instructions (OpenAI)"]["can_run"] == "no"  # no key in the test env
    assert {w["state"] for w in report["weights"]} == {"missing"}
    assert report["disk"]["models_dir"]["free_gb"] is not None


def test_doctor_sees_a_user_folder_and_never_prints_an_api_key(brushedit, isolated_env, tiny_weights):
    base, brushnet = tiny_weights
    env = dict(isolated_env, BRUSHEDIT_MODEL_BRUSHNET_X=str(brushnet),
               OPENAI_API_KEY="sk-test-secret-value")
    r = brushedit("doctor", "--json", env=env)
    assert r.code == 0, r
    report = json.loads(r.out)
    weights = {w["name"]: w for w in report["weights"]}
    assert weights["brushnet-x"]["state"] == "installed" and weights["brushnet-x"]["path"] == str(brushnet)
    features = {f["feature"]: f for f in report["features"]}
    assert features["plan instructions (OpenAI)"]["can_run"] == "yes"
    assert "sd15-realistic-vision" in features["inpaint with BrushEdit"]["why"]
    assert "sk-test-secret-value" not in r.out + r.err


@pytest.mark.gpu
def test_doctor_reports_the_gpu(brushedit):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    report = json.loads(brushedit("doctor", "--json").out)
    gpu = report["torch"]["devices"][0]
    props = torch.cuda.get_device_properties(0)
    assert gpu["name"] == props.name
    assert gpu["capability"] == f"{props.major}.{props.minor}"
    assert abs(gpu["vram_gb"] - props.total_memory / 2**30) < 0.1
    features = {f["feature"]: f for f in report["features"]}
    assert features["remove with the fill engine"]["can_run"] == "yes"


def test_doctor_counts_the_brushedit_api_key_as_the_backend_does(brushedit, isolated_env):
    env = dict(isolated_env, BRUSHEDIT_API_KEY="sk-brushedit-secret")
    env.pop("OPENAI_API_KEY", None)
    r = brushedit("doctor", "--json", env=env)
    assert r.code == 0, r
    features = {f["feature"]: f for f in json.loads(r.out)["features"]}
    assert features["plan instructions (OpenAI)"] == {
        "feature": "plan instructions (OpenAI)", "can_run": "yes", "why": "BRUSHEDIT_API_KEY is set"}
    assert "sk-brushedit-secret" not in r.out + r.err
