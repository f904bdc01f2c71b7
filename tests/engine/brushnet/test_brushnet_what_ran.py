"""``InpaintRequest.effective_negative_prompt`` / ``effective_sampling`` (what provenance records)
are what the pipeline was really given."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import EditParams, InpaintRequest
from engine.brushnet.runner import run_inpaint


@pytest.fixture()
def spied(tiny_pipe, monkeypatch):
    seen = {"texts": [], "call": {}}
    encode, call = tiny_pipe._encode_prompt, type(tiny_pipe).__call__

    def rec_encode(texts, *a, **kw):
        seen["texts"].append(list(texts))
        return encode(texts, *a, **kw)

    def rec_call(self, *a, **kw):
        seen["call"] = dict(kw)
        return call(self, *a, **kw)

    monkeypatch.setattr(tiny_pipe, "_encode_prompt", rec_encode)
    monkeypatch.setattr(type(tiny_pipe), "__call__", rec_call)
    return seen


def test_a_removal_paints_with_the_negative_prompt_it_reports(tiny_pipe, chelsea, box_mask, spied):
    img = np.ascontiguousarray(chelsea[:64, :96])
    req = InpaintRequest(img, box_mask(img.shape, 20, 10, 30, 30), "an empty sofa",
                         EditParams(seed=1, steps=1, negative_prompt="blurry", working_size=96),
                         category="removal", target="cat")
    res = run_inpaint(tiny_pipe, req)
    assert res.request.effective_negative_prompt() == "blurry, cat"
    assert ["blurry, cat"] in spied["texts"]  # the negative half of the guidance batch
    assert spied["call"]["negative_prompt"] == "blurry, cat"


def test_a_global_edit_runs_at_the_sampling_it_reports(tiny_pipe, chelsea, spied):
    img = np.ascontiguousarray(chelsea[:64, :96])
    req = InpaintRequest(img, np.full(img.shape[:2], 255, np.uint8), "a watercolor painting",
                         EditParams(seed=1, steps=4, global_strength=0.5, working_size=96), category="global")
    run_inpaint(tiny_pipe, req)
    assert req.effective_sampling() == (0.5, 0.0)
    assert (spied["call"]["strength"], spied["call"]["brushnet_conditioning_scale"]) == (0.5, 0.0)
