"""run_chain: steps in order, each on the previous result; cancel keeps the finished steps."""

import numpy as np

from engine.api import Cancelled, Candidate, EditParams, EditPlan, EditResult
from engine.chain import run_chain


def _step(text, value, category="local"):
    mask = np.zeros((8, 8), np.uint8)
    mask[:4] = 255
    return EditPlan(text, category, "thing", f"paint {value}", "neg", mask)


class FakeEngine:
    """Paints the masked rows with a value; re-plans a step as its stored plan; may cancel."""

    def __init__(self, plans, cancel_at=None):
        self.plans, self.cancel_at = plans, cancel_at
        self.painted_on, self.planned_on = [], []

    def plan(self, request, on_progress=None):
        self.planned_on.append(request.image.copy())
        return self.plans[request.instruction]

    def inpaint(self, request, on_progress=None, on_preview=None, is_cancelled=None):
        k = len(self.painted_on)
        self.painted_on.append(request.image.copy())
        if self.cancel_at == k:
            raise Cancelled()
        out = request.image.copy()
        out[request.mask > 0] += 10
        return EditResult(request, (Candidate(out, request.params.seed or 0, (0, 0, 8, 4)),), "fake")


def test_each_step_paints_on_the_previous_result_with_its_own_seed():
    a, b = _step("first", 1), _step("second", 2)
    plan = EditPlan("first and second", "local", "thing", "paint 1", "neg", a.mask, steps=(a, b))
    engine = FakeEngine({"second": b})
    image = np.zeros((8, 8, 3), np.uint8)
    out = run_chain(engine, image, plan, EditParams(seed=5))
    assert [s.plan.instruction for s in out.steps] == ["first", "second"]
    assert [s.request.params.seed for s in out.steps] == [5, 6]
    assert [s.request.prompt for s in out.steps] == ["paint 1", "paint 2"]
    assert out.image[0, 0, 0] == 20 and out.image[7, 0, 0] == 0 and not out.cancelled
    assert engine.planned_on[0][0, 0, 0] == 10  # step 2 was found on step 1's result


def test_a_cancel_inside_a_step_keeps_the_finished_ones():
    a, b, c = _step("a", 1), _step("b", 2), _step("c", 3)
    plan = EditPlan("a, b, c", "local", "thing", "", "neg", a.mask, steps=(a, b, c))
    out = run_chain(FakeEngine({"b": b, "c": c}, cancel_at=1), np.zeros((8, 8, 3), np.uint8), plan, EditParams())
    assert out.cancelled and [s.plan.instruction for s in out.steps] == ["a"]
    assert out.image[0, 0, 0] == 10


def test_a_cancel_between_steps_stops_before_the_next():
    a, b = _step("a", 1), _step("b", 2)
    plan = EditPlan("a and b", "local", "thing", "", "neg", a.mask, steps=(a, b))
    done = []
    out = run_chain(FakeEngine({"b": b}), np.zeros((8, 8, 3), np.uint8), plan, EditParams(),
                    is_cancelled=lambda: bool(done), on_step=done.append)
    assert out.cancelled and len(out.steps) == 1 and done == list(out.steps)


def test_a_step_whose_object_is_gone_is_skipped_not_painted():
    a = _step("a", 1)
    empty = EditPlan("b", "removal", "dog", "", "neg", np.zeros((8, 8), np.uint8))
    plan = EditPlan("a and b", "local", "thing", "", "neg", a.mask, steps=(a, empty))
    out = run_chain(FakeEngine({"b": empty}), np.zeros((8, 8, 3), np.uint8), plan, EditParams())
    assert len(out.steps) == 1 and out.skipped == ((2, "nothing found for 'dog'"),)
