"""``brushedit plan IMAGE INSTRUCTION``: the instructor's plan without painting (the dry run)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from cli.errors import OK, RUNTIME, CliError
from cli.images import read_image, save_mask
from cli.options import add_engine_options, engine_config
from cli.plan_mask import add_mask_option, proposal_path, read_painted
from cli.remote import add_server_option, closes_connections, engine_for
from cli.progress import ProgressReporter


def add_parser(sub, common) -> None:
    p = sub.add_parser(
        "plan", parents=[common], help="show what an instruction would do, without painting",
        description="The instructor's plan: category, target, caption; the mask is saved beside IMAGE.",
    )
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("instruction", metavar="INSTRUCTION")
    p.add_argument("--mask-out", metavar="PNG",
                   help="where to save the proposed mask (default: IMAGE's folder, <name>.mask.png)")
    add_mask_option(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON on stdout")
    add_engine_options(p)
    add_server_option(p)
    p.set_defaults(run=run)


@closes_connections
def run(args: argparse.Namespace) -> int:
    from engine.api import PlanRequest
    from masks import mask_ops

    instruction = args.instruction.strip()
    if not instruction:
        raise CliError("the instruction is empty", 2)
    progress = ProgressReporter(args.quiet)
    config = engine_config(args)
    _, _, rgb = read_image(args.image)
    out_path = proposal_path(args)  # before any work: never the painted file nor the photo
    painted = read_painted(args, rgb.shape[1], rgb.shape[0], progress.note)
    try:
        engine = engine_for(args, config)
        plan = engine.plan(PlanRequest(rgb, instruction, backend=args.instructor, mask=painted), progress)
    finally:
        progress.close()
    # A painted mask is kept as step 1's mask (read, never written); a different proposal goes to out_path.
    mask_path = Path(args.mask) if painted is not None else out_path
    proposed = None if painted is not None and np.array_equal(plan.mask > 0, painted > 0) else out_path
    try:
        if proposed is not None:
            save_mask(plan.mask, proposed)
    except OSError as exc:
        raise CliError(f"cannot write the mask to {proposed} ({exc.strerror or exc})", RUNTIME,
                       "choose another place with --mask-out") from None
    box = mask_ops.bbox(plan.mask)
    data = {
        "instruction": plan.instruction, "category": plan.category, "target": plan.target,
        "caption": plan.caption, "negative_prompt": plan.negative_prompt,
        "confidence": round(float(plan.confidence), 3), "backend": plan.backend,
        "notes": list(plan.notes), "mask": str(mask_path), "mask_bbox": list(box) if box else None,
        "mask_area": int((plan.mask > 0).sum()), "alternatives": len(plan.candidate_masks),
        "mask_source": "painted" if painted is not None else "proposed",
        "proposed_mask": str(proposed) if proposed is not None else None,
    }
    if painted is not None:
        box = mask_ops.bbox(painted)
        data.update(mask_bbox=list(box) if box else None, mask_area=int((painted > 0).sum()))
    data["protected"] = list(plan.protected)
    data["instructor"] = instructor_json(plan, args.instructor)
    data["caption_of"] = plan.caption_of  # "region" (the painter crops) or "image" (the whole frame)
    data["steps"] = _steps_data(plan, mask_path, out_path, painted)
    if args.json:
        print(json.dumps(data, indent=2))
        return OK
    print(f"category:   {data['category']}")
    print(f"target:     {data['target'] or '-'}")
    print(f"caption:    {data['caption'] or '-'}")
    print(f"negative:   {data['negative_prompt'] or '-'}")
    print(f"confidence: {data['confidence']}  (backend {data['backend']})")
    print(f"mask:       {mask_path}  bbox {data['mask_bbox']}, {data['mask_area']} px"
          + (f", {data['alternatives']} alternatives" if data["alternatives"] else "")
          + ("  (your painted mask, kept)" if painted is not None else ""))
    if painted is not None and proposed is not None:
        print(f"proposed:   {proposed}  (the instructor's mask, for comparison)")
    for note in data["notes"]:
        print(f"note:       {note}")
    if len(data["steps"]) > 1:
        for k, st in enumerate(data["steps"]):
            print(f"step {k + 1}:     {st['category']} {st['target'] or '-'}: {st['caption'] or '-'}  "
                  f"({st['instruction']}; mask {st['mask']})")
    if data["protected"]:
        print("keep:       " + ", ".join(data["protected"]))
    return OK


def instructor_json(plan, requested: str) -> dict:
    """The plan's ``"instructor"`` object; its fallback, if any, is one line on stderr."""
    import sys

    from engine.instructor_choice import fallback_line

    report = getattr(plan, "instructor", None)
    if report is None:  # an engine that does not report (an older server): say what is known
        return {"requested": requested, "used": plan.backend, "model": None, "ran": plan.backend != "offline",
                "why": None}
    line = fallback_line(report)
    if line:
        print(line, file=sys.stderr)
    return report.to_json()


def _steps_data(plan, mask_path: Path, out_path: Path, painted=None) -> list[dict]:
    """One entry per step; step 1's mask is ``mask_path``, later ones ``<stem>.step<N>.png`` beside
    ``out_path`` (never beside a painted mask: its folder is the user's)."""
    from cli.images import save_mask
    from masks import mask_ops

    out = []
    for k, step in enumerate(plan.steps or (plan,)):
        path = mask_path if k == 0 else out_path.with_name(f"{out_path.stem}.step{k + 1}{out_path.suffix}")
        if k == 0 and painted is not None:
            step = replace(step, mask=painted)
        if k > 0:
            try:
                save_mask(step.mask, path)
            except OSError as exc:
                raise CliError(f"cannot write the mask to {path} ({exc.strerror or exc})", RUNTIME) from None
        box = mask_ops.bbox(step.mask)
        out.append({"instruction": step.instruction, "category": step.category, "target": step.target,
                    "caption": step.caption, "caption_of": step.caption_of,
                    "negative_prompt": step.negative_prompt,
                    "confidence": round(float(step.confidence), 3), "notes": list(step.notes),
                    "mask": str(path), "mask_bbox": list(box) if box else None,
                    "mask_area": int((step.mask > 0).sum())})
    return out
