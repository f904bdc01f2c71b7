"""BrushNet as a painter: an adapter over :func:`engine.brushnet.run_inpaint` (its code, unchanged)."""

from __future__ import annotations

from engine.painters.base import PaintJob, Painted, with_ran
from engine.painters.describe import describe


class BrushNetPainter:
    """SD1.5 + BrushNet (``pipe``: a :class:`~engine.brushnet.BrushNetPipeline`)."""

    name = "brushnet"

    def __init__(self, pipe) -> None:
        self.pipe = pipe

    def paint(self, job: PaintJob, *, on_progress=None, on_preview=None, is_cancelled=None) -> Painted:
        from engine.brushnet import run_inpaint

        result = run_inpaint(self.pipe, job.request, on_progress=on_progress, on_preview=on_preview,
                             is_cancelled=is_cancelled)
        ran = describe(result)
        return Painted(result=with_ran(result, ran), ran=ran)

    def paint_request(self, request, on_progress=None, on_preview=None, is_cancelled=None):
        """The engine's path: ``run_inpaint``'s result, carrying what ran."""
        from engine.api import EditResult
        from engine.brushnet import run_inpaint

        result = run_inpaint(self.pipe, request, on_progress=on_progress, on_preview=on_preview,
                             is_cancelled=is_cancelled)
        if not isinstance(result, EditResult):  # a stand-in painter (tests) returns what it likes
            return result
        return with_ran(result, describe(result))
