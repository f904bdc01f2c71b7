"""How to paint, for ``edit`` and ``batch``: the shared options, and each painter's own defaults.

BrushNet paints 50 steps at 640 px, klein 4 steps at 1024 px (step-distilled, ~1 MP trained): a
step count or working size the user gives applies to whichever painter paints.
"""

from __future__ import annotations

import argparse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _unit_float(text: str) -> float:
    value = _number(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1]: {value}")
    return value


def _closed_unit_float(text: str) -> float:
    """0..1 inclusive: a global strength of 0 keeps the photo as it is, a removal strength of 0 keeps LaMa's fill."""
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1]: {value}")
    return value


def add_painting_options(g, *, seed_help: str) -> None:
    """The options that say how to paint, the same for ``edit`` and ``batch``: engine, painter, seed,
    steps, guidance, strengths, working size, blend and colour match."""
    g.add_argument("--engine", choices=("auto", "brushedit", "fill", "lama"), default="auto",
                   help="auto: BrushEdit when its weights and a GPU (or --device cpu) exist, "
                        "else the fill engine for removals; a removal uses LaMa when installed "
                        "(with BrushNet on top when BrushEdit is ready); lama: LaMa alone")
    g.add_argument("--painter", choices=("auto", "brushnet", "klein"), default="auto",
                   help="who paints (with --engine auto or brushedit): auto = FLUX.2 [klein] when installed "
                        "(--klein DIR or found) and the memory plan fits it, else BrushNet")
    g.add_argument("--seed", type=int, help=seed_help)
    g.add_argument("--steps", type=_positive_int, default=None,
                   help="denoising steps (default: 50 with BrushNet, 4 with klein)")
    g.add_argument("--guidance", type=float, default=7.5, help="guidance scale (default 7.5)")
    g.add_argument("--strength", type=_unit_float, default=1.0, help="0..1, how much to repaint (default 1)")
    g.add_argument("--global-strength", type=_closed_unit_float, default=0.7, metavar="S",
                   help="0..1, how far a global edit (style, season, light) re-noises the photo; "
                        "lower keeps more of it (default 0.7)")
    g.add_argument("--removal-strength", type=_closed_unit_float, default=None, metavar="S",
                   help="removal with LaMa and BrushNet: how much of LaMa's fill BrushNet repaints, "
                        "0..1 (default 0.5; 0 keeps LaMa's fill)")
    g.add_argument("--working-size", type=_positive_int, default=None, metavar="PX",
                   help="the frame the painter works at: with BrushNet its short side (default 640, as "
                        "BrushEdit; SD1.5 was trained at 512; the long side is capped near 1024), with klein "
                        "its long side (default 1024)")
    g.add_argument("--whole", action="store_true", help="work on the whole image, not a crop around the mask")
    g.add_argument("--no-blend", action="store_true", help="do not feather the result into the original")
    g.add_argument("--harmonize", type=_closed_unit_float, default=1.0, metavar="S",
                   help="0..1, how much of the painter's colour cast at the edge of the edit is removed (default 1)")
    g.add_argument("--no-harmonize", dest="harmonize", action="store_const", const=0.0,
                   help="paste the painting as it came (same as --harmonize 0)")


def painter_params(args: argparse.Namespace) -> dict:
    """The :class:`~engine.api.EditParams` fields for the painter options."""
    out: dict = {"painter": getattr(args, "painter", "auto") or "auto"}
    if args.steps is not None:
        out["steps"] = out["klein_steps"] = int(args.steps)
    if args.working_size is not None:
        out["working_size"] = out["klein_working_size"] = int(args.working_size)
    return out
