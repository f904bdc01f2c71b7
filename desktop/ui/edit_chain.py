"""Moved to :mod:`desktop.model.chain`: a compound instruction is the model's coroutine now."""

from desktop.model.chain import ChainRun, PlannedStep, step_request, steps_from_plan  # noqa: F401
