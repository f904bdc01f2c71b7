"""Atomic writes when the disk says no, and the temporary files a killed save leaves behind."""

from __future__ import annotations

import errno
import os
import time

import numpy as np
import pytest

from desktop.document import Document, DocumentError
from desktop.document.errors import DocumentWriteError
from desktop.document.safe_write import STALE_PART_AGE_S, atomic_write


def _age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


def _full_disk(monkeypatch):
    def fsync(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("desktop.document.safe_write.os.fsync", fsync)


def test_a_full_disk_on_a_new_file_does_not_claim_a_previous_file(tmp_path, monkeypatch):
    _full_disk(monkeypatch)
    target = tmp_path / "new.png"
    with pytest.raises(DocumentWriteError) as info:
        with atomic_write(target) as f:
            f.write(b"x" * 10)
    text = str(info.value)
    assert "No space left" in text and "previous file" not in text and "nothing was written" in text
    assert not target.exists() and list(tmp_path.iterdir()) == []
    assert isinstance(info.value, DocumentError)  # still caught where DocumentErrors are


def test_a_full_disk_over_an_old_file_keeps_it_and_says_so(tmp_path, monkeypatch):
    target = tmp_path / "old.png"
    target.write_bytes(b"before")
    _full_disk(monkeypatch)
    with pytest.raises(DocumentWriteError, match="previous file is unchanged"):
        with atomic_write(target) as f:
            f.write(b"after")
    assert target.read_bytes() == b"before"


def test_a_read_only_folder_is_a_write_error(tmp_path, monkeypatch):
    def mkstemp(**_kw):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("desktop.document.safe_write.tempfile.mkstemp", mkstemp)
    with pytest.raises(DocumentWriteError, match="Read-only"):
        with atomic_write(tmp_path / "x.ora"):
            pass


def test_stale_parts_of_a_killed_save_go_on_the_next_save_and_open(tmp_path):
    doc = Document.from_array(np.full((8, 8, 3), 120, np.uint8))
    target = tmp_path / "work.ora"
    doc.save(target)
    stale = tmp_path / ".work.ora.ab3_x9zq.part"  # what mkstemp named a save that was killed
    stale.write_bytes(b"half a zip")
    _age(stale, STALE_PART_AGE_S + 60)
    fresh = tmp_path / ".work.ora.k2j4h5g6.part"  # another save may be writing this one now
    fresh.write_bytes(b"in progress")
    other = tmp_path / ".other.ora.ab3_x9zq.part"  # not this file's
    other.write_bytes(b"keep")
    _age(other, STALE_PART_AGE_S + 60)
    mine_lookalike = tmp_path / ".work.ora.notours.part"  # not our pattern
    mine_lookalike.write_bytes(b"keep")
    _age(mine_lookalike, STALE_PART_AGE_S + 60)

    doc.save(target)
    assert not stale.exists()
    assert fresh.exists() and other.exists() and mine_lookalike.exists()

    stale.write_bytes(b"another kill")
    _age(stale, STALE_PART_AGE_S + 60)
    Document.open(target)
    assert not stale.exists() and fresh.exists()
