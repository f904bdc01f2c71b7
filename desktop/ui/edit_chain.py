"""A compound instruction painted as a chain of steps in the editor (the controller's part).

Each ticked step, in order: its mask is found on the picture as the previous step left it (a plan job
on a fresh snapshot, unless the first step keeps the mask it was planned with), then painted (one
candidate) and added as its own edit layer with its own provenance. When the chain ends (done,
cancelled or failed) the steps' history entries become one "Instruction: ..." entry, so one undo takes
the chain back while the Layers list can still hide or delete any one step.

Run without a Plan (a compound instruction typed and Run, or sent from the Generate bar) starts the
same chain with no steps yet: the whole instruction is planned on the picture as it is
(:func:`steps_from_plan` then gives the steps), a mask the user painted is step 1's mask.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChainRun:
    doc: Any
    instruction: str
    steps: list  # StepChoice-like: text, plan (or None), caption (or None)
    params: Any
    backend: str = "auto"
    protected: tuple[str, ...] = ()
    index: int = 0
    image: Any = None  # the snapshot the current step is planned and painted on
    layers: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    cancelled: bool = False
    failed: bool = False
    first_mask: Any = None  # the mask the user painted before a Run without a Plan: step 1 paints it
    instructor: Any = None  # the report of the plan the current step came from (who read it, and why)

    @property
    def label(self) -> str:
        text = self.instruction if len(self.instruction) <= 60 else self.instruction[:59] + "…"
        return f"Instruction: {text}"

    def stage(self, stage: str) -> str:
        if not self.steps:  # still planning the whole instruction (the planner says "step k of n")
            return stage
        return f"step {self.index + 1} of {len(self.steps)}: {stage}" if stage else f"step {self.index + 1}"


def step_request(run: ChainRun, image, plan, choice, InpaintRequest):
    """The paint request of the current step, on ``image`` with ``plan``'s mask."""
    step = (getattr(plan, "steps", ()) or (plan,))[0]
    params = run.params
    seed = None if params.seed is None else int(params.seed) + run.index
    params = dataclasses.replace(params, seed=seed, num_candidates=1,
                                 negative_prompt=step.negative_prompt or params.negative_prompt)
    prompt = choice.caption if choice.caption is not None else step.caption
    return step, InpaintRequest(image=image, mask=step.mask, prompt=(prompt or "").strip(), params=params,
                                instruction=choice.text, category=step.category, target=step.target)


@dataclass(frozen=True)
class PlannedStep:
    """A step of a chain started without the steps list (StepChoice's fields): its clause, its plan
    (None: plan it again on the previous step's result) and the caption to paint (None: the plan's)."""

    text: str
    plan: Any = None
    caption: str | None = None
    edited: bool = False


def steps_from_plan(plan, first_mask=None) -> list[PlannedStep]:
    """The chain of a plan made on the picture as it is: step 1 keeps its plan (its mask, or
    ``first_mask`` when the user painted one), every later step is planned again from its clause."""
    steps = list(getattr(plan, "steps", ()) or (plan,))
    out = []
    for k, step in enumerate(steps):
        if k == 0:
            if first_mask is not None:
                step = dataclasses.replace(step, mask=first_mask)
            step = dataclasses.replace(step, steps=())
        out.append(PlannedStep(step.instruction or getattr(plan, "instruction", ""), step if k == 0 else None))
    return out
