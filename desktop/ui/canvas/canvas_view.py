"""The canvas: the flattened document drawn from pyramid tiles, the mask as a tint, tools on top.

Zoom to the cursor with the wheel, fit (Ctrl+0) and 100 % (Ctrl+1), pan with Space-drag or the
middle button, hold Backslash to see the original photo without edits (Krita's compare key).
Only the tiles under the viewport are drawn, at the pyramid level that matches the zoom, and a
document event re-renders only the tiles its dirty rect touches.

The mask's edge is drawn as "marching ants" over its tint. The outline is traced off the GUI
thread, once the mask has been still for a moment (not on every brush dab), at a resolution picked
from the zoom, and kept as a path in image coordinates; the ants' timer only repaints it.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QRegion, QTransform
from PySide6.QtWidgets import QWidget

from desktop.ui import gui_thread, theme
from desktop.ui.canvas.outline import MaskOutline, covered_cells, outline_scale
from desktop.ui.canvas.stand_in import (
    MAX_ZOOM,
    MIN_ZOOM,
    PLACEHOLDER,
    centred_offset,
    draw_image_frame,
    draw_placeholder,
    fit_zoom,
)
from desktop.ui.canvas.tile_cache import TILE, TileCache, level_for_zoom

log = logging.getLogger(__name__)

WHEEL_STEP = 1.2
OUTLINE_DELAY_MS = 120  # trace the mask's outline once the mask has been still this long
ANTS_INTERVAL_MS = 110  # the ants march one pixel per tick (about 9 a second)
ANTS_DASH = 4  # pixels of each colour
ANTS_REPAINT_CELL = 32  # the ants repaint the squares of this many widget pixels the outline crosses

_tracer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mask-outline")


def mask_tint(region: np.ndarray, color: QColor = theme.MASK_TINT) -> QImage:
    """A premultiplied RGBA QImage of mask ``region`` tinted with ``color``."""
    m = np.asarray(region, np.uint16)
    a = (m * color.alpha() // 255).astype(np.uint16)
    out = np.empty(m.shape + (4,), np.uint8)
    out[..., 0] = a * color.red() // 255
    out[..., 1] = a * color.green() // 255
    out[..., 2] = a * color.blue() // 255
    out[..., 3] = a
    h, w = m.shape
    img = QImage(out.data, w, h, w * 4, QImage.Format_RGBA8888_Premultiplied)
    return img.convertToFormat(QImage.Format_ARGB32_Premultiplied)  # native: cheap to draw


class CanvasView(QWidget):
    """Shows a document; forwards mouse gestures in image coordinates to the current tool."""

    zoom_changed = Signal(float)
    cursor_moved = Signal(float, float)  # image coordinates under the mouse
    # About to paint, or resized: what floats over the canvas (the Generate bar) follows it. A signal,
    # not an event filter on the canvas: a Python event filter can be called while its object is
    # half deleted (a window torn down), which crashes PySide.
    repainting = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self.document = None
        self.tool = None
        self._zoom = 1.0
        self._offset = QPointF(0, 0)  # widget position of the image's top-left corner
        self._fit_mode = True
        self._preview: np.ndarray | None = None
        self._live: tuple | None = None  # (QImage, (x, y, w, h)) while the engine paints
        self._show_original = False
        self._space = False
        self._pan_from: QPointF | None = None
        self._tool_active = False
        self._mask_visible = True
        self._tint_hidden = False  # after an Accept: the ants only, until the mask changes
        self.render_budget_ms: float | None = 12.0  # tile rendering per paint; None = render all
        self._paint_started = 0.0
        self._rendered_in_paint = 0
        self._pending = False
        self._incomplete = False  # some visible tile is not rendered yet
        self._pending_timer = QTimer(self, singleShot=True, interval=0)
        self._pending_timer.timeout.connect(self.update)
        self.placeholder = PLACEHOLDER
        self.image_tiles = TileCache(self._image_source)
        self.mask_tiles = TileCache(self._mask_source, mask_tint)
        self.preview_tiles = TileCache(self._preview_source)
        self.original_tiles = TileCache(self._original_source)
        # The mask's outline: traced after OUTLINE_DELAY_MS without mask changes, in a thread.
        self._show_outline = True
        self._outline: MaskOutline | None = None
        self._outline_gen = 0  # bumped by every change the traced outline does not show yet
        self._outline_dirty = False
        self._outline_busy = False
        self._outline_scale = 1
        self._outline_timer = QTimer(self, singleShot=True, interval=OUTLINE_DELAY_MS)
        self._outline_timer.timeout.connect(self._trace_outline)
        gui_thread.ensure()
        self._ants_phase = 0
        self._ants_timer = QTimer(self, interval=ANTS_INTERVAL_MS)
        self._ants_timer.timeout.connect(self._march_ants)

    # --- document -------------------------------------------------------------------------
    def set_document(self, doc) -> None:
        """Show ``doc`` (or nothing for ``None``), fitted to the view."""
        if self.document is not None:
            self.document.events.disconnect(self._on_document_event)  # a no-op if not connected
        self.document = doc
        if doc is not None:
            doc.events.connect(self._on_document_event)
        self._reset_view()

    def _reset_view(self) -> None:
        """A new document or canvas size: empty caches of its size, no preview or outline, fitted."""
        self._tint_hidden = False
        doc = self.document
        w, h = (doc.width, doc.height) if doc is not None else (0, 0)
        for cache in self._caches():
            cache.reset(w, h)
        self._preview = None
        self._outline = None
        self.fit()
        self._invalidate_outline()
        self._update_ants_timer()
        self.update()

    def set_preview(self, image) -> None:
        """Show ``image`` (``H x W x 3`` uint8, resized to the document when needed) instead of the
        document, or the document again for ``None``."""
        if image is not None and self.document is not None:
            image = np.asarray(image)
            if image.shape[:2] != (self.document.height, self.document.width):
                import cv2

                image = cv2.resize(image, (self.document.width, self.document.height), interpolation=cv2.INTER_LINEAR)
        self._preview = image if self.document is not None else None
        self.preview_tiles.invalidate()
        self._update_ants_timer()
        self.update()

    def set_live_preview(self, image, rect=None) -> None:
        """Show the engine's step preview (any size) scaled over the image region ``rect``
        ``(x, y, w, h)`` (``None``: the whole image) while a job paints; ``None`` removes it."""
        if image is None or self.document is None:
            self._live = None
        else:
            from desktop.ui.canvas.tile_cache import array_to_qimage

            rect = tuple(rect) if rect is not None else (0, 0, self.document.width, self.document.height)
            self._live = (array_to_qimage(np.asarray(image)), rect)
        self.update()

    @property
    def live_previewing(self) -> bool:
        return self._live is not None

    def render_all(self) -> None:
        """Render every tile the view needs now (screenshots, tests): no progressive rounds, and
        the mask's outline traced for the current mask."""
        self.flush_outline()
        budget, self.render_budget_ms = self.render_budget_ms, None
        try:
            self.grab()
        finally:
            self.render_budget_ms = budget

    @property
    def rendering(self) -> bool:
        """Whether tiles are still being rendered progressively."""
        return self._incomplete

    @property
    def previewing(self) -> bool:
        return self._preview is not None

    def set_show_original(self, on: bool) -> None:
        """Show the bottom layer alone (the photo without edits) while ``on``."""
        if on != self._show_original:
            self._show_original = on
            self._update_ants_timer()
            self.update()

    @property
    def mask_visible(self) -> bool:
        """Whether the mask is shown (its tint and its outline)."""
        return self._mask_visible

    @mask_visible.setter
    def mask_visible(self, on: bool) -> None:
        on = bool(on)
        if on != self._mask_visible:
            self._mask_visible = on
            self._update_ants_timer()
            self.update()

    @property
    def mask_tint_shown(self) -> bool:
        """Whether the mask's tint is drawn (it is not after :meth:`hide_mask_tint`)."""
        return self._mask_visible and not self._tint_hidden

    def hide_mask_tint(self) -> None:
        """Draw the mask as its outline only until it next changes: a result just kept must not
        stay hidden under the tint (the mask stays, for another run)."""
        if not self._tint_hidden:
            self._tint_hidden = True
            self.update()

    # --- mask outline ("marching ants") ---------------------------------------------------
    @property
    def show_outline(self) -> bool:
        return self._show_outline

    def set_show_outline(self, on: bool) -> None:
        """Draw the mask's edge as marching ants over its tint (the default) or not."""
        on = bool(on)
        if on != self._show_outline:
            self._show_outline = on
            self._update_ants_timer()
            self.update()

    @property
    def mask_outline(self) -> MaskOutline | None:
        """The traced outline (image coordinates) the canvas draws; it lags a mask change until
        the next trace (see :attr:`outline_pending`)."""
        return self._outline

    @property
    def outline_pending(self) -> bool:
        """Whether a newer outline is still to be traced or on its way."""
        return self._outline_dirty or self._outline_busy

    @property
    def ants_marching(self) -> bool:
        """Whether the ants' animation timer runs."""
        return self._ants_timer.isActive()

    def flush_outline(self) -> None:
        """Trace the outline now, in this thread, if it is out of date (tests, screenshots)."""
        if not self._outline_dirty:
            return
        self._outline_timer.stop()
        self._outline_gen += 1  # whatever the tracing thread is doing is stale now
        self._accept_outline(self._trace(self.document, self._outline_scale))

    def _invalidate_outline(self) -> None:
        """The mask (or the resolution the outline needs) changed: trace again once it is still."""
        self._outline_gen += 1
        self._outline_dirty = True
        self._outline_scale = self._wanted_outline_scale()
        self._outline_timer.start()  # restarts: a stroke's dabs trace once, after the stroke

    def _wanted_outline_scale(self) -> int:
        return outline_scale(self._zoom * self.devicePixelRatioF())

    def _check_outline_scale(self) -> None:
        if self.document is not None and self._wanted_outline_scale() != self._outline_scale:
            self._invalidate_outline()

    @staticmethod
    def _trace(doc, scale: int) -> MaskOutline | None:
        if doc is None:
            return None
        try:
            outline = MaskOutline.trace(doc.mask, scale)
        except Exception:  # a bug here must not take the canvas down: no ants, the tint still shows
            log.exception("tracing the mask outline failed")
            return None
        return None if outline.empty else outline

    def _trace_outline(self) -> None:
        if not self._outline_dirty or self._outline_busy:
            return  # a trace in flight: its result (stale) starts the next one
        if self.document is None:
            self._accept_outline(None)
            return
        self._outline_busy = True
        gen, doc, scale = self._outline_gen, self.document, self._outline_scale
        trace = CanvasView._trace

        def work():
            outline = trace(doc, scale)
            # Through the relay, not a signal of this canvas: the canvas may be deleted meanwhile.
            gui_thread.post(self, lambda canvas: canvas._on_outline_traced(gen, outline))

        # The mask is read while the GUI thread may paint into it: a torn read is harmless, as
        # every change bumps the generation and so discards the result.
        _tracer.submit(work)

    def _on_outline_traced(self, gen: int, outline) -> None:
        self._outline_busy = False
        if gen == self._outline_gen:
            self._accept_outline(outline)
        elif self._outline_dirty and not self._outline_timer.isActive():
            self._trace_outline()

    def _accept_outline(self, outline: MaskOutline | None) -> None:
        old = self._outline_widget_rect()
        self._outline = outline
        self._outline_dirty = False
        new = self._outline_widget_rect()
        if not old.isEmpty() or not new.isEmpty():
            self.update(old.united(new))
        self._update_ants_timer()

    def _outline_shown(self) -> bool:
        return (self._outline is not None and self._show_outline and self._mask_visible
                and self.document is not None and not self._show_original and self._preview is None)

    def _update_ants_timer(self) -> None:
        """Run the ants' timer only while they are on screen."""
        if self._outline_shown() and self.isVisible() and not self.window().isMinimized():
            if not self._ants_timer.isActive():
                self._ants_timer.start()
        else:
            self._ants_timer.stop()

    def _march_ants(self) -> None:
        if self.window().isMinimized():  # still "visible" to Qt; nothing to see though
            return
        self._ants_phase = (self._ants_phase + 1) % (2 * ANTS_DASH)
        region = self.outline_widget_region()
        if not region.isEmpty():
            self.update(region)  # a repaint of cached tiles along the outline, never a trace

    def outline_widget_region(self) -> QRegion:
        """The squares of the widget the outline passes through: what each step of the ants
        repaints (not the whole bounding rect of a big mask)."""
        region = QRegion()
        if self._outline is None:
            return region
        cell = ANTS_REPAINT_CELL
        grid = covered_cells(self._outline.boxes, (self._zoom, self._offset.x(), self._offset.y()),
                             (self.width(), self.height()), cell)
        padded = np.zeros((grid.shape[0], grid.shape[1] + 2), np.int8)
        padded[:, 1:-1] = grid
        for row, line in enumerate(np.diff(padded, axis=1)):
            starts, ends = np.flatnonzero(line == 1), np.flatnonzero(line == -1)
            for c0, c1 in zip(starts, ends):
                region = region.united(QRect(int(c0) * cell, row * cell, int(c1 - c0) * cell, cell))
        return region

    def _outline_widget_rect(self) -> QRect:
        """The widget rect the outline covers (clipped to the widget), empty without one."""
        if self._outline is None:
            return QRect()
        rect = self.image_rect_to_widget(self._outline.bounds.getRect()).toAlignedRect()
        return rect.adjusted(-2, -2, 2, 2).intersected(self.rect())

    def _draw_outline(self, p: QPainter) -> None:
        """The ants: a 1 px light line under dark dashes, in widget pixels at any zoom."""
        p.save()
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setTransform(QTransform(self._zoom, 0, 0, self._zoom, self._offset.x(), self._offset.y()))
        p.setBrush(Qt.NoBrush)
        # A cosmetic pen's width counts device pixels: one logical pixel is dpr of them, so the ants
        # (and their dashes, measured in pen widths) look the same on a HiDPI screen.
        width = max(1.0, round(self.devicePixelRatioF()))
        light = QPen(theme.MASK_OUTLINE_LIGHT, width)
        light.setCosmetic(True)
        p.setPen(light)
        p.drawPath(self._outline.path)
        dark = QPen(theme.MASK_OUTLINE_DARK, width)
        dark.setCosmetic(True)
        dark.setDashPattern([ANTS_DASH, ANTS_DASH])
        dark.setDashOffset(self._ants_phase)
        p.setPen(dark)
        p.drawPath(self._outline.path)
        p.restore()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._update_ants_timer()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._update_ants_timer()

    def set_tool(self, tool) -> None:
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = tool
        if tool is not None:
            tool.activate(self)
        self._update_cursor()
        self.update()

    def _caches(self):
        return (self.image_tiles, self.mask_tiles, self.preview_tiles, self.original_tiles)

    def _image_source(self, rect):
        return self.document.flatten(rect) if self.document is not None else None

    def _mask_source(self, rect):
        if self.document is None:
            return None
        x, y, w, h = rect
        region = self.document.mask[y : y + h, x : x + w]
        return region if region.any() else None  # nothing to tint: no tile to draw

    def _preview_source(self, rect):
        if self._preview is None:
            return None
        x, y, w, h = rect
        return self._preview[y : y + h, x : x + w]

    def _original_source(self, rect):
        if self.document is None or not self.document.layers:
            return None
        layer = self.document.layers[0]
        ox, oy = layer.offset
        x, y, w, h = rect
        px = layer.pixels
        out = np.zeros((h, w, px.shape[2]), np.uint8)
        x0, y0 = max(x, ox), max(y, oy)
        x1, y1 = min(x + w, ox + px.shape[1]), min(y + h, oy + px.shape[0])
        if x1 > x0 and y1 > y0:
            out[y0 - y : y1 - y, x0 - x : x1 - x] = px[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
        return out

    def _on_document_event(self, event) -> None:
        kind, rect = event.kind, getattr(event, "rect", None)
        if kind == "size":  # cropped or expanded: every cache is the wrong size, refit the view
            self._live = None  # painted for the old canvas
            self._reset_view()
            return
        if kind == "mask":
            if self._tint_hidden:
                self._tint_hidden = False
                rect = None  # the whole tint comes back
            self.mask_tiles.invalidate(rect)
            self._invalidate_outline()
        elif kind in ("pixels", "layers"):
            self.image_tiles.invalidate(rect)
            self.original_tiles.invalidate(rect)
        else:
            return
        if rect is None:
            self.update()
        else:
            self.update(self.image_rect_to_widget(rect).toAlignedRect().adjusted(-2, -2, 2, 2))

    # --- geometry -------------------------------------------------------------------------
    def zoom(self) -> float:
        return self._zoom

    def widget_to_image(self, pos) -> QPointF:
        p = QPointF(pos)
        return QPointF((p.x() - self._offset.x()) / self._zoom, (p.y() - self._offset.y()) / self._zoom)

    def image_to_widget(self, pt) -> QPointF:
        p = QPointF(pt)
        return QPointF(p.x() * self._zoom + self._offset.x(), p.y() * self._zoom + self._offset.y())

    def image_rect_to_widget(self, rect) -> QRectF:
        x, y, w, h = rect
        return QRectF(self.image_to_widget(QPointF(x, y)), self.image_to_widget(QPointF(x + w, y + h)))

    def set_zoom(self, z: float, anchor=None) -> None:
        """Zoom to ``z`` keeping the image point under ``anchor`` (widget coords; centre) still."""
        z = float(min(MAX_ZOOM, max(MIN_ZOOM, z)))
        anchor = QPointF(anchor) if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        fixed = self.widget_to_image(anchor)
        self._zoom = z
        self._offset = QPointF(anchor.x() - fixed.x() * z, anchor.y() - fixed.y() * z)
        self._fit_mode = False
        self._check_outline_scale()
        self.zoom_changed.emit(z)
        self.update()

    def fit(self) -> None:
        """Fit the whole image in the view, centred."""
        self._fit_mode = True
        if self.document is None:
            self._zoom = 1.0
            self._offset = QPointF(0, 0)
        else:
            self._zoom = fit_zoom(self.width(), self.height(), self.document.width, self.document.height)
            self._center()
        self._check_outline_scale()
        self.zoom_changed.emit(self._zoom)
        self.update()

    def actual_size(self) -> None:
        """One image pixel per device pixel (100 %), centred on the view's centre."""
        self.set_zoom(1.0 / max(1.0, self.devicePixelRatioF()))

    def zoom_by(self, factor: float, anchor=None) -> None:
        self.set_zoom(self._zoom * factor, anchor)

    def pan_by(self, dx: float, dy: float) -> None:
        self._offset += QPointF(dx, dy)
        self._fit_mode = False
        self.update()

    def _center(self) -> None:
        self._offset = centred_offset(self.width(), self.height(), self.document.width, self.document.height,
                                      self._zoom)

    def resizeEvent(self, event) -> None:
        if self._fit_mode:
            self.fit()
        super().resizeEvent(event)
        self.repainting.emit()

    # --- painting -------------------------------------------------------------------------
    def visible_image_rect(self) -> tuple[int, int, int, int] | None:
        """The image rect under the viewport (clipped to the image), or ``None``."""
        if self.document is None:
            return None
        tl = self.widget_to_image(QPointF(0, 0))
        br = self.widget_to_image(QPointF(self.width(), self.height()))
        x0, y0 = max(0, int(np.floor(tl.x()))), max(0, int(np.floor(tl.y())))
        x1 = min(self.document.width, int(np.ceil(br.x())))
        y1 = min(self.document.height, int(np.ceil(br.y())))
        if x1 <= x0 or y1 <= y0:
            return None
        return x0, y0, x1 - x0, y1 - y0

    def paintEvent(self, event) -> None:
        self.repainting.emit()
        self._paint_started = time.perf_counter()
        self._rendered_in_paint = 0
        self._pending = False
        p = QPainter(self)
        p.fillRect(event.rect(), theme.CANVAS_BACKGROUND)
        if self.document is None and self.placeholder:
            draw_placeholder(p, self.rect(), self.placeholder)
        if self.document is not None:
            area = self.widget_to_image_rect(event.rect())
            if area is not None:
                frame = self.image_rect_to_widget((0, 0, self.document.width, self.document.height))
                draw_image_frame(p, frame)
                level = level_for_zoom(self._zoom * self.devicePixelRatioF())
                p.setRenderHint(QPainter.SmoothPixmapTransform, self._zoom < 2.0)
                if self._show_original:
                    cache, fallback = self.original_tiles, self.image_tiles
                elif self._preview is not None:
                    cache, fallback = self.preview_tiles, self.image_tiles
                else:
                    cache, fallback = self.image_tiles, None
                self._draw_tiles(p, cache, level, area, fallback)
                if self.mask_tint_shown and not self._show_original and self._preview is None:
                    self._draw_tiles(p, self.mask_tiles, level, area)
                if self._live is not None and not self._show_original and self._preview is None:
                    live, rect = self._live
                    p.setRenderHint(QPainter.SmoothPixmapTransform, True)
                    p.drawImage(self.image_rect_to_widget(rect), live)
                if self._outline_shown():
                    self._draw_outline(p)
        if self.tool is not None:
            self.tool.paint(p, self)
        p.end()
        if self._pending:
            self._incomplete = True
        elif event.rect().contains(self.rect()):
            self._incomplete = False
        if self._pending:
            # Tiles left over the time budget: render them in the next round of the event loop, so
            # a big repaint never holds the GUI thread for long (the engine's messages keep flowing).
            self._pending_timer.start()

    def widget_to_image_rect(self, rect: QRect):
        tl = self.widget_to_image(QPointF(rect.left(), rect.top()))
        br = self.widget_to_image(QPointF(rect.right() + 1, rect.bottom() + 1))
        x0, y0 = max(0, int(np.floor(tl.x()))), max(0, int(np.floor(tl.y())))
        x1 = min(self.document.width, int(np.ceil(br.x())))
        y1 = min(self.document.height, int(np.ceil(br.y())))
        if x1 <= x0 or y1 <= y0:
            return None
        return x0, y0, x1 - x0, y1 - y0

    def _within_budget(self) -> bool:
        """Render another tile in this paint? Always the first one (so every round progresses),
        then while the paint's rendering time stays under the budget."""
        budget = self.render_budget_ms
        if budget is None or self._rendered_in_paint == 0:
            return True
        return (time.perf_counter() - self._paint_started) * 1000 < budget

    def _draw_tiles(self, p: QPainter, cache: TileCache, level: int, area, fallback: TileCache | None = None) -> None:
        for tx, ty in cache.tiles_in(level, area):
            rect = cache.tile_rect(level, tx, ty)
            cached = cache.has(level, tx, ty)
            if cached or self._within_budget():
                if not cached:
                    if self._rendered_in_paint == 0:
                        self._paint_started = time.perf_counter()  # the budget counts rendering only
                    self._rendered_in_paint += 1
                img = cache.tile(level, tx, ty)
                if img is not None:
                    p.drawImage(self.image_rect_to_widget(rect), img, QRectF(0, 0, img.width(), img.height()))
                continue
            self._pending = True
            self._draw_stand_in(p, fallback or cache, level, rect, exact=fallback is not None)

    def _draw_stand_in(self, p: QPainter, cache: TileCache, level: int, rect, exact: bool) -> None:
        """Until a tile is rendered, draw what is cached for its area: the same level of the
        fallback cache, or a coarser level of the same cache (blurry for a moment, never blank)."""
        levels = [level] if exact else []
        levels += list(range(level + 1, level + 4))
        x, y, w, h = rect
        for lv in levels:
            span = TILE << lv
            tx, ty = x // span, y // span
            img = cache.cached(lv, tx, ty)
            if img is None:
                continue
            s = 1.0 / (1 << lv)
            src = QRectF((x - tx * span) * s, (y - ty * span) * s, w * s, h * s)
            p.drawImage(self.image_rect_to_widget(rect), img, src)
            return

    # --- input ----------------------------------------------------------------------------
    def _update_cursor(self) -> None:
        if self._pan_from is not None:
            self.setCursor(Qt.ClosedHandCursor)
        elif self._space:
            self.setCursor(Qt.OpenHandCursor)
        elif self.tool is not None:
            self.setCursor(self.tool.cursor())
        else:
            self.setCursor(Qt.ArrowCursor)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(WHEEL_STEP**steps, event.position())
        event.accept()

    def mousePressEvent(self, event) -> None:
        self.setFocus()
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._pan_from = event.position()
            self._update_cursor()
            return
        if self.tool is not None and self.document is not None:
            self._tool_active = True
            self.tool.press(self.widget_to_image(event.position()), event)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self.pan_by(d.x(), d.y())
            return
        img = self.widget_to_image(pos)
        self.cursor_moved.emit(img.x(), img.y())
        if self.tool is not None and self.document is not None:
            if self._tool_active:
                self.tool.move(img, event)
            else:
                self.tool.hover(img, event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and (event.button() == Qt.MiddleButton or event.button() == Qt.LeftButton):
            self._pan_from = None
            self._update_cursor()
            return
        if self._tool_active and self.tool is not None:
            self._tool_active = False
            self.tool.release(self.widget_to_image(event.position()), event)

    def leaveEvent(self, event) -> None:
        if self.tool is not None:
            self.tool.hover(None, None)
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:
        if self.tool is not None and self.document is not None and self.tool.key_press(event):
            event.accept()
            return
        if event.isAutoRepeat():
            return event.accept() if event.key() in (Qt.Key_Space, Qt.Key_Backslash) else super().keyPressEvent(event)
        if event.key() == Qt.Key_Space:
            self._space = True
            self._update_cursor()
        elif event.key() == Qt.Key_Backslash:
            self.set_show_original(True)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.isAutoRepeat():
            return
        if event.key() == Qt.Key_Space:
            self._space = False
            self._update_cursor()
        elif event.key() == Qt.Key_Backslash:
            self.set_show_original(False)
        else:
            super().keyReleaseEvent(event)
