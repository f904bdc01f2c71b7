"""One photo of a batch: its own plan (when it has no mask) and its paint, as ``brushedit edit`` does.

Every runner (the CLI in this process, a Ray actor, the editor through its engine client) calls
:func:`edit_one` with the same :class:`BatchWork`, so the pixels depend only on the work, never on
where it ran.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from engine.api import DEFAULT_NEGATIVE_PROMPT, EditParams, EditPlan, EditResult, EngineError, InpaintRequest, PlanRequest

SEED_RANGE = 2**31 - 1  # torch and numpy both accept seeds below this


def derive_seed(base_seed: int, key: str) -> int:
    """The seed of the photo ``key`` (its path relative to the batch folder, ``/``-separated).

    A hash of the base seed and the key: stable across runs, machines and the order photos finish in,
    so a resumed or distributed batch paints each photo exactly as an uninterrupted local one.
    """
    digest = hashlib.sha256(f"{int(base_seed)}\0{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % SEED_RANGE


@dataclass(frozen=True, eq=False)
class BatchWork:
    """Everything one photo's edit needs (a snapshot: pixels, never a path).

    Parameters
    ----------
    key : str
        The photo's path relative to the batch folder (``/``-separated); names it in the report.
    image : ndarray
        ``H x W x 3`` uint8, transparency already composited over white.
    mask : ndarray or None
        ``H x W`` uint8 (255 = repaint); ``None`` plans the edit from ``instruction``.
    instruction : str
        The instruction shared by the batch ("" with a mask alone).
    params : EditParams
        The edit's parameters, ``seed`` already derived for this photo.
    instructor : str
        The instructor backend that plans (``auto``, ``offline``, ``local``, ``openai``).
    prompt, negative : str or None
        Overrides of the caption and negative prompt (``--prompt``, ``--negative``).
    """

    key: str
    image: np.ndarray
    mask: np.ndarray | None
    instruction: str
    params: EditParams
    instructor: str = "auto"
    prompt: str | None = None
    negative: str | None = None


@dataclass(frozen=True, eq=False)
class BatchDone:
    """One photo's outcome: the request that ran (its mask and caption) and the engine's result."""

    key: str
    request: InpaintRequest
    result: EditResult
    caption: str
    instructor: dict | None  # the plan's instructor report when the instructor planned this photo
    seconds: float = 0.0  # plan and paint, where it ran


class NothingFound(EngineError):
    """The instructor found nothing to edit in this photo (an empty mask)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "give this photo a mask", "nothing-found")


def edit_one(engine: Any, work: BatchWork, on_progress: Callable[..., None] | None = None,
             is_cancelled: Callable[[], bool] | None = None) -> BatchDone:
    """Plan (without a mask) and paint one photo on ``engine`` (anything with ``plan`` and ``inpaint``
    as :class:`engine.dispatch.Engine` has them).

    Raises
    ------
    NothingFound
        The mask is empty, or the instructor found nothing for the instruction.
    EngineError, MissingModelsError, ValueError
        As the engine raises them.
    """
    started = time.monotonic()
    category, target, caption, negative, instructor = "", None, "", "", None
    if work.mask is not None:
        mask = work.mask
        from engine.instructor import parse_instruction_or_none

        intent = parse_instruction_or_none(work.instruction) if work.instruction else None
        if intent is not None:
            category, target, caption = intent.category, intent.target, intent.caption
    else:
        plan: EditPlan = engine.plan(PlanRequest(work.image, work.instruction, backend=work.instructor),
                                     on_progress)
        mask = plan.mask
        category, target, caption, negative = plan.category, plan.target, plan.caption, plan.negative_prompt
        report = getattr(plan, "instructor", None)  # who read it: {requested, used, model, ran, why}
        instructor = report.to_json() if report is not None else {"requested": work.instructor,
                                                                  "used": plan.backend}
    if mask is None or not np.asarray(mask).any():
        raise NothingFound("the mask is empty: nothing to repaint" if work.mask is not None else
                           f"no object found for {work.instruction!r}")
    prompt = work.prompt if work.prompt is not None else caption
    negative_prompt = work.negative if work.negative is not None else (negative or DEFAULT_NEGATIVE_PROMPT)
    params = replace(work.params, negative_prompt=negative_prompt)
    request = InpaintRequest(work.image, mask, prompt, params, instruction=work.instruction,
                             category=category, target=target)
    if is_cancelled is not None:
        result = engine.inpaint(request, on_progress, None, is_cancelled)
    else:
        result = engine.inpaint(request, on_progress)
    return BatchDone(work.key, request, result, prompt, instructor, time.monotonic() - started)
