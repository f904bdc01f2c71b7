"""Verifying installed weights: completeness, each file's format, and checksums where known.

Checksums come from two places: the manifest's ``sha256`` (published by the source, e.g. Meta's SAM
checkpoints), and, for files in the Hugging Face cache, the blob a snapshot file links to: the hub
names large (LFS) files' blobs by their SHA-256, so a cached file can be checked without any network.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from engine.models.check import check_file, required_files
from engine.models.locate import ModelLocation, model_status
from engine.models.manifest import get_spec

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class VerifyReport:
    """The result of :func:`verify`.

    ``state`` is "ok", "missing", "incomplete" or "corrupt"; ``checked`` maps each file whose digest
    was compared to where the expected digest came from ("manifest" or "hf-cache"); ``unchecked``
    lists files that had no published digest (checked for format only).
    """

    name: str
    state: str
    location: ModelLocation | None = None
    file: str | None = None
    problem: str = ""
    checked: Mapping[str, str] = field(default_factory=dict)
    unchecked: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def describe(self) -> str:
        """One line for people."""
        if self.ok:
            return (f"{self.name}: ok ({len(self.checked)} checksummed, "
                    f"{len(self.unchecked)} format-checked) at {self.location.path}")
        if self.state == "missing":
            return f"{self.name}: missing"
        return f"{self.name}: {self.state}: {self.file}: {self.problem}"


def sha256_of(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def _hf_blob_digest(path: Path) -> str | None:
    """The SHA-256 a HF-cache snapshot file claims through its blob's name (LFS files only)."""
    try:
        if not path.is_symlink():
            return None
        target = path.resolve()
    except OSError:
        return None
    if target.parent.name == "blobs" and _HEX64.match(target.name):
        return target.name
    return None


def verify(name: str, *, settings: Mapping[str, object] | None = None,
           progress: Callable[..., None] | None = None) -> VerifyReport:
    """Check the installed copy of ``name`` fully (reads every byte of checksummed files).

    Parameters
    ----------
    name : str
        A manifest name.
    settings : mapping, optional
        Per-model user folders.
    progress : callable, optional
        ``progress(done_bytes, total_bytes, stage)``.
    """
    spec = get_spec(name)
    status = model_status(name, settings)
    if not status.installed:
        return VerifyReport(name, status.state, None, status.file, status.problem)
    location = status.location
    assert location is not None
    if location.path.is_file():
        files = {spec.files[0]: location.path}
    else:
        files = {rel: location.folder / rel for rel in required_files(spec, location.folder)}
    expected: dict[str, tuple[str, str]] = {}
    for rel, path in files.items():
        problem = check_file(spec, rel, path)
        if problem is not None:
            return VerifyReport(name, problem.state, location, rel, problem.reason)
        if rel in spec.sha256 and spec.sha256[rel]:
            expected[rel] = (spec.sha256[rel].lower(), "manifest")
        else:
            blob = _hf_blob_digest(path)
            if blob is not None:
                expected[rel] = (blob, "hf-cache")
    total = sum(files[rel].stat().st_size for rel in expected)
    done = 0
    for rel, (digest, origin) in expected.items():
        def tick(n: int, rel: str = rel) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total, f"{name}: {rel}")

        actual = sha256_of(files[rel], tick)
        if actual != digest:
            return VerifyReport(name, "corrupt", location, rel,
                                f"SHA-256 {actual[:12]}... does not match the {origin} digest {digest[:12]}...")
    unchecked = tuple(rel for rel in files if rel not in expected)
    return VerifyReport(name, "ok", location, checked={r: o for r, (_, o) in expected.items()},
                        unchecked=unchecked)
