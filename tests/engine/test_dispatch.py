"""The Engine dispatcher: which painter a request gets, and the real engine behind the service."""

from __future__ import annotations

import queue

import numpy as np
import pytest

from engine.api import (
    EditParams,
    EditResult,
    EngineError,
    InpaintRequest,
    JobFailed,
    JobFinished,
    MissingModelsError,
    SegmentRequest,
)
from engine.dispatch import Engine, EngineConfig, is_removal
from engine.service import EngineService


@pytest.fixture(autouse=True)
def no_real_weights(no_installed_models):
    """Every test here runs on a computer without model weights (tests/conftest.py)."""


@pytest.fixture(scope="module")
def cat():
    from skimage import data

    image = data.chelsea()
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[90:190, 140:250] = 255
    return image, mask


def request(cat, prompt="", category="", engine="auto", **params):
    image, mask = cat
    return InpaintRequest(image, mask, prompt, EditParams(engine=engine, **params), category=category)


def test_removals_are_recognised():
    img, m = np.zeros((4, 4, 3), np.uint8), np.full((4, 4), 255, np.uint8)
    assert is_removal(InpaintRequest(img, m, "", category="removal"))
    assert is_removal(InpaintRequest(img, m, ""))  # a bare painted mask erases
    assert not is_removal(InpaintRequest(img, m, "a dog"))
    assert not is_removal(InpaintRequest(img, m, "", category="local"))


def test_auto_without_weights_fills_removals_and_names_missing_weights_otherwise(cat):
    engine = Engine(EngineConfig(device="cpu"))
    assert engine.choose_engine(request(cat, category="removal"))[0] == "fill"
    with pytest.raises(MissingModelsError) as err:
        engine.choose_engine(request(cat, "a dog", category="local"))
    assert err.value.names == ("brushnet-x", "sd15-realistic-vision")
    assert "brushedit models download brushnet-x sd15-realistic-vision" in err.value.hint
    with pytest.raises(MissingModelsError):
        engine.choose_engine(request(cat, engine="brushedit", category="removal"))
    assert engine.choose_engine(request(cat, "a dog", engine="fill"))[0] == "fill"


def test_auto_with_weights_needs_a_usable_device(cat, tmp_path, monkeypatch):
    base, brushnet = tmp_path / "base", tmp_path / "bn"
    base.mkdir(), brushnet.mkdir()
    cfg = dict(base_model_dir=base, brushnet_dir=brushnet)
    # Explicit CPU counts as usable: BrushEdit for everything.
    assert Engine(EngineConfig(device="cpu", **cfg)).choose_engine(request(cat, "a dog"))[0] == "brushedit"
    # device auto without CUDA: removals fall back to fill, other edits say why not.
    import engine.device as devices

    monkeypatch.setattr(devices, "cuda_available", lambda: False)
    auto = Engine(EngineConfig(device="auto", **cfg))
    assert auto.choose_engine(request(cat, category="removal"))[0] == "fill"
    with pytest.raises(EngineError) as err:
        auto.choose_engine(request(cat, "a dog"))
    assert err.value.kind == "no-device" and "--device cpu" in err.value.hint
    monkeypatch.setattr(devices, "cuda_available", lambda: True)
    assert auto.choose_engine(request(cat, "a dog"))[0] == "brushedit"


def test_bad_requests_are_value_errors(cat):
    image, mask = cat
    engine = Engine(EngineConfig(device="cpu"))
    with pytest.raises(ValueError, match="empty"):
        engine.handle(InpaintRequest(image, np.zeros_like(mask), "", EditParams(engine="fill")))
    with pytest.raises(ValueError, match="mask"):
        engine.handle(InpaintRequest(image, mask[:10], "", EditParams(engine="fill")))
    with pytest.raises(ValueError):
        engine.handle("not a request")


def test_segment_without_sam_names_the_model(cat):
    with pytest.raises(MissingModelsError) as err:
        Engine(EngineConfig(device="cpu")).handle(SegmentRequest(cat[0], points=((10.0, 10.0),), labels=(1,)))
    assert err.value.names == ("sam-vit-h",)


def test_the_real_engine_behind_the_service(cat):
    """Fill edit -> JobFinished(EditResult); BrushEdit without weights -> JobFailed(missing-models)."""
    messages = queue.Queue()
    service = EngineService(messages.put, EngineConfig(device="cpu"))
    service.start()
    try:
        ok = service.submit(request(cat, category="removal"))
        bad = service.submit(request(cat, "a dog", category="local"))
        seen = {}
        while len(seen) < 2:
            m = messages.get(timeout=60)
            if isinstance(m, (JobFinished, JobFailed)):
                seen[m.job_id] = m
    finally:
        assert service.shutdown()
    result = seen[ok].result
    assert isinstance(result, EditResult) and result.engine == "fill"
    image, mask = cat
    far = __import__("masks.mask_ops", fromlist=["dilate"]).dilate(mask, 21) == 0
    assert np.array_equal(result.candidates[0].image[far], image[far])
    failed = seen[bad]
    assert isinstance(failed, JobFailed) and failed.kind == "missing-models"
    assert failed.hint == "run: brushedit models download brushnet-x sd15-realistic-vision"


def test_pipelines_are_loaded_once_and_dropped_on_device_change(monkeypatch, tmp_path):
    import engine.brushnet as brushnet_pkg

    loads = []
    monkeypatch.setattr(brushnet_pkg, "load_pipeline",
                        lambda base, bn, **kw: loads.append((base, bn, kw)) or object(), raising=False)
    base, bn = tmp_path / "b", tmp_path / "n"
    base.mkdir(), bn.mkdir()
    engine = Engine(EngineConfig(device="cpu", base_model_dir=base, brushnet_dir=bn))
    first = engine.pipeline()
    assert engine.pipeline() is first and len(loads) == 1
    assert loads[0][2]["device"] == "cpu" and loads[0][2]["cpu_offload"] is False
    engine.set_config(EngineConfig(device="cpu", base_model_dir=base, brushnet_dir=bn, cpu_offload=True))
    engine.pipeline()
    assert len(loads) == 2 and loads[1][2]["cpu_offload"] is True


def test_another_installed_model_of_the_kind_is_used(tmp_path, monkeypatch):
    import zipfile

    small = tmp_path / "my-small-sam.pth"
    with zipfile.ZipFile(small, "w") as zf:
        zf.writestr("archive/data.pkl", b"x")
    engine = Engine(EngineConfig(device="cpu"))
    assert engine.sam_checkpoint() == (None, "vit_h")
    monkeypatch.setenv("BRUSHEDIT_MODEL_SAM_VIT_B", str(small))
    assert engine.sam_checkpoint() == (small, "vit_b")  # only the small SAM is there: use it
    explicit = Engine(EngineConfig(device="cpu", sam_path=small))
    assert explicit.sam_checkpoint() == (small, None)  # an explicit file: the loader reads its type


def test_a_download_job_through_the_service(tmp_path):
    """DownloadRequest from a local mirror: progress messages, then the installed folder."""
    import json

    from engine.api import DownloadRequest, Progress
    from safetensors.numpy import save_file

    mirror = tmp_path / "mirror" / "TencentARC" / "BrushEdit" / "brushnetX"
    mirror.mkdir(parents=True)
    (mirror / "config.json").write_text(json.dumps({"_class_name": "BrushNetModel"}))
    save_file({"w": np.ones((64, 64), np.float32)}, str(mirror / "diffusion_pytorch_model.safetensors"))
    messages = queue.Queue()
    service = EngineService(messages.put, EngineConfig(download_source=tmp_path / "mirror"))
    service.start()
    try:
        job = service.submit(DownloadRequest(("brushnet-x",)))
        seen = []
        while not seen or not isinstance(seen[-1], (JobFinished, JobFailed)):
            seen.append(messages.get(timeout=30))
    finally:
        assert service.shutdown()
    assert isinstance(seen[-1], JobFinished) and seen[-1].job_id == job, seen[-1]
    assert seen[-1].result == (tmp_path / "models" / "brushnet-x",)
    progress = [m for m in seen if isinstance(m, Progress)]
    assert progress and progress[-1].step == progress[-1].total > 0
    from engine.models import find_model

    assert find_model("brushnet-x").source == "app"


def test_cuda_asked_without_a_gpu_says_so(monkeypatch):
    import engine.device as devices

    monkeypatch.setattr(devices, "cuda_available", lambda: False)
    with pytest.raises(EngineError) as err:
        Engine(EngineConfig(device="cuda")).device()
    assert err.value.kind == "no-device" and "cpu" in err.value.hint
    assert Engine(EngineConfig(device="auto")).device() == "cpu"


def test_an_engine_in_the_editor_on_cpu_sets_torch_threads_once(monkeypatch):
    import engine.device as devices

    torch = pytest.importorskip("torch")
    calls = []
    monkeypatch.setattr(devices, "_threads_set", False)
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("BRUSHEDIT_THREADS", raising=False)
    monkeypatch.setattr(devices.os, "cpu_count", lambda: 6)
    assert Engine(EngineConfig(device="cpu")).device() == "cpu"
    assert calls == []  # the CLI's engine keeps every core
    gui = Engine(EngineConfig(device="cpu"), leave_core_for_gui=True)
    assert gui.device() == "cpu" and gui.device() == "cpu"
    assert calls == [5]  # once per process


def test_the_service_engine_leaves_a_core_for_the_editor():
    svc = EngineService(lambda m: None, EngineConfig(device="cpu"))
    assert svc._factory(EngineConfig(device="cpu")).leave_core_for_gui


def test_requests_are_routed_by_the_handler_table(cat):
    """Every job request has a handler (no isinstance chain); a new type is routed once registered."""
    from dataclasses import dataclass

    from engine import dispatch
    from engine.api import JOB_REQUESTS

    assert set(dispatch.HANDLERS) == set(JOB_REQUESTS)
    engine = Engine(EngineConfig(device="cpu"))
    seen = []

    @dataclass(frozen=True)
    class Ping:
        text: str

    with pytest.raises(ValueError, match="unknown request type Ping"):
        engine.handle(Ping("hi"))
    try:
        dispatch.HANDLERS[Ping] = lambda eng, req, progress, preview, cancelled: seen.append(
            (eng, req, cancelled())) or "pong"
        assert engine.handle(Ping("hi")) == "pong"  # the defaults are passed in: cancelled() is False
        assert seen == [(engine, Ping("hi"), False)]
    finally:
        del dispatch.HANDLERS[Ping]
    # A fill removal goes through the table to the painters and comes back as an EditResult.
    result = engine.handle(request(cat, category="removal", engine="fill", num_candidates=1))
    assert isinstance(result, EditResult) and result.engine == "fill"


def test_the_owner_composes_its_parts(tmp_path):
    """Engine keeps the config, locates weights through engine.models.weights and caches through
    engine.memory.cache: a new configuration gets a new locator; unload empties the cache."""
    from engine.memory.cache import ModelCache
    from engine.models.weights import WeightLocator

    base, bn = tmp_path / "b", tmp_path / "n"
    engine = Engine(EngineConfig(device="cpu"))
    assert isinstance(engine.weights, WeightLocator) and isinstance(engine.models, ModelCache)
    assert engine.base_model_dir() is None
    engine.set_config(EngineConfig(device="cpu", base_model_dir=base, brushnet_dir=bn))
    assert engine.weights.config is engine.config and engine.base_model_dir() == base
    assert engine.brushedit_missing() == []
    engine._cached("sam", ("k",), object)
    assert set(engine._cache) == {"sam"} and engine._cache is engine.models.entries
    engine.unload()
    assert engine._cache == {} and engine._residency is None


def test_the_service_says_before_planning_whether_an_edit_can_be_painted(cat, tmp_path, monkeypatch):
    """EngineService.check_paint (the editor's Run asks it before GroundingDINO/SAM, as `edit` does):
    missing weights named with the fix, no usable device with its hint, a removal the fill can do passes;
    nothing is loaded and no job is queued."""
    messages = []
    service = EngineService(messages.append, EngineConfig(device="cpu"))
    problem = service.check_paint(request(cat, "a dog", category="local"))
    assert isinstance(problem, MissingModelsError)
    assert problem.names == ("brushnet-x", "sd15-realistic-vision") and "models download" in problem.hint
    assert service.check_paint(request(cat, category="removal")) is None

    import engine.device as devices

    base, brushnet = tmp_path / "base", tmp_path / "bn"
    base.mkdir(), brushnet.mkdir()
    monkeypatch.setattr(devices, "cuda_available", lambda: False)
    service.set_config(EngineConfig(device="auto", base_model_dir=base, brushnet_dir=brushnet))
    problem = service.check_paint(request(cat, "a dog", category="local"))
    assert isinstance(problem, EngineError) and problem.kind == "no-device"
    assert service.pending() == [] and messages == [] and service._engine is None
