"""``edit --engine fill`` at the edges: a photo with transparency, a mask over the whole photo."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cli import main
from cli.errors import USAGE


def _photo_with_transparency(tmp_path):
    from skimage import data

    rgb = data.chelsea()[:160, :240]
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :80] = 0  # a transparent strip on the left
    alpha[:, 80:100] = 128  # and a half-transparent one
    path = tmp_path / "cut-out.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(path)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[60:100, 90:140] = 255  # the hole straddles the half-transparent strip
    mpath = tmp_path / "mask.png"
    Image.fromarray(mask).save(mpath)
    return path, mpath, alpha, mask


def test_fill_keeps_the_photo_alpha_outside_the_mask_exactly(tmp_path, capsys):
    photo, mask_path, alpha, mask = _photo_with_transparency(tmp_path)
    for out in (tmp_path / "out.png", tmp_path / "out.ora"):
        code = main(["edit", str(photo), "--mask", str(mask_path), "--engine", "fill", "--seed", "3", "-q",
                     "-o", str(out)])
        assert code == 0, capsys.readouterr().err
        if out.suffix == ".ora":
            from desktop.document import Document

            result = np.asarray(Document.open(out).flatten())
        else:
            result = np.asarray(Image.open(out).convert("RGBA"))
        outside = mask == 0
        assert np.array_equal(result[..., 3][outside], alpha[outside]), out.name  # no white strip
        assert (result[..., 3][mask > 0] == 255).all()  # the hole is filled


def test_a_mask_over_the_whole_photo_is_refused_in_one_line(tmp_path, capsys):
    from skimage import data

    photo = tmp_path / "p.png"
    Image.fromarray(data.chelsea()).save(photo)
    full = tmp_path / "all.png"
    Image.fromarray(np.full((300, 451), 255, np.uint8)).save(full)
    out = tmp_path / "out.png"
    code = main(["edit", str(photo), "--mask", str(full), "--engine", "fill", "-q", "-o", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == USAGE
    assert len(err) == 1 and "nothing around it" in err[0]
    assert not out.exists()
