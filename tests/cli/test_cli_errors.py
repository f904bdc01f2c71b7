"""How exceptions become one line and an exit code (the part no subprocess can provoke cheaply)."""

from __future__ import annotations

import pytest

from cli.errors import MISSING_MODELS, RUNTIME, USAGE, CliError, from_exception, set_oom_context
from engine.api import EngineError, MissingModelsError


def test_missing_models_exit_3_with_the_download_command():
    err = from_exception(MissingModelsError(["sam-vit-h"]))
    assert err.code == MISSING_MODELS
    assert err.line() == ("brushedit: error: missing model weights: sam-vit-h "
                          "(run: brushedit models download sam-vit-h)")


def test_out_of_memory_exit_4_with_the_suggestion_that_fits():
    set_oom_context(samples=4, working_size=768, cpu_offload=False)
    err = from_exception(MemoryError("CUDA out of memory. Tried to allocate 1.5 GiB"))
    assert err.code == RUNTIME
    assert "--samples 1" in err.hint and "--working-size 512" in err.hint and "--cpu-offload" in err.hint
    set_oom_context(samples=1, working_size=512, cpu_offload=True)
    err = from_exception(MemoryError("out of memory"))
    assert "--samples" not in err.hint and "--cpu-offload" not in err.hint


def test_torch_cuda_oom_is_recognised():
    torch = pytest.importorskip("torch")
    set_oom_context(samples=2, working_size=640, cpu_offload=False)
    err = from_exception(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert err.code == RUNTIME and "fewer candidates" in err.hint


@pytest.mark.parametrize("exc, code", [
    (EngineError("no GPU", "pass --device cpu", kind="no-device"), RUNTIME),
    (EngineError("bad file", kind="bad-input"), USAGE),
    (ValueError("the mask is empty"), USAGE),
    (PermissionError(13, "Permission denied", "/x/out.png"), RUNTIME),
    (ZeroDivisionError("boom"), RUNTIME),
])
def test_other_failures(exc, code):
    err = from_exception(exc)
    assert err.code == code
    assert "\n" not in err.line() and err.line().startswith("brushedit: error: ")


def test_document_errors_are_bad_input():
    from desktop.document import DocumentError

    err = from_exception(DocumentError("not an image", "photo.png"))
    assert err.code == USAGE and "photo.png" in err.line()


def test_multi_line_messages_become_one_line():
    assert "\n" not in CliError("first\nsecond", hint="a\nb").line()


def test_disk_full_and_read_only_targets_are_runtime_failures(tmp_path, monkeypatch, capsys):
    """Exit 4 (runtime), as the README says; the one line does not invent a previous file."""
    import errno

    import numpy as np
    from PIL import Image

    from cli import main
    from desktop.document.errors import DocumentWriteError

    assert from_exception(DocumentWriteError("could not save (No space left on device)", "o.png")).code == RUNTIME
    photo, mask = tmp_path / "p.png", tmp_path / "m.png"
    Image.fromarray(np.full((80, 120, 3), 90, np.uint8)).save(photo)
    m = np.zeros((80, 120), np.uint8)
    m[30:50, 40:70] = 255
    Image.fromarray(m).save(mask)

    def fsync(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("desktop.document.safe_write.os.fsync", fsync)
    code = main(["edit", str(photo), "--mask", str(mask), "--engine", "fill", "-q", "-o", str(tmp_path / "out.png")])
    err = capsys.readouterr().err
    assert code == RUNTIME, err
    assert "No space left" in err and "previous file" not in err
    monkeypatch.undo()

    def mkstemp(**_kw):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("desktop.document.safe_write.tempfile.mkstemp", mkstemp)
    code = main(["edit", str(photo), "--mask", str(mask), "--engine", "fill", "-q", "-o", str(tmp_path / "out.ora")])
    assert code == RUNTIME and "Read-only" in capsys.readouterr().err


@pytest.mark.parametrize("unbuffered", ["", "1"])  # CI's stdout is block-buffered, a dev shell's may not be
def test_a_reader_that_closes_stdout_ends_the_command_quietly(tmp_path, unbuffered):
    """``brushedit doctor --json | head`` printed two tracebacks (BrokenPipeError, then again while
    printing the JSON failure); it stops with 141 (128 + SIGPIPE, as a shell reports it) and says nothing."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cli.errors import BROKEN_PIPE

    root = Path(__file__).resolve().parents[2]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write fails, deterministically
    try:
        done = subprocess.run([sys.executable, str(root / "main.py"), "doctor", "--vram", "12", "--json"],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
                              env=dict(os.environ, PYTHONPATH=str(root), PYTHONUNBUFFERED=unbuffered), cwd=tmp_path)
    finally:
        os.close(write_end)
    assert done.returncode == BROKEN_PIPE, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
