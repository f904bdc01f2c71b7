"""The classical fill as a painter: an adapter over :func:`engine.fill.run_fill` (no weights)."""

from __future__ import annotations

from engine.painters.base import PaintJob, Painted, with_ran
from engine.painters.describe import describe


class FillPainter:
    """Exemplar / OpenCV fill: removals only; prompt, steps and seed do not apply."""

    name = "fill"

    def __init__(self, model=None) -> None:
        self.model = model

    def paint(self, job: PaintJob, *, on_progress=None, on_preview=None, is_cancelled=None) -> Painted:
        from engine.fill import run_fill

        result = run_fill(job.request, on_progress=on_progress, is_cancelled=is_cancelled)
        ran = describe(result)
        return Painted(result=with_ran(result, ran), ran=ran)
