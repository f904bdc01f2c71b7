"""run_text: what a typed text runs, decided once from one reading of it, before anything is planned."""

from __future__ import annotations

import numpy as np

from desktop.engine_client import EngineError
from tests.desktop.model.model_helpers import paint_a_box, parses, submitted


def test_a_plain_prompt_paints_the_mask_as_typed(make_model, qtbot):
    model, doc, service = make_model()
    mask = paint_a_box(doc)
    with qtbot.waitSignal(model.candidates_changed, timeout=10000):
        decision = model.run_text("a wooden bench")
    assert decision.action == "paint" and not decision.read_as_instruction
    (paint,) = submitted(service, "InpaintRequest")
    assert paint.prompt == "a wooden bench" and paint.instruction == "" and np.array_equal(paint.mask, mask)
    assert not submitted(service, "PlanRequest")
    assert len(parses(service)) == 1  # read once, by the engine that paints it


def test_an_instruction_is_read_once_and_its_caption_painted(make_model, qtbot):
    model, doc, service = make_model()
    paint_a_box(doc)
    with qtbot.waitSignal(model.candidates_changed, timeout=10000):
        decision = model.run_text("remove the man")
    assert decision.action == "paint" and decision.read_as_instruction
    assert decision.category == "removal" and decision.target == "man"
    (paint,) = submitted(service, "InpaintRequest")
    assert (paint.prompt, paint.category, paint.target, paint.instruction) == (
        decision.prompt, "removal", "man", "remove the man")
    assert paint.prompt != "remove the man"
    assert len(parses(service)) == 1


def test_a_compound_text_is_planned_whole_then_painted_step_by_step(make_model, qtbot):
    model, doc, service = make_model()
    with qtbot.waitSignal(model.chain_finished, timeout=10000) as finished:
        decision = model.run_text("remove the flag and make the helmet gold")
        assert decision.action == "chain" and model.busy
    layers, skipped, cancelled = finished.args
    assert len(layers) == 2 and not skipped and not cancelled
    plans = [p.instruction for p in submitted(service, "PlanRequest")]
    assert plans == ["remove the flag and make the helmet gold", "make the helmet gold"]
    assert [p.instruction for p in submitted(service, "InpaintRequest")] == ["remove the flag", "make the helmet gold"]
    assert len(parses(service)) == 1  # the decision's reading; the chain did not read it again
    assert not model.busy


def test_a_shown_plan_runs_its_edited_caption_without_reading_the_text_again(make_model, qtbot):
    model, doc, service = make_model()
    with qtbot.waitSignal(model.plan_ready, timeout=10000) as ready:
        model.request_plan("make the helmet gold")
    plan = ready.args[0]
    model.apply_plan(plan)
    with qtbot.waitSignal(model.candidates_changed, timeout=10000):
        decision = model.run_text("make the helmet gold", plan=plan, caption="a golden helmet")
    assert decision.action == "plan"
    (paint,) = submitted(service, "InpaintRequest")
    assert paint.prompt == "a golden helmet" and paint.instruction == "make the helmet gold"
    assert paint.category == plan.category and np.array_equal(paint.mask > 0, plan.mask > 0)
    assert parses(service) == []


def test_text_typed_after_planning_drops_the_plan(make_model, qtbot):
    model, doc, service = make_model()
    with qtbot.waitSignal(model.plan_ready, timeout=10000) as ready:
        model.request_plan("make the helmet gold")
    decision = model.decide_run("a red hat", ready.args[0])
    assert decision.drops_plan and decision.action == "paint" and decision.prompt == "a red hat"
    assert model.decide_run("", ready.args[0]).action == "plan"  # an empty box runs the plan shown


def test_a_plan_of_steps_runs_its_steps(make_model, qtbot):
    from desktop.model.chain import steps_from_plan

    model, doc, service = make_model()
    with qtbot.waitSignal(model.plan_ready, timeout=10000) as ready:
        model.request_plan("remove the flag and remove the rock")
    plan = ready.args[0]
    steps = steps_from_plan(plan)[::-1]  # the user reordered them
    with qtbot.waitSignal(model.chain_finished, timeout=10000) as finished:
        decision = model.run_text(plan.instruction, plan=plan, steps=steps)
    assert decision.action == "steps"
    assert [layer.provenance.instruction for layer in finished.args[0]] == ["remove the rock", "remove the flag"]


def test_a_painted_mask_is_kept_as_step_one(make_model, qtbot):
    model, doc, service = make_model()
    mask = paint_a_box(doc)
    with qtbot.waitSignal(model.chain_finished, timeout=10000):
        model.run_text("remove the flag and remove the rock")
    paints = submitted(service, "InpaintRequest")
    assert np.array_equal(paints[0].mask > 0, mask > 0)  # where the user said
    assert not np.array_equal(paints[1].mask > 0, mask > 0)  # step 2 found by the planner
    assert submitted(service, "PlanRequest")[0].mask is None  # the whole was planned on the picture as it is


def test_a_painter_that_cannot_run_is_refused_before_planning(make_model, qtbot):
    """Issue 25 item 8: no CUDA, device Auto: the editor planned (GroundingDINO + SAM, a minute) and only then
    said BrushEdit needs a GPU. Now the engine is asked first; the message's fix names Preferences ▸ Run on."""
    from desktop.ui.error_text import RUN_ON, for_display

    def no_gpu(request):
        if request.category == "removal":
            return None  # the fill engine removes on any machine
        return EngineError("this edit needs BrushEdit and there is no CUDA GPU",
                           hint="pass --device cpu (slow) or use a removal with the fill engine", kind="no-device")

    model, doc, service = make_model(paint_check=no_gpu)
    errors, busy = [], []
    model.error.connect(lambda message, hint: errors.append((message, hint)))
    model.busy_changed.connect(busy.append)
    decision = model.run_text("make the sky a sunset and remove the cat")
    assert decision.action == "chain"
    assert errors and "no CUDA GPU" in errors[0][0]
    assert RUN_ON in for_display(*errors[0])[1]
    assert service.submitted == [] and busy == [] and not model.busy  # nothing planned, nothing queued
    assert [r.category for r in service.checked] == ["local"]  # the step the reading is sure of
    qtbot.wait(20)
    assert service.submitted == []


def test_a_removal_the_fill_engine_can_do_is_not_refused(make_model, qtbot):
    model, doc, service = make_model(paint_check=lambda request: None if request.category == "removal" else
                                     EngineError("needs a GPU", kind="no-device"))
    with qtbot.waitSignal(model.chain_finished, timeout=10000) as finished:
        model.run_text("remove the flag and remove the rock")
    assert len(finished.args[0]) == 2 and service.checked


def test_empty_text_and_no_mask_says_what_is_missing(make_model):
    model, doc, service = make_model()
    errors = []
    model.error.connect(lambda message, hint: errors.append(message))
    assert model.run_text("").action == "paint"
    assert errors == ["Nothing to repaint: the mask is empty"] and service.submitted == []


def test_an_eraser_that_ran_for_a_prompt_is_said():
    from types import SimpleNamespace as NS

    from desktop.model.run_text import ignored_prompt_note

    def result(engine, prompt, category=""):
        return NS(engine=engine, request=NS(prompt=prompt, category=category))

    assert "fill engine only erases" in ignored_prompt_note(result("fill", "winter"))
    assert "LaMa remover" in ignored_prompt_note(result("lama", "a red rose"))
    assert ignored_prompt_note(result("fill", "", "removal")) is None
    assert ignored_prompt_note(result("lama", "empty background", "removal")) is None
    assert ignored_prompt_note(result("brushedit", "winter")) is None


def test_plan_and_run_without_plan_ask_for_an_instruction_first(make_model):
    model, doc, service = make_model()
    errors = []
    model.error.connect(lambda message, hint: errors.append(message))
    model.request_plan("   ")
    model.run_instruction("")
    assert errors == ["Type an instruction first"] * 2 and service.submitted == []
