"""``edit --harmonize S`` / ``--no-harmonize``: the strength reaches the painter and the layer's provenance."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import engine.harmonize as harmonize_module
from cli import main


@pytest.fixture
def photo_and_mask(tmp_path):
    from skimage import data

    rgb = data.chelsea()[:160, :240]
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[60:100, 90:140] = 255
    Image.fromarray(rgb).save(tmp_path / "p.png")
    Image.fromarray(mask).save(tmp_path / "m.png")
    return tmp_path / "p.png", tmp_path / "m.png"


@pytest.fixture
def strengths(monkeypatch):
    seen = []
    real = harmonize_module.correct_region

    def spy(*args):
        seen.append(args[5])
        return real(*args)

    monkeypatch.setattr(harmonize_module, "correct_region", spy)
    return seen


@pytest.mark.parametrize("flags,expected", [([], 1.0), (["--harmonize", "0.4"], 0.4), (["--no-harmonize"], 0.0)])
def test_the_strength_runs_and_is_recorded(tmp_path, capsys, photo_and_mask, strengths, flags, expected):
    from desktop.document import Document

    photo, mask = photo_and_mask
    out = tmp_path / "out.ora"
    code = main(["edit", str(photo), "--mask", str(mask), "--engine", "fill", "--seed", "3", "-q", "-o", str(out),
                 *flags])
    assert code == 0, capsys.readouterr().err
    assert strengths == ([expected] if expected else [])
    prov = Document.open(out).layers[-1].provenance
    assert prov.extra["harmonize"] == expected


def test_json_says_the_strength_that_ran(tmp_path, capsys, photo_and_mask):
    import json

    photo, mask = photo_and_mask
    code = main(["edit", str(photo), "--mask", str(mask), "--engine", "fill", "--harmonize", "0.5", "--json",
                 "-o", str(tmp_path / "o.png")])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["harmonize"] == 0.5


def test_a_strength_out_of_range_is_refused(tmp_path, capsys, photo_and_mask):
    photo, mask = photo_and_mask
    from cli.errors import USAGE

    code = main(["edit", str(photo), "--mask", str(mask), "--engine", "fill", "--harmonize", "1.5",
                 "-o", str(tmp_path / "o.png")])
    assert code == USAGE
    assert "must be in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()
