"""Cheap integrity checks of a model folder: present, complete, and each file plausibly whole.

These run on every ``models list`` and at engine start, so they read headers only (safetensors
header and length, JSON parse of small files, the zip directory of ``.pth`` checkpoints, exact sizes
where the manifest knows them). Full checksums are :func:`engine.models.integrity.verify`'s job.
"""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from engine.models.manifest import ModelSpec

_LFS_MAGIC = b"version https://git-lfs"
_MAX_JSON_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """What is wrong with a model folder: ``state`` is "incomplete" or "corrupt"."""

    state: str
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.state}: {self.file}: {self.reason}"


def required_files(spec: ModelSpec, folder: Path) -> list[str]:
    """The manifest's files plus any shard a present ``*.index.json`` names."""
    files = list(spec.files)
    for name in spec.files:
        if name.endswith(".index.json"):
            index = folder / name
            try:
                weight_map = json.loads(index.read_text("utf-8")).get("weight_map", {})
            except (OSError, ValueError, AttributeError):
                continue
            # Shards sit beside their index (text_encoder/ of a diffusers folder, the root of a repo).
            prefix = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
            for shard in sorted(set(weight_map.values())):
                if isinstance(shard, str) and _is_safe_relative(shard) and prefix + shard not in files:
                    files.append(prefix + shard)
    return files


def _is_safe_relative(rel: str) -> bool:
    p = Path(rel)
    return not p.is_absolute() and ".." not in p.parts


def check_file(spec: ModelSpec, rel: str, path: Path) -> Problem | None:
    """Check one file cheaply; ``None`` when it looks whole."""
    try:
        size = path.stat().st_size
    except OSError:
        return Problem("incomplete", rel, "missing")
    if not path.is_file():
        return Problem("corrupt", rel, "not a file")
    if size == 0:
        return Problem("corrupt", rel, "empty file")
    expected = spec.file_sizes.get(rel)
    if expected is not None and size != expected:
        if size < expected:
            return Problem("incomplete", rel, f"truncated: {size} of {expected} bytes")
        return Problem("corrupt", rel, f"{size} bytes, expected {expected}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        return Problem("corrupt", rel, f"unreadable ({exc.strerror or exc})")
    if head.startswith(_LFS_MAGIC):
        return Problem("corrupt", rel, "a Git LFS pointer, not the file itself")
    if rel.endswith(".json"):
        if size > _MAX_JSON_BYTES:
            return Problem("corrupt", rel, "too large for a JSON file")
        try:
            json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            return Problem("corrupt", rel, f"not valid JSON ({_short(exc)})")
        return None
    if rel.endswith(".safetensors"):
        return _check_safetensors(rel, path, size)
    if rel.endswith((".pth", ".pt", ".ckpt", ".bin")):
        return _check_torch_file(rel, path, head, size_known=expected is not None)
    return None


_ZIP_MAGIC = b"PK\x03\x04"  # torch.save since 1.6 writes a zip archive


def _check_torch_file(rel: str, path: Path, head: bytes, size_known: bool) -> Problem | None:
    """A torch checkpoint starts as a zip (torch.save since 1.6) or a pickle (the legacy format:
    protocol 2+); a zero-filled file of the published size is neither. A zip also ends with its
    central directory, which a truncated download loses (read only where the size is not known:
    a file of the exact published size is not truncated)."""
    if not head.strip(b"\x00"):
        return Problem("corrupt", rel, "all zero bytes at its start: not a torch checkpoint")
    if head.startswith(_ZIP_MAGIC):
        if not size_known and not zipfile.is_zipfile(path):
            return Problem("corrupt", rel, "not a complete torch checkpoint (truncated download?)")
        return None
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # pickle's PROTO opcode
        return None
    return Problem("corrupt", rel, f"not a torch checkpoint (starts with {head[:4].hex()}, "
                                   "neither a zip nor a pickle)")


def _check_safetensors(rel: str, path: Path, size: int) -> Problem | None:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                return Problem("corrupt", rel, "too short for a safetensors file")
            (header_len,) = struct.unpack("<Q", raw)
            if header_len > min(size - 8, 100 * 1024 * 1024):
                return Problem("corrupt", rel, "bad safetensors header")
            header = json.loads(fh.read(header_len).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return Problem("corrupt", rel, f"bad safetensors header ({_short(exc)})")
    if not isinstance(header, dict):
        return Problem("corrupt", rel, "bad safetensors header")
    end = 0
    for key, info in header.items():
        if key == "__metadata__" or not isinstance(info, dict):
            continue
        offsets = info.get("data_offsets")
        if isinstance(offsets, list) and len(offsets) == 2:
            end = max(end, int(offsets[1]))
    data = size - 8 - header_len
    if data < end:
        return Problem("incomplete", rel, f"truncated: {data} of {end} data bytes")
    return None


def check_folder(spec: ModelSpec, folder: Path) -> Problem | None:
    """The first problem of ``folder`` as a copy of ``spec`` (``None`` when complete)."""
    folder = Path(folder)
    if not folder.is_dir():
        return Problem("incomplete", ".", f"folder {folder} not found")
    for rel in required_files(spec, folder):
        problem = check_file(spec, rel, folder / rel)
        if problem is not None:
            return problem
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
