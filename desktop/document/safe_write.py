"""Atomic file writes: a temporary file next to the target, fsync, rename over the target.

A crash, a kill or a full disk mid-write leaves the previous file as it was (and no temporary file
behind where the process survives to clean up).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from .errors import DocumentError


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
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as e:
        raise DocumentError(f"cannot write in {str(folder)!r} ({e.strerror or e})", path) from None
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
        raise DocumentError(f"could not save ({e.strerror or e}); the previous file is unchanged",
                            path) from e
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
