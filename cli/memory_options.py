"""The instructor choice the memory plan honours: ``--instructor-model`` and ``--instructor-precision``."""

from __future__ import annotations


def add_instructor_choice(g) -> None:
    """``--instructor-model`` and ``--instructor-precision`` (doctor, edit and plan share them)."""
    from engine.memory import INSTRUCTOR_PRECISIONS, INSTRUCTORS

    g.add_argument("--instructor-model", choices=("auto",) + INSTRUCTORS, default="auto",
                   help="the local VLM (default: auto = the best that fits the card)")
    g.add_argument("--instructor-precision", choices=INSTRUCTOR_PRECISIONS, default="auto",
                   help="the local VLM's weights: 16bit, 4bit (nf4, needs bitsandbytes) "
                        "or auto = the best that fits (default)")
