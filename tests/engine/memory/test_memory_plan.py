"""The per-stage memory plan: targets per card size, the policy, refusals with the fix."""

from __future__ import annotations

import math

import pytest

from engine.memory import STAGES, model_gb, plan_memory
from engine.memory.activations import RESERVED_GB


def test_the_default_agent_fits_24_gb_with_the_16_bit_7b():
    plan = plan_memory(24)
    assert plan.fits and (plan.instructor, plan.instructor_precision) == ("qwen2-vl-7b", "16bit")
    assert plan.peak_gb <= 24
    assert plan.stage("plan").models[0].precision == "bf16"


@pytest.mark.parametrize("vram", [12, 16])
def test_12_and_16_gb_fit_with_the_4_bit_7b(vram):
    plan = plan_memory(vram)
    assert plan.fits and (plan.instructor, plan.instructor_precision) == ("qwen2-vl-7b", "4bit")
    assert plan.stage("plan").models[0].precision == "nf4"
    assert "16-bit needs" in plan.summary  # says why the 16-bit 7B was not taken


def test_8_gb_fits_with_a_small_or_4_bit_instructor_and_fp16_painting():
    plan = plan_memory(8)
    assert plan.fits and plan.peak_gb <= 8
    assert (plan.instructor, plan.instructor_precision) in {("qwen2-vl-7b", "4bit"), ("qwen2-vl-2b", "16bit")}
    assert {m.precision for m in plan.stage("paint").models} == {"fp16"}


def test_without_bitsandbytes_auto_falls_back_to_the_2b():
    plan = plan_memory(12, four_bit_available=False)
    assert plan.fits and (plan.instructor, plan.instructor_precision) == ("qwen2-vl-2b", "16bit")


@pytest.mark.parametrize("vram", [2, 3, 4])
def test_a_card_that_cannot_fit_refuses_with_the_fix(vram):
    plan = plan_memory(vram)
    assert not plan.fits
    assert plan.summary.startswith(f"does not fit {vram} GB")
    assert "sam-vit-b" in plan.fix and "--device cpu" in plan.fix
    assert f"at least {math.ceil(plan.peak_gb)} GB" in plan.fix


def test_a_user_choice_that_does_not_fit_is_refused_with_auto_as_the_fix():
    plan = plan_memory(16, instructor="qwen2-vl-7b", instructor_precision="16bit")
    assert not plan.fits and plan.instructor_precision == "16bit"
    assert "--instructor-precision auto" in plan.fix and "4-bit" in plan.fix
    assert "--instructor offline" in plan.fix  # the rest of the agent fits without the VLM


def test_a_user_choice_that_fits_is_kept():
    plan = plan_memory(24, instructor="qwen2-vl-2b")
    assert plan.fits and plan.instructor == "qwen2-vl-2b"


def test_stage_figures_add_up():
    plan = plan_memory(12)
    assert [s.stage for s in plan.stages] == list(STAGES)
    kept = {s.stage: s.weights_gb for s in plan.stages if s.after == "keep"}
    for s in plan.stages:
        assert s.weights_gb == pytest.approx(sum(m.gb for m in s.models))
        others = sum(gb for name, gb in kept.items() if name != s.stage)
        own = s.weights_gb
        assert s.peak_gb == pytest.approx(own + others + s.activations_gb + RESERVED_GB)
    paint = {m.name: m.gb for m in plan.stage("paint").models}
    assert paint["sd15-unet"] == pytest.approx(model_gb("sd15-unet", "fp16"))
    assert set(paint) == {"sd15-unet", "brushnet", "sd15-text-encoder", "sd15-vae"}


def test_the_policy_keeps_what_fits_and_moves_the_rest():
    big = plan_memory(80)
    assert {s.after for s in big.stages} == {"keep"}
    at24 = plan_memory(24).after_stage()
    assert at24["instructor"] == "offload" and at24["brushnet"] == "keep"
    at12 = plan_memory(12).after_stage()
    assert at12["instructor"] == "drop"  # a 4-bit model cannot move to the CPU
    assert at12["brushnet"] == "keep"


def test_candidates_and_working_size_raise_the_paint_peak():
    one = plan_memory(24).stage("paint").activations_gb
    four = plan_memory(24, candidates=4).stage("paint").activations_gb
    big = plan_memory(24, working_size=1024).stage("paint").activations_gb
    # The working size is the short side; the plan budgets the largest frame it paints (1024 x 640
    # at 640, 1640 x 1024 at 1024: the long-side cap grows with it).
    from engine.brushnet.resolution import largest_work_pixels

    assert four == pytest.approx(4 * one) and big == pytest.approx(one * (1640 * 1024) / (1024 * 640))
    assert largest_work_pixels(640) == 1024 * 640 and largest_work_pixels(1024) == 1640 * 1024


def test_the_painting_peak_in_fp16_stays_under_6_gb():
    paint = plan_memory(8).stage("paint")
    assert paint.weights_gb + paint.activations_gb + RESERVED_GB < 6


def test_memory_dict_has_exactly_the_documented_keys():
    d = plan_memory(16).to_dict()
    assert list(d) == ["vram_gb", "instructor", "instructor_precision", "stages", "peak_gb", "fits"]
    for stage in d["stages"]:
        assert list(stage) == ["stage", "models", "weights_gb", "peak_gb"]
        for m in stage["models"]:
            assert list(m) == ["name", "precision", "gb"]
    assert d["peak_gb"] == max(s["peak_gb"] for s in d["stages"])


def test_bad_choices_are_refused():
    with pytest.raises(ValueError):
        plan_memory(24, instructor="qwen2-vl-72b")
    with pytest.raises(ValueError):
        plan_memory(24, instructor_precision="8bit")
