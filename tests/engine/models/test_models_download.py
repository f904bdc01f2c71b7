"""Getting weights: a local mirror (resumable copy), the hub client's errors, offline mode."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from engine.api import EngineError
from engine.models import MANIFEST, download, find_model, verify
from models_helpers import make_model_folder, write_fake_file


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

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", boom)
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
    ("RemoteEntryNotFoundError", "models where sam-vit-b"),
    ("RevisionNotFoundError", "models where sam-vit-b"),
])
def test_hub_failures_say_what_to_do(monkeypatch, error, words):
    import huggingface_hub

    exc = _hub_error(error)

    def fail(*a, **k):
        raise exc

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fail)
    with pytest.raises(EngineError) as err:
        download(["sam-vit-b"])
    assert words in err.value.hint
    assert "\n" not in str(err.value)


def test_hub_download_goes_to_the_hf_cache_at_the_manifest_revision(monkeypatch, isolated_model_dirs):
    """The hub client is stubbed: we check what we ask of it, the byte progress, and that the
    snapshot it fills is then found in place."""
    _, cache = isolated_model_dirs
    spec = MANIFEST["brushnet-segmentation"]  # a Space, not a model repository
    snapshot = cache / "spaces--TencentARC--BrushNet" / "snapshots" / ("c" * 40)
    calls = []

    def fake_hf_hub_download(repo_id, filename, *, revision, cache_dir, tqdm_class=None, repo_type="model",
                             **kw):
        calls.append((repo_id, filename, revision, cache_dir, repo_type))
        target = snapshot / filename
        write_fake_file(target, filename)
        if tqdm_class is not None:  # what huggingface_hub does: a bar per file, resumed bytes first
            size = target.stat().st_size
            bar = tqdm_class(total=size, initial=3, unit="B")
            bar.update(size - 3)
            bar.close()
        return str(target)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_hf_hub_download)
    seen = []
    folders = download(["brushnet-segmentation"], progress=lambda *a: seen.append(a))
    assert [c[1] for c in calls] == [f"{spec.subfolder}/{f}" for f in spec.files]
    assert {(c[0], c[2], c[3], c[4]) for c in calls} == {("TencentARC/BrushNet", spec.revision, str(cache), "space")}
    assert folders == [snapshot / spec.subfolder]
    assert find_model("brushnet-segmentation").source == "hf-cache"
    total_bytes = sum((snapshot / spec.subfolder / f).stat().st_size for f in spec.files)
    assert seen[-1][0] == total_bytes and seen[-1][1] == spec.size_bytes
    assert [a[0] for a in seen] == sorted(a[0] for a in seen)


def test_hub_download_of_sharded_weights_fetches_every_shard(monkeypatch, isolated_model_dirs):
    _, cache = isolated_model_dirs
    spec = dataclasses.replace(MANIFEST["qwen2-vl-2b"],
                               files=tuple(f for f in MANIFEST["qwen2-vl-2b"].files if "-of-" not in f))
    saved, MANIFEST[spec.name] = MANIFEST[spec.name], spec
    snapshot = cache / "models--Qwen--Qwen2-VL-2B-Instruct" / "snapshots" / ("d" * 40)
    fetched = []

    def fake_hf_hub_download(repo_id, filename, **kw):
        fetched.append(filename)
        target = snapshot / filename
        if filename.endswith(".index.json"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text('{"weight_map": {"a": "model-00001-of-00002.safetensors",'
                              ' "b": "model-00002-of-00002.safetensors"}}')
        else:
            write_fake_file(target, filename)
        return str(target)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_hf_hub_download)
    try:
        assert download([spec.name]) == [snapshot]
    finally:
        MANIFEST[spec.name] = saved
    assert {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} <= set(fetched)


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


def test_a_manual_model_is_never_fetched_and_says_how_to_get_it(monkeypatch, isolated_model_dirs):
    import huggingface_hub

    spec = MANIFEST["brushnet-random"]
    assert spec.manual_steps and spec.url.startswith("https://drive.google.com/")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("no guessed Hub id"))
    with pytest.raises(EngineError) as err:
        download(["brushnet-random"])
    assert err.value.kind == "missing-models"
    assert "random_mask_brushnet_ckpt" in err.value.hint and "drive.google.com" in err.value.hint
    assert "diffusion_pytorch_model.safetensors" in err.value.hint
