"""Canvas size: crop (to a rectangle or to the mask) and expand (with the new area masked for a
generative expand). One undo step each; layers keep all their pixels, so undo is exact."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Document, DocumentError, Provenance, RasterLayer


@pytest.fixture
def doc(coffee):
    d = Document.from_array(coffee)  # 600 x 400
    px = np.zeros((50, 80, 4), np.uint8)
    px[...] = (0, 200, 0, 255)
    variants = [(px, (100, 60)), (px, (110, 70))]
    d.add_edit(px, (100, 60), Provenance(seed=1), mask=np.full((50, 80), 255, np.uint8),
               variants=variants, variant=0)
    m = np.zeros((400, 600), np.uint8)
    m[100:150, 200:260] = 255
    d.set_mask(m)
    return d


def test_expanding_adds_transparent_borders_moves_layers_and_undoes_exactly(doc):
    before, layers, mask = doc.flatten(), doc.layers, doc.mask.copy()
    events = []
    doc.events.connect(lambda e: events.append(e.kind))
    doc.expand_canvas(left=30, top=20, right=10, bottom=0)
    assert doc.size == (640, 420) and doc.history.entries[-1] == "Expand canvas"
    assert {"size", "layers", "mask"} <= set(events)
    flat = doc.flatten()
    assert np.array_equal(flat[20:, 30:630], before)
    assert (flat[:20, :, 3] == 0).all() and (flat[:, :30, 3] == 0).all() and (flat[:, 630:, 3] == 0).all()
    assert doc.layers[1].offset == (130, 80) and [v.offset for v in doc.layers[1].variants] == [(130, 80), (140, 90)]
    assert np.array_equal(doc.mask[20:, 30:630], mask) and not doc.mask[:20].any()
    doc.undo()
    assert doc.size == (600, 400) and doc.layers == layers and np.array_equal(doc.flatten(), before)
    assert np.array_equal(doc.mask, mask) and doc.layers[1].variants[1].offset == (110, 70)
    doc.redo()
    assert doc.size == (640, 420) and np.array_equal(doc.flatten()[20:, 30:630], before)


def test_expanding_with_the_new_area_masked_is_one_step(doc):
    n = len(doc.history.entries)
    doc.expand_canvas(left=16, right=16, mask_new_area=True)
    assert doc.size == (632, 400) and len(doc.history.entries) == n + 1
    assert (doc.mask[:, :16] == 255).all() and (doc.mask[:, 616:] == 255).all() and not doc.mask[:, 16:616].any()
    doc.undo()
    assert doc.size == (600, 400) and doc.mask[100:150, 200:260].all()


def test_cropping_keeps_layer_pixels_outside_the_canvas(doc):
    layer = doc.layers[1]
    doc.resize_canvas((120, 70, 200, 100))
    assert doc.size == (200, 100) and doc.history.entries[-1] == "Crop canvas"
    assert layer.offset == (-20, -10) and layer.pixels.shape == (50, 80, 4)  # not cut
    assert doc.flatten().shape == (100, 200, 4)
    assert tuple(doc.flatten()[0, 0, :3]) == (0, 200, 0)
    doc.undo()
    assert layer.offset == (100, 60)


def test_crop_to_mask_and_its_errors(doc):
    doc.crop_to_mask(margin=10)
    assert doc.size == (80, 70) and doc.history.entries[-1] == "Crop to mask"
    assert doc.mask[10:60, 10:70].all() and not doc.mask[:10].any()
    doc.mask_op("clear")
    with pytest.raises(DocumentError, match="mask is empty"):
        doc.crop_to_mask()
    with pytest.raises(DocumentError, match="out of range"):
        doc.resize_canvas((0, 0, 0, 10))
    with pytest.raises(DocumentError, match="megapixels"):
        doc.resize_canvas((0, 0, 20000, 20000))
    with pytest.raises(DocumentError, match="0 or more"):
        doc.expand_canvas(left=-5)
    n = len(doc.history.entries)
    doc.resize_canvas((0, 0, 80, 70))  # the same canvas: nothing to do
    assert len(doc.history.entries) == n


def test_strokes_and_layers_after_a_resize_use_the_new_canvas(doc, tmp_path):
    doc.expand_canvas(top=40)
    doc.begin_mask_stroke("paint", 10, 1.0)
    doc.mask_stroke_to(5, 5)
    doc.end_mask_stroke()
    assert doc.mask[5, 5] == 255 and doc.mask.shape == (440, 600)
    doc.add_layer(RasterLayer(np.full((10, 10, 4), 255, np.uint8), name="top"))
    path = tmp_path / "e.ora"
    doc.save(path)
    back = Document.open(path)
    assert back.size == (600, 440) and np.array_equal(back.flatten(), doc.flatten())
    for _ in range(3):
        doc.undo()
    assert doc.size == (600, 400) and doc.mask.shape == (400, 600)
