"""The editor offers LaMa: the Engine choice and the removal repaint strength reach the request."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.ui.edit_controller import _params_from_provenance
from desktop.ui.panels.instruction_panel import InstructionPanel


@pytest.fixture
def panel_and_service(panel_ui):
    _client, controller, doc, panel, services = panel_ui
    return doc, controller, panel, services


def test_lama_is_offered_and_reaches_the_request(panel_and_service, qtbot):
    doc, controller, panel, services = panel_and_service
    assert panel.engine.findData("lama") >= 0
    assert "LaMa" in panel.engine.itemText(panel.engine.findData("lama"))
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[20:60, 30:70] = 255
    doc.set_mask(mask)
    panel.params_toggle.click()
    panel.engine.setCurrentIndex(panel.engine.findData("lama"))
    panel.removal_strength.setValue(0.35)
    panel.instruction.setPlainText("remove the patch")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    p = services[0].submitted[-1].params
    assert p.engine == "lama" and p.removal_strength == pytest.approx(0.35)


def test_rerun_from_provenance_keeps_the_lama_engine():
    class Prov:
        engine = "lama"
        extra = {}

    assert _params_from_provenance(Prov(), 3).engine == "lama"


def test_the_transcript_says_lama_only_erases(panel_and_service):
    from desktop.engine_client import Candidate, EditParams, EditResult, InpaintRequest

    _, controller, panel, _ = panel_and_service
    img = np.zeros((64, 64, 3), np.uint8)
    req = InpaintRequest(img, np.full((64, 64), 255, np.uint8), "a red car", EditParams(), category="local")
    controller.result = EditResult(req, (Candidate(img, 0, (0, 0, 64, 64)),), "lama", "big-lama")
    panel._on_candidates([Candidate(img, 0, (0, 0, 64, 64))])
    assert "LaMa remover only erases" in panel.transcript.toPlainText()


def test_engine_and_removal_strength_survive_a_restart(panel_and_service, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    _, controller, panel, _ = panel_and_service
    panel.engine.setCurrentIndex(panel.engine.findData("lama"))
    panel.removal_strength.setValue(0.3)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    panel.save_settings(settings)
    settings.sync()
    other = InstructionPanel(controller)
    qtbot.addWidget(other)
    other.restore_settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    assert other.params().engine == "lama"
    assert other.params().removal_strength == pytest.approx(0.3)
