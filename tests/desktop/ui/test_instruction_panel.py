"""InstructionPanel and CandidateStrip and JobQueuePanel driven like a user, on the fake engine."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication

from desktop.document import Document
from desktop.engine_client import Candidate, EditResult, InpaintRequest
from tests.fakes.fake_engine import fake_engine_client
from desktop.ui.edit_controller import EditController
from desktop.ui.panels.candidates import CandidateStrip
from desktop.ui.panels.instruction_panel import InstructionPanel, describe_candidates
from desktop.ui.panels.queue_panel import JobQueuePanel


@pytest.fixture
def ui(qtbot):
    from skimage import data

    client, services = fake_engine_client(steps=3, step_delay=0.002)
    doc = Document.from_array(np.ascontiguousarray(data.astronaut()[::4, ::4]))  # 128 x 128
    controller = EditController(client, lambda: doc)
    panel = InstructionPanel(controller)
    strip = CandidateStrip(controller)
    queue = JobQueuePanel(client)
    for w in (panel, strip, queue):
        qtbot.addWidget(w)
        w.show()
    yield client, controller, doc, panel, strip, queue, services
    client.shutdown()


def test_plan_shows_category_target_caption_and_draws_the_mask(ui, qtbot):
    client, controller, doc, panel, *_ = ui
    panel.instruction.setPlainText("make the helmet gold")
    with qtbot.waitSignal(controller.plan_ready, timeout=5000):
        qtbot.mouseClick(panel.plan_button, Qt.LeftButton)
    assert panel.plan_box.isVisible()
    assert panel.category_label.text() == "local"
    assert panel.target_label.text() == "helmet"
    assert panel.caption.text() == "make the helmet gold"
    assert doc.mask.any()  # the proposed mask is on the document
    assert "make the helmet gold" in panel.transcript.toPlainText()


def test_run_with_the_edited_caption_and_panel_parameters(ui, qtbot):
    client, controller, doc, panel, strip, _, services = ui
    _plan(panel, controller, qtbot, "replace the flag with a banner")
    panel.caption.setText("a red banner")
    panel.params_toggle.click()
    assert panel.params_box.isVisible()
    panel.candidates.setValue(2)
    panel.steps.setValue(17)
    panel.guidance.setValue(5.5)
    panel.seed.setValue(1234)
    panel.seed_lock.setChecked(True)
    panel.negative.setText("text, watermark")
    panel.blend.setChecked(False)
    panel.resolution_mode.setCurrentIndex(panel.resolution_mode.findData("whole"))
    panel.working_size.setValue(512)
    panel.engine.setCurrentIndex(panel.engine.findData("fill"))
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    req = services[0].submitted[-1]
    assert req.prompt == "a red banner" and req.instruction == "replace the flag with a banner"
    p = req.params
    assert (p.num_candidates, p.steps, p.guidance, p.seed) == (2, 17, 5.5, 1234)
    assert (p.negative_prompt, p.blend, p.resolution_mode, p.working_size, p.engine) == (
        "text, watermark", False, "whole", 512, "fill")
    assert len(strip.buttons) == 2
    assert panel.stage.text() == "Done" and panel.run_button.isEnabled()


def test_skip_planning_paint_a_mask_and_type_a_prompt(ui, qtbot):
    client, controller, doc, panel, strip, _, services = ui
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[10:40, 10:40] = 255
    doc.set_mask(mask)
    panel.instruction.setPlainText("a small boat")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        panel.run()
    req = services[0].submitted[-1]
    assert req.prompt == "a small boat" and req.instruction == "" and req.params.seed is None
    # Unlocked seed: the panel shows the seed that was used, so the user can lock it.
    assert panel.seed.value() == controller.candidates[0].seed


def test_run_without_a_mask_shows_the_error_in_the_panel(ui, qtbot):
    _, controller, _, panel, *_ = ui
    panel.instruction.setPlainText("a boat")
    panel.run()
    assert "mask is empty" in panel.stage.text()
    assert "Paint a mask" in panel.transcript.toPlainText()


def test_progress_and_cancel(ui, qtbot):
    client, controller, doc, panel, strip, queue, services = ui
    client.start()
    services[0].steps, services[0].step_delay = 1000, 0.01
    doc.set_mask(np.full((doc.height, doc.width), 255, np.uint8))
    panel.instruction.setPlainText("fog")
    panel.run()
    assert not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.maximum() == 1000 and panel.progress.value() >= 2, timeout=5000)
    assert "Denoising" in panel.stage.text()
    # The live preview is shown in the strip, and the job in the queue panel.
    qtbot.waitUntil(lambda: strip.live.isVisible(), timeout=5000)
    assert len(queue.rows) == 1 and queue.list.count() == 1
    with qtbot.waitSignal(controller.busy_changed, timeout=5000, check_params_cb=lambda b: not b):
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    assert panel.stage.text() == "Cancelled"
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: queue.list.count() == 0, timeout=3000)


def test_queue_panel_lists_running_and_waiting_and_cancels_each(ui, qtbot):
    client, controller, doc, panel, strip, queue, services = ui
    client.start()
    services[0].steps, services[0].step_delay = 1000, 0.01
    doc.set_mask(np.full((doc.height, doc.width), 255, np.uint8))
    controller.run("one")
    controller.request_plan("remove the astronaut")
    qtbot.waitUntil(lambda: client.running_job() is not None, timeout=5000)
    assert queue.list.count() == 2
    labels = [queue.rows[j.job_id].label.text() for j in client.jobs()]
    assert labels[0].startswith("▶ Paint: one") and labels[1].startswith("… Plan: remove the astronaut")
    waiting = client.jobs()[1].job_id
    with qtbot.waitSignal(client.cancelled, timeout=3000):
        queue.rows[waiting].cancel.click()
    assert queue.list.count() == 1
    running = client.jobs()[0].job_id
    with qtbot.waitSignal(client.cancelled, timeout=3000):
        queue.rows[running].cancel.click()
    assert queue.list.count() == 0 and queue.empty.isVisible()


def _hover(widget):
    pos = QPointF(5, 5)
    QApplication.sendEvent(widget, QEnterEvent(pos, pos, widget.mapToGlobal(pos)))


def _leave(widget):
    QApplication.sendEvent(widget, QEvent(QEvent.Type.Leave))


def test_candidate_strip_hover_preview_select_accept(ui, qtbot):
    client, controller, doc, panel, strip, _, services = ui
    doc.set_mask(np.pad(np.full((40, 40), 255, np.uint8), 44))
    previews = []
    controller.preview_changed.connect(previews.append)
    panel.candidates.setValue(3)
    panel.instruction.setPlainText("a planet")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        panel.run()
    # The first candidate is shown and selected: Accept keeps what the canvas shows.
    assert len(strip.buttons) == 3 and strip.selected() == [0] and strip.accept_button.isEnabled()
    assert np.array_equal(previews[-1], controller.candidates[0].image)
    _hover(strip.buttons[2])
    assert np.array_equal(previews[-1], controller.candidates[2].image)
    _leave(strip.buttons[2])
    assert np.array_equal(previews[-1], controller.candidates[0].image)  # back to the selection
    strip.buttons[0].click()
    assert strip.selected() == [] and not strip.accept_button.isEnabled()
    _hover(strip.buttons[1])
    _leave(strip.buttons[1])
    assert previews[-1] is None  # nothing selected: the document again
    strip.buttons[0].click()
    strip.buttons[2].click()
    assert strip.selected() == [0, 2] and strip.accept_button.isEnabled()
    assert "2" in strip.accept_button.text()
    n = len(doc.layers)
    qtbot.mouseClick(strip.accept_button, Qt.LeftButton)
    assert len(doc.layers) == n + 2
    assert strip.buttons == [] and not strip.accept_button.isEnabled()


def test_candidate_strip_double_click_accepts_one_and_discard(ui, qtbot):
    client, controller, doc, panel, strip, _, _ = ui
    doc.set_mask(np.pad(np.full((40, 40), 255, np.uint8), 44))
    panel.candidates.setValue(2)
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        controller.run("a moon", panel.params())
    n = len(doc.layers)
    seed = controller.candidates[1].seed
    qtbot.mouseDClick(strip.buttons[1], Qt.LeftButton)
    assert len(doc.layers) == n + 1
    assert doc.layers[-1].provenance.seed == seed
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        controller.run("a moon", panel.params())
    qtbot.mouseClick(strip.discard_button, Qt.LeftButton)
    assert strip.buttons == [] and len(doc.layers) == n + 1


def test_a_new_text_after_planning_is_the_prompt(ui, qtbot):
    client, controller, doc, panel, strip, _, services = ui
    _plan(panel, controller, qtbot, "remove the flag")
    panel.instruction.setPlainText("a blue sky")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        panel.run()
    req = services[0].submitted[-1]
    assert req.prompt == "a blue sky" and req.instruction == "" and not panel.plan_box.isVisible()


def test_parameters_persist_in_settings(ui, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    _, controller, _, panel, *_ = ui
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    panel.steps.setValue(33)
    panel.guidance.setValue(4.5)
    panel.seed.setValue(77)
    panel.seed_lock.setChecked(True)
    panel.blend.setChecked(False)
    panel.negative.setText("blurry")
    panel.engine.setCurrentIndex(panel.engine.findData("fill"))
    panel.instructor.setCurrentIndex(panel.instructor.findData("openai"))
    panel.save_settings(settings)
    settings.sync()
    other = InstructionPanel(controller)
    qtbot.addWidget(other)
    other.restore_settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    assert other.params() == panel.params()
    assert other.instructor.currentData() == "openai" and other.params().seed == 77


def test_alternative_plan_masks_can_be_picked(ui, qtbot):
    from desktop.engine_client import EditPlan

    client, controller, doc, panel, *_ = ui
    h, w = doc.height, doc.width
    main = np.zeros((h, w), np.uint8)
    main[:10, :10] = 255
    alt = np.zeros((h, w), np.uint8)
    alt[-10:, -10:] = 255
    plan = EditPlan("remove the dog", "removal", "dog", "", "", main, candidate_masks=(alt,))
    controller.plan_ready.emit(plan)
    assert np.array_equal(doc.mask, main)
    assert panel.mask_choice.count() == 2 and panel.mask_choice.isEnabled()
    n = len(doc.history.entries)
    panel.mask_choice.setCurrentIndex(1)
    panel.mask_choice.activated.emit(1)
    assert np.array_equal(doc.mask, alt) and len(doc.history.entries) == n + 1
    assert "alternative 1" in doc.history.entries[-1]


def test_the_transcript_names_the_engine_that_painted(ui, qtbot):
    client, controller, doc, panel, *_ = ui
    doc.mask_op("box", rect=(20, 20, 40, 40))
    panel.candidates.setValue(2)
    panel.instruction.setPlainText("a red hat")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000):
        panel.run()
    seeds = [c.seed for c in controller.candidates]
    assert f"fake (fake-model): 2 candidates, seeds {seeds[0]}-{seeds[1]}" in panel.transcript.toPlainText()


def test_describe_candidates():
    class C:
        def __init__(self, seed):
            self.seed = seed

    assert describe_candidates([C(0), C(1)], "fill", "fill") == "fill: 2 candidates, seeds 0-1"
    assert describe_candidates([C(42)], "brushedit", "brushnet-x") == "brushedit (brushnet-x): 1 candidate, seed 42"
    assert describe_candidates([C(5), C(9)], "", "") == "engine: 2 candidates, seeds 5, 9"


def test_plan_ready_is_not_overwritten_by_a_late_progress_step(ui, qtbot):
    client, controller, doc, panel, *_ = ui
    _plan(panel, controller, qtbot, "make the helmet gold")
    panel._on_progress(1, 1, "planning")  # a throttled step arriving after the plan
    panel._on_plan(controller.plan)
    qtbot.wait(panel.UPDATE_MS * 3)
    assert panel.stage.text().startswith("Plan ready")


def test_the_fill_engine_says_it_ignored_the_caption(ui, qtbot):
    client, controller, doc, panel, *_ = ui
    doc.mask_op("box", rect=(20, 20, 40, 40))
    result = EditResult(InpaintRequest(np.zeros((128, 128, 3), np.uint8), np.zeros((128, 128), np.uint8),
                                       prompt="a snowy field"), (), engine="fill", model="opencv-telea")
    controller.result = result
    panel._on_candidates([Candidate(np.zeros((128, 128, 3), np.uint8), 0, (0, 0, 8, 8))])
    text = panel.transcript.toPlainText()
    assert "fill (opencv-telea): 1 candidate, seed 0" in text and "only erases" in text


def test_buttons_have_tooltips_with_their_shortcuts(ui):
    panel, strip = ui[3], ui[4]
    assert "Ctrl+Enter" in panel.plan_button.toolTip()
    assert "Ctrl+Shift+Enter" in panel.run_button.toolTip()
    assert panel.cancel_button.toolTip() and strip.discard_button.toolTip()


def test_accepted_candidates_leave_the_strip_at_once(ui, qtbot):
    client, controller, doc, panel, strip, *_ = ui
    assert not strip.scroll.isVisible()  # no empty box before the first run
    doc.mask_op("box", rect=(20, 20, 40, 40))
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000):
        controller.run("a red hat")
    assert strip.scroll.isVisible()
    qtbot.waitUntil(lambda: strip.buttons[0].isVisible(), timeout=2000)  # the layout shows it queued
    old = list(strip.buttons)
    strip.accept_selected()
    assert not any(b.isVisible() for b in old)
    assert not strip.scroll.isVisible() and strip.hint.isVisible()


def test_no_fill_note_when_the_prompt_asked_to_erase(ui):
    client, controller, doc, panel, *_ = ui
    # Run without a plan reads "remove the whiskers" as a removal and paints its caption.
    calls = []
    controller.run = lambda prompt, params, **kw: calls.append((prompt, kw))
    panel.instruction.setPlainText("remove the whiskers")
    panel.run()
    (prompt, kw), = calls
    assert (prompt, kw["category"], kw["target"]) == ("empty background", "removal", "whiskers")
    request = InpaintRequest(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16), np.uint8),
                             prompt=prompt, category=kw["category"], instruction=kw["instruction"])
    controller.result = EditResult(request, (), engine="fill", model="opencv-telea")
    panel._on_candidates([Candidate(np.zeros((16, 16, 3), np.uint8), 0, (0, 0, 8, 8))])
    assert "only erases" not in panel.transcript.toPlainText()


def test_run_without_a_plan_reads_an_instruction_but_paints_a_prompt_as_typed():
    from desktop.ui.panels.instruction_panel import prompt_from_text

    assert prompt_from_text("remove the man on the left") == ("empty background", "removal", "man")
    assert prompt_from_text("turn the cat into a tiger")[:2] == ("a tiger", "local")
    assert prompt_from_text("a wooden bench") == ("a wooden bench", "", None)
    assert prompt_from_text("sunset sky") == ("sunset sky", "", None)
    assert prompt_from_text("") == ("", "", None)


def _plan(panel, controller, qtbot, text):
    panel.instruction.setPlainText(text)
    with qtbot.waitSignal(controller.plan_ready, timeout=5000):
        panel.request_plan()
    return controller.plan


def test_planning_keeps_a_painted_mask_and_offers_the_proposed_one(ui, qtbot):
    client, controller, doc, panel, strip, _, services = ui
    painted = np.zeros((doc.height, doc.width), np.uint8)
    painted[5:30, 80:120] = 255
    doc.set_mask(painted)
    n = len(doc.history.entries)
    plan = _plan(panel, controller, qtbot, "make the helmet gold")
    # The user said where: the plan does not replace their mask, and says so.
    assert np.array_equal(doc.mask, painted) and len(doc.history.entries) == n
    assert panel.mask_choice.itemText(0) == "Your painted mask" and panel.mask_choice.isEnabled()
    assert "Kept your painted mask" in panel.transcript.toPlainText()
    # Picking the instructor's mask applies it (one undo step); picking theirs brings it back.
    panel.mask_choice.setCurrentIndex(1)
    panel.mask_choice.activated.emit(1)
    assert np.array_equal(doc.mask, plan.mask) and len(doc.history.entries) == n + 1
    panel.mask_choice.setCurrentIndex(0)
    panel.mask_choice.activated.emit(0)
    assert np.array_equal(doc.mask, painted) and doc.history.entries[-1] == "Your painted mask"
    doc.undo()
    assert np.array_equal(doc.mask, plan.mask)
    doc.redo()
    # Run paints the painted region with the plan's caption.
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        panel.run()
    req = services[0].submitted[-1]
    assert np.array_equal(req.mask, painted) and req.prompt == plan.caption and req.category == plan.category


def test_a_plan_after_a_plan_replaces_the_plan_mask_but_not_a_refined_one(ui, qtbot):
    client, controller, doc, panel, *_ = ui
    first = _plan(panel, controller, qtbot, "remove the flag")
    assert np.array_equal(doc.mask, first.mask) and controller.painted_mask is None
    # Planning again over the previous plan's own mask: nothing painted by hand, so it is replaced.
    second = _plan(panel, controller, qtbot, "make the helmet gold")
    assert controller.painted_mask is None and panel.mask_choice.itemText(0) == "Proposed"
    assert np.array_equal(doc.mask, second.mask)
    # The user refines the plan's mask with the brush: that is their mask now, and it is kept.
    doc.mask_op("box", rect=(0, 0, 12, 12))
    refined = np.array(doc.mask)
    _plan(panel, controller, qtbot, "make it snowy")
    assert np.array_equal(doc.mask, refined) and np.array_equal(controller.painted_mask, refined)


def test_more_adds_candidates_with_the_next_seeds_and_keeps_the_first_ones(ui, qtbot):
    client, controller, doc, panel, strip, _, services = ui
    doc.mask_op("box", rect=(20, 20, 40, 40))
    panel.candidates.setValue(2)
    panel.seed.setValue(100)
    panel.seed_lock.setChecked(True)
    panel.instruction.setPlainText("a red hat")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        panel.run()
    first = list(controller.candidates)
    assert [c.seed for c in first] == [100, 101]
    assert strip.more_button.isEnabled() and not strip.more_button.isHidden()
    strip.buttons[0].setChecked(False)
    strip.buttons[1].setChecked(True)  # the user picked the second one before asking for more
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=lambda c: len(c) == 4):
        qtbot.mouseClick(strip.more_button, Qt.LeftButton)
    assert [c.seed for c in controller.candidates] == [100, 101, 102, 103]
    assert controller.candidates[:2] == first and len(strip.buttons) == 4
    assert strip.selected() == [1]  # the selection survives; the new ones come unselected
    # The same edit again: same snapshot, mask and prompt; only the seed moved on.
    a, b = services[0].submitted[-2:]
    assert b.image is a.image and np.array_equal(b.mask, a.mask) and b.prompt == a.prompt == "a red hat"
    assert b.params.seed == 102 and b.params.num_candidates == 2 and b.job_id != a.job_id
    layers = controller.accept([3])
    assert len(layers) == 1 and layers[0].provenance.seed == 103


def test_more_results_are_dropped_when_the_candidates_were_discarded(ui, qtbot):
    client, controller, doc, panel, strip, _, services = ui
    client.start()
    doc.mask_op("box", rect=(20, 20, 40, 40))
    panel.instruction.setPlainText("a red hat")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        panel.run()
    services[0].steps, services[0].step_delay = 20, 0.01
    controller.more()
    assert controller.busy and not strip.more_button.isEnabled()
    controller.discard()
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
    assert controller.candidates == [] and strip.buttons == []
    # Without candidates there is nothing to add to: a clear message, no job.
    n = len(services[0].submitted)
    with qtbot.waitSignal(controller.error, timeout=1000):
        controller.more()
    assert len(services[0].submitted) == n


def test_candidate_strip_keyboard_arrows_preview_space_selects_enter_accepts(ui, qtbot):
    client, controller, doc, panel, strip, _, _ = ui
    previews = []
    controller.preview_changed.connect(previews.append)
    _paint_moons(qtbot, controller, doc, panel, 3)
    qtbot.keyClick(strip.buttons[0], Qt.Key_Right)
    assert np.array_equal(previews[-1], controller.candidates[1].image)
    qtbot.keyClick(strip.buttons[1], Qt.Key_Right)
    assert np.array_equal(previews[-1], controller.candidates[2].image)
    qtbot.keyClick(strip.buttons[2], Qt.Key_Right)  # the end: stays
    assert np.array_equal(previews[-1], controller.candidates[2].image)
    qtbot.keyClick(strip.buttons[2], Qt.Key_Left)
    assert np.array_equal(previews[-1], controller.candidates[1].image)
    strip.buttons[0].setChecked(False)
    n = len(doc.layers)
    seed = controller.candidates[1].seed
    qtbot.keyClick(strip.buttons[1], Qt.Key_Return)  # nothing selected: the focused one
    assert len(doc.layers) == n + 1 and doc.layers[-1].provenance.seed == seed
    _paint_moons(qtbot, controller, doc, panel, 3)
    qtbot.keyClick(strip.buttons[2], Qt.Key_Space)  # Space selects the third as well as the first
    assert strip.selected() == [0, 2]
    qtbot.keyClick(strip.buttons[1], Qt.Key_Enter)  # Enter keeps the selected ones
    assert len(doc.layers) == n + 3


def test_candidate_labels_stay_visible_above_the_scroll_bar_in_a_narrow_dock(ui, qtbot):
    client, controller, doc, panel, strip, _, _ = ui
    _paint_moons(qtbot, controller, doc, panel, 4)
    strip.resize(220, strip.sizeHint().height())
    qtbot.waitUntil(lambda: strip.scroll.horizontalScrollBar().isVisible(), timeout=2000)
    # The whole thumbnail and its seed label fit in what the scroll bar leaves.
    assert strip.scroll.viewport().height() >= strip.buttons[0].sizeHint().height()


def _paint_moons(qtbot, controller, doc, panel, n):
    """Mask a square and paint ``n`` candidates of "a moon" on the fake engine."""
    doc.set_mask(np.pad(np.full((40, 40), 255, np.uint8), 44))
    panel.candidates.setValue(n)
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        controller.run("a moon", panel.params())


def test_up_and_down_recall_earlier_instructions_and_they_persist(ui, qtbot, tmp_path):
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    _, controller, _, panel, *_ = ui
    for text in ("remove the cup", "make the sky a sunset", "remove the cup"):
        _plan(panel, controller, qtbot, text)
    assert panel.history == ["make the sky a sunset", "remove the cup"]  # no repeats, newest last
    box = panel.instruction
    box.setPlainText("a half-typed dra")
    box.moveCursor(box.textCursor().MoveOperation.End)
    QTest.keyClick(box, Qt.Key_Up)
    assert box.toPlainText() == "remove the cup"
    QTest.keyClick(box, Qt.Key_Up)
    assert box.toPlainText() == "make the sky a sunset"
    QTest.keyClick(box, Qt.Key_Up)  # the oldest: stays
    assert box.toPlainText() == "make the sky a sunset"
    QTest.keyClick(box, Qt.Key_Down)
    QTest.keyClick(box, Qt.Key_Down)
    assert box.toPlainText() == "a half-typed dra"  # back to the draft, not lost
    # inside a multi-line instruction the arrows move the cursor, they do not recall
    box.setPlainText("line one\nline two")
    box.moveCursor(box.textCursor().MoveOperation.End)
    QTest.keyClick(box, Qt.Key_Up)
    assert box.toPlainText() == "line one\nline two" and box.textCursor().blockNumber() == 0
    settings = QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat)
    panel.save_settings(settings)
    settings.sync()
    other = InstructionPanel(controller)
    qtbot.addWidget(other)
    other.restore_settings(QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    assert other.history == ["make the sky a sunset", "remove the cup"]
    # an INI file gives a one-item list back as a string
    settings.setValue("instruction/history", ["only one"])
    settings.sync()
    other.restore_settings(QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    assert other.history == ["only one"]


def test_queue_panel_keeps_a_history_of_finished_failed_and_cancelled_jobs_with_times(ui, qtbot):
    client, controller, doc, panel, strip, queue, services = ui
    client.start()
    assert queue.history_list.count() == 0 and not queue.clear_history_button.isEnabled()
    doc.set_mask(np.full((doc.height, doc.width), 255, np.uint8))
    with qtbot.waitSignal(client.finished, timeout=5000):
        controller.run("a bench")
    qtbot.waitUntil(lambda: queue.history_list.count() == 1, timeout=3000)
    rec = queue.history()[0]
    assert rec.state == "done" and rec.label.startswith("Paint: a bench")
    assert rec.queued_at <= rec.started_at <= rec.ended_at
    text = queue.history_list.item(0).text()
    assert text.startswith("✓ Paint: a bench") and " s" in text and ":" in text
    assert "Started" in queue.history_list.item(0).toolTip()
    services[0].steps, services[0].step_delay = 1000, 0.01
    controller.run("two")
    qtbot.waitUntil(lambda: client.running_job() is not None, timeout=5000)
    with qtbot.waitSignal(client.cancelled, timeout=3000):
        queue.rows[client.running_job().job_id].cancel.click()
    qtbot.waitUntil(lambda: queue.history_list.count() == 2, timeout=3000)
    assert queue.history()[0].state == "cancelled"
    assert queue.history_list.item(0).text().startswith("⊘ Paint: two")
    assert queue.list.count() == 0  # the live list stays for live jobs only
    qtbot.mouseClick(queue.clear_history_button, Qt.LeftButton)
    assert queue.history_list.count() == 0


def test_candidates_default_to_auto_and_say_so(ui):
    from desktop.engine_client import EditParams

    panel = ui[3]
    assert panel.candidates.value() == 0 and panel.candidates.text() == "Auto"
    assert panel.params().num_candidates == EditParams().num_candidates == 0  # the engine picks: 4 where it fits
    assert "4" in panel.candidates.toolTip()
    assert "short side" in panel.working_size.toolTip().lower()
    panel.candidates.setValue(3)
    assert panel.params().num_candidates == 3
