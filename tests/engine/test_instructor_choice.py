"""``auto`` picks the local VLM where it is installed and fits the card, else the rule parser, and the
report says who read the instruction and why."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import EditPlan, InstructorReport
from engine.dispatch import Engine, EngineConfig
from engine.instructor_choice import fallback_line, instructor_report, resolve_instructor


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return tmp_path / "models"


def _fake_install(models_dir, name):
    """Well-formed stand-ins of the manifest's files: enough for the locator (nothing is loaded)."""
    from engine.models import MANIFEST
    from tests.engine.models.models_helpers import make_model_folder

    make_model_folder(models_dir / name, MANIFEST[name])


def test_auto_without_a_cuda_card_is_the_rule_parser(models_dir):
    _fake_install(models_dir, "qwen2-vl-7b")
    engine = Engine(EngineConfig(device="cpu"))
    assert engine.config.instructor == "auto"
    name, model, why = resolve_instructor(engine, "auto")
    assert (name, model) == ("offline", None) and "no CUDA card" in why
    assert resolve_instructor(engine, "local")[:2] == ("local", "qwen2-vl-7b")  # asked: it runs


def test_auto_on_a_card_takes_the_installed_vlm_that_fits(models_dir):
    engine = Engine(EngineConfig(device="cpu", vram_gb=24.0))  # a budget plans as a 24 GB card
    name, model, why = resolve_instructor(engine, "auto")
    assert name == "offline" and "not installed" in why and "brushedit models download" in why
    _fake_install(models_dir, "qwen2-vl-7b")
    assert resolve_instructor(engine, "auto") == ("local", "qwen2-vl-7b", None)


def test_auto_when_nothing_fits_the_card_is_the_rule_parser(models_dir):
    _fake_install(models_dir, "qwen2-vl-7b")
    _fake_install(models_dir, "qwen2-vl-2b")
    name, _model, why = resolve_instructor(Engine(EngineConfig(device="cpu", vram_gb=3.0)), "auto")
    assert name == "offline" and "memory plan does not fit" in why


def _plan(backend, notes=()):
    return EditPlan("x", "global", None, "c", "n", np.zeros((2, 2), np.uint8), backend=backend, notes=notes)


def test_the_report_says_who_answered_and_why():
    ok = instructor_report("auto", "local", "qwen2-vl-7b", None, _plan("local"))
    assert ok == InstructorReport("auto", "local", "qwen2-vl-7b", True, None)
    refused = instructor_report("local", "local", "qwen2-vl-2b", None, _plan(
        "offline", ("local answer refused: no JSON object with a category", "used the offline parser instead")))
    assert (refused.used, refused.ran) == ("offline", True) and "no JSON object" in refused.why
    failed = instructor_report("local", "local", "qwen2-vl-2b", None, _plan(
        "offline", ("local failed (ValueError: no template)", "used the offline parser instead")))
    assert (failed.used, failed.ran) == ("offline", False) and "no template" in failed.why
    assert "qwen2-vl-2b was not used" in fallback_line(failed)
    chose = instructor_report("auto", "offline", None, "auto: no CUDA card", _plan("offline"))
    assert chose.why == "auto: no CUDA card" and fallback_line(chose) is None
    assert instructor_report("offline", "offline", None, None, _plan("offline")).to_json() == {
        "requested": "offline", "used": "offline", "model": None, "ran": False, "why": None}


def test_the_report_names_the_instructor_that_loads(models_dir):
    _fake_install(models_dir, "qwen2-vl-2b")  # only the small one downloaded: it stands in, and says so
    engine = Engine(EngineConfig(device="cpu", vram_gb=24.0))
    assert resolve_instructor(engine, "auto") == ("local", "qwen2-vl-2b", None)
    assert resolve_instructor(engine, "local")[1] == "qwen2-vl-2b"
