"""The files of a batch: which photos and masks, where each output goes, the state and the report.

Plain ``os`` and ``json`` over paths: the photos' pixels and the outputs go through the caller's
:class:`~engine.batch.settings.BatchFiles` (the document side). See :mod:`engine.batch.run` for why every write
is atomic and how ``--resume`` stays exact.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from engine.api import EngineError
from engine.batch.settings import BatchFiles, BatchSettings


class BatchError(EngineError):
    """A batch that cannot start (a bad folder, an existing batch, changed settings on resume): bad input,
    one line fit to show the user (the CLI exits 2)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint, "bad-input")


IMAGE_INPUTS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
WRITABLE = (".png", ".jpg", ".jpeg", ".webp")  # what Document.export writes; others become .png
REPORT, STATE, SHEET, THUMBS = "report.jsonl", "batch.json", "index.html", "thumbs"
MASK_SUFFIXES = ("", ".mask", "_mask", "-mask")  # cat.png's mask: cat.png, cat.mask.png, cat_mask.png, ...


@dataclass
class Item:
    """One input photo and where its results go."""

    key: str  # path relative to IN_DIR, "/"-separated
    path: Path
    output: Path
    seed: int
    mask_path: Path | None = None
    problem: str = ""  # known before reading: an output clash, no mask



# --- folders and items --------------------------------------------------------------------------------


def check_folders(in_dir: Path, out_dir: Path, mask: Path | None) -> tuple[Path, Path]:
    """Resolve and check IN_DIR and OUT_DIR (created); OUT_DIR may not be IN_DIR."""
    src = Path(in_dir).expanduser()
    if not src.is_dir():
        raise BatchError(f"IN_DIR {in_dir}: not a folder")
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise BatchError(f"-o {out_dir}: exists and is not a folder")
    if out.resolve() == src.resolve():
        raise BatchError(f"-o {out_dir}: the output folder is the input folder; the inputs would be "
                         "overwritten, choose another folder")
    if mask is not None and not Path(mask).exists():
        raise BatchError(f"--mask {mask}: not found")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"-o {out_dir}: cannot create the folder ({exc.strerror or exc})") from None
    return src.resolve(), out.resolve()


def list_items(s: BatchSettings, base_seed: int) -> tuple[list[Item], list[str]]:
    """The photos of IN_DIR (sorted; OUT_DIR, the mask folder and earlier batches' outputs left out) and
    the ignored files."""
    from engine.batch import derive_seed

    skip = {s.out_dir.resolve()}
    if s.mask is not None and s.mask.is_dir():
        skip.add(s.mask.resolve())
    found: list[Path] = []
    ignored: list[str] = []
    for root, dirs, files in os.walk(s.in_dir):
        root_path = Path(root)
        # Another batch's OUT_DIR (it holds batch.json) is results, not photos to edit again.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (root_path / d).resolve() not in skip
                         and not (root_path / d / STATE).is_file())
        for name in sorted(files):
            if name.startswith("."):
                continue
            (found if Path(name).suffix.lower() in IMAGE_INPUTS else ignored).append(root_path / name)
        if not s.recursive:
            break
    inputs = {p.resolve() for p in found}
    items, claimed = [], {}
    mask_index = _mask_index(s.mask) if s.mask is not None and s.mask.is_dir() else None
    for path in found:
        key = path.relative_to(s.in_dir).as_posix()
        item = Item(key, path, _output_of(s, key), derive_seed(base_seed, key))
        if mask_index is not None:
            item.mask_path = _find_mask(mask_index, key)
            if item.mask_path is None and not s.instruction:
                item.problem = f"no mask for it in {s.mask} (looked for {Path(key).stem}.* and {Path(key).stem}.mask.*)"
        elif s.mask is not None:
            item.mask_path = s.mask
        out = item.output.resolve()
        if out in inputs:
            item.problem = f"its output {item.output} would overwrite an input"
        elif out in claimed:
            item.problem = f"its output {item.output.name} is also {claimed[out]}'s (use --format or rename)"
        claimed.setdefault(out, key)
        items.append(item)
    return items, [p.relative_to(s.in_dir).as_posix() for p in ignored]


def _output_of(s: BatchSettings, key: str) -> Path:
    rel = Path(key)
    suffix = s.fmt or (rel.suffix if rel.suffix.lower() in WRITABLE else ".png")
    return s.out_dir / rel.with_suffix(suffix)


def _mask_index(folder: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_INPUTS:
            index.setdefault(path.relative_to(folder).with_suffix("").as_posix(), path)
    return index


def _find_mask(index: dict[str, Path], key: str) -> Path | None:
    rel = Path(key).with_suffix("")
    for stem in (rel.as_posix(), rel.name):  # beside it in the same sub-folder, else by name alone
        for extra in MASK_SUFFIXES:
            found = index.get(stem + extra)
            if found is not None:
                return found
    return None


# --- state, report -------------------------------------------------------------------------------------


def read_report(path: Path) -> dict[str, dict]:
    """The last line per input of a report (a torn last line, from a kill, is ignored)."""
    lines: dict[str, dict] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return lines
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and "key" in line:
            lines[line["key"]] = line
    return lines


class ReportWriter:
    """Appends one JSON line per photo: one ``write`` of the whole line, then fsync."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size:  # a torn last line (a kill mid-write) must not swallow ours
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    os.write(self._fd, b"\n")

    def append(self, line: dict) -> None:
        os.write(self._fd, (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def resolve_base_seed(s: BatchSettings) -> int:
    """The base seed: new (given or random) for a new batch, the recorded one for ``--resume``."""
    state_path = s.out_dir / STATE
    if not s.resume:
        if state_path.exists() or (s.out_dir / REPORT).exists():
            raise BatchError(f"-o {s.out_dir}: holds a batch already; --resume continues it, or choose "
                             "another folder")
        base = s.base_seed if s.base_seed is not None else secrets.randbelow(2**31 - 1)
    else:
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BatchError(f"--resume: {s.out_dir} holds no batch to resume ({STATE} is missing)") from None
        except ValueError:
            raise BatchError(f"--resume: {state_path} is not readable JSON") from None
        base = int(state["base_seed"])
        if s.base_seed is not None and s.base_seed != base:
            raise BatchError(f"--resume: --seed {s.base_seed} differs from the batch's base seed {base}")
        theirs, ours = state.get("settings", {}), json.loads(json.dumps(s.pixel_settings()))
        changed = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        if "params" in changed:
            changed.remove("params")
            changed += sorted(f"--{k.replace('_', '-')}" for k in set(theirs["params"]) | set(ours["params"])
                              if theirs["params"].get(k) != ours["params"].get(k))
        if changed:
            raise BatchError("--resume: these settings differ from the batch being resumed, so its photos "
                             "would not match: " + ", ".join(changed))
    return base


def start_state(s: BatchSettings, base: int, files: BatchFiles) -> None:
    """Record the batch in OUT_DIR/batch.json; on resume, first remove a killed run's temporary files."""
    if s.resume:
        files.remove_parts(s.out_dir)
    text = json.dumps({"version": 1, "in_dir": str(s.in_dir), "base_seed": base,
                       "settings": s.pixel_settings()}, indent=2) + "\n"
    files.write_bytes(s.out_dir / STATE, text.encode("utf-8"))
