"""Image ▸ Resize, Rotate and Flip: whole-document operations, one undo step each, layers kept."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Document, DocumentError, Provenance
from desktop.document.layers import RasterLayer


@pytest.fixture
def doc(chelsea):
    d = Document.from_array(chelsea)  # 451 x 300
    dot = np.zeros((20, 30, 4), np.uint8)
    dot[...] = (255, 0, 0, 255)
    d.add_layer(RasterLayer(dot, name="dot", offset=(10, 40), blend_mode="multiply", opacity=0.5))
    green = np.full((10, 12, 3), (0, 255, 0), np.uint8)
    mask = np.zeros((10, 12), np.uint8)
    mask[:, :4] = 255
    d.add_edit(green, offset=(400, 250), provenance=Provenance(prompt="green"), mask=mask,
               variants=[(green, (400, 250)), (np.full((10, 12, 3), 7, np.uint8), (400, 250))],
               variant=0)
    m = np.zeros((300, 451), np.uint8)
    m[0:5, 0:9] = 255
    d.set_mask(m)
    return d


def _check_undo(doc, before_px, before_size, before_mask):
    doc.undo()
    assert doc.size == before_size
    assert np.array_equal(doc.flatten(), before_px)
    assert np.array_equal(doc.mask, before_mask)


def test_rotate_clockwise_turns_pixels_layers_and_mask(doc):
    before, size, mask = doc.flatten().copy(), doc.size, doc.mask.copy()
    steps = len(doc.history.entries)
    doc.rotate(90)
    assert doc.size == (300, 451)
    assert len(doc.history.entries) == steps + 1 and doc.history.entries[-1] == "Rotate 90° clockwise"
    assert np.array_equal(doc.flatten(), np.rot90(before, -1))
    assert np.array_equal(doc.mask, np.rot90(mask, -1))
    dot = doc.layers[1]
    assert dot.blend_mode == "multiply" and dot.opacity == 0.5 and dot.name == "dot"
    assert dot.bbox == (300 - 40 - 20, 10, 20, 30)
    edit = doc.layers[2]
    assert edit.provenance.prompt == "green" and edit.mask.shape == edit.pixels.shape[:2]
    assert len(edit.variants) == 2 and edit.variants[0].pixels is edit.pixels
    assert edit.variants[1].pixels.shape == edit.pixels.shape
    _check_undo(doc, before, size, mask)
    doc.redo()
    assert doc.size == (300, 451)


@pytest.mark.parametrize("degrees,turn", [(-90, 1), (270, 1), (180, 2)])
def test_other_rotations(doc, degrees, turn):
    before, size, mask = doc.flatten().copy(), doc.size, doc.mask.copy()
    doc.rotate(degrees)
    assert np.array_equal(doc.flatten(), np.rot90(before, turn))
    assert np.array_equal(doc.mask, np.rot90(mask, turn))
    _check_undo(doc, before, size, mask)


@pytest.mark.parametrize("horizontal", [True, False])
def test_flip(doc, horizontal):
    before, size, mask = doc.flatten().copy(), doc.size, doc.mask.copy()
    doc.flip(horizontal)
    axis = 1 if horizontal else 0
    assert np.array_equal(doc.flatten(), np.flip(before, axis))
    assert np.array_equal(doc.mask, np.flip(mask, axis))
    assert len(doc.layers) == 3
    _check_undo(doc, before, size, mask)


def test_resize_resamples_every_layer_and_keeps_their_place(doc):
    before, size, mask = doc.flatten().copy(), doc.size, doc.mask.copy()
    doc.resize_image(902, 600)
    assert doc.size == (902, 600) and doc.mask.shape == (600, 902)
    assert doc.layers[0].pixels.shape == (600, 902, 4)
    assert doc.layers[1].bbox == (20, 80, 60, 40)
    edit = doc.layers[2]
    assert edit.bbox == (800, 500, 24, 20) and edit.mask.shape == (20, 24)
    # Twice the size, a flat red dot stays red inside.
    assert tuple(doc.layers[1].pixels[20, 30]) == (255, 0, 0, 255)
    assert doc.history.entries[-1] == "Resize image to 902 × 600"
    _check_undo(doc, before, size, mask)
    doc.resize_image(100, 50, "nearest")
    assert doc.size == (100, 50)
    with pytest.raises(DocumentError):
        doc.resize_image(0, 10)
    with pytest.raises(DocumentError):
        doc.resize_image(10, 10, "magic")
    with pytest.raises(DocumentError):
        doc.rotate(45)


def test_rotate_survives_a_save_and_load(doc, tmp_path):
    doc.rotate(90)
    path = doc.save(tmp_path / "turned.ora")
    again = Document.open(path)
    assert again.size == (300, 451)
    assert np.array_equal(again.flatten(), doc.flatten())
