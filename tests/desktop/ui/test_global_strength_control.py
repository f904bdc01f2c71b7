"""The Parameters panel's Global strength drives ``EditParams.global_strength`` of a global plan's
request, with real mouse and key events, and persists like the other parameters."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.engine_client import EditParams, EditPlan
from desktop.ui.panels.instruction_panel import InstructionPanel


@pytest.fixture
def ui(panel_ui):
    _client, controller, doc, panel, services = panel_ui  # a 128 x 128 astronaut
    return controller, doc, panel, services


def _global_plan(doc) -> EditPlan:
    return EditPlan("make it a watercolor", "global", None, "a watercolor painting of an astronaut",
                    "ugly, low quality", np.full((doc.height, doc.width), 255, np.uint8))


def _type_value(qtbot, spin, text: str) -> None:
    qtbot.mouseClick(spin, Qt.LeftButton)
    qtbot.keyClick(spin, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key_Tab)  # leave the field: the typed value is committed


def test_a_global_plan_runs_at_the_global_strength_set_in_the_panel(ui, qtbot):
    controller, doc, panel, services = ui
    assert panel.global_strength.value() == pytest.approx(EditParams().global_strength)
    assert "Lower keeps more of the photo" in panel.global_strength.toolTip()
    controller.plan_ready.emit(_global_plan(doc))
    assert panel.category_label.text() == "global" and doc.mask.all()
    qtbot.mouseClick(panel.params_toggle, Qt.LeftButton)
    assert panel.global_strength.isVisible()
    _type_value(qtbot, panel.global_strength, "0.4")
    qtbot.keyClick(panel.global_strength, Qt.Key_Down)  # one step down, as a user nudges it
    assert panel.global_strength.value() == pytest.approx(0.35)
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    req = services[0].submitted[-1]
    assert req.category == "global" and req.instruction == "make it a watercolor"
    assert req.params.global_strength == pytest.approx(0.35)
    assert req.effective_sampling() == (pytest.approx(0.35), 0.0)  # image-to-image, BrushNet out
    assert req.params.strength == pytest.approx(EditParams().strength)  # the masked edits' one is apart


def test_global_strength_persists_in_settings(ui, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    controller, _, panel, _ = ui
    qtbot.mouseClick(panel.params_toggle, Qt.LeftButton)
    _type_value(qtbot, panel.global_strength, "0.55")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    panel.save_settings(settings)
    settings.sync()
    other = InstructionPanel(controller)
    qtbot.addWidget(other)
    assert other.global_strength.value() == pytest.approx(0.7)
    other.restore_settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    assert other.params().global_strength == pytest.approx(0.55)
    assert other.params() == panel.params()
    other.set_params(EditParams(global_strength=0.2))
    assert other.global_strength.value() == pytest.approx(0.2)
