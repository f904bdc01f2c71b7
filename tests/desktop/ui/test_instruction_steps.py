"""A compound instruction in the editor: Plan shows the steps, the user unticks, edits or reorders
them, Run paints each ticked step as its own layer under one History entry; one undo takes them back."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.document import Document
from tests.fakes.fake_engine import fake_engine_client
from desktop.ui.edit_controller import EditController
from desktop.ui.panels.instruction_panel import InstructionPanel


@pytest.fixture
def ui(make_panel_ui):
    """The conftest's panel on a 128 x 128 astronaut, with 2 ms fake steps (room to cancel between them)."""
    return make_panel_ui(step_delay=0.002)


def _plan(panel, controller, qtbot, text):
    panel.instruction.setPlainText(text)
    with qtbot.waitSignal(controller.plan_ready, timeout=5000):
        qtbot.mouseClick(panel.plan_button, Qt.LeftButton)
    return panel.plan


def _run(panel, controller, qtbot):
    with qtbot.waitSignal(controller.chain_finished, timeout=10000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    return blocker.args


def _edit_layers(doc):
    return [layer for layer in doc.layers if getattr(layer, "provenance", None) is not None]


def test_plan_untick_run_two_layers_one_undo(ui, qtbot):
    client, controller, doc, panel, services = ui
    plan = _plan(panel, controller, qtbot, "remove the flag, make the helmet gold and remove the rock")
    assert panel.steps_list.isVisible() and panel.steps_list.count() == 3
    rows = [(panel.steps_list.item(r).text(0), panel.steps_list.item(r).text(1)) for r in range(3)]
    assert rows == [("remove the flag", "removal"), ("make the helmet gold", "local"), ("remove the rock", "removal")]
    assert not panel.steps_list.item(0).icon(0).isNull()  # the mask thumbnail
    assert not panel.caption.isVisible()  # the one-edit rows would only repeat step 1
    panel.steps_list.set_checked(1, False)
    entries_before = list(doc.history.entries)
    layers, skipped, cancelled = _run(panel, controller, qtbot)
    assert len(layers) == 2 and not skipped and not cancelled
    assert [layer.provenance.instruction for layer in _edit_layers(doc)] == ["remove the flag", "remove the rock"]
    assert [layer.provenance.extra["step"] for layer in _edit_layers(doc)] == [1, 2]
    assert doc.history.entries[len(entries_before):] == [f"Instruction: {plan.instruction}"]
    # Step 2 was planned on the picture step 1 left: its snapshot shows step 1's paint.
    plans = [r for r in services[0].submitted if type(r).__name__ == "PlanRequest"]
    paints = [r for r in services[0].submitted if type(r).__name__ == "InpaintRequest"]
    assert [p.instruction for p in plans[1:]] == ["remove the rock"]
    assert not np.array_equal(paints[1].image, paints[0].image)
    assert doc.undo()
    assert _edit_layers(doc) == [] and list(doc.history.entries[:doc.history.index]) == entries_before
    assert doc.redo() and len(_edit_layers(doc)) == 2


def test_an_edited_step_is_planned_from_its_new_text_and_reordering_changes_the_order(ui, qtbot):
    client, controller, doc, panel, services = ui
    _plan(panel, controller, qtbot, "remove the flag and make the helmet gold")
    panel.steps_list.item(1).setText(0, "make the helmet blue")
    panel.steps_list.move(1, -1)
    _run(panel, controller, qtbot)
    names = [layer.provenance.instruction for layer in _edit_layers(doc)]
    assert names == ["make the helmet blue", "remove the flag"]
    plans = [r.instruction for r in services[0].submitted if type(r).__name__ == "PlanRequest"]
    assert plans[1:] == ["make the helmet blue", "remove the flag"]  # both found on the picture as it is


def test_a_negation_is_a_kept_object_not_a_step(ui, qtbot):
    client, controller, doc, panel, services = ui
    plan = _plan(panel, controller, qtbot, "don't touch the flag, remove the rock and make the helmet gold")
    assert [s.instruction for s in plan.steps] == ["remove the rock", "make the helmet gold"]
    assert "flag" in panel.steps_list.protected_label.text()


def test_a_name_holding_and_is_one_step(ui, qtbot):
    client, controller, doc, panel, services = ui
    _plan(panel, controller, qtbot, "remove the flag and remove the rock")
    plan = _plan(panel, controller, qtbot, "remove the salt and pepper shakers")
    assert len(plan.steps) == 1 and not panel.steps_list.isVisible()
    assert panel.caption.isVisible() and panel.target_label.text() == plan.target


def test_cancel_keeps_the_finished_steps_under_one_entry(ui, qtbot):
    client, controller, doc, panel, services = ui
    _plan(panel, controller, qtbot, "remove the flag and remove the rock")
    # Cancel while step 2 paints (its first progress report): step 1's layer stays.
    controller.progress_changed.connect(
        lambda step, total, stage: controller.cancel() if stage.startswith("step 2 of 2: denoising") else None)
    layers, skipped, cancelled = _run(panel, controller, qtbot)
    assert cancelled and len(layers) == 1
    assert [layer.provenance.instruction for layer in _edit_layers(doc)] == ["remove the flag"]
    assert doc.history.entries[doc.history.index - 1] == "Instruction: remove the flag and remove the rock"
    assert not controller.busy


def test_cancel_between_steps_stops_before_the_next(ui, qtbot):
    client, controller, doc, panel, services = ui
    _plan(panel, controller, qtbot, "remove the flag and remove the rock")
    controller.progress_changed.connect(
        lambda step, total, stage: controller.cancel() if stage.startswith("step 1 of 2: denoising")
        and step == total else None)
    layers, skipped, cancelled = _run(panel, controller, qtbot)
    assert cancelled and len(layers) <= 1
    painted = [r for r in services[0].submitted if type(r).__name__ == "InpaintRequest"]
    assert len(painted) == 1  # step 2 never painted


def test_in_the_main_window_the_chain_is_layers_and_one_history_entry(make_window, qtbot, photo_path):
    window = make_window()
    assert window.open_path(photo_path)
    doc, panel, controller = window.document, window.instruction_panel, window.controller
    n_layers = window.layers_panel.tree.topLevelItemCount()
    _plan(panel, controller, qtbot, "remove the flag, then make the rock red, and remove the fence")
    panel.steps_list.set_checked(1, False)
    layers, _, _ = _run(panel, controller, qtbot)
    assert len(layers) == 2
    qtbot.waitUntil(lambda: window.layers_panel.tree.topLevelItemCount() == n_layers + 2, timeout=5000)
    history = [window.history_panel.list.item(i).text() for i in range(window.history_panel.list.count())]
    assert [h for h in history if h.startswith("Instruction: remove the flag, then make the rock")], history
    # Any one step can be hidden or deleted on its own.
    doc.set_layer_props(layers[0], visible=False)
    assert not layers[0].visible and layers[1].visible
    doc.undo()
    doc.remove_layer(layers[1])
    assert layers[0] in doc.layers and layers[1] not in doc.layers
    doc.undo()
    # One undo takes the chain back.
    window.undo()
    assert layers[0] not in doc.layers and layers[1] not in doc.layers
    qtbot.waitUntil(lambda: window.layers_panel.tree.topLevelItemCount() == n_layers, timeout=5000)


def test_an_edited_caption_is_the_prompt_of_its_step(ui, qtbot):
    client, controller, doc, panel, services = ui
    _plan(panel, controller, qtbot, "make the helmet gold and make the flag blue")
    panel.steps_list.item(0).setText(3, "a shiny golden helmet")
    _run(panel, controller, qtbot)
    paints = [r for r in services[0].submitted if type(r).__name__ == "InpaintRequest"]
    assert [p.prompt for p in paints] == ["a shiny golden helmet", "make the flag blue"]
    # Step 1 kept the mask it was planned with: no plan job for it, one for step 2.
    plans = [r.instruction for r in services[0].submitted if type(r).__name__ == "PlanRequest"]
    assert plans[1:] == ["make the flag blue"]


# --- Run without Plan: a compound instruction typed and Run is planned, then painted as a chain ----------

def _type(panel, qtbot, text):
    panel.instruction.setFocus()
    panel.instruction.clear()
    qtbot.keyClicks(panel.instruction, text)
    assert panel.instruction.toPlainText() == text


def test_run_without_plan_paints_every_step_as_its_own_layer_and_one_undo(ui, qtbot):
    client, controller, doc, panel, services = ui
    stages = []
    controller.progress_changed.connect(lambda step, total, stage: stages.append(stage))
    _type(panel, qtbot, "remove the flag and make the helmet gold")
    entries_before = list(doc.history.entries[:doc.history.index])
    layers, skipped, cancelled = _run(panel, controller, qtbot)  # Run pressed, never Plan
    assert len(layers) == 2 and not skipped and not cancelled
    assert [layer.provenance.instruction for layer in _edit_layers(doc)] == ["remove the flag", "make the helmet gold"]
    assert [layer.provenance.extra["step"] for layer in _edit_layers(doc)] == [1, 2]
    # Each step's layer says who read the instruction (the plan's report), as a single edit's does.
    reports = [layer.provenance.extra["instructor"] for layer in _edit_layers(doc)]
    assert [(r["requested"], r["used"]) for r in reports] == [("auto", "offline")] * 2, reports
    assert doc.history.entries[len(entries_before):doc.history.index] == [
        "Instruction: remove the flag and make the helmet gold"]
    # The whole was planned once on the picture as it is, step 2 again on step 1's result.
    plans = [r for r in services[0].submitted if type(r).__name__ == "PlanRequest"]
    paints = [r for r in services[0].submitted if type(r).__name__ == "InpaintRequest"]
    assert [p.instruction for p in plans] == ["remove the flag and make the helmet gold", "make the helmet gold"]
    assert [p.category for p in paints] == ["removal", "local"]
    assert not np.array_equal(paints[1].image, paints[0].image)
    assert any(s.startswith("step 2 of 2") for s in stages), stages
    transcript = panel.transcript.toPlainText()
    assert "2 steps, each its own layer: removal · flag; local · helmet" in transcript, transcript
    assert not controller.busy
    assert doc.undo()  # one undo takes both back
    assert _edit_layers(doc) == [] and list(doc.history.entries[:doc.history.index]) == entries_before


def test_run_without_plan_keeps_a_painted_mask_as_step_one(ui, qtbot):
    client, controller, doc, panel, services = ui
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[10:40, 10:40] = 255
    doc.set_mask(mask, label="Brush")
    _type(panel, qtbot, "remove the flag and remove the rock")
    layers, _skipped, _cancelled = _run(panel, controller, qtbot)
    assert len(layers) == 2
    paints = [r for r in services[0].submitted if type(r).__name__ == "InpaintRequest"]
    assert np.array_equal(paints[0].mask > 0, mask > 0)  # where the user said
    assert not np.array_equal(paints[1].mask > 0, mask > 0)  # step 2 found by the planner


def test_run_without_plan_cancel_keeps_the_finished_step(ui, qtbot):
    client, controller, doc, panel, services = ui
    controller.progress_changed.connect(
        lambda step, total, stage: controller.cancel() if stage.startswith("step 2 of 2: denoising") else None)
    _type(panel, qtbot, "remove the flag and remove the rock")
    layers, _skipped, cancelled = _run(panel, controller, qtbot)
    assert cancelled and len(layers) == 1
    assert doc.history.entries[doc.history.index - 1] == "Instruction: remove the flag and remove the rock"
    assert not controller.busy


def test_run_without_plan_cancel_while_planning_paints_nothing(ui, qtbot):
    client, controller, doc, panel, services = ui
    _type(panel, qtbot, "remove the flag and remove the rock")
    with qtbot.waitSignal(controller.chain_finished, timeout=10000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
        assert controller.busy
        controller.cancel()  # the whole instruction is still being planned
    layers, _skipped, cancelled = blocker.args
    assert cancelled and layers == []
    assert not [r for r in services[0].submitted if type(r).__name__ == "InpaintRequest"]
    assert not controller.busy


def test_a_single_edit_run_without_plan_is_unchanged(ui, qtbot):
    client, controller, doc, panel, services = ui
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[10:40, 10:40] = 255
    doc.set_mask(mask, label="Brush")
    _type(panel, qtbot, "remove the salt and pepper shakers")
    with qtbot.waitSignal(controller.candidates_changed, timeout=10000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert not [r for r in services[0].submitted if type(r).__name__ == "PlanRequest"]


def test_the_generate_bar_runs_a_compound_instruction_as_a_chain(make_window, qtbot, photo_path):
    window = make_window()
    assert window.open_path(photo_path)
    doc, controller = window.document, window.controller
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[: doc.height // 3, : doc.width // 3] = 255
    doc.set_mask(mask, label="Brush")
    with qtbot.waitSignal(controller.chain_finished, timeout=10000) as blocker:
        window.generate_from_bar("remove the flag and make the rock red")
    layers, _, _ = blocker.args
    assert len(layers) == 2
    window.undo()
    assert layers[0] not in doc.layers and layers[1] not in doc.layers


def test_the_offline_parse_says_how_many_steps_and_survives_the_wire():
    from desktop.engine_client import parse_instruction
    from desktop.ui.panels.instruction_panel import is_compound
    from engine import api, wire

    parsed = parse_instruction("remove the cat and add a dog")
    assert (parsed.category, parsed.target, parsed.step_count) == ("removal", "cat", 2)
    assert api.from_dict(wire.unpack(wire.pack(api.to_dict(parsed)))).step_count == 2
    old = api.to_dict(api.ParsedInstruction("local", "cup"))
    old.pop("step_count", None)  # a peer from before the field: one step
    assert api.from_dict(old).step_count == 1
    assert is_compound("add a cat and a dog") and not is_compound("add salt and pepper shakers")


def test_a_chain_that_fails_before_painting_says_nothing_was_painted(qtbot):
    """Found under Xvfb: with no GroundingDINO, Run on "remove the cat and make the sky pink" failed, then the
    transcript said "0 steps painted, each its own layer. One undo takes the chain back." (nothing to undo)."""
    from skimage import data
    from engine.api import EngineError

    def fail_plans(request):
        if type(request).__name__ == "PlanRequest":
            return EngineError("finding 'cat' needs GroundingDINO and SAM", "download them", "missing-model")
        return None

    client, _services = fake_engine_client(steps=2, step_delay=0.002, fail_with=fail_plans)
    doc = Document.from_array(np.ascontiguousarray(data.astronaut()[::4, ::4]))
    controller = EditController(client, lambda: doc)
    panel = InstructionPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    try:
        _type(panel, qtbot, "remove the cat and make the sky pink")
        layers, skipped, cancelled = _run(panel, controller, qtbot)
        assert layers == [] and not cancelled
        transcript = panel.transcript.toPlainText()
        assert "One undo takes the chain back" not in transcript, transcript
        assert "nothing was painted" in transcript.lower(), transcript
    finally:
        client.shutdown()
