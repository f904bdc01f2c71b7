"""The whole editor, end to end, on the real engine thread with tiny random-weight models.

Open a real photo, paint a stroke, undo/redo, select with a SAM click (tiny SAM), plan an
instruction with the offline instructor, paint with the fill engine and with a tiny BrushNet through
the real ``EngineService`` worker thread, accept a candidate, hide and delete the edit layer, save an
.ora project, re-open it and export.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt

pytest.importorskip("torch")
pytest.importorskip("segment_anything")

LONG = 180_000  # ms: model loading on a busy 2-core CI machine


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from tests.builders.brushnet import save_tiny_weights
    from tests.builders.segment import save_tiny_grounding_dino, save_tiny_sam

    root = tmp_path_factory.mktemp("tiny-models")
    base, brushnet = save_tiny_weights(root)
    sam = save_tiny_sam(root / "sam_tiny.pth")
    grounding = save_tiny_grounding_dino(root / "grounding-tiny")
    return base, brushnet, sam, grounding


@pytest.fixture
def real_client(tiny_models, tmp_path, monkeypatch):
    from desktop.engine_client import EngineClient, default_service_factory, engine_config

    # Keep the manifest lookups away from the user's folders.
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "models"))
    base, brushnet, sam, grounding = tiny_models
    config = engine_config(base_model_dir=base, brushnet_dir=brushnet, sam_path=sam, grounding_dir=grounding,
                           device="cpu", instructor="offline")
    client = EngineClient(default_service_factory(config))
    yield client
    client.shutdown(30)


def _w(canvas, x, y):
    return canvas.image_to_widget(QPointF(x, y))


def _wait_signal(qtbot, signal, errors, action):
    """Run ``action`` and wait for ``signal``; an error from the controller fails at once."""
    got = []
    signal.connect(lambda *args: got.append(args))
    action()
    qtbot.waitUntil(lambda: bool(got) or bool(errors), timeout=LONG)
    assert errors == []
    return got[0]


def _wait_candidates(qtbot, controller, errors):
    qtbot.waitUntil(lambda: bool(controller.candidates) or bool(errors), timeout=LONG)
    assert errors == []
    return controller.candidates


def test_the_editor_end_to_end(qtbot, make_window, real_client, photo_path, photo_array, tmp_path,
                               drag, send_mouse, capsys, record_property):
    from desktop.document import EditLayer

    window = make_window(client=real_client)
    controller, canvas = window.controller, window.canvas
    errors = []
    controller.error.connect(lambda m, h: errors.append((m, h)))

    # Open a real photo.
    assert window.open_path(photo_path)
    doc = window.document
    assert (doc.height, doc.width) == photo_array.shape[:2]
    canvas.actual_size()
    photo = doc.flatten()[..., :3].copy()

    # Paint a stroke: one undo step; undo and redo it.
    window.set_tool("brush")
    drag(canvas, [_w(canvas, 120 + 8 * i, 140) for i in range(15)])
    assert doc.mask[140, 120:230].min() > 0
    painted = doc.mask.copy()
    window.undo()
    assert doc.mask.max() == 0
    window.redo()
    assert np.array_equal(doc.mask, painted)

    # SAM click with the tiny SAM, through the real engine thread.
    n = len(doc.history.entries)
    window.set_tool("sam")
    def click():
        send_mouse(canvas, "press", _w(canvas, 220, 150), Qt.LeftButton)
        send_mouse(canvas, "release", _w(canvas, 220, 150), Qt.LeftButton)

    _wait_signal(qtbot, controller.segment_ready, errors, click)
    assert len(doc.history.entries) == n + 1 and doc.history.entries[-1] == "SAM select"
    assert doc.mask.shape == (doc.height, doc.width)

    # Type an instruction, plan it with the default instructor (auto: the rule parser without a CUDA
    # card), see the plan, who read it, and its mask.
    panel = window.instruction_panel
    panel.instruction.setPlainText("remove the cat")
    assert panel.instructor.currentData() == "auto"
    plan, = _wait_signal(qtbot, controller.plan_ready, errors,
                         lambda: qtbot.mouseClick(panel.plan_button, Qt.LeftButton))
    assert plan.category == "removal" and plan.target and "cat" in plan.target
    assert (plan.instructor.requested, plan.instructor.used) == ("auto", "offline")
    assert panel.plan_box.isVisible() and panel.category_label.text() == "removal"
    if not doc.mask.any():  # the offline plan may propose no mask without a detector: paint one
        doc.set_mask(np.pad(np.full((100, 140), 255, np.uint8), ((100, doc.height - 200), (150, doc.width - 290))))
    assert doc.mask.any()

    # Run the fill engine; accept the candidate as an edit layer.
    panel.engine.setCurrentIndex(panel.engine.findData("fill"))
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    cands = _wait_candidates(qtbot, controller, errors)
    strip = window.candidate_strip
    assert len(strip.buttons) == 1
    n_layers = len(doc.layers)
    qtbot.mouseClick(strip.accept_button, Qt.LeftButton)
    assert len(doc.layers) == n_layers + 1
    fill_layer = doc.layers[-1]
    assert isinstance(fill_layer, EditLayer) and fill_layer.provenance.engine == "fill"
    assert fill_layer.provenance.instruction == "remove the cat" and fill_layer.provenance.category == "removal"
    assert np.array_equal(doc.flatten()[..., :3], cands[0].image)

    # Run a tiny random-weight BrushNet through the real engine thread.
    panel.params_toggle.click()
    panel.engine.setCurrentIndex(panel.engine.findData("brushedit"))
    panel.steps.setValue(2)
    panel.working_size.setValue(256)
    panel.seed.setValue(42)
    panel.seed_lock.setChecked(True)
    panel.caption.setText("a sleeping dog")
    progress = []
    controller.progress_changed.connect(lambda s, t, st: progress.append((s, t, st)))
    before_brushnet = doc.flatten().copy()
    from test_responsiveness import TickRecorder, report_latency

    with TickRecorder() as rec:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
        cands = _wait_candidates(qtbot, controller, errors)
    report_latency(capsys, record_property, "real engine thread, tiny BrushNet on the CPU", rec.gaps_ms(),
           "(report only: torch's CPU threads share the two cores with the GUI)")
    assert cands[0].seed == 42 and cands[0].image.shape == photo.shape
    assert any(t > 0 for _, t, _ in progress)  # live progress came through
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        qtbot.mouseClick(strip.accept_button, Qt.LeftButton)
    layer = doc.layers[-1]
    prov = layer.provenance
    assert prov.engine == "brushedit" and prov.seed == 42 and prov.steps == 2
    assert prov.prompt == "a sleeping dog" and prov.model
    with_edit = doc.flatten().copy()

    # Hide the edit layer from the layers panel: the picture is as before that edit.
    panel_layers = window.layers_panel

    def item_of(target):
        return next((i for i in panel_layers.layer_items() if getattr(i.data(0, Qt.UserRole), "id", None) == target.id),
                    None)

    qtbot.waitUntil(lambda: item_of(layer) is not None, timeout=5000)
    panel_layers._on_item_clicked(item_of(layer), 0)
    assert not layer.visible
    assert np.array_equal(doc.flatten(), before_brushnet)
    doc.set_layer_props(layer, visible=True)
    assert np.array_equal(doc.flatten(), with_edit)

    # Save the project, re-open it, and find both edit layers with their provenance.
    project = tmp_path / "work.ora"
    assert window.save_as(project) and not doc.dirty
    assert window.open_path(project)
    reopened = window.document
    edits = [la for la in reopened.layers if isinstance(la, EditLayer)]
    assert [e.provenance.engine for e in edits] == ["fill", "brushedit"]
    assert edits[1].provenance.seed == 42
    assert np.array_equal(reopened.flatten(), with_edit)

    # Delete the BrushNet layer from the panel: the fill edit underneath stays.
    qtbot.waitUntil(lambda: item_of(edits[1]) is not None, timeout=5000)
    panel_layers.select_layer(edits[1])
    assert panel_layers.current_layer() is edits[1]
    panel_layers.delete_current()
    assert len(reopened.layers) == len(edits) + 1 - 1
    assert np.array_equal(reopened.flatten(), before_brushnet)

    # Export.
    out = tmp_path / "out.png"
    assert window.export(out)
    exported = np.asarray(Image.open(out).convert("RGB"))
    assert np.array_equal(exported, before_brushnet[..., :3])
    assert errors == [] and [m for m in window.messages if "rror" in m[0]] == []
