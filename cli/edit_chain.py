"""``brushedit edit IMAGE "A and B" -o OUT``: a compound instruction painted as a chain of steps.

Each step is planned on the previous step's result and painted on it. OUT ending in .png/.jpg/.webp
gets the final picture; OUT ending in .ora gets the original plus one edit layer per step, each with
its own provenance (instruction of the step, the whole instruction, step number).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli.errors import OK, USAGE, CliError
from cli.painter_options import painter_params


def run_chain_edit(args, engine, plan, doc, rgba, rgb, out: Path, progress) -> int:
    from engine.api import EditParams
    from engine.chain import run_chain
    from masks import mask_ops

    params = EditParams(
        **painter_params(args), guidance=args.guidance, strength=args.strength, seed=args.seed,
        num_candidates=1, blend=not args.no_blend,
        resolution_mode="whole" if args.whole else "crop", engine=args.engine, harmonize=args.harmonize,
    )
    if args.samples > 1:
        progress.note("a chain of steps paints one result per step (--samples ignored)")
    started = time.monotonic()
    try:
        outcome = run_chain(engine, rgb, plan, params, backend=args.instructor,
                            negative_prompt=args.negative, on_progress=progress)
    finally:
        progress.close()
    for number, reason in outcome.skipped:
        progress.note(f"step {number} skipped: {reason}")
    if not outcome.steps:
        raise CliError(f"the instructor found nothing to edit for {plan.instruction!r}: give a --mask", USAGE)
    report = getattr(plan, "instructor", None)
    outputs = write_chain(out, doc, rgba, plan.instruction, outcome, Path(args.image).name,
                          report.to_json() if report is not None else None)
    summary = {
        "outputs": [str(p) for p in outputs], "instruction": plan.instruction,
        "seconds": round(time.monotonic() - started, 2), "protected": list(plan.protected),
        "steps": [{"instruction": s.plan.instruction, "category": s.plan.category, "target": s.plan.target,
                   "prompt": s.request.prompt, "engine": s.result.engine, "model": s.result.model,
                   "seeds": [c.seed for c in s.result.candidates],
                   "mask_bbox": list(mask_ops.bbox(s.request.mask) or ())} for s in outcome.steps],
        "skipped": [{"step": n, "reason": r} for n, r in outcome.skipped],
    }
    first = outcome.steps[0]
    summary.update(engine=first.result.engine, model=first.result.model, category=first.plan.category,
                   target=first.plan.target, prompt=first.request.prompt,
                   seeds=[c.seed for c in first.result.candidates])
    from cli.plan import instructor_json
    from engine.provenance import what_ran

    summary["instructor"] = instructor_json(plan, args.instructor)
    for entry, step in zip(summary["steps"], outcome.steps):
        ran = what_ran(step.request, step.result)
        entry.update({k: ran[k] for k in ("painter", "steps", "guidance", "strength", "samples", "working_size")})
    ran = what_ran(first.request, first.result)  # "steps" stays the chain's list: each entry has its own
    summary.update({k: ran[k] for k in ("painter", "guidance", "strength", "samples", "working_size")})
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(f"{outputs[0]}  ({len(outcome.steps)} steps: "
              + "; ".join(f"{s.plan.category} {s.plan.target or ''}".strip() for s in outcome.steps) + ")")
    return OK


def write_chain(out: Path, doc, rgba, instruction: str, outcome, source_name: str, instructor=None) -> list[Path]:
    """One .ora layer per step, or the final picture flattened into one image."""
    from cli.edit_outputs import provenance_of
    from desktop.document import Document

    target = doc if out.suffix.lower() == ".ora" else Document.from_array(rgba)
    n = len(outcome.steps)
    for k, step in enumerate(outcome.steps):
        cand = step.result.candidates[0]
        x, y, w, h = cand.bbox
        prov = provenance_of(step.request, step.result, cand, 0, 1, source_name, instructor)
        prov.extra.update({"step": k + 1, "steps": n, "chain_instruction": instruction})
        name = f"{k + 1}/{n}: {step.plan.instruction}"[:64]
        target.add_edit(cand.image[y:y + h, x:x + w], offset=(x, y), provenance=prov, name=name,
                        mask=step.request.mask)
    if out.suffix.lower() == ".ora":
        return [target.save(out)]
    target.export(out)
    return [out]
