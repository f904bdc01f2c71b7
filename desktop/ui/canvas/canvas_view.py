"""The canvas: the flattened document drawn from pyramid tiles, the mask as a tint, tools on top.

Zoom to the cursor with the wheel, fit (Ctrl+0) and 100 % (Ctrl+1), pan with Space-drag or the
middle button, hold Backslash to see the original photo without edits (Krita's compare key).
Only the tiles under the viewport are drawn, at the pyramid level that matches the zoom, and a
document event re-renders only the tiles its dirty rect touches.

Zoom and pan are the :class:`~desktop.ui.canvas.camera.Camera`'s (plain numbers); the mask's edge is
drawn as marching ants by :class:`~desktop.ui.canvas.marching_ants.MarchingAnts`.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QRegion
from PySide6.QtWidgets import QWidget

from desktop.ui import theme
from desktop.ui.canvas.camera import Camera
from desktop.ui.canvas.marching_ants import MarchingAnts
from desktop.ui.canvas.outline import MaskOutline
from desktop.ui.canvas.stand_in import PLACEHOLDER, draw_image_frame, draw_placeholder
from desktop.ui.canvas.tile_cache import TILE, TileCache, level_for_zoom

WHEEL_STEP = 1.2


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
        self.camera = Camera()  # zoom and pan
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
        self.ants = MarchingAnts(self)  # the mask's outline

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
        self.ants.clear()
        self.fit()
        self.ants.invalidate()
        self.ants.update_timer()
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
        self.ants.update_timer()
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
            self.ants.update_timer()
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
            self.ants.update_timer()
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

    @property
    def showing_original(self) -> bool:
        """Whether the bottom layer is shown alone (the compare key held)."""
        return self._show_original

    # --- mask outline ("marching ants", see marching_ants.py) ------------------------------
    @property
    def show_outline(self) -> bool:
        return self.ants.enabled

    def set_show_outline(self, on: bool) -> None:
        """Draw the mask's edge as marching ants over its tint (the default) or not."""
        on = bool(on)
        if on != self.ants.enabled:
            self.ants.enabled = on
            self.ants.update_timer()
            self.update()

    @property
    def mask_outline(self) -> MaskOutline | None:
        """The traced outline (image coordinates) the canvas draws; it lags a mask change until
        the next trace (see :attr:`outline_pending`)."""
        return self.ants.outline

    @property
    def outline_pending(self) -> bool:
        """Whether a newer outline is still to be traced or on its way."""
        return self.ants.pending

    @property
    def ants_marching(self) -> bool:
        """Whether the ants' animation timer runs."""
        return self.ants.marching

    def flush_outline(self) -> None:
        """Trace the outline now, in this thread, if it is out of date (tests, screenshots)."""
        self.ants.flush()

    def outline_widget_region(self) -> QRegion:
        """The squares of the widget the outline passes through (what each step of the ants repaints)."""
        return self.ants.widget_region()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.ants.update_timer()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.ants.update_timer()

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
            self.ants.invalidate()
        elif kind in ("pixels", "layers"):
            self.image_tiles.invalidate(rect)
            self.original_tiles.invalidate(rect)
        else:
            return
        if rect is None:
            self.update()
        else:
            self.update(self.image_rect_to_widget(rect).toAlignedRect().adjusted(-2, -2, 2, 2))

    # --- geometry (the camera's numbers as Qt points and rects) --------------------------------
    def zoom(self) -> float:
        return self.camera.zoom

    def widget_to_image(self, pos) -> QPointF:
        p = QPointF(pos)
        return QPointF(*self.camera.to_image(p.x(), p.y()))

    def image_to_widget(self, pt) -> QPointF:
        p = QPointF(pt)
        return QPointF(*self.camera.to_view(p.x(), p.y()))

    def image_rect_to_widget(self, rect) -> QRectF:
        return QRectF(*self.camera.rect_to_view(rect))

    def _image_size(self) -> tuple[int, int] | None:
        return (self.document.width, self.document.height) if self.document is not None else None

    def set_zoom(self, z: float, anchor=None) -> None:
        """Zoom to ``z`` keeping the image point under ``anchor`` (widget coords; centre) still."""
        anchor = QPointF(anchor) if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        z = self.camera.set_zoom(z, (anchor.x(), anchor.y()))
        self.ants.check_scale()
        self.zoom_changed.emit(z)
        self.update()

    def fit(self) -> None:
        """Fit the whole image in the view, centred."""
        z = self.camera.fit((self.width(), self.height()), self._image_size())
        self.ants.check_scale()
        self.zoom_changed.emit(z)
        self.update()

    def actual_size(self) -> None:
        """One image pixel per device pixel (100 %), centred on the view's centre."""
        self.set_zoom(1.0 / max(1.0, self.devicePixelRatioF()))

    def zoom_by(self, factor: float, anchor=None) -> None:
        self.set_zoom(self.camera.zoom * factor, anchor)

    def pan_by(self, dx: float, dy: float) -> None:
        self.camera.pan_by(dx, dy)
        self.update()

    def resizeEvent(self, event) -> None:
        if self.camera.fit_mode:
            self.fit()
        super().resizeEvent(event)
        self.repainting.emit()

    # --- painting -------------------------------------------------------------------------
    def visible_image_rect(self) -> tuple[int, int, int, int] | None:
        """The image rect under the viewport (clipped to the image), or ``None``."""
        if self.document is None:
            return None
        return self.camera.image_rect_under(0, 0, self.width(), self.height(), self._image_size())

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
                level = level_for_zoom(self.camera.zoom * self.devicePixelRatioF())
                p.setRenderHint(QPainter.SmoothPixmapTransform, self.camera.zoom < 2.0)
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
                if self.ants.shown():
                    self.ants.draw(p)
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
        """The image pixels under widget rect ``rect`` (clipped to the image), or ``None``."""
        return self.camera.image_rect_under(rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1,
                                            self._image_size())

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
