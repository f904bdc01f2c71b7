"""One provenance builder: only diffusing painters record steps, guidance, strength and a negative prompt."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import Candidate, EditParams, EditResult, InpaintRequest
from engine.provenance import layer_provenance_fields, what_ran


def _result(engine, category="removal", n=2):
    image = np.zeros((8, 8, 3), np.uint8)
    mask = np.full((8, 8), 255, np.uint8)
    req = InpaintRequest(image, mask, "empty table", EditParams(steps=30, guidance=6.0, removal_strength=0.4),
                         instruction="remove the cup", category=category, target="cup")
    cands = tuple(Candidate(image, 7 + i, (0, 0, 8, 8)) for i in range(n))
    return req, EditResult(req, cands, engine)


@pytest.mark.parametrize("engine", ["fill", "lama"])
def test_a_fill_or_lama_layer_records_nothing_it_did_not_use(engine):
    req, res = _result(engine)
    ran = what_ran(req, res)
    assert ran == {"painter": engine, "steps": None, "guidance": None, "strength": None,
                   "conditioning_scale": None, "negative_prompt": "", "samples": 2, "working_size": None,
                   "harmonize": 1.0}  # every painter's paste-back matches colours, the fill's and LaMa's too
    fields = layer_provenance_fields(req, res, 7)
    assert (fields["steps"], fields["guidance"], fields["negative_prompt"]) == (None, None, "")
    assert fields["extra"]["painted_size"] is None and fields["extra"]["harmonize"] == 1.0


def test_brushnet_records_what_ran():
    req, res = _result("brushedit")
    ran = what_ran(req, res)
    assert (ran["steps"], ran["guidance"], ran["strength"]) == (30, 6.0, 1.0)
    assert ran["negative_prompt"].endswith(", cup")  # a removal names the removed object
    assert what_ran(*_result("lama+brushedit"))["strength"] == 0.4  # BrushNet over LaMa's fill
    req, res = _result("brushedit", category="global")
    assert what_ran(req, res)["strength"] == 0.7  # global_strength: image-to-image
    painted = EditResult(req, res.candidates, "brushedit", work_size=(856, 640))
    assert what_ran(req, painted)["painter"] == "brushnet"  # the painter, not the engine's name
    assert layer_provenance_fields(req, painted, 7)["extra"]["painted_size"] == [856, 640]
