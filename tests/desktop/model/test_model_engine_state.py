"""The status bar's words about the engine, decided by the model layer (EngineState)."""

from __future__ import annotations

from tests.desktop.model.model_helpers import paint_a_box


def test_the_state_follows_a_job_and_returns_to_idle(make_model, qtbot):
    from desktop.model.engine_state import EngineState

    model, doc, service = make_model()
    state = EngineState(model.client, model)
    seen = []
    state.text_changed.connect(seen.append)
    paint_a_box(doc)
    with qtbot.waitSignal(model.candidates_changed, timeout=10000):
        model.run("a red cup")
    qtbot.waitUntil(lambda: state.text == "idle", timeout=5000)
    assert "busy" in seen and "inpaint…" in seen and any(s.startswith("denoising ") for s in seen), seen


def test_a_sam_click_ends_idle_and_a_failure_says_idle(make_model, qtbot):
    from desktop.engine_client import EngineError
    from desktop.model.engine_state import EngineState

    model, doc, service = make_model()
    state = EngineState(model.client, model)
    with qtbot.waitSignal(model.segment_ready, timeout=10000):
        model.segment_click([(30, 30)], [1])
    qtbot.waitUntil(lambda: state.text == "idle", timeout=5000)  # not the model's busy state, still idle
    service.fail_with = EngineError("boom")
    paint_a_box(doc)
    with qtbot.waitSignal(model.error, timeout=10000):
        model.run("a hat")
    assert state.text == "idle"
