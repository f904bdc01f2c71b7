"""engine.memory.cache.ModelCache: one model per kind, loaded once per key, the plan applied per stage.

Real (tiny) torch modules on the CPU; the plan is a stand-in with the one method the cache reads."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from engine.memory.cache import ModelCache  # noqa: E402


class Plan:
    def __init__(self, after):
        self.after = after
        self.asked = 0

    def after_stage(self):
        self.asked += 1
        return dict(self.after)


class Holder:
    def __init__(self):
        self.model = torch.nn.Linear(2, 2)
        self.device = torch.device("cpu")


def test_a_kind_loads_once_per_key_and_reports_the_load():
    cache = ModelCache(lambda: None, lambda: "cpu")
    loads, progress = [], []
    first = cache.get("sam", ("a",), lambda: loads.append("a") or Holder(), lambda *a: progress.append(a))
    assert cache.get("sam", ("a",), lambda: loads.append("again") or Holder()) is first
    assert loads == ["a"] and progress == [(0, 1, "loading sam"), (1, 1, "loading sam")]
    second = cache.get("sam", ("b",), lambda: loads.append("b") or Holder())  # another key: replaced
    assert second is not first and loads == ["a", "b"] and cache.entries == {"sam": (("b",), second)}
    assert cache.residency is False  # planned at the first stage with torch loaded: no plan, no card


def test_make_room_applies_the_plan_as_each_stage_begins():
    plan = Plan({"instructor": "drop", "sam": "offload", "brushnet": "keep"})
    cache = ModelCache(lambda: plan, lambda: "cpu")
    cache.get("instructor", ("local",), Holder)
    cache.get("sam", ("s",), Holder)  # the instructor's stage ended: the plan drops it
    assert set(cache.entries) == {"sam"} and ("instructor", "dropped") in cache.residency.moves
    cache.get("brushnet", ("b",), Holder)  # SAM is offloaded (still held), BrushNet kept
    assert set(cache.entries) == {"sam", "brushnet"} and cache.residency.offloaded == {"sam"}
    cache.get("instructor", ("offline",), Holder, stage=False)  # no GPU memory: no stage begins
    assert cache.residency.offloaded == {"sam"} and plan.asked == 1
    cache.replan()  # a new configuration: a fresh residency from the plan at the next stage
    cache.make_room("sam")
    assert plan.asked == 2 and cache.residency.moves == [("instructor", "dropped")]
    assert set(cache.entries) == {"sam", "brushnet"}


def test_drop_and_clear_forget_models_and_the_residency():
    plan = Plan({"sam": "offload", "brushnet": "keep"})
    cache = ModelCache(lambda: plan, lambda: "cpu")
    cache.get("sam", ("s",), Holder)
    cache.get("brushnet", ("b",), Holder)
    assert cache.residency.offloaded == {"sam"}
    cache.drop("sam")
    assert set(cache.entries) == {"brushnet"} and cache.residency.offloaded == set()
    cache.clear()
    assert cache.entries == {} and cache.residency is None
