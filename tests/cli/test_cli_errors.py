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
