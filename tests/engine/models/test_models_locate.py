"""Finding weights: user folders, the app folder, the HF cache; incomplete and corrupt copies."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from engine.models import MANIFEST, find_model, model_status
from engine.models.locate import env_var
from models_helpers import make_model_folder, write_fake_file


def test_nothing_is_found_in_empty_places():
    for name in MANIFEST:
        assert find_model(name) is None
        status = model_status(name)
        assert status.state == "missing"
        assert status.where == Path(os.environ["BRUSHEDIT_MODELS_DIR"]) / name


def test_app_folder_copy_is_found(isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    make_model_folder(models / "brushnet-x", spec)
    loc = find_model("brushnet-x")
    assert loc is not None and loc.source == "app" and loc.path == models / "brushnet-x"
    assert model_status("brushnet-x").installed


def test_user_folder_from_settings_and_env_wins(tmp_path, isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["grounding-dino-tiny"]
    make_model_folder(models / spec.name, spec)
    mine = make_model_folder(tmp_path / "my-gdino", spec)
    loc = find_model(spec.name, {spec.name: str(mine)})
    assert loc.source == "user" and loc.path == mine
    os.environ[env_var(spec.name)] = str(mine)
    try:
        assert find_model(spec.name).source == "user"
    finally:
        del os.environ[env_var(spec.name)]
    assert env_var("sam-vit-h") == "BRUSHEDIT_MODEL_SAM_VIT_H"


def test_a_missing_file_is_reported_with_its_name(isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["sd15-realistic-vision"]
    folder = make_model_folder(models / spec.name, spec)
    (folder / "unet/diffusion_pytorch_model.safetensors").unlink()
    assert find_model(spec.name) is None
    status = model_status(spec.name)
    assert status.state == "incomplete"
    assert status.file == "unet/diffusion_pytorch_model.safetensors"
    assert status.where == folder
    assert "unet/diffusion_pytorch_model.safetensors" in status.describe()


@pytest.mark.parametrize("damage, state", [
    ("truncate", "incomplete"), ("garbage", "corrupt"), ("lfs", "corrupt"), ("empty", "corrupt"),
])
def test_a_damaged_safetensors_file_is_reported(isolated_model_dirs, damage, state):
    models, _ = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    folder = make_model_folder(models / spec.name, spec)
    weights = folder / "diffusion_pytorch_model.safetensors"
    data = weights.read_bytes()
    if damage == "truncate":
        weights.write_bytes(data[:-10])
    elif damage == "garbage":
        weights.write_bytes(b"\xff" * len(data))
    elif damage == "lfs":
        weights.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 3\n")
    else:
        weights.write_bytes(b"")
    status = model_status(spec.name)
    assert (status.state, status.file) == (state, "diffusion_pytorch_model.safetensors")
    assert find_model(spec.name) is None


def test_a_broken_json_file_is_corrupt(isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    folder = make_model_folder(models / spec.name, spec)
    (folder / "config.json").write_text("{not json")
    status = model_status(spec.name)
    assert (status.state, status.file) == ("corrupt", "config.json")


def test_sharded_weights_need_every_shard_the_index_names(isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = dataclasses.replace(MANIFEST["qwen2-vl-2b"],
                               files=tuple(f for f in MANIFEST["qwen2-vl-2b"].files if "-of-" not in f))
    folder = make_model_folder(models / spec.name, spec)
    (folder / "model.safetensors.index.json").write_text(
        '{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}')
    write_fake_file(folder / "model-00001-of-00002.safetensors", "x.safetensors")
    MANIFEST[spec.name], saved = spec, MANIFEST[spec.name]
    try:
        status = model_status(spec.name)
        assert (status.state, status.file) == ("incomplete", "model-00002-of-00002.safetensors")
        write_fake_file(folder / "model-00002-of-00002.safetensors", "x.safetensors")
        assert model_status(spec.name).installed
    finally:
        MANIFEST[spec.name] = saved


def test_sam_truncated_against_the_published_size(isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["sam-vit-b"]
    make_model_folder(models / spec.name, spec)
    status = model_status(spec.name)
    assert status.state == "incomplete" and "truncated" in status.problem


def test_sam_checkpoint_given_as_a_renamed_file(tmp_path):
    ckpt = tmp_path / "my_sam.pth"
    write_fake_file(ckpt, "my_sam.pth")
    loc = find_model("sam-vit-h", {"sam-vit-h": str(ckpt)})
    assert loc is not None and loc.path == ckpt and loc.source == "user"
    ckpt.write_bytes(b"not a zip at all")
    status = model_status("sam-vit-h", {"sam-vit-h": str(ckpt)})
    assert status.state == "corrupt"


def test_a_user_folder_that_does_not_exist_is_reported(tmp_path):
    status = model_status("brushnet-x", {"brushnet-x": str(tmp_path / "nope")})
    assert status.state == "incomplete" and "does not exist" in status.problem


def make_hf_cache_copy(cache: Path, spec, commit: str = "a" * 40, ref: str | None = "main") -> Path:
    """Lay ``spec`` out as huggingface_hub does: blobs named by SHA-256, snapshot symlinks, refs."""
    repo = cache / ("models--" + spec.repo_id.replace("/", "--"))
    staging = repo / "staging"
    make_model_folder(staging, spec)
    sub = spec.subfolder.strip("/")
    snapshot = repo / "snapshots" / commit
    for rel in spec.files:
        data = (staging / rel).read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / sub / rel if sub else snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    import shutil

    shutil.rmtree(staging)
    if ref:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    return snapshot / sub if sub else snapshot


def test_hf_cache_copy_is_used_in_place(isolated_model_dirs):
    _, cache = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    folder = make_hf_cache_copy(cache, spec)
    loc = find_model(spec.name)
    assert loc is not None and loc.source == "hf-cache"
    assert loc.path == folder  # used where it is, not copied
    assert not (Path(os.environ["BRUSHEDIT_MODELS_DIR"]) / spec.name).exists()


def test_hf_cache_snapshot_without_ref_is_still_found(isolated_model_dirs):
    _, cache = isolated_model_dirs
    spec = MANIFEST["grounding-dino-tiny"]
    folder = make_hf_cache_copy(cache, spec, commit="b" * 40, ref=None)
    assert find_model(spec.name).path == folder


def test_app_copy_is_preferred_to_the_cache(isolated_model_dirs):
    models, cache = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    make_hf_cache_copy(cache, spec)
    make_model_folder(models / spec.name, spec)
    assert find_model(spec.name).source == "app"
