"""Answers to the engine's cheap questions (:data:`engine.api.Query`): model status, path checks,
the offline parse. They read file headers and rules only (never torch), so they are answered at once,
on the caller's thread, by the in-process service and by the studio server alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.api import (
    FolderCheck,
    FolderCheckRequest,
    ModelEntry,
    ModelPathRequest,
    ModelPathStatus,
    ModelStatusReport,
    ModelStatusRequest,
    ParsedInstruction,
    ParseRequest,
)

_SOURCES = {"app": "app models folder", "hf-cache": "Hugging Face cache", "user": "set by environment"}


def answer(query: Any) -> Any:
    """The answer to one query; ``ValueError`` for anything else."""
    if isinstance(query, ModelStatusRequest):
        return model_status_report(query)
    if isinstance(query, ModelPathRequest):
        return model_path_status(query.model_kind, query.path)
    if isinstance(query, FolderCheckRequest):
        return check_folder(query.name, query.folder)
    if isinstance(query, ParseRequest):
        return parse(query.instruction)
    raise ValueError(f"not an engine query: {type(query).__name__}")


def model_status_report(query: ModelStatusRequest) -> ModelStatusReport:
    """The weights manifest with each entry's install status."""
    from engine import models

    settings = dict(query.model_dirs) or None
    features = getattr(models, "FEATURES", {})
    entries = []
    for name, spec in models.MANIFEST.items():
        if query.names and name not in query.names:
            continue
        try:
            status = models.model_status(name, settings)
            state = str(status.state)
            installed = bool(status.installed)
            if not installed and getattr(status, "problem", ""):  # which file, and why (as models list)
                file = getattr(status, "file", None)
                state += f": {file}: {status.problem}" if file and file != "." else f": {status.problem}"
        except Exception as exc:  # a broken folder must not break the dialog
            state, installed = f"error: {exc}", False
        enables = "; ".join(features.get(f, f) for f in getattr(spec, "features", ()))
        title = getattr(spec, "title", "")
        notes = getattr(spec, "notes", "")
        entries.append(ModelEntry(
            name=str(name), size_bytes=getattr(spec, "size_bytes", None), installed=installed,
            status=state, enables=enables, description=" — ".join(t for t in (title, notes) if t),
            default=bool(getattr(spec, "default", False)), model_kind=str(getattr(spec, "kind", "")),
        ))
    return ModelStatusReport(tuple(entries))


def model_names(kind: str) -> list[str]:
    """Manifest names of one kind, the default first."""
    from engine.models import MANIFEST

    specs = [s for s in MANIFEST.values() if s.kind == kind]
    return [s.name for s in sorted(specs, key=lambda s: not s.default)]


def check_folder(name: str, folder: Any) -> FolderCheck:
    """The first problem of ``folder`` as a copy of manifest model ``name``."""
    from engine import models

    problem = models.check_folder(models.get_spec(name), Path(folder))
    if problem is None:
        return FolderCheck(True)
    return FolderCheck(False, str(getattr(problem, "file", "")), str(getattr(problem, "reason", problem)))


def model_path_status(kind: str, path: Any = None) -> ModelPathStatus:
    """Check a user's folder (or checkpoint file) for a model of ``kind``; empty: the automatic search.

    Reads file headers only (``engine.models.check``), so it is cheap enough for the GUI thread.
    """
    from engine.models import MANIFEST, model_status as _status
    from engine.models.check import check_file, check_folder as _check

    names = model_names(kind)
    if not names:
        return ModelPathStatus(False, f"unknown model kind {kind!r}")
    if not path or not str(path).strip():
        first_problem = None
        for name in names:
            status = _status(name)
            if status.installed and status.location is not None:
                source = _SOURCES.get(status.location.source, status.location.source)
                return ModelPathStatus(True, f"Found automatically: {name} ({source})", name)
            if status.state != "missing" and first_problem is None:
                first_problem = f"{name} is {status.state} ({status.file}: {status.problem})"
        text = first_problem or f"Not installed: download {names[0]} with Engine ▸ Models…"
        return ModelPathStatus(False, text)
    p = Path(str(path).strip()).expanduser()
    if not p.exists():
        return ModelPathStatus(False, "Not usable: no such file or folder")
    specs = [MANIFEST[n] for n in names]
    if p.is_file():
        single = [s for s in specs if len(s.files) == 1]
        if not single:
            return ModelPathStatus(False, "Not usable: choose the model's folder, not a file")
        spec = next((s for s in single if s.files[0] == p.name), None) or _renamed(single, p)
        if spec is None:
            return ModelPathStatus(False, f"Not usable: {p.name} is none of the {kind} checkpoints this app "
                                          "knows (its size or header differs)")
        problem = check_file(spec, spec.files[0], p)  # the manifest's size check, whatever the file is called
        if problem is not None:
            return ModelPathStatus(False, f"Not usable: {p.name}: {problem.reason}")
        return ModelPathStatus(True, f"Usable: {spec.title}", spec.name)
    # Models of one kind with the same files (BrushNet variants, SD1.5 fine-tunes) cannot be told
    # apart by their folder: name the model only where the layout does (SAM sizes, Qwen2-VL sizes).
    same_layout = len({s.files for s in specs}) == 1
    first = None
    for spec in specs:
        problem = _check(spec, p)
        if problem is None:
            return ModelPathStatus(True, "Usable: all files present" if same_layout else f"Usable: {spec.title}",
                                   spec.name)
        first = first or problem
    return ModelPathStatus(False, f"Not usable: {first.file}: {first.reason}")


def _renamed(specs: list[Any], path: Path) -> Any:
    """The single-file spec a renamed checkpoint is: its exact size, and a torch zip's directory for
    ``.pth`` (a name the manifest does not know earns no trust: ``/etc/passwd`` is no SAM)."""
    import zipfile

    try:
        size = path.stat().st_size
    except OSError:
        return None
    for spec in specs:
        expected = spec.file_sizes.get(spec.files[0])
        if expected is None or size != expected:
            continue
        if spec.files[0].endswith((".pth", ".pt", ".ckpt")) and not zipfile.is_zipfile(path):
            continue
        return spec
    return None


def parse(instruction: str) -> ParsedInstruction:
    """The offline parser's first step of ``instruction`` (and how many steps the whole reads as)."""
    from dataclasses import fields

    from engine.instructor import parse_instruction, parse_steps

    intent = parse_instruction(instruction)
    names = {f.name for f in fields(ParsedInstruction)}
    return ParsedInstruction(**{k: v for k, v in vars(intent).items() if k in names},
                             step_count=max(1, len(parse_steps(instruction))))
