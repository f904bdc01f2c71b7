"""A compound instruction painted as a chain of steps in the editor (the controller's part).

Each ticked step, in order: its mask is found on the picture as the previous step left it (a plan job
on a fresh snapshot, unless the first step keeps the mask it was planned with), then painted (one
candidate) and added as its own edit layer with its own provenance. When the chain ends (done,
cancelled or failed) the steps' history entries become one "Instruction: ..." entry, so one undo takes
the chain back while the Layers list can still hide or delete any one step.
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
    backend: str = "offline"
    protected: tuple[str, ...] = ()
    index: int = 0
    image: Any = None  # the snapshot the current step is planned and painted on
    layers: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    cancelled: bool = False
    failed: bool = False

    @property
    def label(self) -> str:
        text = self.instruction if len(self.instruction) <= 60 else self.instruction[:59] + "…"
        return f"Instruction: {text}"

    def stage(self, stage: str) -> str:
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
