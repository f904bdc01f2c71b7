"""A compound instruction painted as a chain of steps in the editor: one coroutine, :func:`run_chain`.

Each ticked step, in order: its mask is found on the picture as the previous step left it (a plan job
on a fresh snapshot, unless the first step keeps the mask it was planned with), then painted (one
candidate) and added as its own edit layer with its own provenance. When the chain ends (done,
cancelled or failed) the steps' history entries become one "Instruction: ..." entry, so one undo takes
the chain back while the Layers list can still hide or delete any one step.

Run without a Plan (a compound instruction typed and Run, or sent from the Generate bar) starts the
same chain with no steps yet: the whole instruction is planned on the picture as it is
(:func:`steps_from_plan` then gives the steps), a mask the user painted is step 1's mask.

The chain awaits each job with ``EngineClient.run`` (on the app's qasync loop, or the Qt-stepped loop
of :mod:`desktop.model.aio`); its jobs ride the model's :class:`~desktop.model.jobs.JobQueue` for
progress ("step 2 of 3: denoising"), previews and the busy state. A failing step stops the chain and
the error names the step; Cancel stops the job in flight (a step that finishes anyway is kept) or the
chain before its next step.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from desktop.engine_client import Cancelled, EngineError, InpaintRequest, PlanRequest, mask_ops
from desktop.model.apply_result import edit_provenance, layer_from_candidate
from desktop.model.jobs import Job

log = logging.getLogger(__name__)


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


def step_request(run: ChainRun, image, plan, choice):
    """The paint request of the current step, on ``image`` with ``plan``'s mask."""
    step = _first_step(plan)
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


def _first_step(plan):
    return (getattr(plan, "steps", ()) or (plan,))[0]


async def run_chain(model: Any, run: ChainRun) -> None:
    """Paint ``run``'s steps in order, each on the picture the previous one left, each its own layer;
    with no steps yet, plan the whole instruction first. ``model`` is the
    :class:`~desktop.model.edit_model.EditModel` that started it (its queue, signals and document)."""
    import asyncio

    loop = asyncio.get_running_loop()
    queue = model.jobs

    async def job(request, kind: str, paints: bool = False):
        return await model.client.run(request, queue.adopt(request, Job(
            kind, paints=paints, report_failure=False, stage=run.stage)))

    async def snapshot():
        image = await queue.snapshot(run.doc, loop)
        if image is None:
            raise EngineError("Could not read the image for the engine", "See the log for the details")
        run.image = image
        return image

    try:
        if not run.steps:  # Run without Plan: the whole instruction, planned on the picture as it is
            if run.cancelled:
                return
            plan = await job(PlanRequest(await snapshot(), run.instruction, backend=run.backend), "chain-start")
            if (not getattr(plan, "steps", ()) and run.first_mask is None
                    and (plan.mask is None or mask_ops.is_empty(plan.mask))):
                model.error.emit("Nothing to edit in this instruction", "; ".join(getattr(plan, "notes", ()) or ())
                                 or "Say what to change, for example: remove the cat")
                run.failed = True
                return
            run.protected = tuple(getattr(plan, "protected", ()) or ())
            run.instructor = getattr(plan, "instructor", None)
            run.steps = steps_from_plan(plan, run.first_mask)
            model.chain_planned.emit(plan)
        while run.index < len(run.steps) and not run.cancelled and model._still_current(run.doc):
            choice = run.steps[run.index]
            image = run.image if run.index == 0 and run.image is not None else await snapshot()
            if run.cancelled:
                break
            plan = choice.plan  # the first step keeps the mask the user approved
            if plan is None:
                plan = await job(PlanRequest(image, choice.text, backend=run.backend, protected=run.protected),
                                 "chain-plan")
                run.instructor = getattr(plan, "instructor", None) or run.instructor  # the step's own plan
            step = _first_step(plan)
            if step.mask is None or mask_ops.is_empty(step.mask) or step.mask.shape != image.shape[:2]:
                run.skipped.append((run.index + 1, f"nothing found for “{step.target or choice.text}”"))
                run.index += 1
                continue
            _step, request = step_request(run, image, plan, choice)
            result = await job(request, "chain-paint", paints=True)
            if not result.candidates or not model._still_current(run.doc, result) or not _add_layer(model, run, result):
                run.failed = True
                break
            run.index += 1
            run.image = None  # the next step is found on the picture this one left
    except Cancelled:
        run.cancelled = True
    except EngineError as exc:
        run.failed = True
        model.progress_changed.emit(0, 0, "failed")
        which = f"Step {run.index + 1} of {len(run.steps)}: " if run.steps else ""
        model.error.emit(which + str(exc), exc.hint)
    finally:
        model._finish_chain(run)


def _add_layer(model: Any, run: ChainRun, result: Any) -> bool:
    """The step's candidate as its own edit layer (with the step in its provenance); False when the
    document refused it (said as an error)."""
    doc = run.doc
    cand = result.candidates[0]
    pixels, offset, mask = layer_from_candidate(result.request, cand)
    if pixels is None:
        return True  # the step changed nothing: no layer, the chain goes on
    prov = edit_provenance(result, cand.seed, model.plan)
    extra = dict(getattr(prov, "extra", None) or {}) | {
        "step": run.index + 1, "steps": len(run.steps), "chain_instruction": run.instruction}
    if extra.get("instructor") is None and run.instructor is not None:  # who read this step
        extra["instructor"] = run.instructor.to_json()
    prov = dataclasses.replace(prov, extra=extra)
    text = run.steps[run.index].text
    name = f"{run.index + 1}. {text if len(text) <= 40 else text[:39] + '…'}"
    try:
        layer = doc.add_edit(pixels, offset=offset, provenance=prov, name=name, mask=mask)
    except Exception as exc:  # a document refusal is a message, not a crash
        log.exception("add_edit failed")
        model.error.emit(f"Could not add the edit layer: {exc}", "")
        return False
    run.layers.append(layer)
    run.commands.append(doc.history.top)
    return True


def start(model: Any, run: ChainRun) -> None:
    """Start ``run`` as ``model``'s chain: busy at once (also while a step's snapshot is taken), its
    coroutine a task on Qt's event loop."""
    from desktop.model import aio

    model._chain = run
    model.jobs.hold(id(run))
    model._chain_task = aio.start(run_chain(model, run))


def finish(model: Any, run: ChainRun) -> None:
    """The chain ``run`` ended (done, cancelled or failed): one History entry, the outcome said."""
    if run is not model._chain:
        return
    model._chain, model._chain_task = None, None
    if run.commands and model._doc() is run.doc:
        run.doc.history.group(run.commands, run.label)
    if not run.cancelled and not run.failed:
        model.progress_changed.emit(0, 0, "done")
    elif run.cancelled and not run.failed:
        model.progress_changed.emit(0, 0, "cancelled")
    model.jobs.release(id(run))
    model.chain_finished.emit(list(run.layers), list(run.skipped), bool(run.cancelled))
    if run.layers:
        model.accepted.emit(list(run.layers))
