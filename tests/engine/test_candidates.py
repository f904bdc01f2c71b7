"""Candidates as the reference: ``num_candidates`` auto is 4 where the memory plan fits them (else
fewer; 1 on the CPU), painted in ONE batched pipeline call, each candidate re-made alone from its
seed, with progress once per step and cancel within a step. Tiny real BrushNet on the CPU; the card
is a ``vram_gb`` budget the memory plan is made for."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import AUTO_CANDIDATES, Cancelled, EditParams, InpaintRequest
from engine.dispatch import Engine, EngineConfig
from engine.memory.candidates import auto_candidates


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from tests.builders.brushnet import save_tiny_weights

    return save_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="module")
def cat():
    from skimage import data

    image = data.chelsea()
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[90:190, 140:250] = 255
    return image, mask


def _engine(folders, **config):
    base, brushnet = folders
    return Engine(EngineConfig(device="cpu", base_model_dir=base, brushnet_dir=brushnet, **config))


def _request(cat, **params):
    image, mask = cat
    return InpaintRequest(image, mask, "a small boat",
                          EditParams(**{"engine": "brushedit", "steps": 2, "working_size": 64, **params}))


class _Steps:
    """Counts UNet passes (one per step for a whole batch) and the batch each pass saw."""

    def __init__(self, pipe):
        self.batches: list[int] = []
        self._hook = pipe.unet.conv_out.register_forward_hook(
            lambda _m, _i, out: self.batches.append(int(out.shape[0])))

    def close(self):
        self._hook.remove()


def test_auto_is_the_default_and_the_reference_count():
    assert EditParams().num_candidates == AUTO_CANDIDATES


@pytest.mark.parametrize("vram_gb,expected", [(24, 4), (12, 4), (8, 2), (None, 1)])
def test_auto_is_4_where_the_memory_plan_fits_them(folders, cat, vram_gb, expected):
    # At the default working size (a 1024 x 640 frame budgeted): 4 candidates need ~5 GB of
    # activations, which an 8 GB card does not have beside the painters.
    engine = _engine(folders, vram_gb=vram_gb)
    resolved = engine.resolve_candidates(_request(cat, working_size=640))
    assert resolved.params.num_candidates == expected


@pytest.mark.parametrize("vram_gb,expected", [(24, 4), (None, 1)])
def test_auto_paints_its_candidates_in_one_batched_call(folders, cat, vram_gb, expected):
    engine = _engine(folders, vram_gb=vram_gb)
    steps = _Steps(engine.pipeline())
    progress = []
    try:
        result = engine.inpaint(_request(cat, seed=11), on_progress=lambda s, t, *a: progress.append((s, t)))
    finally:
        steps.close()
    assert len(result.candidates) == expected
    assert result.request.params.num_candidates == expected  # what was painted, not "auto"
    assert [c.seed for c in result.candidates] == list(range(11, 11 + expected))
    # One call: each step is ONE UNet pass over every candidate (x 2 for guidance), not one per candidate.
    assert steps.batches == [2 * expected] * 2
    assert [p for p in progress if p[1] == 2] == [(1, 2), (2, 2)]


def test_auto_on_a_card_where_even_one_does_not_fit_paints_one():
    class Plan:
        def __init__(self, fits):
            self.fits, self.peak_gb, self.vram_gb, self.summary = fits, 9.0, 4.0, "does not fit"

    assert auto_candidates(lambda n: Plan(False))[0] == 1
    assert auto_candidates(lambda n: Plan(n <= 2))[0] == 2
    assert auto_candidates(lambda n: None)[0] == 1


def test_a_count_asked_for_is_kept(folders, cat):
    engine = _engine(folders, vram_gb=8)  # auto would give 2
    result = engine.inpaint(_request(cat, seed=3, num_candidates=3))
    assert [c.seed for c in result.candidates] == [3, 4, 5]


def test_each_candidate_of_a_batch_of_4_is_remade_alone_from_its_seed(folders, cat):
    engine = _engine(folders, vram_gb=24)
    batch = engine.inpaint(_request(cat, seed=100))
    assert len(batch.candidates) == 4
    hole = cat[1] > 0
    images = [c.image for c in batch.candidates]
    assert all(not np.array_equal(images[i][hole], images[j][hole]) for i in range(4) for j in range(i + 1, 4))
    for k in (0, 3):
        alone = engine.inpaint(_request(cat, seed=batch.candidates[k].seed, num_candidates=1)).candidates[0]
        assert np.abs(alone.image.astype(int) - images[k].astype(int)).max() <= 1
    # "More": the same request from the next seed adds 4 new candidates, none a repeat.
    more = engine.inpaint(_request(cat, seed=max(c.seed for c in batch.candidates) + 1))
    assert [c.seed for c in more.candidates] == [104, 105, 106, 107]


def test_a_batch_of_4_cancels_within_one_step(folders, cat):
    engine = _engine(folders, vram_gb=24)
    steps = _Steps(engine.pipeline())
    try:
        with pytest.raises(Cancelled):
            engine.inpaint(_request(cat, seed=1, steps=20), is_cancelled=lambda: len(steps.batches) >= 2)
    finally:
        steps.close()
    assert steps.batches == [8, 8]


def test_the_result_says_the_frame_it_painted(folders, cat):
    engine = _engine(folders)
    result = engine.inpaint(_request(cat, seed=1, num_candidates=1))
    w, h = result.work_size
    assert min(w, h) == 64 and w % 8 == 0 and h % 8 == 0
    fill = engine.inpaint(InpaintRequest(cat[0], cat[1], "", EditParams(engine="fill"), category="removal"))
    assert fill.work_size is None and len(fill.candidates) == 1 and fill.request.params.num_candidates == 1
