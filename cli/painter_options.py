"""``--painter``/``--steps``/``--working-size`` for ``edit``: each painter's own defaults, and what ran.

BrushNet paints 50 steps at 640 px, klein 4 steps at 1024 px (step-distilled, ~1 MP trained): a
step count or working size the user gives applies to whichever painter paints.
"""

from __future__ import annotations

import argparse


def painter_params(args: argparse.Namespace) -> dict:
    """The :class:`~engine.api.EditParams` fields for the painter options."""
    out: dict = {"painter": getattr(args, "painter", "auto") or "auto"}
    if args.steps is not None:
        out["steps"] = out["klein_steps"] = int(args.steps)
    if args.working_size is not None:
        out["working_size"] = out["klein_working_size"] = int(args.working_size)
    return out
