"""The acceptance of the klein painter from the shell: ``edit --painter klein --klein DIR`` with a
mask and with an instruction, on a tiny folder in the published layout; ``doctor --painter klein``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import read_rgb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "painters"))


@pytest.fixture(scope="module")
def klein_folder(tmp_path_factory):
    from tiny_klein import write_tiny_klein

    return write_tiny_klein(tmp_path_factory.mktemp("klein") / "FLUX.2-klein-4B")


def test_masked_edit_with_klein_keeps_far_pixels(brushedit, photos, klein_folder, tmp_path):
    out = tmp_path / "out.png"
    r = brushedit("edit", photos / "cat.png", "--mask", photos / "cat_mask.png", "--prompt", "a red ball",
                  "--painter", "klein", "--klein", klein_folder, "--working-size", "256", "--seed", "5",
                  "-o", out, "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert summary["painter"] == "klein" and summary["engine"] == "klein"
    assert summary["steps"] == 4 and summary["guidance"] is None and summary["seeds"] == [5]
    assert summary["working_size"][0] % 16 == 0 and summary["working_size"][1] % 16 == 0
    photo, result = read_rgb(photos / "cat.png"), read_rgb(out)
    assert result.shape == photo.shape
    changed = np.argwhere((result != photo).any(axis=2))
    assert changed.size  # the hole was painted
    # Every changed pixel lies within the mask (rows 90:190, cols 140:250) grown by the feather.
    assert changed[:, 0].min() >= 90 - 40 and changed[:, 0].max() < 190 + 40
    assert changed[:, 1].min() >= 140 - 40 and changed[:, 1].max() < 250 + 40


def test_instruction_edit_with_klein_keeps_the_size(brushedit, photos, klein_folder, tmp_path):
    out = tmp_path / "out.ora"
    r = brushedit("edit", photos / "cat.png", "make it a watercolor painting", "--painter", "klein",
                  "--klein", klein_folder, "--working-size", "256", "-o", out, "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert summary["painter"] == "klein" and summary["category"] == "global"
    assert summary["strength"] is None and summary["painter_prompt"] == "make it a watercolor painting"
    from desktop.document import Document

    doc = Document.open(out)
    layer = doc.layers[-1]
    assert layer.provenance.engine == "klein" and layer.provenance.steps == 4
    assert layer.provenance.extra["painter"] == "klein"
    assert np.asarray(doc.flatten()).shape[:2] == read_rgb(photos / "cat.png").shape[:2]


def test_klein_by_name_without_a_folder_is_a_missing_model(brushedit, photos, tmp_path):
    r = brushedit("edit", photos / "cat.png", "--mask", photos / "cat_mask.png", "--prompt", "x",
                  "--painter", "klein", "-o", tmp_path / "o.png")
    assert r.code == 3, r
    assert "flux2-klein-4b" in r.err


def test_doctor_plans_klein_on_a_16_gb_card(brushedit):
    r = brushedit("doctor", "--vram", "16", "--painter", "klein", "--json")
    assert r.code in (0, 1), r
    report = json.loads(r.out)
    memory = report["memory"]
    assert memory["fits"] is True
    paint = next(s for s in memory["stages"] if s["stage"] == "paint")
    assert [m["name"] for m in paint["models"]] == ["klein-text-encoder", "klein-transformer", "klein-vae"]
    assert all(m["precision"] == "bf16" for m in paint["models"])
    assert report["memory_advice"]["painter"] == "klein"
