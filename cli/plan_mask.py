"""``plan --mask FILE``: the mask the user painted, kept as the editor keeps it, and never written over.

The painted mask says where step 1 goes; the instructor's own proposal (when GroundingDINO + SAM ran)
is written beside the image (``<name>.mask.png`` or ``--mask-out``), never onto the painted file or
the photo itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cli.errors import USAGE, CliError


def add_mask_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mask", metavar="FILE",
                   help="a mask you painted (white = repaint): step 1 keeps it, as the editor does; "
                        "FILE is only read")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def proposal_path(args: argparse.Namespace) -> Path:
    """Where the plan's proposed mask goes; refuses the painted mask's file and the photo."""
    image = Path(args.image)
    path = Path(args.mask_out) if args.mask_out else image.with_name(image.stem + ".mask.png")
    if getattr(args, "mask", None) and _same_file(path, Path(args.mask).expanduser()):
        raise CliError(f"--mask-out {path} is the painted mask given with --mask: it would be written over",
                       USAGE, "choose another --mask-out")
    if _same_file(path, image):
        raise CliError(f"--mask-out {path} is the photo itself: it would be written over", USAGE,
                       "choose another --mask-out")
    return path


def read_painted(args: argparse.Namespace, width: int, height: int, note=None) -> np.ndarray | None:
    """The ``--mask`` file as an ``height x width`` mask (255 = repaint), or None without ``--mask``."""
    if not getattr(args, "mask", None):
        return None
    from cli.images import read_mask
    from masks import mask_ops

    mask = read_mask(args.mask, width, height, note=note)
    if mask_ops.is_empty(mask):
        raise CliError(f"--mask {args.mask}: the mask is empty (white = repaint)", USAGE)
    return mask
