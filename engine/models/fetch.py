"""Getting weights: from the Hugging Face Hub into its cache (resumable), or from a local mirror.

``download(names)`` fetches each model's files with ``huggingface_hub.hf_hub_download``, one by one
(so every byte reaches the progress callback), at the manifest's revision, into the shared HF cache
(where other tools find them too); sharded weights also get every shard their index names.
Interrupted downloads resume: the hub client keeps partial files and continues them.
``HF_HUB_OFFLINE=1`` is respected: nothing is fetched and the error says where to place the files.

``source=`` names a local folder laid out like the hub (``<source>/<repo_id>/<subfolder>/<files>``),
for air-gapped sites and for the tests; its files are copied into the app's models folder
(``<models_dir>/<name>/``), resuming where an earlier copy stopped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Callable, Iterable, Mapping

from engine.api import EngineError
from engine.models.check import check_folder
from engine.models.locate import app_folder, find_model, hf_cache_dir
from engine.models.manifest import ModelSpec, get_spec

ProgressFn = Callable[..., None]
_CHUNK = 4 * 1024 * 1024


def is_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) asks for no network."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def manual_placement(spec: ModelSpec) -> str:
    """How to place ``spec`` by hand: the folder and the files it must hold."""
    folder = app_folder(spec.name)
    files = ", ".join(spec.files[:4]) + (", ..." if len(spec.files) > 4 else "")
    if spec.manual_steps:
        return (f"{spec.manual_steps}; place those files in {folder} (or set {_env(spec)} to "
                "their folder)")
    return (f"download {spec.url} and place its files ({files}) in {folder}"
            f" (or set {_env(spec)} to their folder; full layout: brushedit models where {spec.name})")


def _env(spec: ModelSpec) -> str:
    from engine.models.locate import env_var

    return env_var(spec.name)


def download(
    names: Iterable[str],
    *,
    progress: ProgressFn | None = None,
    source: str | Path | None = None,
    settings: Mapping[str, object] | None = None,
    force: bool = False,
) -> list[Path]:
    """Download manifest models that are not installed yet; return their folders.

    Parameters
    ----------
    names : iterable of str
        Manifest names.
    progress : callable, optional
        ``progress(done_bytes, total_bytes, stage)`` where ``stage`` names the model and file.
    source : str or Path, optional
        A local folder laid out like the hub to copy from instead of the network.
    settings : mapping, optional
        Per-model user folders (an installed copy there counts as installed).
    force : bool
        Fetch even when a complete copy is found.

    Raises
    ------
    ValueError
        An unknown model name.
    EngineError
        Offline, network, authentication or disk failures, with a hint that says what to do.
    """
    specs = [get_spec(n) for n in names]
    out: list[Path] = []
    for spec in specs:
        if not force:
            found = find_model(spec.name, settings)
            if found is not None:
                out.append(found.folder)
                if progress:
                    progress(1, 1, f"{spec.name}: already installed")
                continue
        if spec.import_from and source is None:
            raise EngineError(
                f"{spec.name} is published as {', '.join(spec.import_from)}, which is converted, not loaded",
                hint=f"download it from {spec.url} and run: brushedit models import {spec.name} FILE",
                kind="missing-models")
        if source is not None:
            out.append(_copy_from_mirror(spec, Path(source), progress))
        else:
            out.append(_download_from_hub(spec, progress, force=force))
    return out


def _copy_from_mirror(spec: ModelSpec, source: Path, progress: ProgressFn | None) -> Path:
    root = source / spec.repo_id
    sub = spec.subfolder.strip("/")
    src = root / sub if sub else root
    if not src.is_dir():
        raise EngineError(f"{spec.name}: {src} not found in the mirror {source}",
                          hint=f"the mirror must hold <repo_id>/<subfolder>/ files, e.g. {spec.repo_id}/{sub}",
                          kind="missing-models")
    from engine.models.check import required_files

    files = required_files(spec, src)
    missing = [f for f in files if not (src / f).is_file()]
    if missing:
        raise EngineError(f"{spec.name}: the mirror lacks {missing[0]}", hint=manual_placement(spec),
                          kind="missing-models")
    dest = app_folder(spec.name)
    total = sum((src / f).stat().st_size for f in files)
    done = 0
    try:
        for rel in files:
            done = _copy_resumable(src / rel, dest / rel, done, total, progress, f"{spec.name}: {rel}")
    except OSError as exc:
        raise EngineError(f"{spec.name}: cannot write {dest} ({exc.strerror or exc})",
                          hint="free some disk space or set BRUSHEDIT_MODELS_DIR to another disk",
                          kind="error") from None
    problem = check_folder(spec, dest)
    if problem is not None:
        raise EngineError(f"{spec.name}: copied, but {problem}", hint="delete the folder and retry",
                          kind="error")
    return dest


def _copy_resumable(src: Path, dst: Path, done: int, total: int, progress: ProgressFn | None,
                    stage: str) -> int:
    """Copy ``src`` to ``dst`` via ``dst.part``, continuing a partial copy; returns bytes done."""
    size = src.stat().st_size
    if dst.is_file() and dst.stat().st_size == size:
        done += size
        if progress:
            progress(done, total, stage)
        return done
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    if offset > size:
        offset = 0
    with open(src, "rb") as fin, open(part, "r+b" if offset else "wb") as fout:
        fin.seek(offset)
        fout.seek(offset)
        fout.truncate()
        done += offset
        while True:
            chunk = fin.read(_CHUNK)
            if not chunk:
                break
            fout.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total, stage)
    os.replace(part, dst)
    return done


def _download_from_hub(spec: ModelSpec, progress: ProgressFn | None, force: bool = False) -> Path:
    if spec.manual_steps:
        raise EngineError(f"{spec.name} cannot be downloaded by the app (no Hugging Face copy)",
                          hint=manual_placement(spec), kind="missing-models")
    if is_offline():
        raise EngineError(
            f"{spec.name} is not installed and HF_HUB_OFFLINE is set, so it cannot be downloaded",
            hint="unset HF_HUB_OFFLINE, or " + manual_placement(spec),
            kind="missing-models",
        )
    free = _free_bytes(hf_cache_dir())
    if free is not None and free < spec.size_bytes * 1.05:
        raise EngineError(
            f"{spec.name} needs {spec.size_bytes / 1e9:.1f} GB and {hf_cache_dir()} has "
            f"{free / 1e9:.1f} GB free",
            hint="free some disk space or set HF_HOME to a larger disk", kind="error",
        )
    try:
        import huggingface_hub
        from huggingface_hub import errors as hf_errors
    except ImportError:  # pragma: no cover - a declared dependency
        raise EngineError("huggingface_hub is not installed", hint="pip install huggingface_hub") from None
    counter = _ByteCounter(progress, spec)
    prefix = spec.subfolder.strip("/") + "/" if spec.subfolder else ""
    pending = list(spec.files)
    fetched: list[str] = []
    snapshot: Path | None = None
    retries = _RetryReporter(counter)
    retries.attach()
    try:
        # File by file (not snapshot_download): each file's bytes reach the progress callback, and an
        # interrupted file resumes from its .incomplete part on the next call.
        while pending:
            rel = pending.pop(0)
            local = huggingface_hub.hf_hub_download(
                spec.repo_id, prefix + rel, revision=spec.revision, repo_type=spec.repo_type,
                cache_dir=str(hf_cache_dir()),
                tqdm_class=counter.tqdm_class(rel) if progress else None,
                # The hub client returns a cached file as it is: --force, or a cached copy that is
                # truncated or corrupt, must fetch the bytes again.
                force_download=force or _cached_copy_is_broken(spec, prefix + rel, rel),
            )
            fetched.append(rel)
            if snapshot is None:
                snapshot = Path(local)
                for _ in Path(prefix + rel).parts:
                    snapshot = snapshot.parent
            if rel.endswith(".index.json"):  # sharded weights: fetch every shard the index names
                from engine.models.check import required_files

                folder = snapshot / prefix if prefix else snapshot
                pending += [f for f in required_files(spec, folder) if f not in fetched and f not in pending]
    except hf_errors.GatedRepoError:
        raise EngineError(f"{spec.repo_id} is gated: accept its licence on the Hub first",
                          hint=f"open {spec.url}, accept the terms, then run `hf auth login` "
                               "(or set HF_TOKEN) and retry", kind="missing-models") from None
    except hf_errors.RepositoryNotFoundError:
        raise EngineError(f"{spec.repo_id} was not found on the Hub (private, renamed, or needs a token)",
                          hint="set HF_TOKEN if it is private, or " + manual_placement(spec),
                          kind="missing-models") from None
    except hf_errors.RevisionNotFoundError:
        raise EngineError(f"revision {spec.revision} of {spec.repo_id} was not found",
                          hint=manual_placement(spec), kind="missing-models") from None
    except hf_errors.LocalEntryNotFoundError:
        raise EngineError(f"cannot reach the Hugging Face Hub to download {spec.name}",
                          hint="check the network; behind a proxy set HTTPS_PROXY (or HF_ENDPOINT for a "
                               "mirror); or " + manual_placement(spec), kind="missing-models") from None
    except hf_errors.RemoteEntryNotFoundError:
        raise EngineError(f"{spec.repo_id} has no {prefix}{rel} at {spec.revision}: the repository changed",
                          hint=manual_placement(spec), kind="missing-models") from None
    except hf_errors.HfHubHTTPError as exc:
        raise EngineError(f"download of {spec.name} failed: {str(exc).splitlines()[0]}",
                          hint="retry (it resumes); behind a proxy set HTTPS_PROXY; or "
                               + manual_placement(spec), kind="missing-models") from None
    except OSError as exc:
        raise EngineError(f"download of {spec.name} failed: {exc.strerror or exc}",
                          hint="check free disk space and the network, then retry (it resumes)",
                          kind="error") from None
    finally:
        retries.detach()
    assert snapshot is not None
    folder = snapshot / prefix.rstrip("/") if prefix else snapshot
    problem = check_folder(spec, folder)
    if problem is not None:
        raise EngineError(f"{spec.name}: downloaded, but {problem}",
                          hint="the repository may have changed; " + manual_placement(spec), kind="error")
    return folder


def _cached_copy_is_broken(spec: ModelSpec, repo_path: str, rel: str) -> bool:
    """Whether the HF cache holds ``repo_path`` of ``spec`` at its revision and that copy fails the
    cheap check (a truncated or zero-filled file)."""
    from engine.models.check import check_file

    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(spec.repo_id, repo_path, cache_dir=hf_cache_dir(),
                                     revision=spec.revision, repo_type=spec.repo_type)
    except Exception:  # noqa: BLE001 - a damaged cache: let the download itself say what is wrong
        return False
    return isinstance(hit, str) and check_file(spec, rel, Path(hit)) is not None


class _RetryReporter(logging.Handler):
    """huggingface_hub logs its retries ("Retrying in 8s [Retry 2/5]") as warnings, which reach
    only stderr: turn them into progress stages, so the Models dialog and the CLI's bar say why a
    download stalls."""

    _RETRY = re.compile(r"(?:Waiting|Retrying in) (\d+(?:\.\d+)?)s.*\[Retry (\d+)/(\d+)\]")

    def __init__(self, counter: "_ByteCounter") -> None:
        super().__init__(logging.WARNING)
        self.counter = counter

    def attach(self) -> None:
        if self.counter.progress is not None:
            logging.getLogger("huggingface_hub").addHandler(self)

    def detach(self) -> None:
        logging.getLogger("huggingface_hub").removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format itself is not worth a stage
            return
        match = self._RETRY.search(text)
        if match:
            wait, n, of = match.groups()
            self.counter.say(f"connection problem, retry {n}/{of} in {float(wait):.0f} s")
        elif "Trying to resume download" in text:
            self.counter.say("connection lost, resuming the download")


class _ByteCounter:
    """Adds up the bytes of every file of one model for ``progress(done, total, stage)``."""

    def __init__(self, progress: ProgressFn | None, spec: ModelSpec) -> None:
        self.progress = progress
        self.spec = spec
        self.done = 0

    def add(self, n: int, rel: str) -> None:
        self.done += int(n or 0)
        if self.progress is not None:
            total = max(self.spec.size_bytes, self.done)
            self.progress(self.done, total, f"{self.spec.name}: {rel}")

    def say(self, what: str) -> None:
        """Report ``what`` as the stage, the byte count unchanged."""
        if self.progress is not None:
            self.progress(self.done, max(self.spec.size_bytes, self.done), f"{self.spec.name}: {what}")

    def tqdm_class(self, rel: str):
        """A tqdm class for huggingface_hub that forwards byte counts here and prints nothing."""
        from tqdm.auto import tqdm

        counter = self

        class _Forward(tqdm):  # type: ignore[misc, valid-type]
            def __init__(self, *args, **kwargs):
                kwargs["disable"] = True
                super().__init__(*args, **kwargs)
                counter.add(kwargs.get("initial", 0) or 0, rel)  # bytes resumed from a partial file

            def update(self, n=1):
                counter.add(n or 0, rel)
                return None

        return _Forward


def _free_bytes(path: Path) -> int | None:
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


__all__ = ["download", "is_offline", "manual_placement"]
