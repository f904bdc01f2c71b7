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


# --- the memory plan (doctor --vram) ---------------------------------------------------------------

EXPECTED_INSTRUCTOR = {24: ("qwen2-vl-7b", "16bit"), 16: ("qwen2-vl-7b", "4bit"), 12: ("qwen2-vl-7b", "4bit")}


@pytest.mark.parametrize("vram", [8, 12, 16, 24])
def test_doctor_vram_json_prints_the_memory_plan(brushedit, vram):
    from engine.memory import model_gb
    from engine.memory.counts import fresh_count

    r = brushedit("doctor", "--vram", vram, "--json")
    assert r.code == 0, r
    report = json.loads(r.out)
    memory = report["memory"]
    assert list(memory) == ["vram_gb", "instructor", "instructor_precision", "stages", "peak_gb", "fits"]
    assert memory["vram_gb"] == vram and memory["fits"] is True and memory["peak_gb"] <= vram
    if vram in EXPECTED_INSTRUCTOR:
        assert (memory["instructor"], memory["instructor_precision"]) == EXPECTED_INSTRUCTOR[vram]
    else:
        assert (memory["instructor"], memory["instructor_precision"]) in {("qwen2-vl-7b", "4bit"),
                                                                          ("qwen2-vl-2b", "16bit")}
    assert [s["stage"] for s in memory["stages"]] == ["plan", "detect", "segment", "paint"]
    for stage in memory["stages"]:
        assert list(stage) == ["stage", "models", "weights_gb", "peak_gb"]
        assert stage["weights_gb"] == pytest.approx(sum(m["gb"] for m in stage["models"]), abs=0.02)
        assert stage["peak_gb"] >= stage["weights_gb"]
    models = {m["name"]: m for s in memory["stages"] for m in s["models"]}
    # The figures are the published configs' parameter counts, counted afresh here on the meta device.
    for name in ("sd15-unet", "sd15-vae", "sd15-text-encoder", "brushnet", "sam-vit-h"):
        m = models[name]
        bytes_per = {"fp16": 2, "bf16": 2, "fp32": 4}[m["precision"]]
        assert m["gb"] == pytest.approx(fresh_count(name).total * bytes_per / 2**30, abs=0.006), name
    instructor = models[memory["instructor"]]
    assert instructor["gb"] == pytest.approx(model_gb(memory["instructor"], instructor["precision"]), abs=0.006)
    assert report["memory_advice"]["summary"].startswith(f"{memory['instructor']} in ")


def test_doctor_vram_refuses_a_small_card_with_the_fix(brushedit):
    r = brushedit("doctor", "--vram", "3", "--json")
    assert r.code == 0, r
    report = json.loads(r.out)
    assert report["memory"]["fits"] is False
    advice = report["memory_advice"]
    assert advice["summary"].startswith("does not fit 3 GB")
    assert "sam-vit-b" in advice["fix"] and "at least" in advice["fix"]


def test_doctor_vram_honours_the_instructor_override(brushedit):
    r = brushedit("doctor", "--vram", "16", "--instructor-precision", "16bit", "--instructor-model",
                  "qwen2-vl-7b", "--json")
    report = json.loads(r.out)
    assert report["memory"]["fits"] is False and report["memory"]["instructor_precision"] == "16bit"
    assert "--instructor-precision auto" in report["memory_advice"]["fix"]


def test_plain_doctor_prints_the_plan_as_a_table(brushedit):
    r = brushedit("doctor", "--vram", "12")
    assert r.code == 0, r
    assert "memory plan for 12 GB (--vram): fits" in r.out
    lines = r.out.splitlines()
    plan_row = next(line for line in lines if line.strip().startswith("plan "))
    assert "qwen2-vl-7b" in plan_row and "nf4" in plan_row and "freed" in plan_row
    assert any(line.strip().startswith("paint ") and "sd15-unet" in line for line in lines)
    assert "runs on this card:" in r.out and "does not run:" in r.out and "qwen2-vl-7b 16bit" in r.out


def test_doctor_without_cuda_or_vram_says_so(brushedit):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA card is detected here")
    report = json.loads(brushedit("doctor", "--json").out)
    assert report["memory"] is None
    assert "no CUDA GPU found and no --vram given" in report["memory_advice"]["summary"]


def test_doctor_refuses_a_nonsense_vram(brushedit):
    r = brushedit("doctor", "--vram", "0")
    assert r.code != 0 and "--vram" in r.err
