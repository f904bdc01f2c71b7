"""The batch run behind ``brushedit batch`` and the editor's File ▸ Batch…: no Qt, no argparse, no printing.

It lists the photos, derives each one's seed, reads it (and its mask), hands the work to an
*executor* (this process's engine, a Ray pool, or the editor's engine client), writes each output
atomically, appends one report line per photo, and at the end writes the contact sheet.

The pixels of the files go through the caller's :class:`BatchFiles` (the document side:
:class:`desktop.document.result_files.DocumentFiles`, which the CLI and the editor both hand in), since
the engine never imports the editor; everything else (folders, seeds, the report, the state, the
sheet's page) is here.

Nothing lost, nothing silent
----------------------------
- Every file lands through ``files.write_bytes`` / ``files.write_layers``, atomic writes (temporary
  file, fsync, rename): a kill leaves the previous file or none, never half of one; ``--resume`` removes
  the temporary files a killed run left in OUT_DIR (``files.remove_parts``).
- ``OUT_DIR/report.jsonl`` gets one line per finished photo, appended with a single ``write`` and
  fsynced, so a kill leaves every earlier line whole (a torn last line is ignored on reading). At the
  end of a run it is rewritten atomically with exactly one line per input, in input order.
- ``OUT_DIR/batch.json`` records the settings that decide the pixels and the base seed, so a resumed
  run paints exactly what the uninterrupted one would have (it refuses different settings).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from engine.batch.files import (  # noqa: F401 - the batch's names, importable from here
    IMAGE_INPUTS,
    REPORT,
    SHEET,
    STATE,
    THUMBS,
    WRITABLE,
    BatchError,
    Item,
    ReportWriter,
    check_folders,
    list_items,
    read_report,
    resolve_base_seed,
    start_state,
)
from engine.batch.settings import BatchFiles, BatchSettings
from engine.batch.sheet import sheet_html, thumb_name, thumbnail_jpeg


@dataclass
class BatchSummary:
    total: int = 0
    ok: int = 0
    failed: int = 0
    skipped_done: int = 0
    ignored: list[str] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    workers: list[dict] = field(default_factory=list)
    base_seed: int = 0
    cancelled: bool = False
    report: Path | None = None
    sheet: Path | None = None


# --- the run -------------------------------------------------------------------------------------------


@dataclass
class _Read:
    item: Item
    doc: Any
    rgba: Any
    work: Any


def run_batch(s: BatchSettings, executor: Any, files: BatchFiles,
              on_line: Callable[[dict, int, int], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None,
              on_start: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Run the batch ``s`` on ``executor`` (see :class:`LocalExecutor`), its files through ``files``;
    returns what happened.

    ``on_line(line, done, total)`` is told each report line as it is written; ``on_start(todo, total)``
    once the items are known. Raises :class:`~engine.api.MissingModelsError` (after reporting the photo)
    when the engine lacks weights, since every other photo would fail the same way.
    """
    from engine.api import Cancelled, MissingModelsError

    s.in_dir, s.out_dir = check_folders(s.in_dir, s.out_dir, s.mask)
    if s.instruction:
        _check_single_step(s.instruction)
    base = resolve_base_seed(s)
    items, ignored = list_items(s, base)
    if not items:
        raise BatchError(f"IN_DIR {s.in_dir}: no photos ({', '.join(IMAGE_INPUTS)})"
                         + ("" if s.recursive else "; --recursive looks in sub-folders too"))
    start_state(s, base, files)
    previous = read_report(s.out_dir / REPORT) if s.resume else {}
    summary = BatchSummary(total=len(items), ignored=ignored, base_seed=base, report=s.out_dir / REPORT)
    done_lines: dict[str, dict] = {}
    todo: list[Item] = []
    for item in items:
        old = previous.get(item.key)
        if old and old.get("status") == "ok" and old.get("seed") == item.seed and Path(old["output"]).is_file():
            done_lines[item.key] = old
        else:
            todo.append(item)
    summary.skipped_done = len(done_lines)
    if on_start is not None:
        on_start(len(todo), len(items))
    writer = ReportWriter(s.out_dir / REPORT)
    reads: dict[str, _Read] = {}
    started: dict[str, float] = {}

    def record(line: dict) -> None:
        done_lines[line["key"]] = line  # first: a Ctrl+C right after the append must not lose it
        writer.append(line)
        if on_line is not None:
            on_line(line, len(done_lines) - summary.skipped_done, len(todo))

    def works() -> Iterator[Any]:
        for item in todo:
            if is_cancelled is not None and is_cancelled():
                summary.cancelled = True
                return
            started[item.key] = time.monotonic()
            if item.problem:
                record(_line(s, item, "skipped", item.problem, started))
                continue
            try:
                read = _read(s, item, files)
            except Exception as exc:  # noqa: BLE001 - a bad file is reported, the rest carry on
                record(_line(s, item, "bad-input", _reason(exc), started))
                continue
            reads[item.key] = read
            yield read.work

    by_key = {item.key: item for item in todo}

    def consume() -> None:
        for key, outcome in executor.map(works(), is_cancelled):
            item, read = by_key[key], reads.pop(key, None)
            if isinstance(outcome, BaseException):
                kind = getattr(outcome, "kind", "") or "error"
                status = kind if kind in ("nothing-found", "worker-lost") else "failed"
                record(_line(s, item, status, _reason(outcome), started))
                if isinstance(outcome, MissingModelsError) or kind == "missing-models":
                    raise outcome  # every other photo would fail the same way
                continue
            try:
                line = _write_item(s, item, read, outcome, started, files)
            except Exception as exc:  # noqa: BLE001 - a full disk on one output is reported
                line = _line(s, item, "failed", f"cannot write the output: {_reason(exc)}", started)
            record(line)
            if is_cancelled is not None and is_cancelled():
                return

    try:
        consume()
    except Cancelled:
        summary.cancelled = True
    finally:
        writer.close()
        if is_cancelled is not None and is_cancelled():
            summary.cancelled = True
        # The appended lines (an earlier run's too: the last word on each photo), this run's over them.
        known = {**read_report(s.out_dir / REPORT), **done_lines}
        ordered = [known[i.key] for i in items if i.key in known]
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in ordered)
        files.write_bytes(s.out_dir / REPORT, text.encode("utf-8"))
        summary.sheet = s.out_dir / SHEET
        files.write_bytes(summary.sheet, sheet_html(s, ordered, len(items)).encode("utf-8"))
        summary.lines = ordered
    summary.ok = sum(1 for line in ordered if line["status"] == "ok")
    summary.failed = len(ordered) - summary.ok
    workers = {(w["host"], w["pid"]): w for line in ordered if (w := line.get("worker"))}
    summary.workers = list(workers.values())
    return summary


def _check_single_step(instruction: str) -> None:
    try:
        from engine.instructor import parse_steps
    except ImportError:  # pragma: no cover
        return
    try:
        steps = parse_steps(instruction)
    except ValueError:
        return
    if len(steps) > 1:
        raise BatchError(f"batch runs one edit per photo and {instruction!r} reads as {len(steps)} steps: "
                         "run one batch per step (the first batch's OUT_DIR as the next one's IN_DIR)")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    hint = getattr(exc, "hint", "")
    return f"{text} ({hint})" if hint and hint not in text else text


def _read(s: BatchSettings, item: Item, files: BatchFiles) -> _Read:
    from dataclasses import replace

    from engine.batch import BatchWork

    doc, rgba, rgb = files.open_photo(item.path, s.max_pixels)
    _thumb(files, rgb, s.out_dir, item.key, "before")
    mask = None
    if item.mask_path is not None:
        h, w = rgb.shape[:2]
        try:
            mask = files.read_mask(item.mask_path, w, h)
        except ValueError as exc:
            raise ValueError(f"--mask: {exc}") from None
    work = BatchWork(item.key, rgb, mask, s.instruction, replace(s.params, seed=item.seed), s.instructor,
                     s.prompt, s.negative)
    return _Read(item, doc, rgba, work)


def _write_item(s: BatchSettings, item: Item, read: _Read, done: Any, started: dict, files: BatchFiles) -> dict:
    from engine.api import EngineError
    from engine.result_layers import result_layers
    from masks import mask_ops

    if not done.result.candidates:
        raise EngineError("the engine returned no result")
    item.output.parent.mkdir(parents=True, exist_ok=True)
    layers = result_layers(done.request, done.result, read.rgba, item.path.name)
    files.write_layers(item.output, read.doc, read.rgba, layers, done.request.mask)
    ora = None
    if s.ora:
        ora = item.output.with_suffix(".ora")
        files.write_layers(ora, read.doc, read.rgba, layers, done.request.mask)
    cand = done.result.candidates[0]
    _thumb(files, cand.image, s.out_dir, item.key, "after")
    line = _line(s, item, "ok", "", started)
    line.update(output=str(item.output), ora=str(ora) if ora else None, seed=int(cand.seed),
                seconds=round(getattr(done, "seconds", 0.0) or done.result.seconds or line["seconds"], 3),
                engine=done.result.engine, painter=done.result.engine, model=done.result.model,
                category=done.request.category, target=done.request.target, caption=done.caption,
                instructor=done.instructor, mask_bbox=list(mask_ops.bbox(done.request.mask) or ()),
                worker=worker_summary(done.result))
    return line


def worker_summary(result: Any) -> dict:
    """The process that painted ``result`` (host, pid, device); this one when the result names none."""
    worker = getattr(result, "worker", None)
    if worker is None:
        from engine.device import engine_status, worker_info

        worker = worker_info(engine_status().device)
    return {"host": worker.host, "pid": worker.pid, "device": worker.device}


def _line(s: BatchSettings, item: Item, status: str, reason: str, started: dict) -> dict:
    seconds = time.monotonic() - started.get(item.key, time.monotonic())
    mask = (str(item.mask_path) if item.mask_path else ("planned" if s.instruction else None))
    return {"key": item.key, "input": str(item.path), "output": None, "status": status, "reason": reason,
            "seconds": round(seconds, 3), "seed": item.seed, "mask": mask, "engine": None, "painter": None,
            "instructor": None, "worker": None}


def _thumb(files: BatchFiles, rgb: Any, out_dir: Path, key: str, which: str) -> None:
    folder = out_dir / THUMBS
    folder.mkdir(exist_ok=True)
    files.write_bytes(folder / thumb_name(key, which), thumbnail_jpeg(rgb))


# --- executors -----------------------------------------------------------------------------------------


class LocalExecutor:
    """Runs each photo on ``engine`` in this thread, one after the other."""

    def __init__(self, engine: Any, progress: Callable[..., None] | None = None) -> None:
        self.engine = engine
        self.progress = progress

    def map(self, works: Iterable[Any], is_cancelled: Callable[[], bool] | None = None
            ) -> Iterator[tuple[str, Any]]:
        from engine.batch import edit_one

        for work in works:
            try:
                yield work.key, edit_one(self.engine, work, self.progress, is_cancelled)
            except Exception as exc:  # noqa: BLE001 - the runner reports it and carries on
                from engine.api import Cancelled

                if isinstance(exc, Cancelled):
                    raise
                yield work.key, exc
