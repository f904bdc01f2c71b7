"""``plan --mask FILE``: a painted mask is kept and never written over; no option is matched by prefix."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil

import pytest

from cli_helpers import read_rgb


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plan_with_mask_never_writes_the_mask_file(brushedit, photos, tmp_path):
    """The data-loss bug: ``--mask`` was read as ``--mask-out`` and the plan's mask replaced MY.png."""
    image, mine = tmp_path / "cat.png", tmp_path / "MY.png"
    shutil.copy(photos / "cat.png", image)
    shutil.copy(photos / "cat_mask.png", mine)
    before = _digest(mine)
    r = brushedit("plan", image, "make it look like winter", "--mask", mine, "--json")
    assert r.code == 0, r
    assert _digest(mine) == before, "plan wrote over the painted mask given with --mask"
    plan = json.loads(r.out)
    assert plan["mask"] == str(mine) and plan["mask_source"] == "painted"
    mask = read_rgb(mine)[..., 0]
    assert plan["mask_area"] == int((mask > 127).sum())
    # The instructor's own proposal (the whole photo for a global edit) goes beside the photo.
    assert plan["proposed_mask"] == str(tmp_path / "cat.mask.png")
    assert (read_rgb(tmp_path / "cat.mask.png")[..., 0] == 255).all()


def test_plan_with_a_painted_mask_needs_no_detectors(brushedit, photos, tmp_path):
    """Without GroundingDINO/SAM an object edit fails (exit 3), unless the user painted where."""
    image, mine = tmp_path / "cat.png", tmp_path / "mine.png"
    shutil.copy(photos / "cat.png", image)
    shutil.copy(photos / "cat_mask.png", mine)
    before = _digest(mine)
    r = brushedit("plan", image, "make the cat blue", "--mask", mine, "--json")
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert plan["category"] == "local" and plan["target"] == "cat"
    assert plan["mask"] == str(mine) and plan["proposed_mask"] is None
    assert any("painted mask" in n for n in plan["notes"])
    assert _digest(mine) == before and not (tmp_path / "cat.mask.png").exists()


@pytest.mark.parametrize("target", ["mask", "image"])
def test_plan_refuses_to_write_its_mask_over_the_painted_mask_or_the_photo(brushedit, photos, tmp_path, target):
    image, mine = tmp_path / "cat.png", tmp_path / "mine.png"
    shutil.copy(photos / "cat.png", image)
    shutil.copy(photos / "cat_mask.png", mine)
    digests = _digest(image), _digest(mine)
    r = brushedit("plan", image, "make it look like winter", "--mask", mine,
                  "--mask-out", mine if target == "mask" else image)
    assert r.code == 2 and "written over" in r.err, r
    assert (_digest(image), _digest(mine)) == digests


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_no_parser_matches_options_by_prefix():
    from cli import build_parser

    parsers = list(_parsers(build_parser()))
    assert len(parsers) > 8  # the top level, every command and the models actions
    assert [p.prog for p in parsers if p.allow_abbrev] == []


def test_an_abbreviated_option_is_a_usage_error(brushedit, photos, tmp_path):
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    r = brushedit("plan", image, "make it look like winter", "--mask-o", tmp_path / "x.png")
    assert r.code == 2 and "unrecognized arguments" in r.err, r
    assert not (tmp_path / "x.png").exists()
