"""The chain: one coroutine over EngineClient.run paints the steps in order; a failing step stops it
and says which; Cancel stops it mid-chain and keeps the finished steps."""

from __future__ import annotations

from desktop.engine_client import EngineError
from tests.desktop.model.model_helpers import submitted

TEXT = "remove the flag, make the helmet gold and remove the rock"


def _edit_layers(doc):
    return [layer for layer in doc.layers if getattr(layer, "provenance", None) is not None]


def test_the_steps_run_in_order_through_one_coroutine(make_model, qtbot):
    model, doc, service = make_model()
    stages, tasks = [], []
    model.progress_changed.connect(lambda step, total, stage: stages.append(stage))
    model.progress_changed.connect(lambda *a: tasks.append(model._chain_task))
    with qtbot.waitSignal(model.chain_finished, timeout=15000) as finished:
        model.run_text(TEXT)
    layers, skipped, cancelled = finished.args
    assert [layer.provenance.instruction for layer in layers] == [
        "remove the flag", "make the helmet gold", "remove the rock"]
    assert [layer.provenance.extra["step"] for layer in layers] == [1, 2, 3]
    painted = [r.instruction for r in submitted(service, "InpaintRequest")]
    assert painted == ["remove the flag", "make the helmet gold", "remove the rock"]
    numbered = [s.split(":")[0] for s in stages if s.startswith("step ")]
    assert numbered == sorted(numbered) and {"step 1 of 3", "step 2 of 3", "step 3 of 3"} <= set(numbered)
    # One task ran the whole chain: the coroutine run_chain, awaiting EngineClient.run.
    running = {id(t) for t in tasks if t is not None}
    assert len(running) == 1
    task = next(t for t in tasks if t is not None)
    assert task.done() and task.get_coro().__name__ == "run_chain"
    assert doc.history.entries[doc.history.index - 1] == f"Instruction: {TEXT}"
    assert doc.undo() and _edit_layers(doc) == []


def test_a_failing_step_stops_the_chain_and_says_which(make_model, qtbot):
    def fail_second_paint(request):
        if type(request).__name__ == "InpaintRequest" and request.instruction == "make the helmet gold":
            return EngineError("the painter ran out of memory", "lower the working size", "out-of-memory")
        return None

    model, doc, service = make_model(fail_with=fail_second_paint)
    errors = []
    model.error.connect(lambda message, hint: errors.append((message, hint)))
    with qtbot.waitSignal(model.chain_finished, timeout=15000) as finished:
        model.run_text(TEXT)
    layers, skipped, cancelled = finished.args
    assert [layer.provenance.instruction for layer in layers] == ["remove the flag"] and not cancelled
    assert errors == [("Step 2 of 3: the painter ran out of memory", "lower the working size")]
    assert [r.instruction for r in submitted(service, "InpaintRequest")] == ["remove the flag", "make the helmet gold"]
    assert "remove the rock" not in [r.instruction for r in submitted(service, "PlanRequest")]
    assert doc.history.entries[doc.history.index - 1] == f"Instruction: {TEXT}"  # the finished step, one entry
    assert not model.busy


def test_cancel_mid_chain_keeps_the_finished_steps(make_model, qtbot):
    model, doc, service = make_model(steps=20, step_delay=0.01)
    model.progress_changed.connect(
        lambda step, total, stage: model.cancel() if stage.startswith("step 2 of 3: denoising") else None)
    with qtbot.waitSignal(model.chain_finished, timeout=15000) as finished:
        model.run_text(TEXT)
    layers, skipped, cancelled = finished.args
    assert cancelled and [layer.provenance.instruction for layer in layers] == ["remove the flag"]
    assert len(submitted(service, "InpaintRequest")) == 2  # step 3 never painted
    assert not model.busy and model._chain is None


def test_cancel_before_the_chain_started_paints_nothing(make_model, qtbot):
    model, doc, service = make_model()
    with qtbot.waitSignal(model.chain_finished, timeout=10000) as finished:
        model.run_text(TEXT)
        assert model.busy
        model.cancel()
    layers, skipped, cancelled = finished.args
    assert cancelled and layers == [] and submitted(service, "InpaintRequest") == []
    assert not model.busy


def test_a_second_chain_waits_for_the_first(make_model, qtbot):
    model, doc, service = make_model()
    errors = []
    model.error.connect(lambda message, hint: errors.append(message))
    with qtbot.waitSignal(model.chain_finished, timeout=15000):
        model.run_text(TEXT)
        model.run_instruction("remove the rock and remove the flag")
    assert errors == ["A chain of steps is already running"]


def test_under_the_apps_qasync_loop_the_chain_is_a_task_of_that_loop(make_model, qapp):
    """The editor runs a qasync loop (desktop.ui.app): the chain's coroutine runs on it, not on the
    Qt-stepped loop the tests without a running loop use."""
    import asyncio

    import qasync

    model, doc, service = make_model()
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    try:
        async def main():
            done = asyncio.get_running_loop().create_future()
            model.chain_finished.connect(lambda *args: done.done() or done.set_result(args))
            model.run_text(TEXT)
            task = model._chain_task
            layers, _skipped, cancelled = await asyncio.wait_for(done, 20)
            return task, layers, cancelled

        task, layers, cancelled = loop.run_until_complete(main())
        assert task.get_loop() is loop and task.done() and len(layers) == 3 and not cancelled
    finally:
        asyncio.set_event_loop(None)
        loop.close()
