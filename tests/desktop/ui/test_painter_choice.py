"""The editor's Painter choice: the panel sends it, keeps it in the settings, and a layer klein
painted records what ran (4 steps, no guidance) and re-runs with klein."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from desktop.engine_client import EditParams
from desktop.ui.edit_controller import EditController, _params_from_provenance


@pytest.fixture
def panel(make_panel_ui):
    """The conftest's Instruction panel (not shown) over a black 64 x 64 document."""
    return make_panel_ui(image=np.zeros((64, 64, 3), np.uint8), show=False)[3]


def test_the_panel_sends_the_painter_and_keeps_it(panel, tmp_path):
    assert panel.params().painter == "auto"  # a fresh install: auto
    panel.set_params(EditParams(painter="klein"))
    assert panel.params().painter == "klein"
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    panel.save_settings(settings)
    panel.set_params(EditParams(painter="brushnet"))
    panel.restore_settings(settings)
    assert panel.params().painter == "klein"


def test_a_klein_layer_records_what_ran_and_reruns_with_klein():
    from engine.api import Candidate, EditResult, InpaintRequest

    image = np.zeros((64, 64, 3), np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[10:30, 10:30] = 255
    request = InpaintRequest(image, mask, "a hat", EditParams(painter="klein", seed=3))
    ran = {"painter": "klein", "model": "flux2-klein-4b", "steps": 4, "guidance": None, "strength": 1.0,
           "working_size": [1024, 1024], "seeds": [3], "samples": 1}
    result = EditResult(request, (Candidate(image, 3, (0, 0, 64, 64)),), engine="klein",
                        model="flux2-klein-4b", ran=ran)
    prov = EditController._provenance(SimpleNamespace(plan=None), result, 3)  # no plan shown
    assert (prov.engine, prov.steps, prov.guidance) == ("klein", 4, None)
    assert prov.negative_prompt == ""  # step-distilled klein paints with no negative prompt
    again = _params_from_provenance(prov, 9)
    assert again.painter == "klein" and again.klein_steps == 4 and again.seed == 9
