"""``--instructor-model`` / ``--instructor-precision`` reach the engine's memory plan."""

from __future__ import annotations

import pytest

from cli import build_parser
from cli.errors import CliError
from cli.options import engine_config


def _config(*args):
    return engine_config(build_parser().parse_args(["edit", "photo.jpg", "the sky", "-o", "out.png", *args]))


def test_the_default_lets_the_plan_choose():
    config = _config()
    assert (config.instructor_model, config.instructor_precision) == ("auto", "auto")


@pytest.mark.parametrize("command", ["edit", "plan"])
def test_the_user_overrides_the_instructor_model_and_precision(command):
    extra = ["-o", "out.png"] if command == "edit" else []
    args = build_parser().parse_args([command, "photo.jpg", "the sky", *extra, "--instructor", "local",
                                      "--instructor-model", "qwen2-vl-2b", "--instructor-precision", "4bit"])
    config = engine_config(args)
    assert (config.instructor_model, config.instructor_precision) == ("qwen2-vl-2b", "4bit")


def test_a_budget_with_the_override_plans_it():
    from dataclasses import replace

    from engine.dispatch import Engine

    config = replace(_config("--instructor-precision", "16bit", "--device", "cpu"), vram_gb=16.0)
    plan = Engine(config).memory_plan()
    assert plan.instructor_precision == "16bit"


def test_an_unknown_precision_is_a_usage_error():
    with pytest.raises((SystemExit, CliError)):
        build_parser().parse_args(["edit", "photo.jpg", "x", "-o", "o.png", "--instructor-precision", "8bit"])
