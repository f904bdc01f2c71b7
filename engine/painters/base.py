"""The painter seam: what every painter takes (:class:`PaintJob`) and returns (:class:`Painted`).

A painter turns a photo, a mask (or none, for a whole-image edit), a prompt, an optional negative
prompt and reference image, a strength, steps, a seed and a number of samples into candidates, with
progress, a preview and cancel between steps. It says what ran (:class:`WhatRan`): its name, model,
the steps, guidance, strength and working size it actually used, and the seeds. The agent's plan
(category, target, caption, mask) knows nothing about painters; :mod:`engine.painters.choice`
picks one per request.

``PaintJob.request`` is the :class:`~engine.api.InpaintRequest` the job came from: the adapters of
the existing engines (BrushNet's ``run_inpaint``, LaMa, the fill) take it as they always did, and
every result records it for provenance and re-run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

from engine.api import EditResult, InpaintRequest

ProgressFn = Callable[..., None]
PreviewFn = Callable[..., None]
CancelledFn = Callable[[], bool]


@dataclass(frozen=True, eq=False)
class PaintJob:
    """One painting job, painter-neutral.

    Parameters
    ----------
    photo : np.ndarray
        ``H x W x 3`` uint8.
    mask : np.ndarray or None
        ``H x W``, non-zero = repaint; ``None`` repaints the whole photo (an instruction edit).
    prompt, negative : str
        What to paint, and what not to (painters without a negative prompt say so in ``WhatRan``).
    reference : np.ndarray or None
        A reference image (``H x W x 3`` uint8) for painters that take one.
    strength : float
        0..1, how much of the region is re-noised.
    steps, seed, samples : int, int or None, int
        Denoising steps; the first candidate's seed (candidate ``i`` uses ``seed + i``; ``None``
        picks one); how many candidates.
    category : str
        The plan's category ("addition", "removal", "local", "global", "background" or "").
    request : InpaintRequest
        The request the job came from (provenance, and the adapters of the existing engines).
    """

    photo: np.ndarray
    mask: np.ndarray | None
    prompt: str
    request: InpaintRequest
    negative: str = ""
    reference: np.ndarray | None = None
    strength: float = 1.0
    steps: int = 50
    seed: int | None = None
    samples: int = 1
    category: str = ""

    @classmethod
    def from_request(cls, request: InpaintRequest, *, steps: int | None = None) -> "PaintJob":
        """The job of ``request`` (a ``"global"`` request's mask is kept: a painter repaints the whole
        photo and the mask still bounds what changes)."""
        p = request.params
        strength, _ = request.effective_sampling()
        return cls(photo=np.asarray(request.image), mask=np.asarray(request.mask), prompt=request.prompt,
                   request=request, negative=request.effective_negative_prompt(), strength=strength,
                   steps=int(steps if steps is not None else p.steps), seed=p.seed,
                   samples=int(p.num_candidates) or 1,  # auto (0) unresolved: one, as run_inpaint
                   category=request.category or "")


@dataclass(frozen=True)
class WhatRan:
    """What a painter actually did: the record provenance, ``edit --json`` and the layer carry.

    ``None`` marks a value that did not apply (a fill has no steps; a step-distilled model no guidance).
    """

    painter: str
    model: str = ""
    steps: int | None = None
    guidance: float | None = None
    strength: float | None = None
    working_size: tuple[int, int] | None = None
    seeds: tuple[int, ...] = ()
    samples: int = 1
    prompt: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["working_size"] = list(self.working_size) if self.working_size else None
        out["seeds"], out["notes"] = list(self.seeds), list(self.notes)
        return out


@dataclass(frozen=True, eq=False)
class Painted:
    """A painter's answer: the :class:`~engine.api.EditResult` (candidates) and :class:`WhatRan`."""

    result: EditResult
    ran: WhatRan

    @property
    def candidates(self):
        return self.result.candidates


@runtime_checkable
class Painter(Protocol):
    """The one interface every painter implements (BrushNet, klein, LaMa, the fill)."""

    name: str

    def paint(self, job: PaintJob, *, on_progress: ProgressFn | None = None,
              on_preview: PreviewFn | None = None, is_cancelled: CancelledFn | None = None) -> Painted:
        """Paint ``job``; raise :class:`~engine.api.Cancelled` when ``is_cancelled`` turned True."""
        ...


def with_ran(result: EditResult, ran: WhatRan) -> EditResult:
    """``result`` carrying ``ran`` (``EditResult.ran``), so provenance and the wire have it."""
    from dataclasses import replace

    return replace(result, ran=ran.to_dict())


__all__ = ["PaintJob", "Painted", "Painter", "WhatRan", "with_ran"]
