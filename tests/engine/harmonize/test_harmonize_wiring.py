"""Every painter's paste-back harmonizes (BrushNet runner and pipeline, LaMa, the classical fill),
at ``EditParams.harmonize``, and none does when it is 0 (``--no-harmonize``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import engine.harmonize as harmonize_module
from engine.api import EditParams, InpaintRequest
from masks import mask_ops


@pytest.fixture
def calls(monkeypatch):
    """Record every region harmonize corrects (and its strength), then correct it as usual."""
    seen = []
    real = harmonize_module.correct_region

    def spy(original, painted, hole, blocked, ring, strength, out):
        seen.append(strength)
        return real(original, painted, hole, blocked, ring, strength, out)

    monkeypatch.setattr(harmonize_module, "correct_region", spy)
    return seen


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return np.ascontiguousarray(data.chelsea()[:192, :256])


@pytest.fixture(scope="module")
def hole(photo):
    m = np.zeros(photo.shape[:2], np.uint8)
    cv2.circle(m, (128, 96), 30, 255, -1)
    return m


@pytest.fixture(scope="module")
def tiny_pipe():
    from tests.builders.brushnet import tiny_pipeline

    return tiny_pipeline(seed=0)


def _beyond_feather(photo, hole):
    from engine.brushnet.resolution import plan_region

    kernel = plan_region(photo.shape, hole, "crop", 128).blend_kernel  # the runner's feather at this size
    return mask_ops.feather_outward(hole, kernel) == 0


def _request(photo, hole, **params):
    return InpaintRequest(photo, hole, "a red ball", EditParams(steps=2, working_size=128, seed=1, **params))


@pytest.mark.parametrize("strength", [1.0, 0.4, 0.0])
def test_brushnet_runner(tiny_pipe, photo, hole, calls, strength):
    from engine.brushnet import run_inpaint

    out = run_inpaint(tiny_pipe, _request(photo, hole, harmonize=strength)).candidates[0].image
    assert calls == ([strength] if strength else [])
    far = _beyond_feather(photo, hole)
    assert np.array_equal(out[far], photo[far])


def test_brushnet_runner_without_blend_still_harmonizes_the_hole(tiny_pipe, photo, hole, calls):
    from engine.brushnet import run_inpaint

    run_inpaint(tiny_pipe, _request(photo, hole, blend=False))
    assert calls == [1.0]


def test_brushnet_runner_results_differ_by_the_correction_only_near_the_hole(tiny_pipe, photo, hole):
    from engine.brushnet import run_inpaint

    on = run_inpaint(tiny_pipe, _request(photo, hole)).candidates[0].image
    off = run_inpaint(tiny_pipe, _request(photo, hole, harmonize=0.0)).candidates[0].image
    changed = np.any(on != off, axis=2)
    assert changed.any()  # the tiny random painter casts, and harmonize takes some of it out
    assert not changed[_beyond_feather(photo, hole)].any()


def test_brushnet_pipeline_blend(tiny_pipe, photo, hole, calls):
    import torch

    gen = lambda: [torch.Generator("cpu").manual_seed(0)]  # noqa: E731
    tiny_pipe("", photo, hole, num_inference_steps=2, generator=gen())
    assert calls == [1.0]
    calls.clear()
    tiny_pipe("", photo, hole, num_inference_steps=2, generator=gen(), harmonize=0.0)
    assert calls == []


@pytest.mark.parametrize("strength", [1.0, 0.0])
def test_lama(photo, hole, calls, strength):
    from engine.fill.lama import tiny_lama
    from engine.fill.lama_remove import run_lama

    run_lama(tiny_lama(seed=0, ngf=4, n_blocks=1), _request(photo, hole, harmonize=strength, num_candidates=2))
    assert calls == ([strength] * 2 if strength else [])


@pytest.mark.parametrize("method", ["telea", "patch"])
@pytest.mark.parametrize("strength", [0.7, 0.0])
def test_classical_fill(photo, hole, calls, method, strength):
    from engine.fill import run_fill

    run_fill(_request(photo, hole, harmonize=strength), method=method)
    assert calls == ([strength] if strength else [])


def test_the_wire_form_round_trips_and_defaults_to_on():
    assert EditParams().harmonize == 1.0
    p = EditParams(harmonize=0.25)
    assert EditParams.from_dict(p.to_dict()) == p
    older = {k: v for k, v in p.to_dict().items() if k != "harmonize"}  # a peer that predates it
    assert EditParams.from_dict(older).harmonize == 1.0
