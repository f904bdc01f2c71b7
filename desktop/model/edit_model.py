"""The edit flow between the panels, the document and the engine client (the editor's model).

Plan an instruction (proposed mask and caption, shown for approval), run what a typed text means
(:meth:`EditModel.run_text`), collect candidates, preview one on the canvas, accept one or several as
edit layers (each one undo step, with full provenance), discard, re-run a layer, and turn SAM clicks
into the mask. Requests are snapshots of the document taken on the GUI thread; results enter the
document only here, on the GUI thread, through each :class:`~desktop.model.jobs.Job`'s callback.
Engine errors become ``error(message, hint)`` and leave the document untouched. QtCore only: the
widgets bind to the signals and hold no decisions.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop.engine_client import (
    EditParams,
    EditPlan,
    EditResult,
    EngineClient,
    InpaintRequest,
    PlanRequest,
    mask_ops,
)
from desktop.model import run_text as texts
from desktop.model.apply_result import (
    edit_provenance,
    layer_from_candidate,
    layer_full_mask,
    layer_name,
    params_from_provenance,
)
from desktop.model.jobs import Job, JobQueue
from desktop.model.segment import SegmentClicks

if TYPE_CHECKING:  # pragma: no cover
    from desktop.document import Document

log = logging.getLogger(__name__)


class EditModel(QObject):
    """Drives plan -> mask -> run -> candidates -> accept for the document ``document_getter()``.

    Signals
    -------
    plan_ready(EditPlan)
    candidates_changed(list[Candidate])
    preview_changed(object): a full-size ``H x W x 3`` image to show instead of the document, or None
    step_preview(object): the engine's live preview while painting (any size)
    live_preview(object, object): that preview and the image region ``(x, y, w, h)`` it shows
        (``None``: the whole image); ``(None, None)`` when the job ends
    progress_changed(step, total, stage)
    busy_changed(bool): an edit or plan of this model is running or waiting
    error(message, hint)
    accepted(list): the edit layers just added
    """

    plan_ready = Signal(object)
    candidates_changed = Signal(list)
    preview_changed = Signal(object)
    step_preview = Signal(object)
    live_preview = Signal(object, object)
    progress_changed = Signal(int, int, str)
    busy_changed = Signal(bool)
    error = Signal(str, str)
    notice = Signal(str)  # something to know before a job runs (it runs all the same)
    accepted = Signal(list)
    segment_ready = Signal(object)
    # A chain ended: (its layers, [(step number, why it was skipped)], cancelled)
    chain_finished = Signal(list, list, bool)
    chain_planned = Signal(object)  # Run without Plan: the plan of the whole instruction, before step 1 paints

    def __init__(self, client: EngineClient, document_getter: Callable[[], "Document | None"], parent=None):
        super().__init__(parent)
        self.client = client
        self._doc = document_getter
        self.plan: EditPlan | None = None
        # The mask the user painted themselves when the last plan arrived (None: there was none, or
        # it was an earlier plan's mask): a plan then proposes its mask instead of replacing theirs.
        self.painted_mask: np.ndarray | None = None
        self._plan_mask: np.ndarray | None = None  # what apply_plan last put on the document
        self.result: EditResult | None = None
        self.candidates: list = []
        self._chain = None  # the compound instruction being painted (desktop.model.chain.ChainRun)
        self._chain_task = None
        self.jobs = JobQueue(client, document_getter, self)
        self.jobs.progress_changed.connect(self.progress_changed)
        self.jobs.step_preview.connect(self.step_preview)
        self.jobs.live_preview.connect(self.live_preview)
        self.jobs.busy_changed.connect(self.busy_changed)
        self.jobs.error.connect(self.error)
        self._clicks = SegmentClicks(self)

    # --- what Run does with the typed text ------------------------------------------------------

    def run_text(self, text: str, params: EditParams | None = None, *, plan: Any = None, caption: str = "",
                 steps: list | None = None, backend: str = "auto") -> texts.RunDecision:
        """Run what ``text`` means while ``plan`` is shown (its ``caption`` as edited, its ticked
        ``steps``): :meth:`decide_run`, then :meth:`run_decision`. Returns the decision."""
        decision = self.decide_run(text, plan)
        self.run_decision(decision, params, plan=plan, caption=caption, steps=steps, backend=backend)
        return decision

    def decide_run(self, text: str, plan: Any = None) -> texts.RunDecision:
        """What Run does with ``text`` (:func:`desktop.model.run_text.decide`, one reading of the text
        by the engine that will paint it)."""
        return texts.decide(text, plan, getattr(self.client, "parse_instruction", None))

    def run_decision(self, decision: texts.RunDecision, params: EditParams | None = None, *, plan: Any = None,
                     caption: str = "", steps: list | None = None, backend: str = "auto") -> None:
        """Carry out ``decision``: the shown plan's steps or caption, a chain, or one edit."""
        params = params or EditParams()
        if decision.drops_plan:
            plan = None
        if decision.action == "steps":
            self.run_steps(list(steps or ()), params, instruction=plan.instruction, backend=backend,
                           protected=tuple(getattr(plan, "protected", ()) or ()))
        elif decision.action == "plan":
            self.run(caption, params, instruction=plan.instruction, category=plan.category, target=plan.target)
        elif decision.action == "chain":
            parsed = decision.parsed
            sure = [parsed.category] if getattr(parsed, "confident", False) else []
            self.run_instruction(decision.text, params, backend=backend, categories=sure)
        else:
            self.run(decision.prompt, params, instruction=decision.text if decision.read_as_instruction else "",
                     category=decision.category, target=decision.target)

    def _painter_refuses(self, params: EditParams, instruction: str, categories: list[str]) -> bool:
        """Ask the engine whether the steps can be painted before planning them (planning is the slow
        part: GroundingDINO and SAM ran a minute before "needs a GPU"); an error says why not."""
        problem = texts.painter_problem(self.client, params, instruction, categories)
        if problem is None:
            return False
        self.error.emit(str(problem), getattr(problem, "hint", ""))
        return True

    # --- planning -------------------------------------------------------------------------------

    def request_plan(self, instruction: str, backend: str = "auto") -> None:
        """Ask the instructor for a plan of ``instruction``; ``plan_ready`` follows."""
        doc, instruction = self._doc_and_instruction(instruction)
        if doc is None:
            return
        painted = self._user_painted_mask(doc)  # says where: no GroundingDINO/SAM needed for step 1
        self.jobs.prepare(doc, None, Job("plan", on_done=lambda plan: self._plan_done(doc, plan)),
                          lambda image: PlanRequest(image, instruction, backend=backend, mask=painted))

    def apply_plan(self, plan: EditPlan, alternative: int | None = None) -> None:
        """Show the plan's proposed mask (or ``plan.candidate_masks[alternative]``) on the document,
        as one undo step."""
        doc = self._require_doc()
        if doc is None:
            return
        self.plan = plan
        source = plan.mask
        if alternative is not None and 0 <= alternative < len(plan.candidate_masks):
            source = plan.candidate_masks[alternative]
        mask = mask_ops.as_mask(source)
        if mask.shape != (doc.height, doc.width):
            mask = mask_ops.resize(mask, doc.width, doc.height)
        label = f"Plan mask: {plan.target}" if plan.target else "Plan mask"
        if alternative is not None:
            label += f" (alternative {alternative + 1})"
        doc.set_mask(mask, label=label)
        self._plan_mask = np.array(doc.mask, copy=True)

    def use_painted_mask(self) -> bool:
        """Put the mask the user painted before planning back on the document (one undo step);
        False when there is none."""
        doc = self._require_doc()
        if doc is None or self.painted_mask is None or self.painted_mask.shape != (doc.height, doc.width):
            return False
        if not np.array_equal(doc.mask, self.painted_mask):
            doc.set_mask(self.painted_mask, label="Your painted mask")
        return True

    def _plan_done(self, doc: Any, plan: Any) -> None:
        if not self._still_current(doc):
            return
        self.plan = plan
        self.painted_mask = self._user_painted_mask(doc)
        self.plan_ready.emit(plan)

    def _user_painted_mask(self, doc: Any) -> np.ndarray | None:
        """A copy of ``doc``'s mask when the user painted it (not empty, not the last plan's mask)."""
        mask = doc.mask
        if mask is None or mask_ops.is_empty(mask):
            return None
        if self._plan_mask is not None and np.array_equal(mask, self._plan_mask):
            return None
        return np.array(mask, copy=True)

    # --- painting -------------------------------------------------------------------------------

    def run(self, prompt: str, params: EditParams | None = None, *, instruction: str = "",
            category: str = "", target: str | None = None) -> None:
        """Paint the document's mask with ``prompt``; candidates arrive in ``candidates_changed``."""
        doc = self._require_doc()
        if doc is None:
            return
        params = params or EditParams()
        mask = None if doc.mask is None else np.asarray(doc.mask)
        if mask is None or mask_ops.is_empty(mask):
            self.error.emit(*texts.empty_mask_error(instruction, target, self.client))
            return
        mask = mask.copy()  # now: the user may keep painting while the image is composited
        self._warn_if_fill_ignores(prompt, category, params)
        self.discard()
        job = Job("inpaint", on_done=lambda result: self._inpaint_done(doc, result), paints=True)
        self.jobs.prepare(doc, None, job, lambda image: InpaintRequest(
            image=image, mask=mask, prompt=prompt.strip(), params=params,
            instruction=instruction, category=category, target=target,
        ))

    def _inpaint_done(self, doc: Any, result: Any) -> None:
        if not self._still_current(doc, result):
            return
        self.result = result
        self.candidates = list(result.candidates)
        self.progress_changed.emit(0, 0, "done")
        self.candidates_changed.emit(list(self.candidates))
        if self.candidates:
            self.preview_candidate(0)

    def quick_remove(self, params: EditParams | None = None, since: int | None = None) -> None:
        """Remove what the mask covers at once, as Photoshop's Remove tool and IOPaint do: one
        candidate, accepted as an edit layer when it arrives, then the mask is cleared (unless the
        user changed it meanwhile). Any candidates shown are left alone.

        ``since``: the history state before the stroke that made the mask; the stroke, the layer
        and the cleared mask then become one undo step (when nothing else happened meanwhile)."""
        doc = self._require_doc()
        if doc is None:
            return
        mask = np.asarray(doc.mask)
        if mask_ops.is_empty(mask):
            self.error.emit("Nothing to remove: the mask is empty", "Paint over what should go")
            return
        mask = mask.copy()
        params = dataclasses.replace(params or EditParams(), num_candidates=1)
        submitted = doc.history.state_id
        job = Job("remove", on_done=lambda result: self._remove_done(doc, since, submitted, result), paints=True)
        self.jobs.prepare(doc, None, job, lambda image: InpaintRequest(
            image=image, mask=mask, prompt="", params=params, instruction="remove", category="removal",
        ))

    def _remove_done(self, doc: Any, since: int | None, submitted: Any, result: Any) -> None:
        self.progress_changed.emit(0, 0, "done")
        if not result.candidates or not self._still_current(doc, result):
            return
        untouched = doc.history.state_id == submitted  # nothing else was done while it painted
        layer = self._add_layer(doc, result, result.candidates[0], "Remove")
        if layer is None:
            return
        if np.array_equal(doc.mask, result.request.mask):
            doc.mask_op("clear")  # ready for the next stroke
        if since is not None and untouched:
            # The stroke, its layer and the cleared mask: one Ctrl+Z takes the removal back.
            doc.history.squash(since, "Edit: Remove")
        self.accepted.emit([layer])

    def more(self) -> None:
        """Paint as many candidates again, with the next seeds, and add them to the ones shown
        (Generative Fill's "Generate" again: the variations so far are kept).

        The same request is repeated (same image snapshot, mask, prompt and parameters), so every
        candidate of the strip belongs to one edit and accepts the same way."""
        doc = self._require_doc()
        if doc is None:
            return
        base = self.result
        if base is None or not self.candidates:
            self.error.emit("No candidates to add to", "Run an edit first")
            return
        req = base.request
        next_seed = (max(int(c.seed) for c in self.candidates) + 1) % (2**31)
        request = InpaintRequest(image=req.image, mask=req.mask, prompt=req.prompt,
                                 params=dataclasses.replace(req.params, seed=next_seed),
                                 instruction=req.instruction, category=req.category, target=req.target)
        self.jobs.submit(request, Job("more", on_done=lambda result: self._more_done(doc, base, result), paints=True))

    def _more_done(self, doc: Any, base: Any, result: Any) -> None:
        self.progress_changed.emit(0, 0, "done")
        if self.result is not base or not self._still_current(doc, result):
            return  # accepted, discarded or replaced by a new run meanwhile: nothing to add to
        self.candidates.extend(result.candidates)
        self.candidates_changed.emit(list(self.candidates))

    def cancel(self) -> None:
        """Cancel this model's running or waiting edit/plan jobs (a SAM click is left to finish)."""
        if self.jobs.cancel():
            self.progress_changed.emit(0, 0, "cancelled")
        if self._chain is not None:
            self._chain.cancelled = True  # the chain stops before its next step

    def preview_candidate(self, index: int | None) -> None:
        """Show candidate ``index`` on the canvas (``None``: the document again)."""
        if index is None or not (0 <= index < len(self.candidates)):
            self.preview_changed.emit(None)
            return
        self.preview_changed.emit(self.candidates[index].image)

    def accept(self, indices: list[int]) -> list:
        """Add candidates ``indices`` as edit layers (one undo step each); returns the layers."""
        doc = self._require_doc()
        if doc is None or self.result is None:
            return []
        result = self.result
        layers = []
        for i in indices:
            if not 0 <= i < len(self.candidates):
                continue
            # One candidate kept: the others stay with its layer as variations to switch to later.
            variants, variant = (self._variants(result, i) if len(indices) == 1 and len(self.candidates) > 1
                                 else (None, None))
            layer = self._add_layer(doc, result, self.candidates[i], layer_name(result.request, len(indices) > 1, i),
                                    variants=variants, variant=variant)
            if layer is not None:
                layers.append(layer)
        if layers:
            self.candidates = []
            self.result = None
            self.preview_changed.emit(None)
            self.candidates_changed.emit([])
            self.accepted.emit(layers)
        return layers

    def _add_layer(self, doc: Any, result: EditResult, cand: Any, name: str, **kw) -> Any:
        """Candidate ``cand`` of ``result`` as a new edit layer (one undo step), or None when it
        changed nothing or the document refused it (said as an error, not raised)."""
        pixels, offset, mask = layer_from_candidate(result.request, cand)
        if pixels is None:
            return None
        try:
            return doc.add_edit(pixels, offset=offset, provenance=self._provenance(result, cand.seed), name=name,
                                mask=mask, **kw)
        except Exception as exc:  # a document refusal is a message, not a crash
            log.exception("add_edit failed")
            self.error.emit(f"Could not add the edit layer: {exc}", "")
            return None

    def _variants(self, result: EditResult, chosen: int) -> tuple[list, int | None]:
        """Every candidate as ``add_edit`` takes a variant, and where ``chosen`` landed among them."""
        variants, index = [], None
        for i, cand in enumerate(self.candidates):
            pixels, offset, mask = layer_from_candidate(result.request, cand)
            if pixels is None:
                continue
            if i == chosen:
                index = len(variants)
            variants.append((pixels, offset, mask, self._provenance(result, cand.seed)))
        return variants, index

    def _provenance(self, result: EditResult, seed: int) -> Any:
        return edit_provenance(result, seed, self.plan)

    def discard(self) -> None:
        """Drop the candidates (the document is not touched)."""
        had = bool(self.candidates)
        self.candidates = []
        self.result = None
        if had:
            self.preview_changed.emit(None)
            self.candidates_changed.emit([])

    def rerun_layer(self, layer: Any, *, seed: int | None = None, prompt: str | None = None) -> None:
        """Paint ``layer``'s edit again (a new seed or prompt); its pixels are replaced in one undo step."""
        doc = self._require_doc()
        if doc is None:
            return
        prov = getattr(layer, "provenance", None)
        if prov is None:
            self.error.emit("This layer was not made by an edit", "Re-run works on edit layers only")
            return
        mask = layer_full_mask(doc, layer)
        if mask is None or mask_ops.is_empty(mask):
            self.error.emit("This edit layer has no mask to re-run", "")
            return
        old_seed = getattr(prov, "seed", None)
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
            if seed == old_seed:
                seed += 1
        params = params_from_provenance(prov, seed)
        category = getattr(prov, "category", "") or ""
        if prompt is not None and prompt.strip() and prompt.strip() != (getattr(prov, "prompt", "") or "").strip():
            # A new prompt says what to paint: the edit is no longer a removal (which "auto" would
            # give to the fill engine, painting another texture instead of "a red rose").
            category = "" if category == "removal" else category
            self._warn_if_fill_ignores(prompt, category, params)
        job = Job("rerun", on_done=lambda result: self._rerun_done(doc, layer, result), paints=True)
        self.jobs.prepare(doc, layer, job, lambda image: InpaintRequest(
            image=image, mask=mask, params=params,
            prompt=(prompt if prompt is not None else getattr(prov, "prompt", "")) or "",
            instruction=getattr(prov, "instruction", "") or "", category=category,
            target=getattr(prov, "target", None),
        ))

    def _rerun_done(self, doc: Any, layer: Any, result: Any) -> None:
        if not result.candidates or not self._still_current(doc, result):
            return
        if layer not in list(doc.layers):
            self.error.emit("The layer was deleted before its re-run finished", "")
            return
        cand = result.candidates[0]
        pixels, offset, _mask = layer_from_candidate(result.request, cand)
        if pixels is None:
            return
        prov = self._provenance(result, cand.seed)
        try:
            doc.replace_layer_pixels(layer, pixels, offset, provenance=prov, mask=result.request.mask,
                                     as_variant=True)
        except Exception as exc:
            log.exception("replace_layer_pixels failed")
            self.error.emit(f"Could not update the layer: {exc}", "")
            return
        self.progress_changed.emit(0, 0, "done")
        self.accepted.emit([layer])

    def _warn_if_fill_ignores(self, prompt: str, category: str, params: EditParams) -> None:
        """Say before running that the fill engine will erase the region, not paint ``prompt``
        ("auto" gives only removals to the fill engine, and says when BrushEdit is missing)."""
        if not prompt.strip() or category == "removal":
            return
        if params.engine == "fill":
            self.notice.emit(f"The fill engine will run: it only removes (copies the surroundings into the "
                             f"region) and does not paint “{prompt.strip()}”. Painting needs BrushEdit "
                             "(Engine ▸ Models…).")

    # --- chains: a compound instruction, one layer per step (desktop.model.chain) ---------------

    def run_steps(self, steps: list, params: EditParams | None = None, *, instruction: str,
                  backend: str = "auto", protected: tuple[str, ...] = ()) -> None:
        """Paint ``steps`` (``StepChoice``: text, plan or None, caption or None) in order, each on the
        previous one's result and as its own layer; ``chain_finished`` and ``accepted`` follow."""
        from desktop.model.chain import ChainRun

        doc = self._require_doc()
        if doc is None:
            return
        if not steps:
            self.error.emit("No step is ticked", "Tick the steps to run, or type a new instruction")
            return
        params = params or EditParams()
        sure = [getattr(_step_plan(c), "category", "") for c in steps]
        if not self._chain_may_start() or self._painter_refuses(params, instruction, sure):
            return
        self.discard()
        self._start_chain(ChainRun(doc, instruction, list(steps), params, backend, tuple(protected)))

    def run_instruction(self, instruction: str, params: EditParams | None = None, *,
                        backend: str = "auto", categories: list[str] | None = None) -> None:
        """Run a compound instruction without a Plan first: plan the whole of it on the picture as it
        is, then paint its steps as :meth:`run_steps` does (each later step found on the previous
        result, each its own layer, one History group). A mask on the document is step 1's mask.
        ``categories``: the steps' edit types the offline reading is sure of (checked before planning)."""
        from desktop.model.chain import ChainRun

        doc, instruction = self._doc_and_instruction(instruction)
        if doc is None:
            return
        params = params or EditParams()
        if categories is None:
            parsed = self.client.parse_instruction(instruction)
            categories = [parsed.category] if getattr(parsed, "confident", False) else []
        if not self._chain_may_start() or self._painter_refuses(params, instruction, categories):
            return
        mask = None if doc.mask is None or mask_ops.is_empty(doc.mask) else np.array(doc.mask, copy=True)
        self.discard()
        self._start_chain(ChainRun(doc, instruction, [], params, backend, first_mask=mask))

    def _chain_may_start(self) -> bool:
        if self._chain is not None:
            self.error.emit("A chain of steps is already running", "Wait for it or press Cancel")
            return False
        return True

    def _start_chain(self, run) -> None:
        from desktop.model.chain import start

        start(self, run)

    def _finish_chain(self, run) -> None:
        from desktop.model.chain import finish

        finish(self, run)

    # --- SAM ---------------------------------------------------------------------------------------

    def segment_click(self, points, labels, box=None) -> None:
        """Ask SAM for the object under ``points``; the mask lands via ``doc.set_mask("SAM select")``."""
        doc = self._require_doc()
        if doc is not None:
            self._clicks.click(doc, points, labels, box)

    # --- internals --------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    def _doc_and_instruction(self, instruction: str) -> tuple[Any, str]:
        """The open document and the typed instruction (stripped); ``(None, "")`` after saying which is
        missing."""
        doc = self._require_doc()
        if doc is None:
            return None, ""
        instruction = instruction.strip()
        if not instruction:
            self.error.emit("Type an instruction first", "For example: remove the cat, or make the sky a sunset")
            return None, ""
        return doc, instruction

    def _require_doc(self):
        doc = self._doc()
        if doc is None:
            self.error.emit("No image is open", "Open a photo first (Ctrl+O)")
        return doc

    def _still_current(self, doc: Any, result: Any = None) -> bool:
        """Whether a job's answer still applies: the same document and, for a painted ``result``,
        the same canvas size (a crop or expand meanwhile would misplace its pixels)."""
        if doc is None or self._doc() is not doc:
            return False
        image = getattr(getattr(result, "request", None), "image", None)
        if image is not None and np.shape(image)[:2] != (doc.height, doc.width):
            self.progress_changed.emit(0, 0, "done")
            self.error.emit("The canvas changed size while the edit was painting", "Run it again")
            return False
        return True


def _step_plan(choice: Any) -> Any:
    """The plan of a step choice's first step (None when it is planned again)."""
    plan = getattr(choice, "plan", None)
    return None if plan is None else (getattr(plan, "steps", ()) or (plan,))[0]
