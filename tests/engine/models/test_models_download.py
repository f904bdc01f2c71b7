"""Getting weights: a local mirror (resumable copy), the hub client's errors, offline mode."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from engine.api import EngineError
from engine.models import MANIFEST, download, find_model, verify
from models_helpers import make_model_folder


def mirror_of(root, spec):
    sub = spec.subfolder.strip("/")
    return make_model_folder(root / spec.repo_id / sub if sub else root / spec.repo_id, spec)


def test_download_from_a_local_mirror_installs_in_the_app_folder(tmp_path, isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    mirror_of(tmp_path / "mirror", spec)
    seen = []
    folders = download(["brushnet-x"], source=tmp_path / "mirror", progress=lambda *a: seen.append(a))
    assert folders == [models / "brushnet-x"]
    loc = find_model("brushnet-x")
    assert loc.source == "app"
    assert seen and seen[-1][0] == seen[-1][1] > 0  # bytes done == total at the end
    assert all(a[0] <= a[1] for a in seen)
    # A second call finds it installed and copies nothing.
    seen.clear()
    assert download(["brushnet-x"], source=tmp_path / "mirror", progress=lambda *a: seen.append(a)) == folders
    assert "already installed" in seen[-1][2]


def test_an_interrupted_copy_resumes(tmp_path, isolated_model_dirs):
    models, _ = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    src = mirror_of(tmp_path / "mirror", spec)
    weights = (src / "diffusion_pytorch_model.safetensors").read_bytes()
    part = models / "brushnet-x" / "diffusion_pytorch_model.safetensors.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(weights[:40])
    seen = []
    download(["brushnet-x"], source=tmp_path / "mirror", progress=lambda *a: seen.append(a))
    assert (models / "brushnet-x" / "diffusion_pytorch_model.safetensors").read_bytes() == weights
    assert not part.exists()


def test_a_mirror_without_the_model_says_what_it_lacks(tmp_path):
    (tmp_path / "mirror").mkdir()
    with pytest.raises(EngineError) as err:
        download(["sam-vit-b"], source=tmp_path / "mirror")
    assert "ybelkada/segment-anything" in err.value.hint or "ybelkada" in str(err.value)


def test_unknown_names_are_bad_input():
    with pytest.raises(ValueError, match="unknown model"):
        download(["not-a-model"])


def test_offline_mode_is_respected_and_says_where_to_place_files(monkeypatch, isolated_model_dirs):
    models, _ = isolated_model_dirs
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub

    def boom(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("network used in offline mode")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", boom)
    with pytest.raises(EngineError) as err:
        download(["grounding-dino-tiny"])
    assert "HF_HUB_OFFLINE" in str(err.value)
    assert str(models / "grounding-dino-tiny") in err.value.hint
    assert err.value.kind == "missing-models"


def _hub_error(name):
    """An instance of a hub error class without a real HTTP response (its HTTP client varies)."""
    from huggingface_hub import errors

    cls = getattr(errors, name)
    exc = cls.__new__(cls)
    Exception.__init__(exc, "boom")
    return exc


@pytest.mark.parametrize("error, words", [
    ("GatedRepoError", "HF_TOKEN"),
    ("LocalEntryNotFoundError", "HTTPS_PROXY"),
    ("RepositoryNotFoundError", "HF_TOKEN"),
])
def test_hub_failures_say_what_to_do(monkeypatch, error, words):
    import huggingface_hub

    exc = _hub_error(error)

    def fail(*a, **k):
        raise exc

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fail)
    with pytest.raises(EngineError) as err:
        download(["sam-vit-b"])
    assert words in err.value.hint
    assert "\n" not in str(err.value)


def test_hub_download_goes_to_the_hf_cache_at_the_manifest_revision(monkeypatch, isolated_model_dirs):
    """The hub client is stubbed: we check what we ask of it and that its snapshot is used."""
    _, cache = isolated_model_dirs
    spec = dataclasses.replace(MANIFEST["brushnet-random"])
    calls = []

    def fake_snapshot_download(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        snapshot = cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / ("c" * 40)
        make_model_folder(snapshot / spec.subfolder, spec)
        return str(snapshot)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    folders = download(["brushnet-random"], progress=lambda *a: None)
    repo_id, kwargs = calls[0]
    assert repo_id == "TencentARC/BrushNet" and kwargs["revision"] == spec.revision
    assert set(kwargs["allow_patterns"]) == {f"{spec.subfolder}/{f}" for f in spec.files}
    assert kwargs["cache_dir"] == str(cache)
    assert folders[0].name == spec.subfolder
    assert find_model("brushnet-random").source == "hf-cache"


def test_verify_checks_published_and_cached_digests(tmp_path, isolated_model_dirs):
    models, _ = isolated_model_dirs
    # A SAM copy whose manifest digest is that of our tiny file (the real one is 375 MB).
    spec = MANIFEST["sam-vit-b"]
    folder = make_model_folder(models / spec.name, dataclasses.replace(spec))
    data = (folder / spec.files[0]).read_bytes()
    tiny = dataclasses.replace(spec, file_sizes={}, sha256={spec.files[0]: hashlib.sha256(data).hexdigest()})
    saved, MANIFEST[spec.name] = MANIFEST[spec.name], tiny
    try:
        report = verify(spec.name)
        assert report.ok and report.checked == {spec.files[0]: "manifest"}
        (folder / spec.files[0]).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        report = verify(spec.name)
        assert report.state == "corrupt" and report.file == spec.files[0]
        assert "SHA-256" in report.problem
    finally:
        MANIFEST[spec.name] = saved
    assert verify("qwen2-vl-7b").state == "missing"


def test_verify_uses_the_hf_cache_blob_names(isolated_model_dirs):
    from test_models_locate import make_hf_cache_copy

    _, cache = isolated_model_dirs
    spec = MANIFEST["grounding-dino-tiny"]
    folder = make_hf_cache_copy(cache, spec)
    report = verify(spec.name)
    assert report.ok and set(report.checked) == set(spec.files)
    assert set(report.checked.values()) == {"hf-cache"}
    blob = (folder / "model.safetensors").resolve()
    raw = bytearray(blob.read_bytes())
    raw[-1] ^= 0xFF  # flip a data byte: the header stays valid, only the digest can tell
    blob.write_bytes(bytes(raw))
    report = verify(spec.name)
    assert report.state == "corrupt" and report.file == "model.safetensors"
