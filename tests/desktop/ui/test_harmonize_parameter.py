"""Parameters ▸ Match colours: carried in the request, kept in the layer's provenance and its re-run."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Provenance
from desktop.ui.panels.instruction_panel import InstructionPanel


@pytest.fixture
def setup(panel_ui):
    _client, controller, doc, panel, services = panel_ui
    return controller, doc, panel, services


def test_the_panel_carries_the_strength_and_restores_it(setup, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    controller, doc, panel, services = setup
    assert panel.params().harmonize == 1.0  # on by default
    panel.harmonize.setValue(0.3)
    assert panel.params().harmonize == pytest.approx(0.3)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    panel.save_settings(settings)
    settings.sync()
    other = InstructionPanel(controller)
    qtbot.addWidget(other)
    other.restore_settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    assert other.params().harmonize == pytest.approx(0.3)
    panel.set_params(panel.params().__class__(harmonize=0.6))
    assert panel.harmonize.value() == pytest.approx(0.6)


def test_a_layer_records_it_and_a_rerun_keeps_it(setup, qtbot):
    controller, doc, panel, services = setup
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[20:60, 30:70] = 255
    doc.set_mask(mask, label="Box")
    panel.harmonize.setValue(0.25)
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=lambda c: bool(c)):
        controller.run("a moon", panel.params())
    layer, = controller.accept([0])
    assert services[0].submitted[-1].params.harmonize == pytest.approx(0.25)
    assert layer.provenance.extra["params"]["harmonize"] == pytest.approx(0.25)
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=9)
    assert services[0].submitted[-1].params.harmonize == pytest.approx(0.25)


def test_a_layer_the_cli_made_reruns_at_its_recorded_strength(setup, qtbot):
    controller, doc, panel, services = setup
    full = np.zeros((doc.height, doc.width), np.uint8)
    full[10:50, 10:50] = 255
    prov = Provenance(instruction="", category="", prompt="a moon", seed=4, steps=9, guidance=7.5, strength=1.0,
                      conditioning_scale=1.0, engine="brushedit", extra={"harmonize": 0.0, "blend": True})
    layer = doc.add_edit(np.dstack([doc.flatten()[..., :3], full]), offset=(0, 0), provenance=prov, mask=full)
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=5)
    assert services[0].submitted[-1].params.harmonize == 0.0
