"""Painters behind one interface: BrushNet, FLUX.2 [klein], LaMa and the fill.

- ``base.py``: :class:`PaintJob` (what a painter takes), :class:`Painted` and :class:`WhatRan`
  (what it returns and says it did), the :class:`Painter` protocol.
- ``brushnet.py``, ``lama.py``, ``fill.py``: adapters over the existing engines (their code is not
  copied: each adapter calls it).
- ``klein.py``: FLUX.2 [klein] 4B on the stock diffusers pipelines.
- ``choice.py``: which painter a request gets (``EditParams.painter``), and the engine's hook.

The registry below is the one place a painter is named: adding the next one (Qwen-Image-Edit, a
later klein) is its module, a line here, and its manifest entries. Nothing here imports torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from engine.painters.base import PaintJob, Painted, Painter, WhatRan, with_ran


@dataclass(frozen=True)
class PainterInfo:
    """A registered painter: its class (``module:Class``), the manifest models it needs, what it is for."""

    name: str
    target: str
    models: tuple[str, ...]
    purpose: str
    diffusion: bool = True  # chosen by ``--painter`` (LaMa and the fill are chosen by ``--engine``)


REGISTRY: dict[str, PainterInfo] = {p.name: p for p in (
    PainterInfo("brushnet", "engine.painters.brushnet:BrushNetPainter",
                ("brushnet-x", "sd15-realistic-vision"),
                "masked edits on SD1.5 at 512-768 px; the paper's agent painter"),
    PainterInfo("klein", "engine.painters.klein:KleinPainter", ("flux2-klein-4b",),
                "masked and whole-image instruction edits at ~1 MP in 4 steps"),
    PainterInfo("lama", "engine.painters.lama:LamaPainter", ("lama",),
                "removals in seconds on any machine", diffusion=False),
    PainterInfo("fill", "engine.painters.fill:FillPainter", (),
                "removals with no weights (exemplar / OpenCV fill)", diffusion=False),
)}

PAINTER_CHOICES = ("auto",) + tuple(n for n, p in REGISTRY.items() if p.diffusion)


def painter_class(name: str):
    """The painter class registered as ``name`` (imports its module)."""
    try:
        info = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown painter {name!r}; known: {', '.join(REGISTRY)}") from None
    module, cls = info.target.split(":")
    return getattr(importlib.import_module(module), cls)


def what_ran(result) -> dict:
    """``result.ran`` when the painter recorded it, else what its engine ran, from the request."""
    ran = dict(getattr(result, "ran", None) or {})
    if ran:
        return ran
    from engine.painters.describe import describe

    return describe(result).to_dict()


__all__ = ["PAINTER_CHOICES", "REGISTRY", "PaintJob", "Painted", "Painter", "PainterInfo", "WhatRan",
           "painter_class", "what_ran", "with_ran"]
