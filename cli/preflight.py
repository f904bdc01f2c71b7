"""Fail before the slow part: ``edit`` checks that the painter can run before it plans.

Without a CUDA GPU and with ``--device auto``, ``edit rocket.jpg "make the sky a sunset"`` ran
GroundingDINO and SAM for 68 s, then said BrushEdit needs a GPU. The offline reading of the
instruction (instant, no weights) gives each step's category; the engine's own choice of painter
(:func:`engine.painters.choice.choose_painter`, then :meth:`engine.dispatch.Engine.choose_engine`;
neither loads anything) then says at once whether each
step can be painted: missing weights (exit 3) or no device (exit 4), with the fix.
"""

from __future__ import annotations

import argparse
from typing import Any


def step_categories(instruction: str) -> list[str]:
    """The categories the offline reading is sure of, one per step (empty when it is unsure)."""
    try:
        from engine.instructor import parse_steps
    except ImportError:  # pragma: no cover - the instructor package ships with the engine
        return []
    try:
        steps = parse_steps(instruction)
    except ValueError:
        return []
    return [s.category for s in steps if getattr(s, "confident", False) and s.category]


def check_painter_first(engine: Any, args: argparse.Namespace, instruction: str) -> None:
    """Raise what painting would raise, before any planning, for every step the offline reading is
    sure of (:func:`engine.painters.choice.paint_problem`, which the editor's Run asks too). A studio
    server (no ``choose_engine`` here) decides on its own side."""
    if getattr(engine, "choose_engine", None) is None:
        return
    from engine.api import EditParams, paint_probe
    from engine.painters.choice import paint_problem

    params = EditParams(engine=args.engine, painter=getattr(args, "painter", "auto") or "auto")
    for category in dict.fromkeys(step_categories(instruction)):
        problem = paint_problem(engine, paint_probe(instruction, params, category))
        if problem is not None:
            raise problem from None
