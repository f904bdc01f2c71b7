"""Plan over a painted mask on the real engine thread, with no GroundingDINO/SAM installed: the
painted mask says where, so the plan arrives (it said "needs GroundingDINO and SAM ... or paint the
mask yourself" although the mask was painted)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.document import Document
from desktop.ui.edit_controller import EditController
from desktop.ui.panels.instruction_panel import InstructionPanel


@pytest.fixture
def bare_client(tmp_path, monkeypatch):
    """The real engine service with no weights anywhere (a fresh install)."""
    from desktop.engine_client import EngineClient, default_service_factory, engine_config

    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    client = EngineClient(default_service_factory(engine_config(device="cpu", instructor="offline")))
    yield client
    client.shutdown(30)


def test_plan_keeps_the_painted_mask_when_the_detectors_are_missing(bare_client, qtbot, photo_array):
    doc = Document.from_array(np.ascontiguousarray(photo_array))
    controller = EditController(bare_client, lambda: doc)
    panel = InstructionPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    errors = []
    controller.error.connect(lambda *a: errors.append(a))
    painted = np.zeros((doc.height, doc.width), np.uint8)
    painted[60:200, 120:300] = 255
    doc.set_mask(painted, label="Brush")
    for attempt in range(2):  # twice in a row, as a user retries
        panel.instruction.setPlainText("make the cat blue")
        with qtbot.waitSignal(controller.plan_ready, timeout=30000) as got:
            qtbot.mouseClick(panel.plan_button, Qt.LeftButton)
        assert errors == []
        plan = got.args[0]
        assert (plan.category, plan.target) == ("local", "cat")
        assert np.array_equal(plan.mask > 0, painted > 0)
        assert np.array_equal(doc.mask > 0, painted > 0)  # still the user's mask
        # The plan's mask is the painted one: one choice, and no "pick Proposed by the instructor".
        items = [panel.mask_choice.itemText(i) for i in range(panel.mask_choice.count())]
        assert items == ["Your painted mask"]
        assert "Proposed by the instructor" not in panel.transcript.toPlainText()
        assert "painted mask" in panel.transcript.toPlainText()
