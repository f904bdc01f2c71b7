"""desktop.document.result_files: edit results land as a layered .ora or numbered flattened images, and
photos and masks are read with the document's checks (the file side of ``brushedit edit`` and a batch)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from desktop.document import Document
from desktop.document.result_files import MaskSizeError, open_photo, read_mask, write_layers


def _layer(value: int, seed: int, name: str):
    return SimpleNamespace(pixels=np.full((10, 12, 3), value, np.uint8), offset=(5, 4),
                           provenance={"instruction": "remove it", "seed": seed, "engine": "fill",
                                       "extra": {"tool": "brushedit edit"}}, name=name)


def test_layers_go_into_one_ora_with_their_provenance_and_names(tmp_path):
    rgba = np.zeros((32, 40, 4), np.uint8)
    rgba[..., 3] = 255
    doc = Document.from_array(rgba)
    mask = np.zeros((32, 40), np.uint8)
    mask[4:14, 5:17] = 255
    paths = write_layers(tmp_path / "out.ora", doc, rgba, [_layer(200, 1, "a #1"), _layer(90, 2, "a #2")], mask)
    assert paths == [tmp_path / "out.ora"]
    back = Document.open(paths[0])
    edits = [layer for layer in back.layers if hasattr(layer, "provenance")]
    assert [layer.name for layer in edits] == ["a #1", "a #2"]
    assert [layer.provenance.seed for layer in edits] == [1, 2]
    assert edits[0].provenance.extra["tool"] == "brushedit edit"


def test_flattened_results_are_numbered_and_leave_the_rest_of_the_photo(tmp_path):
    rgba = np.dstack([np.full((32, 40, 3), 30, np.uint8), np.full((32, 40), 255, np.uint8)])
    mask = np.zeros((32, 40), np.uint8)
    mask[4:14, 5:17] = 255
    paths = write_layers(tmp_path / "out.png", Document.from_array(rgba), rgba,
                         [_layer(200, 1, "x"), _layer(90, 2, "y")], mask)
    assert [p.name for p in paths] == ["out-1.png", "out-2.png"]
    for path, value in zip(paths, (200, 90)):
        pixels = np.asarray(Image.open(path).convert("RGB"))
        assert (pixels[4:14, 5:17] == value).all() and (pixels[20:, :] == 30).all()
    assert not list(tmp_path.glob("*.part"))


def test_a_photo_is_composited_over_white_and_a_mask_of_another_shape_is_refused(tmp_path):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :15] = (10, 20, 30, 255)  # the right half fully transparent
    Image.fromarray(rgba).save(tmp_path / "p.png")
    _doc, read_rgba, rgb = open_photo(tmp_path / "p.png")
    assert read_rgba.shape == (20, 30, 4) and (rgb[:, :15] == (10, 20, 30)).all() and (rgb[:, 15:] == 255).all()
    Image.fromarray(np.full((40, 60), 255, np.uint8)).save(tmp_path / "same_aspect.png")
    assert read_mask(tmp_path / "same_aspect.png", 30, 20).shape == (20, 30)
    Image.fromarray(np.full((20, 20), 255, np.uint8)).save(tmp_path / "square.png")
    with pytest.raises(MaskSizeError, match="different shapes"):
        read_mask(tmp_path / "square.png", 30, 20)
