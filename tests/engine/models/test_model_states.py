"""Model states that tell the truth (issue 25 item 7): missing / incomplete (which file) / corrupt (which
file, why) / installed, checked cheaply at status time, said the same way by the errors of a job."""

from __future__ import annotations

import json
import struct
import zipfile

import numpy as np
import pytest

from engine.models import MANIFEST, download, model_status
from models_helpers import make_model_folder, write_fake_file


def _sparse(path, size: int, head: bytes = b"") -> None:
    """A file of ``size`` bytes, zeros after ``head``, written sparse (a published size costs no disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)


def _sam_snapshot(cache, name: str):
    spec = MANIFEST[name]
    return cache / spec.cache_folder / "snapshots" / ("a" * 40) / spec.subfolder / spec.files[0]


def test_a_zero_filled_sam_checkpoint_of_the_published_size_is_corrupt(isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["sam-vit-b"]
    _sparse(models / "sam-vit-b" / spec.files[0], spec.file_sizes[spec.files[0]])
    status = model_status("sam-vit-b")
    assert status.state == "corrupt" and status.file == spec.files[0]
    assert "zero bytes" in status.problem and "torch checkpoint" in status.problem


def test_a_checkpoint_that_is_neither_zip_nor_pickle_is_corrupt(isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["sam-vit-b"]
    _sparse(models / "sam-vit-b" / spec.files[0], spec.file_sizes[spec.files[0]], b"<html>404</html>")
    status = model_status("sam-vit-b")
    assert status.state == "corrupt" and "neither a zip nor a pickle" in status.problem


@pytest.mark.parametrize("head", [b"PK\x03\x04", b"\x80\x02\x8a\x0a"])  # torch.save's zip; the legacy pickle
def test_a_checkpoint_of_the_published_size_and_format_is_installed(isolated_model_dirs, head):
    models, _ = isolated_model_dirs
    spec = MANIFEST["sam-vit-b"]
    _sparse(models / "sam-vit-b" / spec.files[0], spec.file_sizes[spec.files[0]], head)
    assert model_status("sam-vit-b").state == "installed"


def test_sam_models_sharing_one_repository_are_missing_not_incomplete(isolated_model_dirs):
    """Only sam-vit-b in the HF cache: its snapshot folder is also sam-vit-h's and sam-vit-l's place."""
    _, cache = isolated_model_dirs
    spec = MANIFEST["sam-vit-b"]
    _sparse(_sam_snapshot(cache, "sam-vit-b"), spec.file_sizes[spec.files[0]], b"PK\x03\x04")
    assert model_status("sam-vit-b").state == "installed"
    assert model_status("sam-vit-h").state == "missing"
    assert model_status("sam-vit-l").state == "missing"


def _truncated_grounding(models):
    folder = make_model_folder(models / "grounding-dino-tiny", MANIFEST["grounding-dino-tiny"])
    weights = folder / "model.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}).encode()
    weights.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 1000)  # 1000 of 4000 bytes
    return folder


def test_a_truncated_grounding_dino_is_incomplete_in_the_plan_error(isolated_model_dirs):
    """It was "needs GroundingDINO and SAM, which are not installed"."""
    from engine.api import MissingModelsError, PlanRequest
    from engine.dispatch import Engine, EngineConfig

    models, _ = isolated_model_dirs
    _truncated_grounding(models)
    status = model_status("grounding-dino-tiny")
    assert (status.state, status.file) == ("incomplete", "model.safetensors")
    engine = Engine(EngineConfig(device="cpu", instructor="offline"))
    with pytest.raises(MissingModelsError) as err:
        engine.plan(PlanRequest(np.zeros((64, 64, 3), np.uint8), "remove the cat"))
    message, hint = str(err.value), err.value.hint
    assert "grounding-dino-tiny is incomplete: model.safetensors: truncated" in message
    assert "sam-vit-h is not installed" in message and "not installed, " not in message
    assert hint.startswith("run: brushedit models download --force grounding-dino-tiny sam-vit-h")
    assert hint.endswith("(or paint the mask yourself)")


def test_a_deleted_qwen_shard_is_named_in_the_error(isolated_model_dirs):
    """It was "Missing model weights: qwen2-vl-7b"."""
    from engine.api import MissingModelsError
    from engine.dispatch import Engine, EngineConfig

    models, _ = isolated_model_dirs
    spec = MANIFEST["qwen2-vl-2b"]
    folder = make_model_folder(models / spec.name, spec)
    (folder / "model-00002-of-00002.safetensors").unlink()
    from engine.api import PlanRequest

    engine = Engine(EngineConfig(device="cpu", instructor="local", instructor_model="qwen2-vl-2b"))
    with pytest.raises(MissingModelsError) as err:
        engine.plan(PlanRequest(np.zeros((64, 64, 3), np.uint8), "make it winter", backend="local"))
    assert "qwen2-vl-2b is incomplete: model-00002-of-00002.safetensors: missing" in str(err.value)
    assert err.value.hint == "run: brushedit models download --force qwen2-vl-2b"


def test_download_force_fetches_again_and_a_broken_cached_file_is_refetched(isolated_model_dirs, monkeypatch):
    _, cache = isolated_model_dirs
    spec = MANIFEST["grounding-dino-tiny"]
    snapshot = cache / spec.cache_folder / "snapshots" / ("b" * 40)
    calls = []

    def fake_hf_hub_download(repo_id, filename, *, force_download=False, **kw):
        calls.append((filename, force_download))
        write_fake_file(snapshot / filename, filename)
        return str(snapshot / filename)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_hf_hub_download)
    download([spec.name])
    assert calls and not any(force for _, force in calls)
    calls.clear()
    assert model_status(spec.name).state == "installed"
    download([spec.name], force=True)  # installed, and --force: every file again
    assert [f for f, _ in calls] == list(spec.files) and all(force for _, force in calls)
    calls.clear()
    # A truncated file in the cache: the hub client would hand it back as it is; it is fetched anew.
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache",
                        lambda repo_id, filename, **kw: str(snapshot / filename))
    (snapshot / "model.safetensors").write_bytes(b"\x10")
    download([spec.name])
    assert dict(calls) == {f: f == "model.safetensors" for f in spec.files}


def test_the_status_report_names_the_file_at_fault(isolated_model_dirs):
    from engine.api import ModelStatusRequest
    from engine.queries import model_status_report

    models, _ = isolated_model_dirs
    _truncated_grounding(models)
    entry = next(e for e in model_status_report(ModelStatusRequest()).entries if e.name == "grounding-dino-tiny")
    assert not entry.installed
    assert entry.status.startswith("incomplete: model.safetensors: truncated")


def test_a_zip_without_its_central_directory_is_still_caught_where_no_size_is_known(isolated_model_dirs, tmp_path):
    from engine.models.check import check_file

    path = tmp_path / "model.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", b"x" * 1000)
    path.write_bytes(path.read_bytes()[:-30])
    problem = check_file(MANIFEST["grounding-dino-tiny"], "model.pth", path)
    assert problem is not None and problem.state == "corrupt" and "truncated" in problem.reason


def test_loading_a_zero_filled_checkpoint_is_a_models_error_cut_at_a_word(tmp_path):
    """Given by path (--sam FILE) it bypasses the status check: loading says corrupt, exit 3 (not 2),
    and the torch message is shortened at a word ("... Re-runn" said nothing)."""
    pytest.importorskip("torch")
    from cli.errors import MISSING_MODELS, from_exception
    from engine.api import EngineError
    from engine.segment.sam import load_sam_state_dict

    path = tmp_path / "sam_vit_b_01ec64.pth"
    _sparse(path, 4096)
    with pytest.raises(EngineError) as err:
        load_sam_state_dict(path)
    assert err.value.kind == "missing-models" and "corrupt" in str(err.value)
    text = str(err.value)
    inner = text[text.index("refused it: ") + len("refused it: "):-1]
    original = " ".join(str(err.value.__cause__).splitlines()[0].split())
    if inner != original:  # shortened: whole words, then " …"
        kept = inner[: -len(" …")]
        assert inner.endswith(" …") and original.startswith(kept) and original[len(kept)] == " ", inner
    assert from_exception(err.value).code == MISSING_MODELS
