"""FLUX.2 [klein] as a painter, on a tiny random folder in the published layout, through the engine."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import Cancelled, EditParams, EditResult, InpaintRequest, MissingModelsError
from engine.dispatch import Engine, EngineConfig

SMALL = dict(klein_working_size=128, seed=7)


@pytest.fixture(scope="module")
def engine(klein_dir):
    # Found through the manifest (a per-model folder, as the settings save it), not a direct path.
    return Engine(EngineConfig(device="cpu", model_dirs={"flux2-klein-4b": str(klein_dir)}))


def test_the_tiny_folder_holds_exactly_the_manifest_files(klein_dir):
    from engine.models.manifest import get_spec

    files = sorted(p.relative_to(klein_dir).as_posix() for p in klein_dir.rglob("*") if p.is_file())
    assert files == sorted(get_spec("flux2-klein-4b").files)


def test_masked_edit_keeps_far_pixels_and_the_size(engine, photo, box_mask):
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    steps = []
    result = engine.inpaint(InpaintRequest(photo, mask, "a red hat", EditParams(painter="klein", **SMALL),
                                           category="addition"), on_progress=lambda i, n, *a: steps.append((i, n)))
    assert result.engine == "klein" and result.ran["painter"] == "klein"
    assert result.ran["steps"] == 4 and steps[-1] == (4, 4)
    assert result.ran["guidance"] is None  # step-distilled: no guidance ran
    ww, wh = result.ran["working_size"]
    assert ww % 16 == 0 and wh % 16 == 0 and max(ww, wh) == 128
    cand = result.candidates[0]
    assert cand.image.shape == photo.shape
    x, y, w, h = cand.bbox
    outside = np.ones(photo.shape[:2], bool)
    outside[y:y + h, x:x + w] = False
    assert np.array_equal(cand.image[outside], photo[outside])  # beyond the feather: bit for bit
    assert not np.array_equal(cand.image[60:110, 90:150], photo[60:110, 90:150])  # the hole was painted


def test_whole_image_edit_keeps_the_size_and_uses_the_instruction(engine, photo):
    full = np.full(photo.shape[:2], 255, np.uint8)
    request = InpaintRequest(photo, full, "the same scene as a watercolor painting",
                             EditParams(painter="klein", **SMALL), instruction="make it a watercolor painting",
                             category="global")
    result = engine.inpaint(request)
    cand = result.candidates[0]
    assert cand.image.shape == photo.shape and cand.bbox == (0, 0, photo.shape[1], photo.shape[0])
    assert result.ran["prompt"] == "make it a watercolor painting"
    assert result.ran["strength"] is None  # an instruction edit paints from noise beside the reference
    ww, wh = result.ran["working_size"]
    assert abs(ww / wh - photo.shape[1] / photo.shape[0]) < 0.15  # the photo's aspect ratio


def test_a_global_edit_with_a_partial_mask_keeps_the_rest_exact(engine, photo, box_mask):
    mask = box_mask(photo.shape, 0, 0, 280, 80)  # "the sky"
    result = engine.inpaint(InpaintRequest(photo, mask, "a sunset", EditParams(painter="klein", **SMALL),
                                           instruction="make the sky a sunset", category="global"))
    x, y, w, h = result.candidates[0].bbox
    assert y + h < photo.shape[0]
    assert np.array_equal(result.candidates[0].image[y + h:], photo[y + h:])


def test_cancel_lands_within_one_step(engine, photo, box_mask):
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    seen = []
    with pytest.raises(Cancelled):
        engine.inpaint(InpaintRequest(photo, mask, "a hat", EditParams(painter="klein", **SMALL)),
                       on_progress=lambda i, n, *a: seen.append(i), is_cancelled=lambda: bool(seen))
    assert seen == [1]


def test_seeds_make_variations_and_reproduce(engine, photo, box_mask):
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    params = EditParams(painter="klein", num_candidates=2, **SMALL)
    a = engine.inpaint(InpaintRequest(photo, mask, "a hat", params))
    b = engine.inpaint(InpaintRequest(photo, mask, "a hat", params))
    assert [c.seed for c in a.candidates] == [7, 8] and list(a.ran["seeds"]) == [7, 8]
    assert np.array_equal(a.candidates[0].image, b.candidates[0].image)
    assert not np.array_equal(a.candidates[0].image, a.candidates[1].image)


def test_removal_keeps_the_object_out_of_the_prompt(engine, photo, box_mask):
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    result = engine.inpaint(InpaintRequest(photo, mask, "a cat", EditParams(painter="klein", **SMALL),
                                           category="removal", target="cat"))
    assert "cat" not in result.ran["prompt"]


def test_the_prompt_is_encoded_first_then_the_encoder_leaves(klein_pipes, photo, box_mask):
    from engine.painters import PaintJob
    from engine.painters.klein import KleinPainter

    klein_pipes.moves.clear()
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    request = InpaintRequest(photo, mask, "a hat", EditParams(painter="klein", **SMALL))
    painted = KleinPainter(klein_pipes).paint(PaintJob.from_request(request, steps=2))
    assert klein_pipes.moves == ["encoder->device", "encoder->cpu"]
    assert painted.ran.steps == 2 and painted.result.ran["steps"] == 2


def test_auto_picks_klein_when_installed_and_brushnet_when_asked(engine, photo, box_mask):
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    auto = engine.inpaint(InpaintRequest(photo, mask, "a hat", EditParams(**SMALL)))
    assert auto.engine == "klein"
    with pytest.raises(MissingModelsError):  # BrushNet by name, and its weights are not here
        engine.inpaint(InpaintRequest(photo, mask, "a hat", EditParams(painter="brushnet", **SMALL)))


def test_klein_by_name_without_its_folder_names_the_model(photo, box_mask):
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    bare = Engine(EngineConfig(device="cpu", model_dirs={"flux2-klein-4b": "/nonexistent"}))
    from engine.painters import choice

    if choice.klein_dir(bare) is not None:
        pytest.skip("a klein copy is installed on this machine")
    with pytest.raises(MissingModelsError) as err:
        bare.inpaint(InpaintRequest(photo, mask, "a hat", EditParams(painter="klein")))
    assert "flux2-klein-4b" in err.value.names


def test_the_agent_with_a_plan_paints_through_klein(engine, photo):
    from engine.api import PlanRequest

    plan = engine.plan(PlanRequest(photo, "make it a watercolor painting", backend="offline"))
    assert plan.category == "global"
    result = engine.inpaint(InpaintRequest(photo, plan.mask, plan.caption, EditParams(**SMALL),
                                           instruction=plan.instruction, category=plan.category))
    assert result.engine == "klein" and result.candidates[0].image.shape == photo.shape


def test_what_ran_travels_on_the_wire(engine, photo, box_mask):
    from engine.api import from_dict, to_dict

    mask = box_mask(photo.shape, 90, 60, 60, 50)
    result = engine.inpaint(InpaintRequest(photo, mask, "a hat", EditParams(painter="klein", **SMALL)))
    back = from_dict(to_dict(result))
    assert isinstance(back, EditResult)
    assert back.request.params.painter == "klein" and back.request.params.klein_steps == 4
    assert back.ran["painter"] == "klein" and back.ran["steps"] == 4


def test_on_a_managed_card_the_residency_follows_klein_plan(klein_dir, photo, box_mask):
    engine = Engine(EngineConfig(device="cpu", vram_gb=12, klein_dir=klein_dir))
    mask = box_mask(photo.shape, 90, 60, 60, 50)
    result = engine.inpaint(InpaintRequest(photo, mask, "a hat", EditParams(painter="klein", **SMALL)))
    assert result.engine == "klein"
    from engine.painters.choice import klein_plan

    plan = klein_plan(engine, InpaintRequest(photo, mask, "a hat", EditParams(painter="klein", **SMALL)))
    assert plan.painter == "klein" and plan.fits
    assert engine._residency.after["klein"] == plan.after_stage()["klein"]
