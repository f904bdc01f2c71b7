"""Run a plan's steps in order, each on the result of the one before: one result per step.

A compound instruction ("remove the cat and make the sky pink") is planned as a chain
(:attr:`engine.api.EditPlan.steps`). Step 1 paints the mask the user approved; every later step is
planned again on the previous step's result (its object may have moved into view or changed), unless
the caller gives its mask. A cancel between steps or inside one stops the chain and keeps the steps
already finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from engine.api import (DEFAULT_NEGATIVE_PROMPT, Cancelled, EditParams, EditPlan, EditResult, InpaintRequest,
                        PlanRequest)


@dataclass(frozen=True, eq=False)
class ChainStep:
    """One finished step: the plan it painted (mask found on ``request.image``), the request, the result."""

    plan: EditPlan
    request: InpaintRequest
    result: EditResult


@dataclass(frozen=True, eq=False)
class ChainOutcome:
    """The finished steps, the image after the last one, and why the chain stopped early (if it did)."""

    steps: tuple[ChainStep, ...]
    image: np.ndarray
    cancelled: bool = False
    skipped: tuple[tuple[int, str], ...] = field(default=())  # (step number from 1, reason)


def steps_of(plan: EditPlan) -> tuple[EditPlan, ...]:
    """The plan's steps (a plan from before steps existed is one step)."""
    return tuple(plan.steps) or (plan,)


def run_chain(engine, image: np.ndarray, plan: EditPlan, params: EditParams, *, backend: str = "auto",
              replan: bool = True, negative_prompt: str | None = None,
              on_progress: Callable | None = None, on_preview: Callable | None = None,
              is_cancelled: Callable[[], bool] | None = None,
              on_step: Callable[[ChainStep], None] | None = None) -> ChainOutcome:
    """Paint ``plan``'s steps in order on ``image`` with ``engine`` (an :class:`engine.dispatch.Engine`).

    Parameters
    ----------
    engine
        Has ``plan(PlanRequest, on_progress)`` and ``inpaint(InpaintRequest, on_progress, on_preview,
        is_cancelled)``.
    image : ndarray
        ``H x W x 3`` uint8, the picture step 1 paints.
    plan : EditPlan
        The approved plan; its steps run in order.
    params : EditParams
        Painting parameters of every step; a fixed seed becomes ``seed + k`` for step ``k``.
    replan : bool
        Find each later step's mask on the previous step's result (default); False paints the masks
        of the plan as they are.
    negative_prompt : str, optional
        Overrides each step's own negative prompt.
    on_step : callable, optional
        Called with each :class:`ChainStep` as it finishes.

    Returns
    -------
    ChainOutcome
        ``cancelled`` is True when ``is_cancelled`` said so or a step raised
        :class:`engine.api.Cancelled`; the finished steps are kept.
    """
    is_cancelled = is_cancelled or (lambda: False)
    current = np.ascontiguousarray(image[..., :3])
    done: list[ChainStep] = []
    skipped: list[tuple[int, str]] = []
    steps = steps_of(plan)
    n = len(steps)
    for k, step in enumerate(steps):
        if is_cancelled():
            return ChainOutcome(tuple(done), current, True, tuple(skipped))

        def progress(i, total, stage="", k=k):
            if on_progress is not None:
                on_progress(i, total, stage if n == 1 else f"step {k + 1} of {n}: {stage}".rstrip(": "))

        try:
            if k > 0 and replan:
                again = engine.plan(PlanRequest(current, step.instruction, backend=backend,
                                                protected=tuple(plan.protected)), progress)
                step = steps_of(again)[0] if steps_of(again)[0].category == step.category else step
            if step.mask is None or not np.any(step.mask):
                skipped.append((k + 1, f"nothing found for '{step.target or step.instruction}'"))
                continue
            seed = None if params.seed is None else int(params.seed) + k
            step_params = replace(params, seed=seed, negative_prompt=negative_prompt or step.negative_prompt
                                  or DEFAULT_NEGATIVE_PROMPT)
            request = InpaintRequest(current, step.mask, step.caption, step_params, instruction=step.instruction,
                                     category=step.category, target=step.target)
            result = engine.inpaint(request, progress, on_preview, is_cancelled)
        except Cancelled:
            return ChainOutcome(tuple(done), current, True, tuple(skipped))
        finished = ChainStep(step, request, result)
        done.append(finished)
        if on_step is not None:
            on_step(finished)
        if result.candidates:
            current = np.ascontiguousarray(result.candidates[0].image[..., :3])
    return ChainOutcome(tuple(done), current, False, tuple(skipped))
