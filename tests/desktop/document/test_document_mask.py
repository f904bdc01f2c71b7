"""The edit mask: brush strokes as one command, operations, set_mask, events."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.document import Document, DocumentError
from masks import mask_ops


@pytest.fixture
def doc(chelsea):
    return Document.from_array(chelsea)


def stroke(doc, points, mode="paint", size=40.0, hardness=0.8):
    doc.begin_mask_stroke(mode, size, hardness)
    for x, y in points:
        doc.mask_stroke_to(x, y)
    doc.end_mask_stroke()


def test_stroke_paints_a_continuous_line_and_is_one_command(doc):
    stroke(doc, [(50, 100), (150, 100), (250, 140)], size=30, hardness=1.0)
    m = doc.mask
    assert doc.history.entries == ["Paint mask"] and doc.history.index == 1
    # continuous: every column along the first segment is covered at the line
    assert (m[100, 50:151] == 255).all()
    assert m[100, 33] == 0 and m[60, 100] == 0  # beyond the radius stays clear
    assert mask_ops.bbox(m) == pytest.approx((35, 85, 231, 71), abs=2)
    assert doc.dirty


def test_dab_size_and_hardness(doc):
    stroke(doc, [(200, 150)], size=41, hardness=1.0)
    hard = doc.mask.copy()
    r = mask_ops.bbox(hard)
    assert abs(r[2] - 41) <= 2 and abs(r[3] - 41) <= 2
    assert hard[150, 200] == 255
    doc.mask_op("clear")
    stroke(doc, [(200, 150)], size=41, hardness=0.2)
    soft = doc.mask
    assert soft[150, 200] == 255
    ring = soft[150, 200 + 15]  # 15 px out of a 20.5 px radius
    assert 0 < ring < hard[150, 215]
    assert soft.sum() < hard.sum()


def test_pressure_scales_the_dab(doc):
    doc.begin_mask_stroke("paint", 20, 1.0)
    doc.mask_stroke_to(100, 100, pressure=0.5)
    doc.end_mask_stroke()
    assert 120 <= doc.mask[100, 100] <= 135


def test_erase_stroke_and_undo_redo(doc):
    doc.mask_op("fill")
    stroke(doc, [(100, 100), (300, 100)], mode="erase", size=20, hardness=1.0)
    assert doc.mask[100, 200] == 0 and doc.mask[50, 200] == 255
    assert doc.history.entries == ["Fill mask", "Erase mask"]
    erased = doc.mask.copy()
    assert doc.undo() and (doc.mask == 255).all()
    assert doc.redo() and np.array_equal(doc.mask, erased)
    assert doc.undo() and doc.undo() and not doc.mask.any()
    assert not doc.undo() and not doc.dirty


def test_stroke_stores_only_changed_tiles(astronaut):
    doc = Document.from_array(astronaut)
    rng = np.random.default_rng(1)
    doc.set_mask(rng.integers(0, 256, (512, 512), dtype=np.uint8))  # no uniform tiles to cheat with
    before = doc.history.bytes_used
    stroke(doc, [(100, 100), (160, 120)], size=30)
    used = doc.history.bytes_used - before
    # The stroke covers about 90 x 50 px; the tiles touched are at most 3 x 2 of 64 x 64.
    assert 0 < used <= 6 * 64 * 64
    assert used < 512 * 512 / 10


def test_stroke_mask_events_report_the_dab_rects(doc):
    events = []
    doc.events.connect(events.append)
    doc.begin_mask_stroke("paint", 20, 1.0)
    doc.mask_stroke_to(100, 100)
    doc.mask_stroke_to(140, 100)
    doc.end_mask_stroke()
    kinds = [e.kind for e in events]
    assert kinds == ["mask", "mask", "history"]
    x, y, w, h = events[1].rect
    assert x <= 102 and x + w >= 150 and y <= 90 and y + h >= 110
    doc.events.disconnect(events.append)
    doc.undo()
    assert len(events) == 3


def test_failing_callback_does_not_break_the_document(doc):
    def bad(event):
        raise RuntimeError("view bug")
    seen = []
    doc.events.connect(bad)
    doc.events.connect(seen.append)
    doc.mask_op("fill")
    assert doc.mask.all() and seen


def test_spacing_is_an_eighth_of_the_size(doc):
    from desktop.document.brush import StrokePath
    path = StrokePath(80)
    assert len(path.to(0, 0)) == 1
    dabs = path.to(95, 0)
    assert len(dabs) == 9 and dabs[0][0] == pytest.approx(10)
    nxt = path.to(100, 0)  # the 5 px left over carry into the next segment
    assert len(nxt) == 1 and nxt[0][0] == pytest.approx(100)


@pytest.mark.parametrize("name,args,expected", [
    ("dilate", (5,), lambda m: mask_ops.dilate(m, 5)),
    ("erode", (5,), lambda m: mask_ops.erode(m, 5)),
    ("feather", (9,), lambda m: mask_ops.feather(m, 9)),
    ("move", (12, -7), lambda m: mask_ops.move(m, 12, -7)),
    ("invert", (), mask_ops.invert),
    ("to_box", (), mask_ops.to_box),
    ("to_ellipse", (), mask_ops.to_ellipse),
    ("clear", (), np.zeros_like),
    ("fill", (), lambda m: np.full_like(m, 255)),
])
def test_mask_ops_are_one_command_each(doc, name, args, expected):
    start = mask_ops.union(mask_ops.ellipse_mask(doc.mask.shape, (100, 80, 120, 90)),
                           mask_ops.box_mask(doc.mask.shape, (300, 200, 20, 20)))
    doc.set_mask(start, label="Plan mask")
    doc.mask_op(name, *args)
    assert np.array_equal(doc.mask, expected(start))
    assert doc.history.entries[0] == "Plan mask" and len(doc.history.entries) == 2
    doc.undo()
    assert np.array_equal(doc.mask, start)


def test_box_and_ellipse_with_keywords(doc):
    doc.mask_op("box", rect=(10, 20, 30, 40))
    assert mask_ops.bbox(doc.mask) == (10, 20, 30, 40)
    doc.mask_op("ellipse", rect=(100, 100, 50, 50), add=True)
    assert doc.mask[20, 10] == 255 and doc.mask[125, 125] == 255
    doc.mask_op("box", rect=(0, 0, 45, 200), subtract=True)
    assert doc.mask[20, 10] == 0 and doc.mask[125, 125] == 255
    assert len(doc.history.entries) == 3


def test_set_mask_accepts_bool_and_float_and_checks_shape(doc):
    h, w = doc.mask.shape
    m = np.zeros((h, w), bool)
    m[10:20, 30:40] = True
    doc.set_mask(m)
    assert doc.mask[15, 35] == 255 and doc.mask.sum() == 100 * 255
    doc.set_mask(np.full((h, w), 0.5, np.float32))
    assert (doc.mask == 128).all()
    with pytest.raises(DocumentError):
        doc.set_mask(np.zeros((10, 10), np.uint8))
    with pytest.raises(DocumentError):
        doc.mask_op("explode")
    n = len(doc.history.entries)
    doc.set_mask(doc.mask.copy())  # no change, no command
    assert len(doc.history.entries) == n


def test_mask_view_is_read_only(doc):
    with pytest.raises(ValueError):
        doc.mask[0, 0] = 255


def test_undo_mid_stroke_commits_the_stroke_first(doc):
    doc.begin_mask_stroke("paint", 20)
    doc.mask_stroke_to(50, 50)
    assert doc.undo()
    assert not doc.mask.any() and doc.history.entries == ["Paint mask"] and doc.can_redo


def test_lasso_polygon_replaces_adds_and_subtracts(doc):
    square = [(10, 10), (60, 10), (60, 60), (10, 60)]
    doc.mask_op("polygon", points=square)
    assert doc.history.entries[-1] == "Lasso mask" and mask_ops.bbox(doc.mask)[:2] == (10, 10)
    doc.mask_op("polygon", [(100, 100), (140, 100), (120, 140)], add=True)
    assert doc.mask[30, 30] == 255 and doc.mask[110, 120] == 255
    doc.mask_op("polygon", points=[(0, 0), (35, 0), (35, 200), (0, 200)], subtract=True)
    assert doc.mask[30, 30] == 0 and doc.mask[30, 40] == 255
    with pytest.raises(DocumentError, match="at least 3 points"):
        doc.mask_op("polygon", points=[(1, 1), (2, 2)])
