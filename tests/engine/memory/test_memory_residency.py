"""The engine applies the memory plan: a model leaves the device after its stage when the plan says
so, and stays when it fits. Tiny real models on the CPU, with a fake ``vram_gb`` budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.api import EditParams, InpaintRequest, PlanRequest
from engine.dispatch import Engine, EngineConfig
from engine.instructor.backends.base import InstructorBackend, Understanding
from engine.instructor import parse_instruction
from engine.memory.residency import Residency, StagedModel, move_model


class Holder:
    """A model holder as the engine's detector is: a torch module in ``.model``, a ``device``."""

    def __init__(self, four_bit: bool = False):
        self.model = torch.nn.Linear(2, 2)
        if four_bit:
            self.model.is_loaded_in_4bit = True
        self.device = torch.device("cpu")


def test_move_model_moves_a_holder_and_refuses_a_4_bit_one():
    h = Holder()
    assert move_model(h, "cpu") and h.device == torch.device("cpu")
    assert move_model(Holder(four_bit=True), "cpu") is False


def test_move_model_moves_sam_with_its_cached_embeddings():
    from skimage import data

    from engine.segment.sam import SamSegmenter
    from tests.builders.segment import tiny_sam

    seg = SamSegmenter(tiny_sam(), device="cpu")
    seg.set_image(data.astronaut())
    assert move_model(seg, "cpu")
    assert seg.device.type == "cpu" and all(f.device.type == "cpu" for f, *_ in seg._cache.values())
    assert seg.predict([(256, 256)], [1]).mask.shape == (512, 512)  # still works after the move


def test_residency_moves_others_off_when_a_stage_begins_and_brings_them_back():
    cache = {"instructor": ("k", Holder()), "grounding": ("k", Holder()), "brushnet": ("k", Holder())}
    r = Residency({"instructor": "offload", "grounding": "drop", "sam": "keep", "brushnet": "keep"}, "cpu")
    r.enter("sam", cache)
    assert r.moves == [("instructor", "offloaded"), ("grounding", "dropped")]
    assert set(cache) == {"instructor", "brushnet"} and r.offloaded == {"instructor"}
    r.enter("sam", cache)  # the same stage again: nothing moves
    assert len(r.moves) == 2
    r.enter("instructor", cache)
    assert r.moves[-1] == ("instructor", "restored") and not r.offloaded


def test_a_4_bit_model_the_plan_offloads_is_dropped():
    cache = {"instructor": ("k", Holder(four_bit=True))}
    r = Residency({"instructor": "offload"}, "cuda")
    r.enter("grounding", cache)
    assert cache == {} and r.moves == [("instructor", "dropped")]


def test_a_staged_model_is_fetched_at_each_use():
    calls = []
    staged = StagedModel(lambda: calls.append(1) or Holder())
    assert calls == []
    staged.device
    staged.model
    assert len(calls) == 2


# --- the engine --------------------------------------------------------------------------------------

class TinyLocalBackend(InstructorBackend):
    """A "local" instructor with a tiny torch model; it understands with the offline parser."""

    name = "local"

    def __init__(self):
        self.model = torch.nn.Linear(4, 4)
        self.device = torch.device("cpu")
        self.uses = 0

    def ask(self, image, instruction, problem=None):  # pragma: no cover - understand is overridden
        raise AssertionError

    def understand(self, image, instruction):
        self.uses += 1
        return Understanding(parse_instruction(instruction), "local")


@pytest.fixture
def tiny_engine(monkeypatch, tmp_path):
    """``make(vram_gb)`` -> (engine, log): an engine over tiny models whose loaders are the tests'."""
    import engine.brushnet as brushnet_pkg
    import engine.instructor.backends as backends
    import engine.segment.grounding as grounding
    import engine.segment.sam as sam_mod
    from tests.builders.brushnet import tiny_pipeline
    from tests.builders.segment import tiny_grounding_dino, tiny_sam

    log: list[tuple] = []
    engines: list[Engine] = []

    def snapshot(event):
        e = engines[0]
        log.append((event, tuple(e._residency.moves) if e._residency else (), tuple(sorted(e._cache))))

    monkeypatch.setattr(backends, "load_backend", lambda name, **kw: TinyLocalBackend())
    monkeypatch.setattr(grounding, "load_grounding_dino",
                        lambda path, device=None: grounding.GroundingDetector(*tiny_grounding_dino(), device=device))
    monkeypatch.setattr(sam_mod, "load_sam", lambda path, model_type=None, device=None: tiny_sam())
    monkeypatch.setattr(brushnet_pkg, "load_pipeline", lambda base, bn, **kw: tiny_pipeline(), raising=False)
    monkeypatch.setattr(brushnet_pkg, "run_inpaint",
                        lambda pipe, request, **kw: snapshot("paint") or "painted", raising=False)
    original_detect = grounding.GroundingDetector.detect
    monkeypatch.setattr(grounding.GroundingDetector, "detect",
                        lambda self, *a, **kw: snapshot("detect") or original_detect(self, *a, **kw))
    for name in ("base", "brushnet", "gdino"):
        (tmp_path / name).mkdir()

    def make(vram_gb, **config):
        settings = dict(
            device="cpu", vram_gb=vram_gb, instructor="local", instructor_model="qwen2-vl-2b",
            instructor_settings={"model_dir": str(tmp_path)}, grounding_dir=tmp_path / "gdino",
            sam_path=tmp_path / "sam_tiny.pth", base_model_dir=tmp_path / "base",
            brushnet_dir=tmp_path / "brushnet")
        engine = Engine(EngineConfig(**dict(settings, **config)))
        engines.append(engine)
        return engine, log

    return make


def _cat():
    from skimage import data

    image = np.ascontiguousarray(data.chelsea()[::2, ::2])  # a small photo keeps the test quick
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[45:95, 70:125] = 255
    return image, mask


def _agent_edit(engine):
    image, mask = _cat()
    plan = engine.handle(PlanRequest(image, "remove the cat", backend="local"))
    engine.handle(InpaintRequest(image, plan.mask if plan.mask.any() else mask, plan.caption,
                                 EditParams(engine="brushedit", steps=1)))
    return plan


def test_the_plan_says_offload_and_each_model_leaves_after_its_stage(tiny_engine):
    engine, log = tiny_engine(10)
    after = engine.memory_plan().after_stage()
    assert after == {"instructor": "offload", "grounding": "offload", "sam": "offload", "brushnet": "keep"}
    _agent_edit(engine)
    (_, at_detect, _), (_, at_paint, cached) = log
    assert at_detect == (("instructor", "offloaded"),)  # the instructor left before detection began
    assert set(at_paint) == {("instructor", "offloaded"), ("grounding", "offloaded"), ("sam", "offloaded")}
    assert engine._residency.offloaded == {"instructor", "grounding", "sam"}
    assert cached == ("brushnet", "grounding", "instructor", "sam")  # offloaded, not forgotten
    # The next instruction brings the instructor back; the painter, kept, never moved.
    _agent_edit(engine)
    assert ("instructor", "restored") in engine._residency.moves
    assert not any(kind == "brushnet" for kind, _ in engine._residency.moves)


def test_the_plan_result_says_which_instructor_the_card_got(tiny_engine):
    engine, _ = tiny_engine(12)
    plan = engine.handle(PlanRequest(_cat()[0], "remove the cat", backend="local"))
    assert any(n.startswith("memory plan: qwen2-vl-2b in 16-bit fits 12 GB") for n in plan.notes)


def test_on_a_card_where_everything_fits_nothing_moves(tiny_engine):
    engine, log = tiny_engine(80)
    assert set(engine.memory_plan().after_stage().values()) == {"keep"}
    _agent_edit(engine)
    _agent_edit(engine)
    assert engine._residency.moves == []
    assert set(engine._cache) == {"instructor", "grounding", "sam", "brushnet"}


def test_a_small_card_moves_the_painter_off_too(tiny_engine):
    engine, log = tiny_engine(8)
    assert engine.memory_plan().after_stage()["brushnet"] == "offload"
    _agent_edit(engine)
    engine.handle(PlanRequest(_cat()[0], "remove the cat", backend="local"))
    assert ("brushnet", "offloaded") in engine._residency.moves
    pipe = engine._cache["brushnet"][1]
    assert pipe.unet.device.type == "cpu"


def test_the_plan_picks_the_instructor_the_engine_loads(tiny_engine):
    engine, _ = tiny_engine(24, instructor_model="auto")
    assert engine.instructor_choice() == ("qwen2-vl-7b", "16bit")
    engine, _ = tiny_engine(12, instructor_model="auto")
    assert engine.instructor_choice() == ("qwen2-vl-2b", "16bit")  # no bitsandbytes / CUDA here
    engine, _ = tiny_engine(None, instructor_model="auto")
    assert engine.memory_plan() is None and engine.instructor_choice() == ("qwen2-vl-7b", "16bit")


def test_the_4_bit_instructor_without_bitsandbytes_says_how_to_get_it(tiny_engine):
    from engine.api import EngineError
    from engine.memory.quantize import load_instructor_4bit

    with pytest.raises(EngineError) as err:
        load_instructor_4bit("/nonexistent", "cpu")
    assert "bitsandbytes" in str(err.value) and "pip install bitsandbytes" in err.value.hint
