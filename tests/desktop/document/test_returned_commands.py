"""The document's helpers build commands and never touch the document; the document runs them.

Each operation module (canvas_ops, pixel_ops, layer_stack) is called here directly on the
document's public data: the document must be unchanged until the command runs, and the command
must then undo and redo exactly (every layer's pixels, place, mask, variations, the edit mask,
the canvas size and the composite)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Document, Provenance
from desktop.document import canvas_ops, commands, history, layer_stack, pixel_ops
from desktop.document.layers import RasterLayer


@pytest.fixture
def doc(chelsea):
    """A photo, a partial raster layer past the right edge, an edit layer with two variations and
    its mask, and an edit mask."""
    d = Document.from_array(chelsea)
    px = np.zeros((40, 60, 4), np.uint8)
    px[..., 0], px[..., 3] = 200, 180
    d.add_layer(RasterLayer(px, name="partial", offset=(420, 30)))
    variants = []
    for i in range(2):
        v = np.zeros((30, 50, 3), np.uint8)
        v[..., i] = 255
        m = np.zeros((30, 50), np.uint8)
        m[5:25, 10:40] = 255
        variants.append((v, (100, 80), m, Provenance(prompt="paint", seed=i)))
    d.add_edit(*variants[1][:2], variants[1][3], mask=variants[1][2], variants=variants, variant=1)
    d.mask_box((50, 60, 120, 90))
    return d


def _state(doc) -> list:
    layers = []
    for layer in doc.layers:
        variants = [(v.pixels.copy(), v.offset, None if v.mask is None else v.mask.copy())
                    for v in getattr(layer, "variants", ())]
        mask = getattr(layer, "mask", None)
        layers.append((layer, layer.name, layer.offset, layer.pixels.copy(), None if mask is None else mask.copy(),
                       layer.opacity, layer.visible, layer.blend_mode, getattr(layer, "variant", None), variants))
    return [doc.size, doc.mask.copy(), doc.flatten().copy(), layers]


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a is b or a == b


def _round_trip(doc, command) -> None:
    """``command`` (built, not yet run) changes the document, and undoes and redoes exactly."""
    before = _state(doc)
    assert command is not None
    command.redo(doc)
    after = _state(doc)
    assert not _same(after, before)
    command.undo(doc)
    assert _same(_state(doc), before)
    command.redo(doc)
    assert _same(_state(doc), after)
    command.undo(doc)
    assert _same(_state(doc), before)


CANVAS = {
    "rotate 90": lambda d: canvas_ops.rotate(d.layers, d.size, d.mask, 90),
    "rotate -90": lambda d: canvas_ops.rotate(d.layers, d.size, d.mask, -90),
    "rotate 180": lambda d: canvas_ops.rotate(d.layers, d.size, d.mask, 180),
    "flip h": lambda d: canvas_ops.flip(d.layers, d.size, d.mask, True),
    "flip v": lambda d: canvas_ops.flip(d.layers, d.size, d.mask, False),
    "resize": lambda d: canvas_ops.resize_image(d.layers, d.size, d.mask, 200, 130, "bicubic"),
    "crop": lambda d: canvas_ops.resize_canvas(d.size, d.mask, (30, 20, 300, 200)),
    "expand": lambda d: canvas_ops.expand_canvas(d.size, d.mask, 5, 6, 7, 8, mask_new_area=True),
    "crop to mask": lambda d: canvas_ops.crop_to_mask(d.size, d.mask, 4),
}


@pytest.mark.parametrize("name", CANVAS)
def test_canvas_operations_return_a_command_that_undoes_and_redoes_exactly(doc, name):
    before, entries = _state(doc), list(doc.history.entries)
    command = CANVAS[name](doc)
    assert _same(_state(doc), before) and doc.history.entries == entries  # built, not run
    _round_trip(doc, command)


PIXELS = {
    "paint": lambda d: pixel_ops.paint_stroke(d.size, d.layers[1], [(400, 40), (470, 60)], brush=9,
                                              color=(0, 0, 255)),
    "erase": lambda d: pixel_ops.paint_stroke(d.size, d.layers[0], [(10, 10), (90, 50)], brush=12, erase=True),
    "erase masked": lambda d: pixel_ops.erase_masked(d.size, d.layers[2], d.mask),
    "keep masked": lambda d: pixel_ops.erase_masked(d.size, d.layers[0], d.mask, keep=True),
    "move content": lambda d: pixel_ops.move_content(d.layers[2], -5, 200),
    "re-run as variant": lambda d: pixel_ops.replace_pixels(d.size, d.layers[2], np.zeros((20, 20, 3), np.uint8),
                                                            (10, 10), as_variant=True),
    "use variant": lambda d: pixel_ops.use_variant(d.layers[2], 0),
}


@pytest.mark.parametrize("name", PIXELS)
def test_pixel_operations_return_a_command_that_undoes_and_redoes_exactly(doc, name):
    before = _state(doc)
    command = PIXELS[name](doc)
    assert _same(_state(doc), before)
    _round_trip(doc, command)


STACK = {
    "remove": lambda d: layer_stack.remove(d.stack, d.layers[1]),
    "move": lambda d: layer_stack.move(d.stack, d.layers[2], 0),
    "duplicate": lambda d: layer_stack.duplicate(d.stack, d.layers[2]),
    "merge down": lambda d: layer_stack.merge_down(d.stack, d.size, d.layers[2]),
    "flatten": lambda d: layer_stack.flatten(d.stack, d.size),
    "props": lambda d: layer_stack.layer_props(d.layers[2], opacity=0.25, blend_mode="multiply"),
}


@pytest.mark.parametrize("name", STACK)
def test_stack_operations_return_a_command_that_undoes_and_redoes_exactly(doc, name):
    before = _state(doc)
    command = STACK[name](doc)
    assert _same(_state(doc), before)
    _round_trip(doc, command)


def test_operations_that_would_change_nothing_return_no_command(doc):
    top = doc.layers[2]
    assert canvas_ops.resize_canvas(doc.size, doc.mask, (0, 0, *doc.size)) is None
    assert canvas_ops.resize_image(doc.layers, doc.size, doc.mask, *doc.size) is None
    assert pixel_ops.move_content(top, *top.offset) is None
    assert pixel_ops.erase_masked(doc.size, top, np.zeros_like(doc.mask)) is None
    assert pixel_ops.use_variant(top, top.variant) is None
    assert layer_stack.move(doc.stack, top, 2) is None
    assert layer_stack.layer_props(top, name=top.name) is None


@pytest.mark.parametrize("method", ["rotate", "flip", "resize_image", "crop_to_mask", "expand_canvas",
                                    "merge_down", "flatten_image", "erase_masked", "move_layer_content"])
def test_through_the_document_each_is_one_step_that_undoes_and_redoes_exactly(doc, method):
    top = doc.layers[2]
    call = {"rotate": lambda: doc.rotate(270), "flip": lambda: doc.flip(False),
            "resize_image": lambda: doc.resize_image(300, 100), "crop_to_mask": lambda: doc.crop_to_mask(3),
            "expand_canvas": lambda: doc.expand_canvas(1, 2, 3, 4),
            "merge_down": lambda: doc.merge_down(top), "flatten_image": doc.flatten_image,
            "erase_masked": lambda: doc.erase_masked(top), "move_layer_content": lambda: doc.move_layer_content(top, 0, 0)}
    before, n = _state(doc), len(doc.history.entries)
    call[method]()
    after = _state(doc)
    assert len(doc.history.entries) == n + 1 and not _same(after, before)
    doc.undo()
    assert _same(_state(doc), before)
    doc.redo()
    assert _same(_state(doc), after)


def test_compound_lives_with_history_and_commands_still_names_it():
    assert commands.Compound is history.Compound


def test_each_explicit_mask_method_is_its_mask_op_name(doc, chelsea):
    calls = [("grow_mask", (6,), "dilate"), ("shrink_mask", (4,), "erode"), ("feather_mask", (5,), "feather"),
             ("move_mask", (7, -3), "move"), ("invert_mask", (), "invert"), ("clear_mask", (), "clear"),
             ("fill_mask", (), "fill"), ("mask_to_box", (), "to_box"), ("mask_to_ellipse", (), "to_ellipse"),
             ("mask_box", ((5, 6, 30, 20),), "box"), ("mask_ellipse", ((5, 6, 30, 20),), "ellipse"),
             ("mask_polygon", ([(1, 1), (40, 3), (20, 30)],), "polygon"), ("harden_mask", (100,), "threshold")]
    for method, args, name in calls:
        a, b = Document.from_array(chelsea), Document.from_array(chelsea)
        for d in (a, b):
            d.mask_ellipse((60, 50, 100, 80))
            d.feather_mask(6)
        start, n = a.mask.copy(), len(a.history.entries)
        getattr(a, method)(*args)
        b.mask_op(name, *args)
        assert np.array_equal(a.mask, b.mask) and a.history.entries == b.history.entries, method
        assert len(a.history.entries) == n + 1 and not np.array_equal(a.mask, start), method
        after = a.mask.copy()
        a.undo()
        assert np.array_equal(a.mask, start), method
        a.redo()
        assert np.array_equal(a.mask, after), method
    d = Document.from_array(chelsea)
    d.mask_box((0, 0, 20, 20))
    d.mask_ellipse((10, 10, 20, 20), add=True)
    d.mask_box((0, 0, 15, 15), subtract=True)
    assert d.mask[5, 5] == 0 and d.mask[17, 17] == 255 and d.mask[20, 20] == 255
