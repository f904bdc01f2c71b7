"""Atomic file writes: a temporary file next to the target, fsync, rename over the target.

A crash, a kill or a full disk mid-write leaves the previous file as it was (and no temporary file
behind where the process survives to clean up).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Iterator

from .errors import DocumentError, DocumentWriteError

# A temporary file untouched this long is left by a killed save (a live one is written to all the
# time): the next save or open of the same file removes it.
STALE_PART_AGE_S = 120.0


def remove_stale_parts(path: str | Path, max_age_s: float = STALE_PART_AGE_S) -> list[Path]:
    """Remove the ``.NAME.XXXXXXXX.part`` files our own :func:`atomic_write` left beside ``path``
    when a save was killed, if none was modified in the last ``max_age_s`` seconds.

    Only names of that exact pattern are touched; errors are ignored (cleaning is best effort).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = re.compile(r"\." + re.escape(path.name) + r"\.[A-Za-z0-9_]{8}\.part")
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > max_age_s:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file; on a clean exit it replaces ``path`` atomically.

    Any exception inside the block (or while finishing) removes the temporary file and leaves
    ``path`` untouched; OS errors become :class:`DocumentError`.
    """
    path = Path(path)
    if path.is_symlink():  # write the file the link points to, keep the link
        path = path.resolve()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DocumentError(f"the folder {str(folder)!r} does not exist", path)
    if path.is_dir():
        raise DocumentError("is a folder", path)
    existed = path.exists()
    remove_stale_parts(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as e:
        raise DocumentWriteError(f"cannot write in {str(folder)!r} ({e.strerror or e})", path) from None
    done = False
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:  # keep the permissions of the file we replace
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
        done = True
        _fsync_dir(folder)
    except OSError as e:
        kept = "the previous file is unchanged" if existed else "nothing was written"
        raise DocumentWriteError(f"could not save ({e.strerror or e}); {kept}", path) from e
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _read_umask() -> int:
    # Read once at import: os.umask() can only be read by setting it, racy once threads run.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
