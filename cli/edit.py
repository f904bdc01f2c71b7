"""``brushedit edit IMAGE [INSTRUCTION] [--mask MASK] ... -o OUT``: one edit, headless.

With ``--mask`` the mask says where to paint and the instruction (optional) says what: its category
(a removal may use the fill engine) and, without ``--prompt``, the caption. Without ``--mask`` the
instructor plans the edit (GroundingDINO + SAM find the object), exactly as ``plan`` shows it.
OUT ending in .png/.jpg/.webp gets the flattened result (numbered with ``--samples N``); OUT ending
in .ora gets a layered project: the original plus one edit layer per result, with its provenance.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cli.edit_outputs import provenance_of, write_outputs  # noqa: F401 - provenance_of: its old home
from cli.errors import OK, USAGE, CliError, set_oom_context
from cli.images import check_output, read_image, read_mask
from cli.options import add_engine_options, engine_config
from cli.painter_options import (  # noqa: F401 - the validators' old home; cli.batch imported them here
    _closed_unit_float,
    _positive_int,
    _unit_float,
    add_painting_options,
    painter_params,
)
from cli.progress import ProgressReporter
from cli.remote import add_server_option, closes_connections, engine_for, worker_summary


def add_parser(sub, common) -> None:
    p = sub.add_parser(
        "edit", parents=[common], help="edit a photo: mask and/or instruction -> image or .ora",
        description="Paint a region of IMAGE. Give --mask (white = repaint), an INSTRUCTION, or both.",
    )
    p.add_argument("image", metavar="IMAGE", help="photo (PNG, JPEG, WebP, TIFF, BMP) or .ora project")
    p.add_argument("instruction", metavar="INSTRUCTION", nargs="?", default="",
                   help='what to do, e.g. "remove the cat" or "make the sky a sunset"')
    p.add_argument("-o", "--output", metavar="OUT", required=True,
                   help="result: .png/.jpg/.webp (flattened) or .ora (layered project)")
    p.add_argument("--mask", metavar="MASK", help="mask image, white = repaint (same size or aspect)")
    p.add_argument("--prompt", metavar="TEXT", help="what to paint in the mask (default: from the instruction)")
    p.add_argument("--negative", metavar="TEXT", help="negative prompt")
    add_painting_options(p, seed_help="seed of the first result (default: random, reported)")
    p.add_argument("--samples", type=_samples, default=0, metavar="N|auto",
                   help="number of results, painted in one batch (default auto: 4 where the card's "
                        "memory plan fits them, else fewer; 1 on the CPU)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_engine_options(p)
    add_server_option(p)
    p.set_defaults(run=run)


def _samples(text: str) -> int:
    """``auto`` (0: the engine picks, see engine.api.AUTO_CANDIDATES) or a whole number >= 1."""
    return 0 if text.strip().lower() == "auto" else _positive_int(text)


@closes_connections
def run(args: argparse.Namespace) -> int:
    from engine.api import DEFAULT_NEGATIVE_PROMPT, EditParams, InpaintRequest, PlanRequest
    from masks import mask_ops

    progress = ProgressReporter(args.quiet, default_stage="painting")
    out = check_output(args.output)
    config = engine_config(args)
    doc, rgba, rgb = read_image(args.image)
    height, width = rgb.shape[:2]
    instruction = (args.instruction or "").strip()
    if not args.mask and not instruction:
        raise CliError("nothing to do: give an INSTRUCTION, a --mask, or both", USAGE)
    set_oom_context(args.samples, args.working_size or 640, args.cpu_offload)
    engine = engine_for(args, config)

    category, target, caption, negative, plan = "", None, "", "", None
    if args.mask:
        mask = read_mask(args.mask, width, height, note=progress.note)
        if instruction:
            from engine.instructor import parse_instruction_or_none

            intent = parse_instruction_or_none(instruction)
            if intent is not None:
                category, target, caption = intent.category, intent.target, intent.caption
    else:
        from cli.preflight import check_painter_first

        check_painter_first(engine, args, instruction)  # before GroundingDINO/SAM: fail fast
        plan = engine.plan(PlanRequest(rgb, instruction, backend=args.instructor), progress)
        if len(plan.steps) > 1:  # "A and B": a chain, one result per step
            from cli.edit_chain import run_chain_edit
            return run_chain_edit(args, engine, plan, doc, rgba, rgb, out, progress)
        mask = plan.mask
        category, target, caption, negative = plan.category, plan.target, plan.caption, plan.negative_prompt
    if mask_ops.is_empty(mask):
        raise CliError("the mask is empty: nothing to repaint" if args.mask else
                       f"the instructor found nothing to edit for {instruction!r}: give a --mask", USAGE)
    prompt = args.prompt if args.prompt is not None else caption
    params = EditParams(
        **painter_params(args), guidance=args.guidance, strength=args.strength, global_strength=args.global_strength,
        seed=args.seed,
        num_candidates=args.samples,
        negative_prompt=args.negative if args.negative is not None else (negative or DEFAULT_NEGATIVE_PROMPT),
        blend=not args.no_blend, resolution_mode="whole" if args.whole else "crop", engine=args.engine,
        harmonize=args.harmonize,
        **({} if args.removal_strength is None else {"removal_strength": args.removal_strength}),
    )
    request = InpaintRequest(rgb, mask, prompt, params, instruction=instruction,
                             category=category, target=target)
    started = time.monotonic()
    try:
        result = engine.inpaint(request, progress)
    finally:
        progress.close()
    seconds = result.seconds or (time.monotonic() - started)
    outputs = write_outputs(out, doc, rgba, request, result, Path(args.image).name,
                            _instructor_json(args, plan, instruction, quiet=True))
    summary = {
        "outputs": [str(p) for p in outputs], "engine": result.engine, "model": result.model,
        "seeds": [c.seed for c in result.candidates], "seconds": round(seconds, 2),
        "category": category, "target": target, "prompt": prompt, "instruction": instruction,
        "mask_bbox": list(mask_ops.bbox(mask) or ()), "worker": worker_summary(result),
        "instructor": _instructor_json(args, plan, instruction),
    }
    from engine.provenance import what_ran

    ran = what_ran(request, result)
    summary.update({k: ran[k] for k in ("painter", "steps", "guidance", "strength", "samples", "working_size",
                                       "harmonize", "negative_prompt")})
    if (getattr(result, "ran", None) or {}).get("prompt"):  # the prompt the painter itself was given
        summary["painter_prompt"] = result.ran["prompt"]
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        if len(outputs) == len(result.candidates):
            for path, cand in zip(outputs, result.candidates):
                print(f"{path}  (engine {result.engine}, seed {cand.seed})")
        else:
            seeds = ", ".join(str(c.seed) for c in result.candidates)
            print(f"{outputs[0]}  (engine {result.engine}, {len(result.candidates)} layers, seeds {seeds})")
    return OK


def _instructor_json(args, plan, instruction: str, quiet: bool = False) -> dict | None:
    """Who read the instruction: the plan's report, or with ``--mask`` the rule parser (no VLM asked)."""
    if plan is not None:
        if quiet:
            report = getattr(plan, "instructor", None)
            return report.to_json() if report is not None else None
        from cli.plan import instructor_json

        return instructor_json(plan, args.instructor)
    if not instruction:
        return None
    return {"requested": args.instructor, "used": "offline", "model": None, "ran": False,
            "why": "a --mask was given: the rule parser read the instruction for its category and caption"}
