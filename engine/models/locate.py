"""Finding weights: user folders, the app's models folder, and the Hugging Face cache.

Search order for a model ``name`` (the first *complete* copy wins):

1. the folder the user set for it: ``settings[name]``, else the environment variable
   ``BRUSHEDIT_MODEL_<NAME>`` (upper case, ``-`` -> ``_``, e.g. ``BRUSHEDIT_MODEL_SAM_VIT_H``);
   for a single-file model (SAM) it may name the checkpoint file itself;
2. the app's models folder, ``<models_dir>/<name>/`` with the model's files directly inside, where
   ``models_dir`` is ``$BRUSHEDIT_MODELS_DIR`` or ``platformdirs.user_data_path("BrushEditStudio")/"models"``;
3. the Hugging Face cache (``$HF_HUB_CACHE``, ``$HF_HOME/hub`` or ``~/.cache/huggingface/hub``),
   at the manifest's revision, else any cached snapshot: weights another tool already downloaded are
   used where they are, never copied.

A copy that is present but incomplete or corrupt is skipped by :func:`find_model` and reported by
:func:`model_status` with the file at fault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from engine.models.check import Problem, check_folder
from engine.models.manifest import MANIFEST, ModelSpec, get_spec

APP_NAME = "BrushEditStudio"


@dataclass(frozen=True)
class ModelLocation:
    """Where a model was found.

    ``folder`` holds the model's files; ``path`` is the folder, or for single-file models (SAM) the
    checkpoint file itself. ``source`` is "user", "app" or "hf-cache".
    """

    name: str
    folder: Path
    path: Path
    source: str


@dataclass(frozen=True)
class ModelStatus:
    """What :func:`model_status` reports.

    ``state`` is "installed", "missing", "incomplete" or "corrupt"; ``location`` is set when
    installed; ``file`` and ``problem`` say what is wrong otherwise; ``where`` is the folder at fault
    (or, when missing, the folder where a manual copy should go).
    """

    name: str
    state: str
    location: ModelLocation | None = None
    where: Path | None = None
    file: str | None = None
    problem: str = ""

    @property
    def installed(self) -> bool:
        return self.state == "installed"

    def describe(self) -> str:
        """One line for people."""
        if self.state == "installed" and self.location is not None:
            return f"{self.name}: installed ({self.location.source}) at {self.location.path}"
        if self.state == "missing":
            return f"{self.name}: missing"
        return f"{self.name}: {self.state} at {self.where}: {self.file}: {self.problem}"


def models_dir() -> Path:
    """The app's own models folder (``$BRUSHEDIT_MODELS_DIR`` overrides the platform default)."""
    env = os.environ.get("BRUSHEDIT_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_data_path(APP_NAME) / "models"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def env_var(name: str) -> str:
    """The environment variable that sets ``name``'s folder, e.g. ``BRUSHEDIT_MODEL_SAM_VIT_H``."""
    return "BRUSHEDIT_MODEL_" + name.upper().replace("-", "_")


def app_folder(name: str) -> Path:
    """Where ``name`` goes in the app's models folder (also the manual placement folder)."""
    return models_dir() / name


def _user_folder(name: str, settings: Mapping[str, object] | None) -> Path | None:
    value = (settings or {}).get(name) or os.environ.get(env_var(name))
    return Path(str(value)).expanduser() if value else None


def _hf_snapshots(spec: ModelSpec) -> list[Path]:
    """Snapshot folders of ``spec``'s repository in the HF cache, the manifest's revision first."""
    repo_dir = hf_cache_dir() / spec.cache_folder
    if not repo_dir.is_dir():
        return []
    found: list[Path] = []
    try:  # huggingface_hub's own resolution of refs/<revision> -> snapshots/<sha>
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(spec.repo_id, spec.repo_paths()[0], cache_dir=hf_cache_dir(),
                                     revision=spec.revision, repo_type=spec.repo_type)
        if isinstance(hit, str):
            snapshot = Path(hit)
            for _ in Path(spec.repo_paths()[0]).parts:
                snapshot = snapshot.parent
            found.append(snapshot)
    except Exception:  # a damaged cache must not stop the search
        pass
    ref = repo_dir / "refs" / spec.revision
    if ref.is_file():
        try:
            found.append(repo_dir / "snapshots" / ref.read_text("utf-8").strip())
        except OSError:
            pass
    found.append(repo_dir / "snapshots" / spec.revision)
    snapshots = repo_dir / "snapshots"
    if snapshots.is_dir():
        others = sorted(snapshots.iterdir(), key=lambda p: _mtime(p), reverse=True)
        found.extend(others)
    unique: list[Path] = []
    for p in found:
        if p not in unique and p.is_dir():
            unique.append(p)
    return unique


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def candidates(name: str, settings: Mapping[str, object] | None = None) -> list[tuple[str, Path]]:
    """Every place ``name`` may be, in search order: ``(source, folder-or-file)``."""
    spec = get_spec(name)
    out: list[tuple[str, Path]] = []
    user = _user_folder(name, settings)
    if user is not None:
        out.append(("user", user))
    out.append(("app", app_folder(name)))
    sub = spec.subfolder.strip("/")
    for snapshot in _hf_snapshots(spec):
        out.append(("hf-cache", snapshot / sub if sub else snapshot))
    return out


def _as_location(spec: ModelSpec, source: str, path: Path) -> tuple[ModelLocation | None, Problem | None]:
    if path.is_file() and len(spec.files) == 1:
        # A single-file model given as the file itself (any name: users rename checkpoints).
        from engine.models.check import check_file

        problem = check_file(spec, spec.files[0] if path.name == spec.files[0] else path.name, path)
        if problem is not None:
            return None, problem
        return ModelLocation(spec.name, path.parent, path, source), None
    problem = check_folder(spec, path)
    if problem is not None:
        return None, problem
    target = path / spec.files[0] if len(spec.files) == 1 else path
    return ModelLocation(spec.name, path, target, source), None


def find_model(name: str, settings: Mapping[str, object] | None = None) -> ModelLocation | None:
    """The first complete copy of ``name`` (see the module docstring), or ``None``.

    Parameters
    ----------
    name : str
        A manifest name.
    settings : mapping, optional
        Per-model user folders: ``name -> folder`` (or checkpoint file for SAM).
    """
    spec = get_spec(name)
    for source, path in candidates(name, settings):
        if not path.exists():
            continue
        location, _ = _as_location(spec, source, path)
        if location is not None:
            return location
    return None


def model_status(name: str, settings: Mapping[str, object] | None = None) -> ModelStatus:
    """Installed (with where), missing, or incomplete/corrupt with the file at fault."""
    spec = get_spec(name)
    first_problem: tuple[Path, Problem] | None = None
    for source, path in candidates(name, settings):
        if not path.exists():
            if source == "user" and first_problem is None:
                first_problem = (path, Problem("incomplete", ".", f"the folder set for {name} does not exist"))
            continue
        if source != "user" and path.is_dir() and not _holds_any(spec, path):
            continue  # e.g. sam-vit-h's place in a cache snapshot that holds only sam-vit-b: missing
        location, problem = _as_location(spec, source, path)
        if location is not None:
            return ModelStatus(name, "installed", location=location)
        if problem is not None and first_problem is None:
            first_problem = (path, problem)
    if first_problem is None:
        return ModelStatus(name, "missing", where=app_folder(name))
    where, problem = first_problem
    return ModelStatus(name, problem.state, where=where, file=problem.file, problem=problem.reason)


def _holds_any(spec: ModelSpec, folder: Path) -> bool:
    """Whether ``folder`` holds any file of ``spec`` (a repository's snapshot may hold only another
    model's files: SAM's three checkpoints share one repository)."""
    return any((folder / rel).exists() or (folder / (rel + ".part")).exists() for rel in spec.files)


def all_status(settings: Mapping[str, object] | None = None) -> list[ModelStatus]:
    """:func:`model_status` of every manifest entry, in manifest order."""
    return [model_status(n, settings) for n in MANIFEST]
