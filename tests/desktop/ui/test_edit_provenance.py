"""An edit layer's provenance says what ran (the negative prompt a removal painted with, a global
edit's image-to-image strength), and a re-run of a global layer runs global at that strength."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Provenance
from desktop.engine_client import EditParams


@pytest.fixture
def setup(make_panel_ui):
    """The conftest's controller (no panel) on a 103 x 103 astronaut, and the errors it reported."""
    from skimage import data

    _client, controller, doc, _panel, services = make_panel_ui(image=data.astronaut()[::5, ::5], panel=False)
    errors = []
    controller.error.connect(lambda m, h: errors.append((m, h)))
    return controller, doc, services, errors


def _mask(doc, whole=False):
    mask = np.zeros((doc.height, doc.width), np.uint8)
    if whole:
        mask[:] = 255
    else:
        mask[20:60, 30:70] = 255
    doc.set_mask(mask, label="Box")


def _run_and_accept(qtbot, controller, prompt, **kw):
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=lambda c: bool(c)):
        controller.run(prompt, **kw)
    layer, = controller.accept([0])
    return layer


def test_a_removal_layer_records_the_negative_prompt_that_ran(setup, qtbot):
    controller, doc, services, errors = setup
    _mask(doc)
    layer = _run_and_accept(qtbot, controller, "", params=EditParams(seed=1, negative_prompt="blurry"),
                            instruction="remove the cup", category="removal", target="cup")
    prov = layer.provenance
    assert prov.negative_prompt == "blurry, cup"  # the engine adds the removed object
    assert prov.extra["params"]["negative_prompt"] == "blurry, cup"
    # A re-run paints with it again, and names the object once.
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=7)
    request = services[0].submitted[-1]
    assert request.effective_negative_prompt() == "blurry, cup"
    assert layer.provenance.negative_prompt == "blurry, cup"
    assert errors == []


def test_a_global_layer_records_its_strength_and_reruns_as_global_at_it(setup, qtbot):
    controller, doc, services, errors = setup
    _mask(doc, whole=True)
    params = EditParams(seed=1, strength=1.0, conditioning_scale=1.0, global_strength=0.45)
    layer = _run_and_accept(qtbot, controller, "a watercolor painting", params=params,
                            instruction="make it a watercolor", category="global")
    prov = layer.provenance
    assert (prov.category, prov.strength, prov.conditioning_scale) == ("global", 0.45, 0.0)
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=8)
    request = services[0].submitted[-1]
    assert request.category == "global" and request.params.seed == 8
    assert request.effective_sampling() == (0.45, 0.0)
    assert errors == []


def test_a_global_layer_the_cli_made_reruns_at_its_recorded_strength(setup, qtbot):
    # The CLI's provenance has no params dict: strength is the image-to-image strength it ran at.
    controller, doc, services, errors = setup
    full = np.full((doc.height, doc.width), 255, np.uint8)
    prov = Provenance(instruction="make it night", category="global", prompt="a photo at night",
                      negative_prompt="ugly, low quality", seed=4, steps=9, guidance=7.5, strength=0.35,
                      conditioning_scale=0.0, engine="brushedit")
    pixels = np.dstack([doc.flatten()[..., :3] // 2, full])
    layer = doc.add_edit(pixels, offset=(0, 0), provenance=prov, mask=full)
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=5)
    request = services[0].submitted[-1]
    assert request.category == "global" and request.params.steps == 9
    assert request.params.global_strength == 0.35
    assert request.effective_sampling() == (0.35, 0.0)
    assert request.params.strength == EditParams().strength  # the masked-edit strength is left alone
    assert (layer.provenance.strength, layer.provenance.conditioning_scale) == (0.35, 0.0)
    assert errors == []


@pytest.mark.parametrize("stored_params", [False, True])
def test_an_older_global_record_reruns_at_the_default_global_strength_not_at_one(setup, qtbot, stored_params):
    # Before global edits kept the photo, a global layer recorded the masked strength 1.0 and scale
    # 1.0 (and the editor a params dict without global_strength): it must not re-run at 1.0.
    controller, doc, services, errors = setup
    full = np.full((doc.height, doc.width), 255, np.uint8)
    extra = {"params": {"steps": 6, "strength": 1.0, "conditioning_scale": 1.0}} if stored_params else {}
    prov = Provenance(instruction="make it night", category="global", prompt="a photo at night", seed=4,
                      steps=6, strength=1.0, conditioning_scale=1.0, engine="brushedit", extra=extra)
    layer = doc.add_edit(np.dstack([doc.flatten()[..., :3] // 2, full]), provenance=prov, mask=full)
    with qtbot.waitSignal(controller.accepted, timeout=5000):
        controller.rerun_layer(layer, seed=5)
    request = services[0].submitted[-1]
    assert request.category == "global" and request.params.steps == 6
    assert request.effective_sampling() == (EditParams().global_strength, 0.0)
    assert layer.provenance.strength == EditParams().global_strength
    assert errors == []
