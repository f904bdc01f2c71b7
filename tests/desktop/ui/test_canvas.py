"""The canvas: geometry, zoom to cursor, pan, tile rendering limited to what changed, preview, compare."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from desktop.ui.canvas.canvas_view import CanvasView
from desktop.ui.canvas.tile_cache import TILE, TileCache, level_for_zoom
from desktop.document import Document


@pytest.fixture
def canvas(qtbot, photo_array):
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.render_budget_ms = None  # grabs must show every tile at once
    view.set_document(Document.from_array(photo_array))
    return view


def test_fit_centres_the_whole_image(canvas):
    doc = canvas.document
    tl = canvas.image_to_widget(QPointF(0, 0))
    br = canvas.image_to_widget(QPointF(doc.width, doc.height))
    assert tl.x() >= 0 and tl.y() >= 0 and br.x() <= canvas.width() and br.y() <= canvas.height()
    assert abs((tl.x() + br.x()) / 2 - canvas.width() / 2) < 1
    assert abs((tl.y() + br.y()) / 2 - canvas.height() / 2) < 1


def test_widget_and_image_coordinates_round_trip(canvas):
    canvas.set_zoom(2.7, QPointF(123, 77))
    p = QPointF(321.5, 210.25)
    back = canvas.image_to_widget(canvas.widget_to_image(p))
    assert abs(back.x() - p.x()) < 1e-6 and abs(back.y() - p.y()) < 1e-6


def test_zoom_keeps_the_point_under_the_anchor(canvas):
    anchor = QPointF(300, 200)
    before = canvas.widget_to_image(anchor)
    canvas.set_zoom(canvas.zoom() * 3, anchor)
    after = canvas.widget_to_image(anchor)
    assert abs(before.x() - after.x()) < 1e-6 and abs(before.y() - after.y()) < 1e-6


def test_wheel_zooms_to_the_cursor(canvas, qtbot):
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    pos = QPointF(500, 260)
    under = canvas.widget_to_image(pos)
    z = canvas.zoom()
    ev = QWheelEvent(pos, canvas.mapToGlobal(pos), P(0, 0), P(0, 240), Qt.NoButton, Qt.NoModifier,
                     Qt.NoScrollPhase, False)
    QApplication.sendEvent(canvas, ev)
    assert canvas.zoom() > z
    after = canvas.widget_to_image(pos)
    assert abs(under.x() - after.x()) < 1e-6 and abs(under.y() - after.y()) < 1e-6


def test_actual_size_and_fit(canvas):
    canvas.actual_size()
    assert canvas.zoom() == pytest.approx(1.0 / canvas.devicePixelRatioF())
    canvas.fit()
    assert canvas.zoom() != pytest.approx(1.0)


def test_middle_drag_and_space_drag_pan(canvas, qtbot, drag):
    start = canvas.image_to_widget(QPointF(0, 0))
    drag(canvas, [QPointF(100, 100), QPointF(130, 110), QPointF(160, 140)], Qt.MiddleButton)
    moved = canvas.image_to_widget(QPointF(0, 0))
    assert moved.x() - start.x() == pytest.approx(60) and moved.y() - start.y() == pytest.approx(40)
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key_Space)
    drag(canvas, [QPointF(200, 200), QPointF(180, 190)], Qt.LeftButton)
    qtbot.keyRelease(canvas, Qt.Key_Space)
    again = canvas.image_to_widget(QPointF(0, 0))
    assert again.x() - moved.x() == pytest.approx(-20) and again.y() - moved.y() == pytest.approx(-10)
    assert not canvas.document.history.entries  # panning is not an edit


def _grab_rgb(canvas):
    img = canvas.grab().toImage().convertToFormat(canvas.grab().toImage().Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def test_preview_and_compare_show_other_pixels(canvas, qtbot):
    doc = canvas.document
    centre = canvas.image_to_widget(QPointF(doc.width / 2, doc.height / 2))
    cx, cy = int(centre.x()), int(centre.y())
    normal = _grab_rgb(canvas)[cy, cx].astype(int)
    canvas.set_preview(np.full((doc.height, doc.width, 3), (0, 0, 255), np.uint8))
    assert canvas.previewing
    blue = _grab_rgb(canvas)[cy, cx]
    assert blue[2] > 200 and blue[0] < 40
    canvas.set_preview(None)
    # An edit layer on top, then hold backslash: the original shows without it.
    doc.add_edit(np.full((doc.height, doc.width, 3), (0, 255, 0), np.uint8), offset=(0, 0))
    assert _grab_rgb(canvas)[cy, cx][1] > 200
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key_Backslash)
    original = _grab_rgb(canvas)[cy, cx].astype(int)
    qtbot.keyRelease(canvas, Qt.Key_Backslash)
    assert np.abs(original - normal).max() <= 2
    assert _grab_rgb(canvas)[cy, cx][1] > 200


def test_mask_shows_as_a_tint(canvas):
    doc = canvas.document
    centre = canvas.image_to_widget(QPointF(doc.width / 2, doc.height / 2))
    cx, cy = int(centre.x()), int(centre.y())
    before = _grab_rgb(canvas)[cy, cx].astype(int)
    doc.mask_op("fill")
    tinted = _grab_rgb(canvas)[cy, cx].astype(int)
    assert tinted[0] - before[0] > 20  # reddish tint
    canvas.mask_visible = False
    canvas.update()
    assert np.abs(_grab_rgb(canvas)[cy, cx].astype(int) - before).max() <= 2


def test_a_brush_stroke_re_renders_only_the_tiles_it_touches(qtbot):
    """Smoothness on a 6000 x 4000 photo: fit view draws a coarse pyramid level, and a stroke re-renders
    a few mask tiles and no image tile."""
    rng = np.random.default_rng(0)
    big = rng.integers(0, 255, (4000, 6000, 3), dtype=np.uint8)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.render_budget_ms = None
    view.set_document(Document.from_array(big))
    view.grab()
    assert level_for_zoom(view.zoom()) >= 2
    first = view.image_tiles.renders
    assert 0 < first <= 40  # a couple of dozen coarse tiles, not hundreds of full-size ones
    view.set_zoom(1.0, QPointF(500, 350))
    view.grab()
    image_renders, mask_renders = view.image_tiles.renders, view.mask_tiles.renders
    doc = view.document
    c = view.widget_to_image(QPointF(500, 350))
    doc.begin_mask_stroke("paint", 40, 0.8)
    for i in range(10):
        doc.mask_stroke_to(c.x() + 4 * i, c.y())
    doc.end_mask_stroke()
    view.grab()
    assert view.image_tiles.renders == image_renders
    assert 1 <= view.mask_tiles.renders - mask_renders <= 4
    assert doc.mask.max() == 255


def test_tile_cache_invalidates_only_overlapping_tiles():
    calls = []

    def source(rect):
        calls.append(rect)
        x, y, w, h = rect
        return np.zeros((h, w, 3), np.uint8)

    cache = TileCache(source)
    cache.reset(1000, 600)
    for tx, ty in cache.tiles_in(0, (0, 0, 1000, 600)):
        cache.tile(0, tx, ty)
    n = len(cache)
    assert n == 4 * 3
    cache.invalidate((300, 300, 10, 10))  # inside tile (1, 1)
    assert len(cache) == n - 1
    assert cache.cached(0, 1, 1) is None and cache.cached(0, 0, 0) is not None
    img = cache.tile(1, 1, 0)  # level 1: 512 image px per tile, downscaled to 256
    assert img.width() == (1000 - 512 + 1) // 2 and img.height() == TILE


def test_a_big_repaint_is_spread_over_event_loop_rounds(qtbot):
    """With a render budget, a paint renders only a few tiles and shows cached stand-ins for the
    rest; the remaining tiles follow in later rounds of the event loop until the view is complete."""
    rng = np.random.default_rng(1)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.render_budget_ms = 0.0  # one tile per paint, the others are stand-ins
    view.set_document(Document.from_array(rng.integers(0, 255, (2000, 3000, 3), dtype=np.uint8)))
    view.grab()
    assert view.image_tiles.renders <= 1 and view.rendering
    view.render_budget_ms = 5.0
    qtbot.waitUntil(lambda: not view.rendering and view.image_tiles.renders > 1, timeout=60000)
    needed = view.image_tiles.tiles_in(level_for_zoom(view.zoom()), view.visible_image_rect())
    assert all(view.image_tiles.has(level_for_zoom(view.zoom()), tx, ty) for tx, ty in needed)


def test_live_preview_is_drawn_over_its_region_only(canvas):
    doc = canvas.document
    rect = (doc.width // 4, doc.height // 4, doc.width // 4, doc.height // 4)
    inside = canvas.image_to_widget(QPointF(rect[0] + rect[2] / 2, rect[1] + rect[3] / 2))
    outside = canvas.image_to_widget(QPointF(doc.width * 0.8, doc.height * 0.8))
    before = _grab_rgb(canvas)
    canvas.set_live_preview(np.full((8, 8, 3), (255, 0, 0), np.uint8), rect)  # latent-size preview
    assert canvas.live_previewing
    shot = _grab_rgb(canvas)
    red = shot[int(inside.y()), int(inside.x())]
    assert red[0] > 220 and red[1] < 30 and red[2] < 30
    assert np.array_equal(shot[int(outside.y()), int(outside.x())], before[int(outside.y()), int(outside.x())])
    canvas.set_live_preview(None)
    assert not canvas.live_previewing
    assert np.array_equal(_grab_rgb(canvas), before)


# --- the mask's outline ("marching ants") -------------------------------------------------------
def _box_mask(doc, rect):
    x, y, w, h = rect
    m = np.zeros((doc.height, doc.width), np.uint8)
    m[y : y + h, x : x + w] = 255
    return m


def _traced(canvas, qtbot):
    """Wait for the outline the canvas traces in the background after a mask change."""
    qtbot.waitUntil(lambda: not canvas.outline_pending, timeout=5000)
    return canvas.mask_outline


def _extreme_pixels(shot, band):
    """How many pixels of ``band`` (a boolean widget-sized array) are near black or near white."""
    lo, hi = shot.max(axis=2) < 40, shot.min(axis=2) > 215
    return int((lo & band).sum()), int((hi & band).sum())


def _edge_band(canvas, rect, width=1):
    """Widget pixels within ``width`` of image rect ``rect``'s edges."""
    r = canvas.image_rect_to_widget(rect)
    ys, xs = np.mgrid[0 : canvas.height(), 0 : canvas.width()]
    near_x = (np.abs(xs - r.left()) <= width) | (np.abs(xs - r.right()) <= width)
    near_y = (np.abs(ys - r.top()) <= width) | (np.abs(ys - r.bottom()) <= width)
    inside_x = (xs >= r.left() - width) & (xs <= r.right() + width)
    inside_y = (ys >= r.top() - width) & (ys <= r.bottom() + width)
    return (near_x & inside_y) | (near_y & inside_x)


def test_a_rectangular_mask_gets_an_outline_on_its_edges(canvas, qtbot):
    doc = canvas.document
    assert _traced(canvas, qtbot) is None and not canvas.ants_marching  # empty mask: no ants
    doc.set_mask(_box_mask(doc, (40, 30, 200, 120)))
    assert canvas.outline_pending  # traced once the mask is still, not in the event handler
    outline = _traced(canvas, qtbot)
    x, y, w, h = outline.bounds.getRect()
    s = outline.scale
    assert abs(x - 40) <= s and abs(y - 30) <= s and abs(x + w - 240) <= s and abs(y + h - 150) <= s
    assert canvas.ants_marching
    doc.mask_op("clear")
    assert _traced(canvas, qtbot) is None and not canvas.ants_marching


def test_painting_the_mask_starts_the_ants_and_undo_updates_the_outline(canvas, qtbot, monkeypatch):
    from desktop.ui.canvas import marching_ants

    traces = []
    real = marching_ants.MaskOutline.trace.__func__
    monkeypatch.setattr(marching_ants.MaskOutline, "trace",
                        classmethod(lambda cls, *a, **kw: traces.append(1) or real(cls, *a, **kw)))
    doc = canvas.document
    _traced(canvas, qtbot)
    assert not canvas.ants_marching
    traces.clear()
    doc.begin_mask_stroke("paint", 30, 1.0)
    for i in range(12):
        doc.mask_stroke_to(100 + 10 * i, 150)
    doc.end_mask_stroke()
    first = _traced(canvas, qtbot)
    assert len(traces) == 1  # twelve dabs, one trace after the stroke
    assert canvas.ants_marching
    x, y, w, h = first.bounds.getRect()
    assert 83 <= x <= 87 and 223 <= x + w <= 227 and 133 <= y <= 137 and 163 <= y + h <= 167  # 30 px dabs
    doc.mask_op("dilate", 20)
    grown = _traced(canvas, qtbot)
    assert grown.bounds.width() > w + 30
    doc.undo()
    assert _traced(canvas, qtbot).bounds == first.bounds
    doc.undo()
    assert _traced(canvas, qtbot) is None and not canvas.ants_marching


def test_the_ants_are_drawn_dark_and_light_on_the_edge_and_march(canvas, qtbot):
    doc = canvas.document
    rect = (60, 50, 240, 150)
    doc.set_mask(_box_mask(doc, rect))
    outline = _traced(canvas, qtbot)
    band = _edge_band(canvas, rect)
    with_ants = _grab_rgb(canvas)
    dark, light = _extreme_pixels(with_ants, band)
    perimeter = 2 * (canvas.image_rect_to_widget(rect).width() + canvas.image_rect_to_widget(rect).height())
    assert dark > perimeter / 4 and light > perimeter / 4
    canvas.set_show_outline(False)
    assert not canvas.ants_marching
    without = _grab_rgb(canvas)
    assert sum(_extreme_pixels(without, band)) < (dark + light) / 10
    assert np.array_equal(with_ants[~band], without[~band])  # only the edge changes
    canvas.set_show_outline(True)
    assert canvas.ants_marching
    region = canvas.outline_widget_region()  # what each step of the ants repaints: the edge only
    r = canvas.image_rect_to_widget(rect)
    assert region.contains(r.topLeft().toPoint()) and region.contains(r.bottomRight().toPoint())
    assert not region.contains(r.center().toPoint())
    canvas.ants.march()  # what the timer does: the dashes move, the outline is not traced again
    marched = _grab_rgb(canvas)
    assert canvas.mask_outline is outline and not canvas.outline_pending
    assert not np.array_equal(marched[band], with_ants[band])
    assert _extreme_pixels(marched, band)[0] > perimeter / 4


def test_compare_preview_and_hiding_stop_the_ants(canvas, qtbot):
    doc = canvas.document
    rect = (60, 50, 240, 150)
    doc.set_mask(_box_mask(doc, rect))
    _traced(canvas, qtbot)
    band = _edge_band(canvas, rect)
    assert canvas.ants_marching
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key_Backslash)  # compare: the original photo, no tint, no ants
    assert not canvas.ants_marching
    compare = _grab_rgb(canvas)
    qtbot.keyRelease(canvas, Qt.Key_Backslash)
    assert canvas.ants_marching
    canvas.set_show_outline(False)
    canvas.set_show_original(True)
    assert np.array_equal(_grab_rgb(canvas), compare)  # the same as with no outline at all
    canvas.set_show_original(False)
    canvas.set_show_outline(True)
    canvas.set_preview(np.full((doc.height, doc.width, 3), 128, np.uint8))  # a candidate
    assert not canvas.ants_marching
    assert sum(_extreme_pixels(_grab_rgb(canvas), band)) == 0
    canvas.set_preview(None)
    assert canvas.ants_marching
    canvas.mask_visible = False
    assert not canvas.ants_marching
    canvas.mask_visible = True
    canvas.hide()
    assert not canvas.ants_marching
    canvas.show()
    qtbot.waitExposed(canvas)
    assert canvas.ants_marching


def test_the_outline_is_traced_finer_when_zooming_in(qtbot):
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    doc = Document.from_array(np.full((1500, 2400, 3), 90, np.uint8))
    view.set_document(doc)
    doc.set_mask(_box_mask(doc, (301, 203, 999, 777)))
    coarse = _traced(view, qtbot)
    assert coarse.scale * view.zoom() <= 1 and coarse.scale >= 2
    view.set_zoom(1.0)
    fine = _traced(view, qtbot)
    assert fine.scale == 1 and fine.bounds.getRect() == (301, 203, 999, 777)


@pytest.mark.parametrize("dpr", [1, 2])
def test_the_ants_are_one_logical_pixel_wide_on_any_screen(canvas, qtbot, monkeypatch, dpr):
    """On a HiDPI screen a 1 device pixel line is half as thick: the ants scale with the ratio."""
    from PySide6.QtGui import QImage, QPainter

    doc = canvas.document
    doc.set_mask(_box_mask(doc, (40, 30, 200, 120)))
    _traced(canvas, qtbot)
    monkeypatch.setattr(canvas, "devicePixelRatioF", lambda: float(dpr))
    img = QImage(canvas.width() * dpr, canvas.height() * dpr, QImage.Format_RGBA8888)
    img.fill(0)
    img.setDevicePixelRatio(dpr)
    p = QPainter(img)
    canvas.ants.draw(p)
    p.end()
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4)[..., 3]
    top = canvas.image_rect_to_widget((40, 30, 200, 120))
    column = int((top.left() + top.width() / 2) * dpr)
    rows = np.nonzero(a[: int(top.center().y() * dpr), column])[0]  # the top edge only
    assert len(rows) == dpr and rows.max() - rows.min() == dpr - 1
