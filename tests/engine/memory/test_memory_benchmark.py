"""benchmarks/agent_memory.py: its dry run prints the plan's figures; its models are real-size and random."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from engine.memory import plan_memory
from engine.memory.activations import RESERVED_GB

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "agent_memory.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("agent_memory_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def test_the_dry_run_prints_the_plans_estimates_as_json(bench, capsys):
    assert bench.main(["--dry-run", "--vram", "12"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    report = json.loads(out[-1])
    plan = plan_memory(12)
    assert (report["instructor"], report["instructor_precision"]) == (plan.instructor, plan.instructor_precision)
    assert [s["stage"] for s in report["stages"]] == ["plan", "detect", "segment", "paint"]
    for row, stage in zip(report["stages"], plan.stages):
        assert row["estimate_peak_gb"] == round(stage.peak_gb, 2)
        assert row["estimate_allocated_gb"] == round(stage.peak_gb - RESERVED_GB, 2)
        assert row["measured_gb"] is None and row["skipped"] == "dry run"
    assert report["measured"] is None and "machine" in report


def test_models_are_built_at_the_real_size_with_random_weights_and_real_buffers(bench):
    import torch

    from engine.memory.counts import param_count

    sam = bench.build("sam-vit-b", torch.device("cpu"), torch.float32)
    assert sum(p.numel() for p in sam.parameters()) == param_count("sam-vit-b").total
    assert 0.01 < float(sam.image_encoder.patch_embed.proj.weight.std()) < 0.03
    assert torch.allclose(sam.pixel_mean.flatten(), torch.tensor([123.675, 116.28, 103.53]))


def test_an_unknown_stage_is_refused(bench):
    with pytest.raises(SystemExit):
        bench.main(["--dry-run", "--only", "paint,upscale"])


def test_each_stage_runs_on_tiny_models_of_the_same_classes(bench):
    """The stage code (inputs shaped as at real size) works with the real classes; tiny widths on the CPU."""
    import torch

    from tests.builders.brushnet import tiny_components
    from tests.builders.segment import tiny_qwen2_vl, tiny_sam

    cpu = torch.device("cpu")
    model, _ = tiny_qwen2_vl()
    bench.run_plan({"instructor": model}, cpu, torch.float32, new_tokens=2)
    bench.run_segment({"sam": tiny_sam()}, cpu, torch.float32)
    c = tiny_components()
    bench.run_paint({"sd15-unet": c["unet"], "brushnet": c["brushnet"], "sd15-text-encoder": c["text_encoder"],
                     "sd15-vae": c["vae"]}, cpu, torch.float32, size=64, candidates=2, steps=1)


@pytest.mark.gpu
def test_on_cuda_the_measured_paint_and_segment_peaks_are_near_the_estimates(bench, capsys):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    assert bench.main(["--device", "cuda", "--only", "segment,paint", "--steps", "2"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for row in report["stages"]:
        if row["measured_gb"] is None:
            continue
        assert row["measured_gb"] >= row["weights_gb"] * 0.95  # the weights really were on the card
        assert row["ratio"] < 1.3, row  # the plan does not under-estimate by more than 30 %
