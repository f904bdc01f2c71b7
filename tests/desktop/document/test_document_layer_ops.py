"""Layer operations a Photoshop/Krita user reaches for: erase or keep the masked area of a layer,
merge down and flatten. Each is one undo step and leaves the picture as documented."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Document, DocumentError, EditLayer, Provenance, RasterLayer

from test_document_layers import reference_over, soft_layer


def _soft_disc(h, w, cx, cy, r, edge=8.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot(xx - cx, yy - cy)
    return np.clip((r - d) / edge * 255 + 127.5, 0, 255).astype(np.uint8)


@pytest.fixture
def doc_with_edit(coffee):
    doc = Document.from_array(coffee)
    rng = np.random.default_rng(3)
    px = rng.integers(0, 256, (160, 220, 4), dtype=np.uint8)
    px[..., 3] = 255
    px[:20, :, 3] = 90  # some partly transparent pixels must scale, not be replaced
    layer_mask = np.full((160, 220), 255, np.uint8)
    edit = doc.add_edit(px, (300, 120), Provenance(instruction="add a boat", seed=5), mask=layer_mask)
    return doc, edit


@pytest.mark.parametrize("keep", [False, True])
def test_erase_masked_scales_alpha_by_the_soft_mask_and_undoes(doc_with_edit, keep):
    doc, edit = doc_with_edit
    mask = _soft_disc(doc.height, doc.width, 400, 200, 60)
    doc.set_mask(mask)
    before_px, before_off, n = edit.pixels, edit.offset, len(doc.history.entries)
    assert doc.erase_masked(edit, keep=keep) is True
    assert doc.history.entries[-1] == ("Keep masked area" if keep else "Erase masked area")
    assert len(doc.history.entries) == n + 1
    x, y, w, h = edit.bbox
    m = mask[y:y + h, x:x + w].astype(np.float64) / 255
    weight = m if keep else 1 - m
    want = before_px[..., 3] * weight
    got = edit.pixels[..., 3].astype(np.float64)
    assert np.abs(got - want).max() <= 0.5 + 1e-9
    assert np.array_equal(edit.pixels[..., :3], before_px[..., :3])  # colours untouched
    assert edit.offset == before_off
    # still the same edit: provenance and its mask are kept
    assert isinstance(edit, EditLayer) and edit.provenance.instruction == "add a boat"
    assert edit.mask is not None and edit.mask.shape == (h, w)
    # the composite shows the photo where the layer was erased
    flat = doc.flatten()
    inside = (400, 200) if not keep else (310, 270)
    assert np.array_equal(flat[inside[1], inside[0], :3], doc.layers[0].pixels[inside[1], inside[0], :3])
    doc.undo()
    assert edit.pixels is before_px
    doc.redo()
    assert np.abs(edit.pixels[..., 3].astype(np.float64) - want).max() <= 0.5 + 1e-9


def test_erase_masked_with_an_empty_mask_or_outside_the_layer_changes_nothing(doc_with_edit):
    doc, edit = doc_with_edit
    n = len(doc.history.entries)
    assert doc.erase_masked(edit) is False  # empty mask
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[:50, :50] = 255  # nowhere near the layer
    assert doc.erase_masked(edit, mask=mask) is False
    assert len(doc.history.entries) == n
    # keeping a mask that covers the whole layer changes nothing either
    assert doc.erase_masked(edit, keep=True, mask=np.full((doc.height, doc.width), 255, np.uint8)) is False


def test_erase_masked_on_a_layer_reaching_past_the_canvas(coffee):
    doc = Document.from_array(coffee)
    px = np.full((100, 100, 4), 200, np.uint8)
    layer = doc.add_layer(RasterLayer(px, name="edge", offset=(-50, -50)))
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[:25, :25] = 255
    assert doc.erase_masked(layer, mask=mask)
    a = layer.pixels[..., 3]
    assert (a[50:75, 50:75] == 0).all()
    assert (a[:50, :] == 200).all() and (a[:, :50] == 200).all()  # off-canvas: unmasked, kept
    assert (a[75:, 75:] == 200).all()


def test_erase_masked_rejects_a_wrong_mask_and_a_foreign_layer(doc_with_edit, coffee):
    doc, edit = doc_with_edit
    with pytest.raises(DocumentError, match="mask must be 400 x 600"):
        doc.erase_masked(edit, mask=np.zeros((10, 10), np.uint8))
    with pytest.raises(DocumentError, match="not in this document"):
        doc.erase_masked(RasterLayer(coffee), mask=np.zeros((400, 600), np.uint8))


def test_merge_down_keeps_the_picture_and_is_one_undo_step(coffee):
    rng = np.random.default_rng(11)
    doc = Document.from_array(coffee)
    a = doc.add_layer(soft_layer(rng, 200, 260, "a", (-40, -30), opacity=0.7))
    b = doc.add_layer(soft_layer(rng, 150, 200, "b", (100, 80), opacity=0.5))
    top = doc.add_layer(soft_layer(rng, 80, 80, "top", (300, 300)))
    before = doc.flatten()
    layers_before = doc.layers
    merged = doc.merge_down(b)
    assert doc.history.entries[-1] == "Merge down"
    assert [layer.name for layer in doc.layers] == ["Background", "a", "top"]
    assert doc.layers[1] is merged and isinstance(merged, RasterLayer) and merged.opacity == 1.0
    # covers both layers' area, clipped to the canvas
    assert merged.bbox == (0, 0, 300, 230)
    # source-over is associative: merging changes no composite pixel by more than rounding
    after = doc.flatten()
    assert np.abs(after.astype(int) - before.astype(int)).max() <= 2
    want = reference_over([a, b], 600, 400)[0:230, 0:300]
    got = merged.pixels.astype(float)
    premultiplied = lambda p: p[..., :3] * p[..., 3:] / 255  # colour at low alpha is coarse
    assert np.abs(got[..., 3] - want[..., 3]).max() <= 1.5
    assert np.abs(premultiplied(got) - premultiplied(want)).max() <= 1.5
    doc.undo()
    assert doc.layers == layers_before and np.array_equal(doc.flatten(), before)
    doc.redo()
    assert doc.layers[1] is merged and doc.layers[2] is top


def test_merge_down_refuses_the_bottom_layer_and_hidden_layers(coffee):
    doc = Document.from_array(coffee)
    with pytest.raises(DocumentError, match="no layer below"):
        doc.merge_down(doc.layers[0])
    layer = doc.add_layer(RasterLayer(np.zeros((10, 10, 4), np.uint8), name="x"))
    doc.set_layer_props(layer, visible=False)
    with pytest.raises(DocumentError, match="show both layers"):
        doc.merge_down(layer)


def test_flatten_image_replaces_the_stack_by_the_composite_and_drops_hidden_layers(coffee):
    rng = np.random.default_rng(5)
    doc = Document.from_array(coffee)
    doc.add_edit(coffee[50:150, 100:250], (100, 50), Provenance(instruction="copy"))
    doc.add_layer(soft_layer(rng, 150, 150, "b", (500, 300), opacity=0.6))
    hidden = doc.add_layer(soft_layer(rng, 100, 100, "hidden", (10, 10)))
    doc.set_layer_props(hidden, visible=False)
    before, layers_before = doc.flatten(), doc.layers
    flat = doc.flatten_image()
    assert doc.layers == [flat] and flat.name == "Background" and flat.bbox == (0, 0, 600, 400)
    assert np.array_equal(flat.pixels, before) and np.array_equal(doc.flatten(), before)
    assert doc.history.entries[-1] == "Flatten image"
    doc.undo()
    assert doc.layers == layers_before and not doc.layers[-1].visible
    doc.redo()
    assert doc.layers == [flat]


def _variants(coffee, n=3):
    """n candidate crops of one edit, each its own colour and seed, as add_edit takes them."""
    out = []
    for i in range(n):
        px = np.zeros((40 + 10 * i, 50, 4), np.uint8)
        px[...] = (60 * i, 200, 30, 255)
        mask = np.full(px.shape[:2], 255, np.uint8)
        out.append((px, (100 + i, 60), mask, Provenance(prompt="a buoy", seed=10 + i)))
    return out


def test_an_edit_keeps_its_variants_and_switches_between_them_one_undo_step_each(coffee):
    doc = Document.from_array(coffee)
    variants = _variants(coffee)
    px, off, mask, prov = variants[1]
    layer = doc.add_edit(px, off, prov, mask=mask, variants=variants, variant=1)
    assert len(layer.variants) == 3 and layer.variant == 1
    assert layer.variants[2].provenance.seed == 12 and layer.variants[2].offset == (102, 60)
    assert layer.nbytes > layer.pixels.nbytes + layer.mask.nbytes  # the history budget counts them
    n = len(doc.history.entries)
    doc.use_variant(layer, 2)
    assert doc.history.entries[-1] == "Use variation 3" and len(doc.history.entries) == n + 1
    assert layer.variant == 2 and layer.bbox == (102, 60, 50, 60)
    assert layer.provenance.seed == 12 and layer.mask.shape == (60, 50)
    assert tuple(doc.flatten()[70, 110, :3]) == (120, 200, 30)
    doc.use_variant(layer, 2)  # already shown: no new step
    assert len(doc.history.entries) == n + 1
    doc.undo()
    assert layer.variant == 1 and np.array_equal(layer.pixels, px)
    assert layer.provenance.seed == 11 and layer.bbox == (101, 60, 50, 50)
    doc.redo()
    assert layer.variant == 2
    with pytest.raises(DocumentError, match="no variant 3"):
        doc.use_variant(layer, 3)


def test_a_rerun_or_an_erase_shows_none_of_the_variants_but_keeps_them(coffee):
    doc = Document.from_array(coffee)
    variants = _variants(coffee)
    px, off, mask0, prov = variants[0]
    layer = doc.add_edit(px, off, prov, mask=mask0, variants=variants, variant=0)
    doc.replace_layer_pixels(layer, np.zeros((40, 50, 3), np.uint8))
    assert layer.variant is None and len(layer.variants) == 3
    doc.undo()
    assert layer.variant == 0
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[60:70, 100:110] = 255
    assert doc.erase_masked(layer, mask=mask)
    assert layer.variant is None
    doc.use_variant(layer, 0)  # back to the candidate as painted
    assert (layer.pixels[..., 3] == 255).all()


def test_bad_variants_are_refused(coffee):
    doc = Document.from_array(coffee)
    variants = _variants(coffee)
    with pytest.raises(DocumentError, match="variant 5"):
        doc.add_edit(*variants[0][:2], variants=variants, variant=5)
    with pytest.raises(DocumentError, match="bad edit"):
        doc.add_edit(*variants[0][:2], variants=[(np.zeros((4, 4), np.float32), (0, 0))])
    assert len(doc.layers) == 1


def test_a_rerun_as_variant_adds_a_variation_and_keeps_the_old_look_one_click_away(coffee):
    from desktop.document.layers import MAX_VARIANTS

    doc = Document.from_array(coffee)
    first = np.full((30, 30, 4), 255, np.uint8)
    layer = doc.add_edit(first, (10, 10), Provenance(prompt="x", seed=1))
    assert layer.variants == ()
    doc.replace_layer_pixels(layer, np.zeros((30, 30, 3), np.uint8), provenance=Provenance(prompt="x", seed=2),
                             as_variant=True)
    assert len(layer.variants) == 2 and layer.variant == 1
    assert [v.provenance.seed for v in layer.variants] == [1, 2]
    doc.use_variant(layer, 0)
    assert np.array_equal(layer.pixels, first) and layer.provenance.seed == 1
    doc.undo()
    doc.undo()  # the re-run itself: the layer had no variations before
    assert layer.variants == () and layer.variant is None and np.array_equal(layer.pixels, first)
    for seed in range(3, 3 + MAX_VARIANTS + 5):
        doc.replace_layer_pixels(layer, np.full((30, 30, 3), seed, np.uint8),
                                 provenance=Provenance(seed=seed), as_variant=True)
    assert len(layer.variants) == MAX_VARIANTS and layer.variant == MAX_VARIANTS - 1
    assert layer.variants[-1].provenance.seed == 2 + MAX_VARIANTS + 5


def test_mask_from_a_layer_its_edit_mask_or_its_pixels_even_past_the_canvas_edge(coffee):
    doc = Document.from_array(coffee)
    px = np.zeros((40, 60, 4), np.uint8)
    px[..., 3] = 255
    px[:, :30, 3] = 100
    edit_mask = np.zeros((40, 60), np.uint8)
    edit_mask[10:20, 15:35] = 255  # canvas x -5..15, y 0..10: partly off the canvas
    layer = doc.add_edit(px, (-20, -10), Provenance(seed=1), mask=edit_mask)  # reaches past the top left
    doc.mask_from_layer(layer)
    assert doc.history.entries[-1] == f"Mask of {layer.name}"
    want = np.zeros((doc.height, doc.width), np.uint8)
    want[0:10, 0:15] = 255
    assert np.array_equal(doc.mask, want)
    doc.mask_from_layer(layer, alpha=True)
    assert doc.history.entries[-1] == f"Mask from {layer.name}"
    assert doc.mask[:30, :10].tolist() == [[100] * 10] * 30 and (doc.mask[:30, 10:40] == 255).all()
    assert not doc.mask[30:].any() and not doc.mask[:, 40:].any()
    with pytest.raises(DocumentError, match="no edit mask"):
        doc.mask_from_layer(doc.layers[0])


def test_copy_pixels_of_a_layer_or_merged_cut_to_the_mask(coffee):
    doc = Document.from_array(coffee)
    px = np.zeros((40, 60, 4), np.uint8)
    px[...] = (0, 250, 0, 255)
    layer = doc.add_layer(RasterLayer(px, name="green", offset=(100, 50)))
    whole, off = doc.copy_pixels(layer)  # no mask: the whole canvas, the layer where it lies
    assert whole.shape == (400, 600, 4) and off == (0, 0) and whole[..., 3].sum() == 255 * 40 * 60
    mask = np.zeros((400, 600), np.uint8)
    mask[60:80, 90:120] = 255
    mask[60:80, 90:100] = 128
    doc.set_mask(mask)
    cut, off = doc.copy_pixels(layer)
    assert off == (90, 60) and cut.shape == (20, 30, 4)
    assert (cut[:, :10, 3] == 0).all()  # left of the layer
    assert (cut[:, 10:, 3] == 255).all() and tuple(cut[5, 15, :3]) == (0, 250, 0)
    merged, _ = doc.copy_pixels()
    assert np.array_equal(merged[:, 10:, :3], cut[:, 10:, :3])
    assert (merged[:, :10, 3] == 128).all() and np.array_equal(merged[:, :10, :3], coffee[60:80, 90:100])
    doc.set_mask(np.zeros((400, 600), np.uint8))
    mask = np.zeros((400, 600), np.uint8)
    mask[0:10, 0:10] = 255
    doc.set_mask(mask)
    assert doc.copy_pixels(layer) is None  # nothing of the layer under the mask


def test_moving_layer_content_one_step_per_drag_with_its_variations(coffee):
    doc = Document.from_array(coffee)
    px = np.zeros((20, 30, 4), np.uint8)
    px[...] = (255, 0, 0, 255)
    layer = doc.add_edit(px, (10, 10), Provenance(seed=1), variants=[(px, (10, 10)), (px, (12, 14))], variant=0)
    n = len(doc.history.entries)
    for step in range(1, 6):  # one drag: five moves
        doc.move_layer_content(layer, 10 + 10 * step, 10 + 5 * step, drag="drag-1")
    assert layer.offset == (60, 35) and len(doc.history.entries) == n + 1
    assert doc.history.entries[-1] == "Move layer content"
    assert [v.offset for v in layer.variants] == [(60, 35), (62, 39)]
    assert tuple(doc.flatten()[40, 70, :3]) == (255, 0, 0)
    doc.move_layer_content(layer, 0, 0, drag="drag-2")  # another drag: another step
    assert len(doc.history.entries) == n + 2
    doc.undo()
    assert layer.offset == (60, 35)
    doc.undo()
    assert layer.offset == (10, 10) and layer.variants[1].offset == (12, 14)
    with pytest.raises(DocumentError, match="too far"):
        doc.move_layer_content(layer, 10**7, 0)


def test_a_drag_after_saving_does_not_merge_into_the_saved_step(coffee, tmp_path):
    doc = Document.from_array(coffee)
    layer = doc.add_layer(RasterLayer(np.full((10, 10, 4), 255, np.uint8), name="x"))
    doc.move_layer_content(layer, 5, 5, drag="d")
    doc.save(tmp_path / "a.ora")
    doc.move_layer_content(layer, 9, 9, drag="d")
    assert doc.dirty
    doc.undo()
    assert layer.offset == (5, 5) and not doc.dirty  # back to exactly what was saved
    doc.undo()
    doc.redo()  # the saved step redoes to what was saved, not to the later drag
    assert layer.offset == (5, 5) and not doc.dirty


def test_a_paint_stroke_on_a_new_layer_then_on_it_growing_it_and_erasing(coffee):
    doc = Document.from_array(coffee)
    n = len(doc.history.entries)
    layer = doc.paint_stroke(None, [(100, 100), (200, 100)], size=20, hardness=1.0, color=(255, 0, 0))
    assert layer is doc.layers[-1] and layer.name == "Paint" and len(doc.history.entries) == n + 1
    x, y, w, h = layer.bbox
    assert x <= 90 and x + w >= 210 and y <= 90 and y + h >= 110 and w < 140 and h < 40
    flat = doc.flatten()
    assert tuple(flat[100, 150, :3]) == (255, 0, 0) and np.array_equal(flat[130, 150], doc.layers[0].pixels[130, 150])
    # a second stroke on it reaches past its box: it grows, one undo step
    doc.paint_stroke(layer, [(150, 100), (150, 300)], size=10, hardness=1.0, color=(0, 0, 255))
    assert layer.bbox[3] > 200 and tuple(doc.flatten()[250, 150, :3]) == (0, 0, 255)
    assert tuple(doc.flatten()[100, 110, :3]) == (255, 0, 0)  # the first stroke is still there
    assert doc.history.entries[-1] == "Paint stroke"
    # a soft, half-opaque stroke mixes with what is under it
    doc.paint_stroke(layer, [(120, 100)], size=9, hardness=1.0, color=(0, 0, 255), opacity=0.5)
    r, g, b, a = doc.layers[-1].pixels[100 - layer.bbox[1], 120 - layer.bbox[0]]
    assert a == 255 and abs(int(r) - 128) <= 1 and abs(int(b) - 128) <= 1
    # erasing lowers alpha, never grows the layer
    box = layer.bbox
    doc.paint_stroke(layer, [(150, 250), (150, 400)], size=30, hardness=1.0, erase=True)
    assert layer.bbox == box and np.array_equal(doc.flatten()[250, 150], doc.layers[0].pixels[250, 150])
    assert doc.history.entries[-1] == "Erase stroke"
    for _ in range(3):
        doc.undo()
    assert layer.bbox == (x, y, w, h)
    doc.undo()
    assert len(doc.layers) == 1


def test_paint_strokes_that_touch_nothing_and_bad_brushes(coffee):
    doc = Document.from_array(coffee)
    n = len(doc.history.entries)
    assert doc.paint_stroke(None, [(-500, -500), (-400, -450)], size=10) is None  # off the canvas
    assert doc.paint_stroke(None, [], size=10) is None
    assert doc.paint_stroke(None, [(10, 10)], erase=True) is None  # nothing to erase from
    small = doc.add_layer(RasterLayer(np.full((10, 10, 4), 255, np.uint8), name="s", offset=(0, 0)))
    assert doc.paint_stroke(small, [(300, 300)], size=10, erase=True) is None  # not over the layer
    assert len(doc.history.entries) == n + 1
    with pytest.raises(DocumentError, match="bad brush"):
        doc.paint_stroke(None, [(10, 10)], color=(300, 0, 0))
    with pytest.raises(DocumentError, match="bad brush"):
        doc.paint_stroke(None, [(10, 10)], size=0)


def test_painting_an_edit_layer_keeps_its_provenance_and_regrows_its_mask(coffee):
    doc = Document.from_array(coffee)
    px = np.zeros((20, 20, 4), np.uint8)
    px[..., 3] = 255
    edit = doc.add_edit(px, (50, 50), Provenance(seed=9), mask=np.full((20, 20), 255, np.uint8),
                        variants=[(px, (50, 50)), (px, (50, 50))], variant=0)
    doc.paint_stroke(edit, [(80, 60)], size=10, hardness=1.0, color=(9, 9, 9))
    assert edit.bbox[2] > 20 and edit.mask.shape == edit.pixels.shape[:2] and edit.provenance.seed == 9
    assert edit.mask[5, 5] == 255 and edit.mask[5, -1] == 0 and edit.variant is None


def test_an_edit_shares_one_pixel_array_with_the_variation_it_shows(coffee):
    doc = Document.from_array(coffee)
    variants = _variants(coffee)
    px, off, mask, prov = variants[1]
    layer = doc.add_edit(px, off, prov, mask=mask, variants=variants, variant=1)
    assert layer.variants[1].pixels is layer.pixels
    assert layer.nbytes == layer.pixels.nbytes + layer.mask.nbytes + sum(
        v.pixels.nbytes for k, v in enumerate(layer.variants) if k != 1)  # counted once
