"""LaMa as a painter: an adapter over :func:`engine.fill.lama_remove.run_lama` (removals only)."""

from __future__ import annotations

from engine.painters.base import PaintJob, Painted, with_ran
from engine.painters.describe import describe


class LamaPainter:
    """big-lama (``model`` from :func:`engine.fill.lama.load_lama`): no prompt, no steps, no seed."""

    name = "lama"

    def __init__(self, model) -> None:
        self.model = model

    def paint(self, job: PaintJob, *, on_progress=None, on_preview=None, is_cancelled=None) -> Painted:
        from engine.fill.lama_remove import run_lama

        result = run_lama(self.model, job.request, on_progress=on_progress, is_cancelled=is_cancelled)
        ran = describe(result)
        return Painted(result=with_ran(result, ran), ran=ran)
