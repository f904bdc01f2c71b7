"""EditController flows on the real document with the fake engine: plan, run, candidates, accept,
discard, re-run, SAM clicks, and errors that leave the document untouched."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Document, EditLayer
from desktop.engine_client import EditParams, EngineClient, EngineError
from tests.fakes.fake_engine import FakeEngineService, fake_engine_client
from desktop.ui.edit_controller import EditController


@pytest.fixture
def photo():
    from skimage import data

    return np.ascontiguousarray(data.coffee()[::4, ::4])  # 100 x 150 RGB


@pytest.fixture
def setup(qtbot, photo):
    client, services = fake_engine_client(steps=3, step_delay=0.002)
    holder = {"doc": Document.from_array(photo)}
    controller = EditController(client, lambda: holder["doc"])
    errors = []
    controller.error.connect(lambda m, h: errors.append((m, h)))
    yield client, controller, holder, errors, services
    client.shutdown()


def _paint_box(doc, rect=(40, 30, 50, 30)):
    mask = np.zeros((doc.height, doc.width), np.uint8)
    x, y, w, h = rect
    mask[y:y + h, x:x + w] = 255
    doc.set_mask(mask, label="Box")
    return mask


def _run(qtbot, controller, prompt="a red cup", **kw):
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=lambda c: bool(c)):
        controller.run(prompt, **kw)
    return controller.candidates


def test_plan_then_apply_sets_the_proposed_mask_as_one_undo_step(setup, qtbot):
    client, controller, holder, errors, _ = setup
    doc = holder["doc"]
    n = len(doc.history.entries)
    with qtbot.waitSignal(controller.plan_ready, timeout=5000) as blocker:
        controller.request_plan("make the cup blue", backend="offline")
    plan = blocker.args[0]
    assert plan.instruction == "make the cup blue" and plan.category == "local"
    assert not doc.mask.any()  # planning alone does not touch the document
    controller.apply_plan(plan)
    assert np.array_equal(doc.mask, plan.mask)
    assert len(doc.history.entries) == n + 1
    doc.undo()
    assert not doc.mask.any()
    assert errors == []


def test_run_needs_a_mask_and_says_so(setup):
    _, controller, holder, errors, services = setup
    controller.run("a cat")
    assert errors and "mask is empty" in errors[0][0] and errors[0][1]
    assert services == [] or services[0].submitted == []


def test_run_accept_adds_one_edit_layer_with_full_provenance(setup, qtbot):
    client, controller, holder, errors, services = setup
    doc = holder["doc"]
    mask = _paint_box(doc)
    before = doc.flatten().copy()
    progress = []
    controller.progress_changed.connect(lambda s, t, st: progress.append((s, t, st)))
    previews = []
    controller.preview_changed.connect(previews.append)
    params = EditParams(num_candidates=2, seed=11, steps=20, guidance=6.0, strength=0.9,
                        negative_prompt="blurry")
    cands = _run(qtbot, controller, "a red cup", params=params, instruction="make the cup red",
                 category="local", target="cup")
    assert [c.seed for c in cands] == [11, 12]
    assert (1, 3, "denoising") in progress and (3, 3, "denoising") in progress
    # The first candidate is previewed full size; hovering another previews it.
    assert previews and previews[-1].shape == (doc.height, doc.width, 3)
    controller.preview_candidate(1)
    assert np.array_equal(previews[-1], cands[1].image)
    controller.preview_candidate(None)
    assert previews[-1] is None
    # The request was a snapshot of the document.
    request = services[0].submitted[-1]
    assert np.array_equal(request.mask, mask) and np.array_equal(request.image, before[..., :3])

    n = len(doc.history.entries)
    accepted = []
    controller.accepted.connect(accepted.append)
    layers = controller.accept([1])
    assert len(layers) == 1 and isinstance(layers[0], EditLayer)
    assert len(doc.history.entries) == n + 1 and accepted == [layers]
    layer = layers[0]
    prov = layer.provenance
    assert (prov.instruction, prov.category, prov.target, prov.prompt) == ("make the cup red", "local", "cup", "a red cup")
    assert (prov.seed, prov.steps, prov.guidance, prov.strength) == (12, 20, 6.0, 0.9)
    assert prov.negative_prompt == "blurry" and prov.engine == "fake" and prov.model == "fake-model"
    # The document now shows candidate 1 inside the mask and the photo elsewhere.
    flat = doc.flatten()[..., :3]
    assert np.array_equal(flat, cands[1].image)
    assert controller.candidates == []
    # One undo removes the whole edit.
    doc.undo()
    assert np.array_equal(doc.flatten(), before)
    assert errors == []


def test_accepting_one_of_several_keeps_the_others_as_variations_of_its_layer(setup, qtbot):
    _, controller, holder, errors, _ = setup
    doc = holder["doc"]
    _paint_box(doc)
    cands = _run(qtbot, controller, params=EditParams(num_candidates=3, seed=5))
    [layer] = controller.accept([2])
    assert layer.variant == 2 and [v.provenance.seed for v in layer.variants] == [5, 6, 7]
    assert layer.provenance.seed == 7
    doc.use_variant(layer, 0)  # the first candidate, as if it had been accepted
    assert layer.provenance.seed == 5 and np.array_equal(doc.flatten()[..., :3], cands[0].image)
    doc.undo()
    assert np.array_equal(doc.flatten()[..., :3], cands[2].image)
    assert errors == []


def test_accept_several_gives_separate_layers_each_one_undo_step(setup, qtbot):
    _, controller, holder, errors, _ = setup
    doc = holder["doc"]
    _paint_box(doc)
    _run(qtbot, controller, params=EditParams(num_candidates=3, seed=5))
    n_layers, n_hist = len(doc.layers), len(doc.history.entries)
    layers = controller.accept([0, 2])
    assert len(layers) == 2 and len(doc.layers) == n_layers + 2
    assert len(doc.history.entries) == n_hist + 2
    assert [la.provenance.seed for la in layers] == [5, 7]
    assert layers[0].name != layers[1].name
    assert all(la.variants == () and la.variant is None for la in layers)  # each layer is its own pick


def test_hiding_an_edit_layer_reverts_it_without_touching_a_later_one(setup, qtbot):
    _, controller, holder, _, _ = setup
    doc = holder["doc"]
    original = doc.flatten().copy()
    _paint_box(doc, (10, 10, 40, 40))
    _run(qtbot, controller, params=EditParams(seed=1))
    first, = controller.accept([0])
    _paint_box(doc, (30, 30, 60, 40))  # overlaps the first edit
    _run(qtbot, controller, params=EditParams(seed=2))
    second, = controller.accept([0])
    with_both = doc.flatten().copy()
    doc.set_layer_props(first, visible=False)
    flat = doc.flatten()
    # The second edit's region still shows the second edit ...
    sel = np.zeros(flat.shape[:2], bool)
    sel[30:70, 30:90] = True
    assert np.array_equal(flat[sel], with_both[sel])
    # ... and the first edit's own pixels are back to the photo.
    only_first = np.zeros_like(sel)
    only_first[10:50, 10:50] = True
    only_first &= ~sel
    assert np.array_equal(flat[only_first], original[only_first])


def test_discard_leaves_the_document_untouched(setup, qtbot):
    _, controller, holder, _, _ = setup
    doc = holder["doc"]
    _paint_box(doc)
    n_layers, n_hist = len(doc.layers), len(doc.history.entries)
    _run(qtbot, controller)
    with qtbot.waitSignal(controller.candidates_changed) as blocker:
        controller.discard()
    assert blocker.args == [[]]
    assert len(doc.layers) == n_layers and len(doc.history.entries) == n_hist
    assert controller.accept([0]) == []


def test_engine_failure_is_an_error_and_the_document_is_untouched(setup, qtbot):
    client, controller, holder, errors, services = setup
    doc = holder["doc"]
    _paint_box(doc)
    client.start()
    services[0].fail_with = EngineError("CUDA out of memory", "try fewer candidates", "out-of-memory")
    n_layers, n_hist = len(doc.layers), len(doc.history.entries)
    busy = []
    controller.busy_changed.connect(busy.append)
    with qtbot.waitSignal(controller.error, timeout=5000) as blocker:
        controller.run("a cup")
    assert blocker.args == ["CUDA out of memory", "try fewer candidates"]
    assert len(doc.layers) == n_layers and len(doc.history.entries) == n_hist
    assert busy == [True, False] and not controller.busy
    # The controller is usable again.
    services[0].fail_with = None
    assert len(_run(qtbot, controller)) == 1


def test_cancel_stops_the_run(setup, qtbot):
    client, controller, holder, errors, services = setup
    doc = holder["doc"]
    _paint_box(doc)
    client.start()
    services[0].steps, services[0].step_delay = 1000, 0.01
    stages = []
    controller.progress_changed.connect(lambda s, t, st: stages.append(st))
    controller.run("a cup")
    qtbot.waitUntil(lambda: "denoising" in stages, timeout=5000)
    with qtbot.waitSignal(controller.busy_changed, timeout=3000, check_params_cb=lambda b: not b):
        controller.cancel()
    assert stages[-1] == "cancelled" and controller.candidates == [] and errors == []


def test_rerun_layer_with_a_new_seed_replaces_its_pixels_in_one_undo_step(setup, qtbot):
    _, controller, holder, errors, services = setup
    doc = holder["doc"]
    _paint_box(doc)
    _run(qtbot, controller, "a red cup", params=EditParams(seed=3, steps=12), instruction="make it red")
    layer, = controller.accept([0])
    old_pixels = layer.pixels.copy()
    n_layers, n_hist = len(doc.layers), len(doc.history.entries)
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=99)
    assert len(doc.layers) == n_layers and len(doc.history.entries) == n_hist + 1
    assert layer.provenance.seed == 99 and layer.provenance.instruction == "make it red"
    assert layer.provenance.steps == 12
    assert not np.array_equal(layer.pixels, old_pixels)
    # the old look stays one click away: a re-run adds a variation
    assert [v.provenance.seed for v in layer.variants] == [3, 99] and layer.variant == 1
    request = services[0].submitted[-1]
    assert request.params.seed == 99 and request.params.steps == 12 and request.prompt == "a red cup"
    doc.undo()
    assert layer.provenance.seed == 3 and np.array_equal(doc.layers[-1].pixels, old_pixels)
    # A changed prompt.
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(doc.layers[-1], prompt="a green cup")
    assert doc.layers[-1].provenance.prompt == "a green cup"
    assert errors == []


def test_rerun_paints_on_what_lies_under_the_layer(setup, qtbot):
    _, controller, holder, _, services = setup
    doc = holder["doc"]
    photo = doc.flatten()[..., :3].copy()
    _paint_box(doc)
    _run(qtbot, controller)
    layer, = controller.accept([0])
    doc.add_edit(np.zeros((20, 20, 3), np.uint8), offset=(0, 0))  # a later edit above it
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=1)
    # Neither the layer itself nor the edit above it is in the re-run's image.
    assert np.array_equal(services[0].submitted[-1].image, photo)
    assert doc.flatten()[5, 5, :3].tolist() == [0, 0, 0]  # the later edit still shows


def test_rerun_of_a_plain_layer_is_refused(setup):
    _, controller, holder, errors, _ = setup
    controller.rerun_layer(holder["doc"].layers[0], seed=1)
    assert errors and "edit" in errors[0][0].lower()


def test_sam_click_sets_the_mask_as_one_undo_step(setup, qtbot):
    _, controller, holder, errors, _ = setup
    doc = holder["doc"]
    n = len(doc.history.entries)
    with qtbot.waitSignal(controller.segment_ready, timeout=5000):
        controller.segment_click([(75, 50)], [1])
    assert doc.mask[50, 75] == 255 and doc.mask[0, 0] == 0
    assert len(doc.history.entries) == n + 1 and "SAM" in doc.history.entries[-1]
    with qtbot.waitSignal(controller.segment_ready, timeout=5000):
        controller.segment_click([(75, 50), (80, 50)], [1, 0])
    assert doc.mask[50, 80] == 0
    assert len(doc.history.entries) == n + 2
    assert errors == []


def test_only_the_latest_sam_click_lands(setup, qtbot):
    client, controller, holder, _, services = setup
    doc = holder["doc"]
    client.start()
    services[0].step_delay = 0.05
    n = len(doc.history.entries)
    controller.segment_click([(20, 20)], [1])
    controller.segment_click([(120, 80)], [1])
    qtbot.waitUntil(lambda: not client.busy, timeout=5000)
    assert len(doc.history.entries) == n + 1
    assert doc.mask[80, 120] == 255 and doc.mask[20, 20] == 0


def test_results_for_a_closed_document_are_dropped(setup, qtbot):
    client, controller, holder, errors, services = setup
    doc = holder["doc"]
    _paint_box(doc)
    controller.run("a cup")
    holder["doc"] = Document.new(32, 32)  # the user opened another file meanwhile
    qtbot.waitUntil(lambda: not client.busy, timeout=5000)
    assert controller.candidates == [] and len(doc.layers) == 1


def test_no_document_is_a_clear_error(qtbot):
    client = EngineClient(lambda cb: FakeEngineService(cb))
    controller = EditController(client, lambda: None)
    errors = []
    controller.error.connect(lambda m, h: errors.append((m, h)))
    controller.run("x")
    controller.request_plan("remove the cat")
    controller.segment_click([(1, 1)], [1])
    assert len(errors) == 3 and all("open" in h.lower() for _, h in errors)
    client.shutdown()


# --- snapshots: cached per pixel version, composited off the GUI thread for big documents ----------


def test_snapshots_are_cached_until_the_pixels_change(setup, qtbot):
    client, controller, holder, errors, services = setup
    doc = holder["doc"]
    for _ in range(2):
        with qtbot.waitSignal(controller.plan_ready, timeout=5000):
            controller.request_plan("make the cup blue")
    first, second = services[0].submitted[-2:]
    assert first.image is second.image and not first.image.flags.writeable
    # A mask change does not change the pixels: still the same snapshot and SAM image key.
    with qtbot.waitSignal(controller.segment_ready, timeout=5000):
        controller.segment_click([(30, 30)], [1])
    seg1 = services[0].submitted[-1]
    assert seg1.image is first.image
    with qtbot.waitSignal(controller.segment_ready, timeout=5000):
        controller.segment_click([(30, 30), (60, 40)], [1, 1])
    assert services[0].submitted[-1].image_key == seg1.image_key
    # A pixel change does.
    doc.add_edit(np.zeros((5, 5, 3), np.uint8), offset=(0, 0))
    with qtbot.waitSignal(controller.segment_ready, timeout=5000):
        controller.segment_click([(30, 30)], [1])
    seg3 = services[0].submitted[-1]
    assert seg3.image_key != seg1.image_key and seg3.image is not first.image
    assert seg3.image[0, 0].tolist() == [0, 0, 0]


def test_big_documents_are_composited_off_the_gui_thread(setup, qtbot, monkeypatch):
    import threading

    import desktop.model.snapshots as snaps

    client, controller, holder, errors, services = setup
    doc = holder["doc"]
    monkeypatch.setattr(snaps.Snapshots, "SYNC_PIXELS", 100)  # every document counts as big here
    threads = []
    real = snaps._composite_rgb
    monkeypatch.setattr(snaps, "_composite_rgb",
                        lambda *a: threads.append(threading.current_thread().name) or real(*a))
    mask = _paint_box(doc)
    busy = []
    controller.busy_changed.connect(busy.append)
    controller.run("a red cup", EditParams(seed=1))
    assert controller.busy and busy == [True]  # busy at once, while the image is composited
    qtbot.waitUntil(lambda: bool(controller.candidates), timeout=5000)
    assert threads and threads[0].startswith("brushedit-snapshot")
    request = services[0].submitted[-1]
    assert np.array_equal(request.mask, mask) and request.image.shape == (doc.height, doc.width, 3)
    assert errors == []


def test_cancel_while_the_snapshot_is_taken_submits_nothing(setup, qtbot, monkeypatch):
    import threading

    import desktop.model.snapshots as snaps

    client, controller, holder, errors, services = setup
    doc = holder["doc"]
    _paint_box(doc)
    monkeypatch.setattr(snaps.Snapshots, "SYNC_PIXELS", 100)
    gate = threading.Event()
    real = snaps._composite_rgb
    monkeypatch.setattr(snaps, "_composite_rgb", lambda *a: gate.wait(5) and real(*a))
    stages = []
    controller.progress_changed.connect(lambda s, t, st: stages.append(st))
    controller.run("a cup")
    controller.cancel()
    assert not controller.busy and stages == ["cancelled"]
    gate.set()
    qtbot.wait(100)
    assert services == [] or services[0].submitted == []
    assert controller.candidates == [] and errors == []


def test_a_refused_submit_is_an_error_not_a_crash(qtbot, photo):
    class Refusing(FakeEngineService):
        def submit(self, request):
            raise RuntimeError("the engine service is shut down")

    client = EngineClient(lambda cb: Refusing(cb))
    doc = Document.from_array(photo)
    controller = EditController(client, lambda: doc)
    errors = []
    controller.error.connect(lambda m, h: errors.append(m))
    _paint_box(doc)
    controller.run("x")
    assert errors == ["The engine did not take the job: the engine service is shut down"]
    assert not controller.busy and client.jobs() == [] and not client.busy
    client.shutdown()


def test_live_preview_while_painting_then_cleared(setup, qtbot):
    client, controller, holder, errors, _ = setup
    _paint_box(holder["doc"])
    live = []
    controller.live_preview.connect(lambda image, rect: live.append((image is not None, rect)))
    _run(qtbot, controller)
    qtbot.waitUntil(lambda: live and live[-1] == (False, None), timeout=5000)
    assert live.count((True, None)) == 3  # one per step; the fake engine previews the whole image
    assert errors == []


def test_quick_remove_accepts_one_candidate_and_keeps_a_mask_changed_meanwhile(setup, qtbot):
    _, controller, holder, errors, services = setup
    doc = holder["doc"]
    controller.quick_remove()
    assert errors and "Nothing to remove" in errors[-1][0]
    _paint_box(doc)
    with qtbot.waitSignal(controller.accepted, timeout=5000) as got:
        controller.quick_remove(EditParams(num_candidates=4, seed=8))
    [layer] = got.args[0]
    request = services[0].submitted[-1]
    assert request.params.num_candidates == 1 and request.category == "removal" and request.prompt == ""
    assert layer.provenance.seed == 8 and not doc.mask.any() and controller.candidates == []
    # the user changed the mask while it ran: the new mask stays
    _paint_box(doc)
    controller.quick_remove()
    _paint_box(doc, (0, 0, 10, 10))
    qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
    assert doc.mask[5, 5] == 255 and doc.layers[-1].name == "Remove" and doc.layers[-1] is not layer
