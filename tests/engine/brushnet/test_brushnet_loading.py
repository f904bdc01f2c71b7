"""load_pipeline: folder checks with clear errors, and a working pipeline from saved tiny weights."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.api import EditParams, EngineError, InpaintRequest
from engine.brushnet import BrushNetPipeline, load_pipeline, run_inpaint


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from tests.builders.brushnet import save_tiny_weights

    return save_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture()
def copy(saved, tmp_path):
    base, bn = saved
    shutil.copytree(base, tmp_path / base.name)
    shutil.copytree(bn, tmp_path / bn.name)
    return tmp_path / base.name, tmp_path / bn.name


def test_saved_tiny_weights_have_the_diffusers_layout(saved):
    base, bn = saved
    for rel in ("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                "vae/config.json", "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
                "text_encoder/model.safetensors", "tokenizer/vocab.json", "tokenizer/merges.txt",
                "scheduler/scheduler_config.json"):
        assert (base / rel).is_file(), rel
    assert (bn / "config.json").is_file() and (bn / "diffusion_pytorch_model.safetensors").is_file()


def test_load_pipeline_gives_a_working_cpu_fp32_pipeline(saved):
    import torch

    pipe = load_pipeline(*saved, device="cpu")
    assert isinstance(pipe, BrushNetPipeline)
    assert pipe.unet.dtype == torch.float32 and pipe.brushnet.device.type == "cpu"
    assert type(pipe.scheduler).__name__ == "UniPCMultistepScheduler"
    assert "brushnet-tiny" in pipe.model_name
    img = np.full((96, 96, 3), 90, np.uint8)
    mask = np.zeros((96, 96), np.uint8)
    mask[30:60, 30:60] = 255
    res = run_inpaint(pipe, InpaintRequest(img, mask, "x", EditParams(steps=1, working_size=96, seed=0)))
    assert res.candidates[0].image.shape == (96, 96, 3)


def test_missing_base_folder_names_it(tmp_path, saved):
    with pytest.raises(EngineError, match="sd15-nowhere is missing") as err:
        load_pipeline(tmp_path / "sd15-nowhere", saved[1])
    assert err.value.kind == "missing-models"


@pytest.mark.parametrize("rel", ["unet/config.json", "vae/diffusion_pytorch_model.safetensors",
                                 "text_encoder/model.safetensors", "tokenizer/vocab.json",
                                 "scheduler/scheduler_config.json"])
def test_missing_base_file_is_named(copy, rel):
    base, bn = copy
    (base / rel).unlink()
    if rel.startswith("tokenizer"):
        (base / "tokenizer/tokenizer.json").unlink(missing_ok=True)
    with pytest.raises(EngineError, match=rel.replace("/", ".") + " is missing") as err:
        load_pipeline(base, bn)
    assert err.value.kind == "missing-models"


def test_missing_brushnet_weights_are_named(copy):
    base, bn = copy
    (bn / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(EngineError, match="diffusion_pytorch_model.safetensors is missing") as err:
        load_pipeline(base, bn)
    assert err.value.kind == "missing-models"
    with pytest.raises(EngineError, match="brushnet-nowhere is missing"):
        load_pipeline(base, bn.parent / "brushnet-nowhere")


def test_brushnet_for_another_unet_is_incompatible(copy):
    base, bn = copy
    cfg = json.loads((bn / "config.json").read_text())
    cfg["block_out_channels"] = [320, 640, 1280, 1280]
    (bn / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(EngineError, match="does not fit") as err:
        load_pipeline(base, bn)
    assert err.value.kind == "bad-input"


def test_an_inpainting_unet_is_refused(copy):
    base, bn = copy
    cfg = json.loads((base / "unet/config.json").read_text())
    cfg["in_channels"] = 9
    (base / "unet/config.json").write_text(json.dumps(cfg))
    with pytest.raises(EngineError, match="4-channel") as err:
        load_pipeline(base, bn)
    assert err.value.kind == "bad-input"


def _to_bin(folder, st_name, bin_name):
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(folder / st_name), folder / bin_name)
    (folder / st_name).unlink()


def test_bin_only_base_folders_load_through_weights_only_torch_load(copy, saved, monkeypatch):
    import torch

    base, bn = copy
    _to_bin(base / "unet", "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
    _to_bin(base / "vae", "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
    _to_bin(base / "text_encoder", "model.safetensors", "pytorch_model.bin")
    _to_bin(bn, "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
    loads = []
    real_load = torch.load

    def spy(*a, **kw):
        loads.append(kw.get("weights_only"))
        return real_load(*a, **kw)
    monkeypatch.setattr(torch, "load", spy)
    pipe = load_pipeline(base, bn, device="cpu")
    assert loads == [True] * 4  # every pickle read is weights-only
    ref = load_pipeline(*saved, device="cpu")
    for name in ("unet", "vae", "text_encoder", "brushnet"):
        a, b = getattr(pipe, name).state_dict(), getattr(ref, name).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    img = np.full((64, 64, 3), 120, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    req = InpaintRequest(img, mask, "x", EditParams(steps=2, working_size=64, seed=0))
    assert np.array_equal(run_inpaint(pipe, req).candidates[0].image, run_inpaint(ref, req).candidates[0].image)


def test_a_pickle_that_is_not_plain_weights_is_refused(copy):
    import torch

    base, bn = copy
    (bn / "diffusion_pytorch_model.safetensors").unlink()
    torch.save({"w": torch.zeros(1), "evil": EngineError("code")}, bn / "diffusion_pytorch_model.bin")
    with pytest.raises(EngineError, match="weights-only") as err:
        load_pipeline(base, bn)
    assert err.value.kind == "bad-input"


def test_pickle_under_an_unknown_name_is_refused(copy):
    base, bn = copy
    (bn / "diffusion_pytorch_model.safetensors").rename(bn / "weights.bin")
    with pytest.raises(EngineError, match="safetensors|pickle") as err:
        load_pipeline(base, bn)
    assert err.value.kind == "bad-input"


def test_corrupt_weights_give_a_clear_error(copy):
    base, bn = copy
    (bn / "diffusion_pytorch_model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(EngineError, match="cannot load") as err:
        load_pipeline(base, bn)
    assert err.value.kind == "bad-input"


def test_asking_for_cuda_without_one_is_a_clear_error(saved):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(EngineError, match="CUDA") as err:
        load_pipeline(*saved, device="cuda")
    assert err.value.kind == "bad-input"


def test_half_precision_path_runs_on_the_cpu_too(saved):
    # bf16 on the CPU exercises the same dtype plumbing as fp16/bf16 on CUDA, without a GPU.
    import torch

    pipe = load_pipeline(*saved, device="cpu", dtype=torch.bfloat16)
    assert {pipe.unet.dtype, pipe.vae.dtype, pipe.brushnet.dtype, pipe.text_encoder.dtype} == {torch.bfloat16}
    img = np.full((96, 128, 3), 120, np.uint8)
    mask = np.zeros((96, 128), np.uint8)
    mask[30:60, 40:80] = 255
    previews = []
    res = run_inpaint(pipe, InpaintRequest(img, mask, "x", EditParams(steps=2, working_size=128, seed=0,
                                                                      num_candidates=2, strength=0.8)),
                      on_preview=lambda im, s, rect: previews.append(im.dtype))
    assert [c.image.shape for c in res.candidates] == [(96, 128, 3)] * 2
    assert previews and all(d == np.uint8 for d in previews)


@pytest.mark.slow
def test_compiled_pipeline_paints_what_the_eager_one_paints(saved, tmp_path, monkeypatch):
    # torch.compile on the CPU goes through the same graph capture of our per-step blocks as on
    # CUDA (inductor with a C++ backend instead of Triton), so a graph break or a compile error in
    # the BrushNet path shows here without a GPU.
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("torch.compile on the CPU needs a C compiler")
    # Inductor's compiled kernels go to this test's folder, not a /tmp cache that grows every run.
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    img = np.full((96, 128, 3), 120, np.uint8)
    img[::7] = 30
    mask = np.zeros((96, 128), np.uint8)
    mask[30:60, 40:80] = 255
    req = InpaintRequest(img, mask, "x", EditParams(steps=3, working_size=128, seed=1, num_candidates=2))
    eager = run_inpaint(load_pipeline(*saved, device="cpu"), req).candidates
    compiled_pipe = load_pipeline(*saved, device="cpu", compile=True)
    assert any(getattr(m, "_compiled_call_impl", None) is not None for m in compiled_pipe.unet.modules())
    compiled = run_inpaint(compiled_pipe, req).candidates
    for a, b in zip(eager, compiled, strict=True):
        diff = np.abs(a.image.astype(int) - b.image.astype(int))
        assert diff.max() <= 3 and diff.mean() < 0.5
        assert not np.array_equal(a.image, img)  # it painted something
