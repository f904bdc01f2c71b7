"""plan(): one mask per category, exactly as the issue says, and clear errors."""

import numpy as np
import pytest

from engine.api import Cancelled, EditPlan, MissingModelsError
from engine.instructor import plan as direct_plan
from masks import mask_ops as mo


def _staged_plan(image, instruction, backend=None, *, detector=None, segmenter=None, **kw):
    """``plan`` as the engine calls it on a managed card: the backend behind a BackendHandle, the
    detector and SAM behind StagedModel stand-ins fetched at first use."""
    from engine.instructor.backends import OfflineBackend
    from engine.instructor.backends.base import BackendHandle
    from engine.memory.residency import StagedModel

    b = backend if backend is not None and not isinstance(backend, str) else OfflineBackend()
    return direct_plan(image, instruction, BackendHandle(lambda: b, b.name),
                       detector=StagedModel(lambda: detector) if detector is not None else None,
                       segmenter=StagedModel(lambda: segmenter) if segmenter is not None else None, **kw)


@pytest.fixture(params=["direct", "staged"], autouse=True)
def plan(request, monkeypatch):
    """Every test here runs on both paths: one behaviour on every device."""
    chosen = direct_plan if request.param == "direct" else _staged_plan
    monkeypatch.setitem(globals(), "plan", chosen)
    return chosen


def _area(m):
    return int((m > 0).sum())


def test_global_is_the_whole_image_without_models(chelsea):
    p = plan(chelsea, "make it look like winter")
    assert isinstance(p, EditPlan) and p.category == "global" and p.backend == "offline"
    assert p.mask.shape == chelsea.shape[:2] and p.mask.min() == 255


def test_addition_offline_gives_a_default_region(chelsea):
    p = plan(chelsea, "add a red balloon")
    h, w = chelsea.shape[:2]
    assert p.category == "addition" and p.target == "red balloon" and p.caption == "a red balloon"
    assert 0.03 * h * w < _area(p.mask) < 0.2 * h * w
    assert len(p.candidate_masks) == 2  # the box, then an ellipse that holds it
    x, y, bw, bh = mo.bbox(p.mask)
    assert _area(p.mask) == bw * bh and np.array_equal(p.mask, p.candidate_masks[0])  # the whole box
    around = p.candidate_masks[1] > 0
    assert around[p.mask > 0].all() and _area(p.candidate_masks[1]) > _area(p.mask)
    left = plan(chelsea, "add a red balloon on the left")
    assert mo.bbox(left.mask)[0] < mo.bbox(p.mask)[0]


def test_addition_goes_on_the_detected_anchor(chelsea, fake_detector):
    p = plan(chelsea, "put a hat on the cat", detector=fake_detector)
    x, y, w, h = mo.bbox(p.mask)
    assert "cat" in fake_detector.queries[0]
    assert 100 <= x and x + w <= 300 and y < 50 + 10  # above the cat's top edge, within its width


@pytest.mark.parametrize("text", ["remove the cat", "make the cat red", "change the background to a beach"])
def test_object_categories_need_the_models(chelsea, text):
    with pytest.raises(MissingModelsError) as err:
        plan(chelsea, text)
    assert set(err.value.names) == {"grounding-dino-tiny", "sam-vit-h"}
    assert "GroundingDINO" in str(err.value)


def test_removal_dilates_by_one_and_a_half_percent_of_the_diagonal(chelsea, fake_detector, box_segmenter):
    p = plan(chelsea, "remove the cat", detector=fake_detector, segmenter=box_segmenter)
    assert p.category == "removal" and "cat" not in p.caption and "cat" in p.negative_prompt
    r = round(0.015 * np.hypot(*chelsea.shape[:2]))
    x, y, w, h = mo.bbox(p.mask)
    assert (x, y, w, h) == (100 - r, 50 - r, 200 + 2 * r, 200 + 2 * r)
    assert len(p.candidate_masks) == 2  # one per detection, best first
    tight = plan(chelsea, "remove the cat", detector=fake_detector, segmenter=box_segmenter,
                 removal_dilation=3)
    assert mo.bbox(tight.mask) == (97, 47, 206, 206)


def test_spatial_word_picks_the_detection(chelsea, fake_detector, box_segmenter):
    p = plan(chelsea, "remove the cat on the right", detector=fake_detector, segmenter=box_segmenter)
    assert mo.bbox(p.mask)[0] > 300 - 10  # the right-hand cat, not the higher-scored left one


def test_all_of_them_unites_the_detections(chelsea, fake_detector, box_segmenter):
    p = plan(chelsea, "remove all the cats", detector=fake_detector, segmenter=box_segmenter)
    assert mo.bbox(p.mask)[0] < 100 and mo.bbox(p.mask)[0] + mo.bbox(p.mask)[2] > 440


def test_local_is_slightly_dilated(chelsea, fake_detector, box_segmenter):
    p = plan(chelsea, "make the cat red", detector=fake_detector, segmenter=box_segmenter)
    assert p.category == "local" and p.caption == "a red cat"
    obj = _area(mo.box_mask(chelsea.shape[:2], (100, 50, 200, 200)))
    assert obj < _area(p.mask) < obj * 1.15


def test_background_is_the_inverse_of_the_subject(chelsea, fake_detector, box_segmenter):
    p = plan(chelsea, "change the background to a beach", detector=fake_detector, segmenter=box_segmenter)
    assert p.category == "background" and "beach" in p.caption
    assert p.mask[150, 200] == 0 and p.mask[5, 5] == 255 and p.mask[290, 445] == 255


def test_not_found_is_an_empty_mask_with_a_note(chelsea, fake_detector, box_segmenter):
    p = plan(chelsea, "remove the giraffe", detector=fake_detector, segmenter=box_segmenter)
    assert p.mask.max() == 0 and p.confidence == 0 and "giraffe" in p.notes[-1]


def test_progress_and_cancel(chelsea, fake_detector, box_segmenter):
    seen = []
    plan(chelsea, "remove the cat", detector=fake_detector, segmenter=box_segmenter,
         on_progress=lambda s, t, stage: seen.append((s, t, stage)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] and len(seen) >= 4

    def cancel(step, total, stage):
        if step == 1:
            raise Cancelled()
    with pytest.raises(Cancelled):
        plan(chelsea, "remove the cat", detector=fake_detector, segmenter=box_segmenter, on_progress=cancel)


def test_end_to_end_with_tiny_grounding_dino_and_sam(chelsea):
    from engine.segment.grounding import GroundingDetector
    from engine.segment.sam import SamSegmenter
    from tests.builders.segment import tiny_grounding_dino, tiny_sam

    det = GroundingDetector(*tiny_grounding_dino())
    seg = SamSegmenter(tiny_sam())
    for text, cat in (("remove the cat on the left", "removal"), ("make the cat red", "local"),
                      ("change the background to a beach", "background")):
        p = plan(chelsea, text, detector=det, segmenter=seg)
        assert p.category == cat and p.mask.shape == chelsea.shape[:2] and p.mask.dtype == np.uint8
        assert p.candidate_masks and all(m.shape == p.mask.shape for m in p.candidate_masks)


def test_only_the_missing_model_is_named(chelsea, fake_detector, box_segmenter):
    with pytest.raises(MissingModelsError) as err:
        plan(chelsea, "remove the cat", detector=fake_detector)
    assert err.value.names == ("sam-vit-h",) and "sam-vit-h" in err.value.hint
    with pytest.raises(MissingModelsError) as err:
        plan(chelsea, "remove the cat", segmenter=box_segmenter)
    assert err.value.names == ("grounding-dino-tiny",)


def test_a_painted_mask_stands_in_for_the_missing_detectors(chelsea):
    """The editor's Plan over a painted table said 'needs GroundingDINO and SAM' although the mask
    was painted: step 1 keeps the user's mask and says so; a later step still needs the models."""
    painted = np.zeros(chelsea.shape[:2], np.uint8)
    painted[40:120, 60:200] = 255
    p = plan(chelsea, "make the cat blue", painted=painted)
    assert (p.category, p.target) == ("local", "cat") and "blue" in p.caption
    assert np.array_equal(p.mask, painted)
    assert any("painted mask" in n for n in p.notes)
    with pytest.raises(MissingModelsError):
        plan(chelsea, "make the cat blue", painted=np.zeros_like(painted))  # an empty mask says nothing
    with pytest.raises(MissingModelsError):
        plan(chelsea, "make the cat blue and remove the dog", painted=painted)


def test_a_painted_mask_leaves_a_proposal_to_the_detectors(chelsea, fake_detector, box_segmenter):
    painted = np.zeros(chelsea.shape[:2], np.uint8)
    painted[0:10, 0:10] = 255
    p = plan(chelsea, "remove the cat", detector=fake_detector, segmenter=box_segmenter, painted=painted)
    assert not np.array_equal(p.mask, painted) and not any("painted mask" in n for n in p.notes)
