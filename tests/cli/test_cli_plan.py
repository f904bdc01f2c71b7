"""``brushedit plan`` (the dry run) and ``edit`` from an instruction alone, with tiny detectors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cli_helpers import read_rgb


@pytest.fixture(scope="module")
def tiny_detectors(tmp_path_factory):
    """A tiny random SAM checkpoint and a tiny GroundingDINO folder (transformers format)."""
    from tests.builders.segment import save_tiny_grounding_dino, save_tiny_sam

    root = tmp_path_factory.mktemp("detectors")
    return save_tiny_sam(root / "sam" / "tiny_sam.pth"), save_tiny_grounding_dino(root / "gdino")


def test_plan_without_segmentation_weights_exits_3(brushedit, photos):
    r = brushedit("plan", photos / "cat.png", "remove the cat")
    assert r.code == 3, r
    assert len(r.err_lines) == 1 and "Traceback" not in r.err
    assert "grounding-dino-tiny" in r.err and "sam-vit-h" in r.err


def test_plan_of_a_global_edit_needs_no_weights(brushedit, photos, tmp_path):
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    r = brushedit("plan", image, "make it look like winter", "--json")
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert plan["category"] == "global" and "winter" in plan["caption"]
    assert plan["caption_of"] == "image"  # a global caption is of the whole picture
    mask = read_rgb(tmp_path / "cat.mask.png")[..., 0]
    assert mask.shape == read_rgb(image).shape[:2] and (mask == 255).all()


def test_plan_and_instruction_only_edit_with_tiny_detectors(brushedit, photos, tmp_path, tiny_detectors):
    sam, gdino = tiny_detectors
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    r = brushedit("plan", image, "remove the cat", "--sam", sam, "--grounding", gdino, "--device", "cpu",
                  "--json", "--mask-out", tmp_path / "proposed.png")
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert (plan["category"], plan["target"]) == ("removal", "cat")
    assert plan["mask"] == str(tmp_path / "proposed.png")
    mask = read_rgb(tmp_path / "proposed.png")[..., 0]
    assert mask.shape == (300, 451) and set(np.unique(mask)) <= {0, 255}
    assert plan["mask_area"] == int((mask > 0).sum())

    # The same instruction through edit: the plan's mask is painted by the fill engine.
    out = tmp_path / "removed.png"
    r = brushedit("edit", image, "remove the cat", "--sam", sam, "--grounding", gdino, "--device", "cpu",
                  "-o", out, "--json")
    if plan["mask_area"] == 0:  # random detector found nothing: edit must say so, not paint
        assert r.code == 2 and "found nothing" in r.err, r
        return
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert summary["engine"] == "fill" and summary["category"] == "removal"
    before, after = read_rgb(image), read_rgb(out)
    from masks import mask_ops

    far = mask_ops.dilate(mask, 21) == 0
    assert np.array_equal(after[far], before[far])
