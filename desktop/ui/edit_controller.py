"""The edit flow between the panels, the document and the engine client.

Plan an instruction (proposed mask and caption, shown for approval), run an edit on the current mask,
collect candidates, preview one on the canvas, accept one or several as edit layers (each one undo
step, with full provenance), discard, re-run a layer, and turn SAM clicks into the mask. Requests are
snapshots of the document taken on the GUI thread; results enter the document only here, on the GUI
thread. Engine errors become ``error(message, hint)`` and leave the document untouched.
"""

from __future__ import annotations

import dataclasses
import itertools
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
    SegmentRequest,
    SegmentResult,
    mask_ops,
)
from desktop.ui.edit_snapshots import Snapshots, snapshot_rgb  # noqa: F401  (snapshot_rgb re-exported)

if TYPE_CHECKING:  # pragma: no cover
    from desktop.document import Document

log = logging.getLogger(__name__)


def make_provenance(**values: Any) -> Any:
    """A ``desktop.document.Provenance`` from the values it knows (unknown keys dropped)."""
    from desktop.document import Provenance

    if dataclasses.is_dataclass(Provenance):
        names = {f.name for f in dataclasses.fields(Provenance)}
        unknown = {k: v for k, v in values.items() if k not in names}
        values = {k: v for k, v in values.items() if k in names}
        if "extra" in names and unknown:
            values["extra"] = dict(values.get("extra") or {}) | unknown
    return Provenance(**values)


_PAINTING = ("inpaint", "rerun", "more", "remove", "chain-paint")  # job kinds that paint: they show live previews, Cancel stops them


class EditController(QObject):
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
    busy_changed(bool): an edit or plan of this controller is running or waiting
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
        self._jobs: dict[int, tuple[str, Any]] = {}  # job id -> (kind, context)
        self._segment_job: int | None = None
        self._segment_seq = 0
        self._segment_size: tuple[int, int] | None = None  # the canvas the latest click was on
        self._preparing: dict[int, str] = {}  # snapshot being taken -> job kind
        self._tokens = itertools.count(1)
        self._snapshots = Snapshots(self)
        self._busy = False
        self._chain = None  # the compound instruction being painted (desktop.ui.edit_chain.ChainRun)
        client.progress.connect(self._on_progress)
        client.preview.connect(self._on_preview)
        client.preview_region.connect(self._on_preview_region)
        client.finished.connect(self._on_finished)
        client.failed.connect(self._on_failed)
        client.cancelled.connect(self._on_cancelled)

    # --- planning -------------------------------------------------------------------------------

    def request_plan(self, instruction: str, backend: str = "auto") -> None:
        """Ask the instructor for a plan of ``instruction``; ``plan_ready`` follows."""
        doc = self._require_doc()
        if doc is None:
            return
        instruction = instruction.strip()
        if not instruction:
            self.error.emit("Type an instruction first", "For example: remove the cat, or make the sky a sunset")
            return
        painted = self._user_painted_mask(doc)  # says where: no GroundingDINO/SAM needed for step 1
        self._prepare(doc, None, "plan", doc,
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
            self.error.emit(*_empty_mask_error(instruction, target, self.client))
            return
        mask = mask.copy()  # now: the user may keep painting while the image is composited
        self._warn_if_fill_ignores(prompt, category, params)
        self.discard()
        self._prepare(doc, None, "inpaint", doc, lambda image: InpaintRequest(
            image=image, mask=mask, prompt=prompt.strip(), params=params,
            instruction=instruction, category=category, target=target,
        ))

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
        context = (doc, since, doc.history.state_id)
        self._prepare(doc, None, "remove", context, lambda image: InpaintRequest(
            image=image, mask=mask, prompt="", params=params, instruction="remove", category="removal",
        ))

    def more(self) -> None:
        """Paint as many candidates again, with the next seeds, and add them to the ones shown
        (Generative Fill's "Generate" again: the variations so far are kept).

        The same request is repeated (same image snapshot, mask, prompt and parameters), so every
        candidate of the strip belongs to one edit and accepts the same way."""
        doc = self._require_doc()
        if doc is None:
            return
        result = self.result
        if result is None or not self.candidates:
            self.error.emit("No candidates to add to", "Run an edit first")
            return
        req = result.request
        next_seed = (max(int(c.seed) for c in self.candidates) + 1) % (2**31)
        request = InpaintRequest(image=req.image, mask=req.mask, prompt=req.prompt,
                                 params=dataclasses.replace(req.params, seed=next_seed),
                                 instruction=req.instruction, category=req.category, target=req.target)
        self._submit(request, "more", (doc, result))

    def cancel(self) -> None:
        """Cancel this controller's running or waiting edit/plan jobs."""
        dropped = [t for t, kind in self._preparing.items() if kind != "segment"]
        for token in dropped:
            del self._preparing[token]
        if dropped:
            self._update_busy()
            self.progress_changed.emit(0, 0, "cancelled")
        for job_id, (kind, _ctx) in list(self._jobs.items()):
            if kind in _PAINTING or kind in ("plan", "chain-plan", "chain-start"):
                self.client.cancel(job_id)
        if self._chain is not None:
            self._chain.cancelled = True
            if not any(kind.startswith("chain") for kind, _ in self._jobs.values()):
                self._finish_chain()  # between steps (or still taking a snapshot): stop now

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
            layer = self._add_layer(doc, result, self.candidates[i], _layer_name(result.request, len(indices) > 1, i),
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
        pixels, offset, mask = _layer_from_candidate(result.request, cand)
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
            pixels, offset, mask = _layer_from_candidate(result.request, cand)
            if pixels is None:
                continue
            if i == chosen:
                index = len(variants)
            variants.append((pixels, offset, mask, self._provenance(result, cand.seed)))
        return variants, index

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
        mask = _layer_full_mask(doc, layer)
        if mask is None or mask_ops.is_empty(mask):
            self.error.emit("This edit layer has no mask to re-run", "")
            return
        old_seed = getattr(prov, "seed", None)
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
            if seed == old_seed:
                seed += 1
        params = _params_from_provenance(prov, seed)
        category = getattr(prov, "category", "") or ""
        if prompt is not None and prompt.strip() and prompt.strip() != (getattr(prov, "prompt", "") or "").strip():
            # A new prompt says what to paint: the edit is no longer a removal (which "auto" would
            # give to the fill engine, painting another texture instead of "a red rose").
            category = "" if category == "removal" else category
            self._warn_if_fill_ignores(prompt, category, params)
        self._prepare(doc, layer, "rerun", (doc, layer), lambda image: InpaintRequest(
            image=image, mask=mask, params=params,
            prompt=(prompt if prompt is not None else getattr(prov, "prompt", "")) or "",
            instruction=getattr(prov, "instruction", "") or "", category=category,
            target=getattr(prov, "target", None),
        ))

    def _warn_if_fill_ignores(self, prompt: str, category: str, params: EditParams) -> None:
        """Say before running that the fill engine will erase the region, not paint ``prompt``
        ("auto" gives only removals to the fill engine, and says when BrushEdit is missing)."""
        if not prompt.strip() or category == "removal":
            return
        if params.engine == "fill":
            self.notice.emit(f"The fill engine will run: it only removes (copies the surroundings into the "
                             f"region) and does not paint “{prompt.strip()}”. Painting needs BrushEdit "
                             "(Engine ▸ Models…).")

    # --- chains: a compound instruction, one layer per step ------------------------------------

    def run_steps(self, steps: list, params: EditParams | None = None, *, instruction: str,
                  backend: str = "auto", protected: tuple[str, ...] = ()) -> None:
        """Paint ``steps`` (``StepChoice``: text, plan or None, caption or None) in order, each on the
        previous one's result and as its own layer; ``chain_finished`` and ``accepted`` follow."""
        from desktop.ui.edit_chain import ChainRun

        doc = self._require_doc()
        if doc is None:
            return
        if not steps:
            self.error.emit("No step is ticked", "Tick the steps to run, or type a new instruction")
            return
        if self._chain is not None:
            self.error.emit("A chain of steps is already running", "Wait for it or press Cancel")
            return
        self.discard()
        self._chain = ChainRun(doc, instruction, list(steps), params or EditParams(), backend, tuple(protected))
        self._next_chain_step()

    def run_instruction(self, instruction: str, params: EditParams | None = None, *,
                        backend: str = "auto") -> None:
        """Run a compound instruction without a Plan first: plan the whole of it on the picture as it
        is, then paint its steps as :meth:`run_steps` does (each later step found on the previous
        result, each its own layer, one History group). A mask on the document is step 1's mask."""
        from desktop.ui.edit_chain import ChainRun

        doc = self._require_doc()
        if doc is None:
            return
        instruction = instruction.strip()
        if not instruction:
            self.error.emit("Type an instruction first", "For example: remove the cat, or make the sky a sunset")
            return
        if self._chain is not None:
            self.error.emit("A chain of steps is already running", "Wait for it or press Cancel")
            return
        mask = None if doc.mask is None or mask_ops.is_empty(doc.mask) else np.array(doc.mask, copy=True)
        self.discard()
        run = ChainRun(doc, instruction, [], params or EditParams(), backend, first_mask=mask)
        self._chain = run

        def plan(image):
            run.image = image
            return PlanRequest(image, instruction, backend=backend)
        self._prepare(doc, None, "chain-start", run, plan)

    def _chain_start_done(self, run, plan) -> None:
        from desktop.ui.edit_chain import steps_from_plan

        if run is not self._chain:
            return
        if (not getattr(plan, "steps", ()) and run.first_mask is None
                and (plan.mask is None or mask_ops.is_empty(plan.mask))):
            self.error.emit("Nothing to edit in this instruction", "; ".join(getattr(plan, "notes", ()) or ())
                            or "Say what to change, for example: remove the cat")
            run.failed = True
            self._finish_chain()
            return
        run.protected = tuple(getattr(plan, "protected", ()) or ())
        run.instructor = getattr(plan, "instructor", None)
        run.steps = steps_from_plan(plan, run.first_mask)
        self.chain_planned.emit(plan)
        self._chain_plan_done(run, run.steps[0].plan)

    def _next_chain_step(self) -> None:
        run = self._chain
        if run is None:
            return
        if run.cancelled or run.failed or run.index >= len(run.steps) or not self._still_current(run.doc):
            self._finish_chain()
            return
        choice = run.steps[run.index]
        if choice.plan is not None:  # the first step keeps the mask the user approved
            def paint(image):
                run.image = image
                return self._chain_paint_request(run, image, choice.plan)
            self._prepare(run.doc, None, "chain-paint", run, paint)
        else:
            def plan(image):
                run.image = image
                return PlanRequest(image, choice.text, backend=run.backend, protected=run.protected)
            self._prepare(run.doc, None, "chain-plan", run, plan)

    def _chain_paint_request(self, run, image, plan):
        from desktop.ui.edit_chain import step_request

        _step, request = step_request(run, image, plan, run.steps[run.index], InpaintRequest)
        return request

    def _chain_plan_done(self, run, plan) -> None:
        if run is not self._chain:
            return
        run.instructor = getattr(plan, "instructor", None) or run.instructor  # a later step's own plan
        step = (getattr(plan, "steps", ()) or (plan,))[0]
        if step.mask is None or mask_ops.is_empty(step.mask) or step.mask.shape != run.image.shape[:2]:
            run.skipped.append((run.index + 1, f"nothing found for “{step.target or run.steps[run.index].text}”"))
            run.index += 1
            self._next_chain_step()
            return
        self._submit(self._chain_paint_request(run, run.image, plan), "chain-paint", run)

    def _chain_paint_done(self, run, result) -> None:
        if run is not self._chain:
            return
        doc = run.doc
        if not result.candidates or not self._still_current(doc, result):
            run.failed = True
            self._finish_chain()
            return
        cand = result.candidates[0]
        pixels, offset, mask = _layer_from_candidate(result.request, cand)
        if pixels is not None:
            prov = self._provenance(result, cand.seed)
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
                self.error.emit(f"Could not add the edit layer: {exc}", "")
                run.failed = True
                self._finish_chain()
                return
            run.layers.append(layer)
            run.commands.append(doc.history.top)
        run.index += 1
        self._next_chain_step()

    def _finish_chain(self) -> None:
        run, self._chain = self._chain, None
        if run is None:
            return
        if run.commands and self._doc() is run.doc:
            run.doc.history.group(run.commands, run.label)
        if not run.cancelled and not run.failed:
            self.progress_changed.emit(0, 0, "done")
        self._update_busy()
        self.chain_finished.emit(list(run.layers), list(run.skipped), bool(run.cancelled))
        if run.layers:
            self.accepted.emit(list(run.layers))

    # --- SAM --------------------------------------------------------------------------------------

    def segment_click(self, points, labels, box=None) -> None:
        """Ask SAM for the object under ``points``; the mask lands via ``doc.set_mask("SAM select")``."""
        doc = self._require_doc()
        if doc is None:
            return
        if self._segment_job is not None:
            self.client.cancel(self._segment_job)  # only the latest click counts
            self._segment_job = None
        self._segment_seq += 1
        seq = self._segment_seq
        self._segment_size = (doc.height, doc.width)
        points = tuple((float(x), float(y)) for x, y in points)
        labels = tuple(int(v) for v in labels)
        box = None if box is None else tuple(float(v) for v in box)
        key = self._snapshots.key(doc)

        def make(image):
            if seq != self._segment_seq:
                return None  # a newer click came while the image was composited
            return SegmentRequest(image=image, points=points, labels=labels, box=box, image_key=key)

        self._prepare(doc, None, "segment", doc, make)

    # --- internals --------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._busy

    def _require_doc(self):
        doc = self._doc()
        if doc is None:
            self.error.emit("No image is open", "Open a photo first (Ctrl+O)")
        return doc

    def _prepare(self, doc: Any, below: Any, kind: str, context: Any,
                 make_request: Callable[[np.ndarray], Any]) -> None:
        """Snapshot the document (maybe off the GUI thread; with ``below``, only the layers under that
        layer), then submit ``make_request(image)``."""
        token = next(self._tokens)
        self._preparing[token] = kind
        self._update_busy()

        def ready(image: np.ndarray | None) -> None:
            if self._preparing.pop(token, None) is None:
                return  # cancelled meanwhile
            try:
                if image is None:
                    self.error.emit("Could not read the image for the engine", "See the log for the details")
                    return
                if self._doc() is not doc:
                    return  # another document was opened meanwhile
                request = make_request(image)
                if request is None:
                    return
                job_id = self._submit(request, kind, context)
                if job_id is not None and kind == "segment":
                    self._segment_job = job_id
            finally:
                self._update_busy()

        self._snapshots.take(doc, below, ready)

    def _submit(self, request: Any, kind: str, context: Any) -> int | None:
        """Queue ``request`` as a job of ``kind``; its id, or None (and an error) when the engine
        refuses it."""
        try:
            job_id = self.client.submit(request)
        except Exception as exc:  # e.g. the engine was shut down: say so, keep going
            log.exception("submit failed")
            self.error.emit(f"The engine did not take the job: {exc}", "Restart BrushEdit Studio if this persists")
            return None
        self._jobs[job_id] = (kind, context)
        self._update_busy()
        return job_id

    def _update_busy(self) -> None:
        busy = any(kind != "segment" for kind, _ in self._jobs.values()) or any(
            kind != "segment" for kind in self._preparing.values())
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def _on_progress(self, job_id: int, step: int, total: int, stage: str) -> None:
        if job_id in self._jobs and self._jobs[job_id][0] != "segment":
            if self._jobs[job_id][0].startswith("chain") and self._chain is not None:
                stage = self._chain.stage(stage)
            self.progress_changed.emit(step, total, stage)

    def _on_preview(self, job_id: int, image: object) -> None:
        if job_id in self._jobs and self._jobs[job_id][0] in _PAINTING:
            self.step_preview.emit(image)

    def _on_preview_region(self, job_id: int, image: object, rect: object) -> None:
        if job_id in self._jobs and self._jobs[job_id][0] in _PAINTING:
            self._live_job = job_id
            self.live_preview.emit(image, rect)

    def _end_live_preview(self, job_id: int) -> None:
        if getattr(self, "_live_job", None) == job_id:
            self._live_job = None
            self.live_preview.emit(None, None)

    def _on_finished(self, job_id: int, result: object) -> None:
        self._end_live_preview(job_id)
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return
        kind, context = entry
        try:
            if kind == "plan":
                self._plan_done(context, result)
            elif kind == "inpaint":
                self._inpaint_done(context, result)
            elif kind == "rerun":
                self._rerun_done(context, result)
            elif kind == "more":
                self._more_done(context, result)
            elif kind == "remove":
                self._remove_done(context, result)
            elif kind == "segment":
                self._segment_done(job_id, context, result)
            elif kind == "chain-plan":
                self._chain_plan_done(context, result)
            elif kind == "chain-paint":
                self._chain_paint_done(context, result)
            elif kind == "chain-start":
                self._chain_start_done(context, result)
        finally:
            self._update_busy()

    def _retire(self, job_id: int):
        """Forget a job that failed or was cancelled; its ``(kind, context)`` or None if not ours."""
        self._end_live_preview(job_id)
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return None
        if job_id == self._segment_job:
            self._segment_job = None
        self._update_busy()
        return entry

    def _on_failed(self, job_id: int, error: str, hint: str, kind: str) -> None:
        entry = self._retire(job_id)
        if entry is None:
            return
        self.progress_changed.emit(0, 0, "failed")
        self.error.emit(error, hint)
        if entry[0].startswith("chain") and entry[1] is self._chain:
            self._chain.failed = True
            self._finish_chain()

    def _on_cancelled(self, job_id: int) -> None:
        entry = self._retire(job_id)
        if entry is None:
            return
        if entry[0] != "segment":
            self.progress_changed.emit(0, 0, "cancelled")
        if entry[0].startswith("chain") and entry[1] is self._chain:
            self._chain.cancelled = True
            self._finish_chain()

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

    def _inpaint_done(self, doc: Any, result: Any) -> None:
        if not self._still_current(doc, result):
            return
        self.result = result
        self.candidates = list(result.candidates)
        self.progress_changed.emit(0, 0, "done")
        self.candidates_changed.emit(list(self.candidates))
        if self.candidates:
            self.preview_candidate(0)

    def _more_done(self, context: Any, result: Any) -> None:
        doc, base = context
        self.progress_changed.emit(0, 0, "done")
        if self.result is not base or not self._still_current(doc, result):
            return  # accepted, discarded or replaced by a new run meanwhile: nothing to add to
        self.candidates.extend(result.candidates)
        self.candidates_changed.emit(list(self.candidates))

    def _remove_done(self, context: Any, result: Any) -> None:
        doc, since, submitted = context
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

    def _rerun_done(self, context: Any, result: Any) -> None:
        doc, layer = context
        if not result.candidates or not self._still_current(doc, result):
            return
        if layer not in list(doc.layers):
            self.error.emit("The layer was deleted before its re-run finished", "")
            return
        cand = result.candidates[0]
        pixels, offset, _mask = _layer_from_candidate(result.request, cand)
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

    def _segment_done(self, job_id: int, doc: Any, result: SegmentResult) -> None:
        if job_id != self._segment_job:
            return
        self._segment_job = None
        if not self._still_current(doc) or self._segment_size != (doc.height, doc.width):
            return  # another document, or the canvas was cropped or expanded since the click
        mask = mask_ops.as_mask(result.mask)
        if mask.shape != (doc.height, doc.width):
            mask = mask_ops.resize(mask, doc.width, doc.height)
        doc.set_mask(mask, label="SAM select")
        self.segment_ready.emit(result)

    def _provenance(self, result: EditResult, seed: int) -> Any:
        """What ran: a removal's negative prompt names the removed object, a global edit ran
        image-to-image at ``global_strength`` with BrushNet scaled out; the fill engine reads no
        negative prompt. ``params`` re-make the edit (its negative prompt is the one that ran)."""
        from desktop.engine_client import layer_provenance_fields

        req, p = result.request, result.request.params
        plan = self.plan  # who read the instruction, when this edit came from the shown plan
        report = getattr(plan, "instructor", None) if plan is not None and req.instruction and \
            req.instruction in (plan.instruction, *(st.instruction for st in plan.steps)) else None
        fields = layer_provenance_fields(req, result, seed, report.to_json() if report is not None else None)
        extra = fields.pop("extra")
        params = dataclasses.asdict(p) | {"seed": int(seed)}
        if fields["negative_prompt"]:  # a painter that read one: re-make it with the negative that ran
            params["negative_prompt"] = fields["negative_prompt"]
        return make_provenance(
            **fields, **extra, blend=p.blend,  # extra: painter, instructor, harmonize, painted_size
            resolution_mode=p.resolution_mode, working_size=p.working_size,
            params=params,
            worker=_worker_record(getattr(result, "worker", None)),
        )


def _worker_record(worker: Any) -> dict | None:
    """Which process painted (host, pid, device), for the layer's provenance; ``None`` when unknown."""
    if worker is None:
        return None
    return {"host": str(worker.host), "pid": int(worker.pid), "device": str(worker.device)}


def _layer_from_candidate(request: InpaintRequest, cand: Any):
    """The RGBA crop of a candidate that differs from its input, its offset and the mask crop.

    The layer is transparent wherever the candidate equals the image it was painted on, so hiding or
    deleting an earlier edit underneath still shows through.
    """
    h, w = cand.image.shape[:2]
    rect = mask_ops.clamp_rect(cand.bbox, w, h) if cand.bbox else (0, 0, w, h)
    if rect is None:
        return None, None, None
    x, y, bw, bh = rect
    rgb = np.ascontiguousarray(cand.image[y:y + bh, x:x + bw, :3])
    base = request.image[y:y + bh, x:x + bw, :3]
    mask = mask_ops.as_mask(request.mask)[y:y + bh, x:x + bw]
    changed = np.any(rgb != base, axis=2) | (mask > 0)
    alpha = np.where(changed, 255, 0).astype(np.uint8)
    pixels = np.dstack([rgb, alpha])
    return pixels, (x, y), mask.copy()


def _layer_full_mask(doc: Any, layer: Any) -> np.ndarray | None:
    """The layer's edit mask placed on the full canvas."""
    mask = getattr(layer, "mask", None)
    if mask is None:
        return None
    mask = mask_ops.as_mask(mask)
    if mask.shape == (doc.height, doc.width):
        return mask.copy()
    full = np.zeros((doc.height, doc.width), np.uint8)
    ox, oy = (int(v) for v in getattr(layer, "offset", (0, 0)))
    rect = mask_ops.clamp_rect((ox, oy, mask.shape[1], mask.shape[0]), doc.width, doc.height)
    if rect is None:
        return None
    x, y, w, h = rect
    full[y:y + h, x:x + w] = mask[y - oy:y - oy + h, x - ox:x - ox + w]
    return full


def _params_from_provenance(prov: Any, seed: int) -> EditParams:
    stored = getattr(prov, "params", None) or (getattr(prov, "extra", None) or {}).get("params")
    fields = {f.name for f in dataclasses.fields(EditParams)}
    values: dict[str, Any] = {}
    if isinstance(stored, dict):
        values.update({k: v for k, v in stored.items() if k in fields})
    # A global layer recorded with BrushNet scaled out (scale 0) ran image-to-image at its strength:
    # without stored params (a layer the CLI made) it re-runs at that strength, not the default. An
    # older record (masked strength, scale 1: the whole photo repainted) re-runs at the default.
    is_global = getattr(prov, "category", "") == "global"
    if is_global and "global_strength" not in values and getattr(prov, "strength", None) is not None \
            and getattr(prov, "conditioning_scale", None) == 0:
        values["global_strength"] = prov.strength
    for name in ("steps", "guidance", "strength", "conditioning_scale", "blend", "resolution_mode",
                 "working_size", "engine"):
        if is_global and name in ("strength", "conditioning_scale"):
            continue
        if name not in values and getattr(prov, name, None) not in (None, ""):
            values[name] = getattr(prov, name)
    extra = getattr(prov, "extra", None) or {}
    if "harmonize" not in values and isinstance(extra.get("harmonize"), (int, float)):  # a CLI-made layer
        values["harmonize"] = float(extra["harmonize"])
    negative = getattr(prov, "negative_prompt", None) or getattr(prov, "negative", None)
    if negative is not None and "negative_prompt" not in values:
        values["negative_prompt"] = negative
    if values.get("engine") == "klein" and "painter" not in values:  # a layer klein painted (CLI-made)
        values.update(painter="klein", klein_steps=values.pop("steps", 4))
    if values.get("engine") not in ("auto", "brushedit", "fill", "lama"):
        values.pop("engine", None)
    values.update(seed=int(seed), num_candidates=1)
    return EditParams(**values)


AUTO_MASK_MODELS = ("grounding-dino-tiny", "sam-vit-h")  # what finds the object an instruction names


def _auto_mask_missing(client: Any = None) -> list[str]:
    """The GroundingDINO / SAM weights to download before an instruction can find its object
    (empty when one of each is installed, or when that cannot be told). A studio server's
    ``client`` is asked about the server's models: they are the ones that would run."""
    from desktop.engine_client import model_entries

    try:
        entries = client.model_entries() if getattr(client, "remote", False) is True else model_entries()
    except Exception:  # an unreadable models folder: say nothing about it here
        return []
    installed = {e.name for e in entries if e.installed}
    missing = []
    for family, default in (("grounding-dino-", AUTO_MASK_MODELS[0]), ("sam-", AUTO_MASK_MODELS[1])):
        if not any(name.startswith(family) for name in installed):
            missing.append(default)
    return missing


def _empty_mask_error(text: str, target: str | None, client: Any = None) -> tuple[str, str]:
    """``(message, hint)`` for Run with nothing masked: what is missing, not what the user did
    (``text``: the instruction typed, if any; ``target``: the object it names)."""
    text = (text or "").strip()
    if not text and not target:
        return ("Nothing to repaint: the mask is empty",
                "Paint a mask (B), click an object with the SAM tool (S), or type an instruction and press Plan")
    what = f"“{target}”" if target else "what to change"
    missing = _auto_mask_missing(client)
    if missing:
        return (f"Nothing is masked, and finding {what} needs GroundingDINO + SAM, which are not installed",
                "run: brushedit models download " + " ".join(missing) + " — or paint the mask (B)")
    return (f"Nothing is masked yet: press Plan to find {what}, or paint the mask (B)", "")


def _layer_name(request: InpaintRequest, several: bool, index: int) -> str:
    text = request.instruction or request.prompt or "Edit"
    text = text if len(text) <= 40 else text[:39] + "…"
    return f"{text} ({index + 1})" if several else text
