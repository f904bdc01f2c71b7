"""``brushedit batch IN_DIR [INSTRUCTION] -o OUT_DIR``: one instruction or one mask set over a folder.

Each photo gets its own plan from the INSTRUCTION (the object found, its mask, the caption), or its
mask from ``--mask`` (one file for all, or a folder of masks matched by file name). Outputs go to
OUT_DIR under the input's name; ``OUT_DIR/report.jsonl`` says what happened to every photo and
``OUT_DIR/index.html`` shows them. See :mod:`engine.batch.run` (the run this face drives, shared with
the editor's File ▸ Batch…) for what makes it safe to kill and resume.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from cli.painter_options import _positive_int, add_painting_options
from cli.errors import OK, USAGE, CliError

SOME_FAILED = 5  # the batch ran, and at least one photo was not edited (see report.jsonl)

EPILOG = """\
exit codes: 0 every photo edited; 5 the batch ran but some photos were not edited (bad file,
nothing found, worker lost: each has a line with its reason in OUT_DIR/report.jsonl); 2 bad usage or
a bad folder; 3 missing models; 4 runtime failure; 130 interrupted (finish with --resume).

Masks from a folder are matched by name: cat.jpg takes cat.png, cat.mask.png or cat_mask.png (in the
same sub-folder with --recursive). With an INSTRUCTION too, a photo without a mask is planned from it.
Each photo's seed derives from the base seed (--seed, else random, recorded in OUT_DIR/batch.json)
and its path, so --resume and --ray paint the same pixels as one uninterrupted local run."""


def add_parser(sub, common) -> None:
    from cli.options import add_engine_options
    from cli.remote import add_server_option

    p = sub.add_parser(
        "batch", parents=[common], help="edit every photo of a folder: one instruction or one mask set",
        description="Edit every photo of IN_DIR the same way: each gets its own plan from INSTRUCTION, "
                    "or its mask from --mask.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("in_dir", metavar="IN_DIR", help="folder of photos (PNG, JPEG, WebP, TIFF, BMP)")
    p.add_argument("instruction", metavar="INSTRUCTION", nargs="?", default="",
                   help='what to do to every photo, e.g. "remove the price tag"')
    p.add_argument("-o", "--output", metavar="OUT_DIR", required=True,
                   help="folder for the results (created; never IN_DIR): the input's names")
    p.add_argument("--mask", metavar="FILE|DIR", help="one mask for every photo, or a folder of masks "
                                                      "matched by file name (white = repaint)")
    p.add_argument("-r", "--recursive", action="store_true", help="also the photos of sub-folders")
    p.add_argument("--resume", action="store_true", help="continue a batch in OUT_DIR: skip the photos done")
    p.add_argument("--format", choices=("png", "jpg", "webp"), help="write this format (default: the input's)")
    p.add_argument("--ora", action="store_true", help="also keep a layered project (.ora) per photo")
    p.add_argument("--max-megapixels", type=float, default=100.0, metavar="MP",
                   help="photos larger than this are reported and skipped (default 100)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    g = p.add_argument_group("painting (as brushedit edit)")
    g.add_argument("--prompt", metavar="TEXT", help="what to paint (default: each photo's caption)")
    g.add_argument("--negative", metavar="TEXT", help="negative prompt")
    add_painting_options(g, seed_help="base seed; each photo's derives from it (default: random, recorded)")
    r = p.add_argument_group("a Ray cluster")
    r.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run on Ray: the cluster at ADDRESS, or a local one without it")
    r.add_argument("--workers", type=_positive_int, default=2, metavar="N", help="engine workers (default 2)")
    r.add_argument("--gpus-per-worker", type=float, default=None, metavar="G",
                   help="GPUs of each worker (default: 1 when the cluster has GPUs, else 0)")
    add_engine_options(p)
    add_server_option(p)
    p.set_defaults(run=run)


def settings_from(args: argparse.Namespace):
    """The :class:`engine.batch.run.BatchSettings` of the parsed options."""
    from pathlib import Path

    from cli.painter_options import painter_params
    from engine.api import EditParams
    from engine.batch.run import BatchSettings

    instruction = (args.instruction or "").strip()
    if not args.mask and not instruction:
        raise CliError("nothing to do: give an INSTRUCTION, a --mask, or both", USAGE)
    if args.max_megapixels <= 0:
        raise CliError("--max-megapixels must be above 0", USAGE)
    params = EditParams(
        **painter_params(args), guidance=args.guidance, strength=args.strength,
        global_strength=args.global_strength, num_candidates=1, blend=not args.no_blend,
        resolution_mode="whole" if args.whole else "crop", engine=args.engine, harmonize=args.harmonize,
        **({} if args.removal_strength is None else {"removal_strength": args.removal_strength}),
    )
    return BatchSettings(
        in_dir=Path(args.in_dir), out_dir=Path(args.output), instruction=instruction,
        mask=Path(args.mask).expanduser() if args.mask else None, params=params, base_seed=args.seed,
        instructor=args.instructor, prompt=args.prompt, negative=args.negative, recursive=args.recursive,
        fmt=f".{args.format}" if args.format else None, ora=args.ora,
        max_pixels=int(args.max_megapixels * 1e6), resume=args.resume,
    )


class _Bar:
    """Count, rate and ETA: a tqdm bar on a terminal, a line per photo otherwise, nothing with -q."""

    def __init__(self, quiet: bool, stream=None) -> None:
        self.quiet, self.stream = quiet, stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = None
        self.failed = 0

    def start(self, todo: int, total: int) -> None:
        if self.quiet:
            return
        if total > todo:
            self.note(f"resuming: {total - todo} of {total} photos done already")
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=todo, desc="batch", unit="photo", file=self.stream, dynamic_ncols=True)

    def stage(self, step: int, total: int, stage: str = "", *_: object) -> None:
        """The photo in hand's stage (loading a model, painting) beside the bar."""
        if self.bar is not None and stage:
            self.bar.set_postfix_str(f"failed={self.failed}, {stage} {step}/{total}", refresh=True)

    def line(self, line: dict, done: int, todo: int) -> None:
        if line["status"] != "ok":
            self.failed += 1
        if self.quiet:
            return
        if self.bar is not None:
            if line["status"] != "ok":
                self.bar.write(f"{line['key']}: {line['status']}: {line['reason']}", file=self.stream)
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)
            return
        text = f"[{done}/{todo}] {line['key']}: {line['status']}"
        text += f" ({line['seconds']:.1f} s)" if line["status"] == "ok" else f": {line['reason']}"
        self.note(text)

    def note(self, text: str) -> None:
        if not self.quiet:
            (self.bar.write(text, file=self.stream) if self.bar is not None else self.stream.write(text + "\n"))
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    from cli.batch_run import LocalExecutor, run_batch
    from cli.options import engine_config
    from cli.remote import closes_connections, engine_for

    settings = settings_from(args)
    config = engine_config(args)
    bar = _Bar(args.quiet)
    ray_info = None
    if args.ray is not None:
        if getattr(args, "server", None):
            raise CliError("--ray and --server: choose one place to run", USAGE)
        if not args.ray:  # a local Ray: its switches are read when ray is first imported
            from engine.ray_local import loopback_env

            loopback_env()
        from engine.batch.ray_pool import RayExecutor

        # It starts when the batch's first photo is read: a bad folder is reported before Ray starts.
        executor = RayExecutor(config, args.workers, args.gpus_per_worker, address=args.ray or None,
                               on_note=bar.note)
        ray_info = {"address": args.ray or "local"}
    else:
        executor = None
    started = time.monotonic()

    @closes_connections
    def go(_args):
        nonlocal executor
        if executor is None:
            executor = LocalExecutor(engine_for(args, config), bar.stage)
        return run_batch(settings, executor, on_line=bar.line, on_start=bar.start)

    try:
        summary = go(args)
    finally:
        bar.close()
        if ray_info is not None:
            executor.close()
    seconds = time.monotonic() - started
    done_now = len(summary.lines) - summary.skipped_done
    if ray_info is not None:
        ray_info.update(workers=executor.infos, gpus_per_worker=executor.gpus_per_worker,
                        startup_seconds=round(executor.startup_seconds, 3), replaced_workers=executor.replaced)
    data = {
        "in_dir": str(settings.in_dir), "out_dir": str(settings.out_dir), "instruction": settings.instruction,
        "total": summary.total, "ok": summary.ok, "failed": summary.failed, "resumed_done": summary.skipped_done,
        "ignored": summary.ignored, "base_seed": summary.base_seed, "report": str(summary.report),
        "sheet": str(summary.sheet), "seconds": round(seconds, 3),
        "photos_per_second": round(done_now / seconds, 4) if seconds > 0 and done_now else None,
        "workers": summary.workers, "ray": ray_info,
        "failures": [{"input": line["input"], "status": line["status"], "reason": line["reason"]}
                     for line in summary.lines if line["status"] != "ok"],
    }
    if args.json:
        print(json.dumps(data, indent=2))
    elif not args.quiet:
        print(f"{summary.ok} of {summary.total} photos edited into {settings.out_dir}"
              + (f", {summary.failed} not (see {summary.report})" if summary.failed else "")
              + f"; contact sheet: {summary.sheet}")
        if summary.ignored:
            print(f"ignored {len(summary.ignored)} files that are not photos: " + ", ".join(summary.ignored[:5])
                  + (" ..." if len(summary.ignored) > 5 else ""))
    return OK if summary.failed == 0 else SOME_FAILED
