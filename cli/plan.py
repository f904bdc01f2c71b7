"""``brushedit plan IMAGE INSTRUCTION``: the instructor's plan without painting (the dry run)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.errors import OK, RUNTIME, CliError
from cli.images import read_image, save_mask
from cli.options import add_engine_options, engine_config
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
    p.add_argument("--json", action="store_true", help="print the plan as JSON on stdout")
    add_engine_options(p)
    add_server_option(p)
    p.set_defaults(run=run)


@closes_connections
def run(args: argparse.Namespace) -> int:
    from engine.api import PlanRequest
    from engine.segment import mask_ops

    instruction = args.instruction.strip()
    if not instruction:
        raise CliError("the instruction is empty", 2)
    progress = ProgressReporter(args.quiet)
    config = engine_config(args)
    _, _, rgb = read_image(args.image)
    try:
        engine = engine_for(args, config)
        plan = engine.plan(PlanRequest(rgb, instruction, backend=args.instructor), progress)
    finally:
        progress.close()
    image = Path(args.image)
    mask_path = Path(args.mask_out) if args.mask_out else image.with_name(image.stem + ".mask.png")
    try:
        save_mask(plan.mask, mask_path)
    except OSError as exc:
        raise CliError(f"cannot write the mask to {mask_path} ({exc.strerror or exc})", RUNTIME,
                       "choose another place with --mask-out") from None
    box = mask_ops.bbox(plan.mask)
    data = {
        "instruction": plan.instruction, "category": plan.category, "target": plan.target,
        "caption": plan.caption, "negative_prompt": plan.negative_prompt,
        "confidence": round(float(plan.confidence), 3), "backend": plan.backend,
        "notes": list(plan.notes), "mask": str(mask_path), "mask_bbox": list(box) if box else None,
        "mask_area": int((plan.mask > 0).sum()), "alternatives": len(plan.candidate_masks),
    }
    data["protected"] = list(plan.protected)
    data["caption_of"] = plan.caption_of  # "region" (the painter crops) or "image" (the whole frame)
    data["steps"] = _steps_data(plan, mask_path)
    if args.json:
        print(json.dumps(data, indent=2))
        return OK
    print(f"category:   {data['category']}")
    print(f"target:     {data['target'] or '-'}")
    print(f"caption:    {data['caption'] or '-'}")
    print(f"negative:   {data['negative_prompt'] or '-'}")
    print(f"confidence: {data['confidence']}  (backend {data['backend']})")
    print(f"mask:       {mask_path}  bbox {data['mask_bbox']}, {data['mask_area']} px"
          + (f", {data['alternatives']} alternatives" if data["alternatives"] else ""))
    for note in data["notes"]:
        print(f"note:       {note}")
    if len(data["steps"]) > 1:
        for k, st in enumerate(data["steps"]):
            print(f"step {k + 1}:     {st['category']} {st['target'] or '-'}: {st['caption'] or '-'}  "
                  f"({st['instruction']}; mask {st['mask']})")
    if data["protected"]:
        print("keep:       " + ", ".join(data["protected"]))
    return OK


def _steps_data(plan, mask_path: Path) -> list[dict]:
    """One entry per step; step 1's mask is ``mask_path``, later ones ``<stem>.step<N>.png`` beside it."""
    from cli.images import save_mask
    from engine.segment import mask_ops

    out = []
    for k, step in enumerate(plan.steps or (plan,)):
        path = mask_path if k == 0 else mask_path.with_name(f"{mask_path.stem}.step{k + 1}{mask_path.suffix}")
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
