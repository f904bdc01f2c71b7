"""The mask's edge drawn as "marching ants" over its tint.

The outline is traced off the GUI thread, once the mask has been still for a moment (not on every
brush dab), at a resolution picked from the zoom, and kept as a path in image coordinates; the
ants' timer only repaints the squares of the view the outline crosses. :class:`MarchingAnts`
belongs to one :class:`~desktop.ui.canvas.canvas_view.CanvasView`, which tells it when the mask or
the zoom changed and asks it to draw.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, QRect, Qt, QTimer
from PySide6.QtGui import QPainter, QPen, QRegion, QTransform

from desktop.ui import gui_thread, theme
from desktop.ui.canvas.outline import MaskOutline, covered_cells, outline_scale

log = logging.getLogger(__name__)

OUTLINE_DELAY_MS = 120  # trace the mask's outline once the mask has been still this long
ANTS_INTERVAL_MS = 110  # the ants march one pixel per tick (about 9 a second)
ANTS_DASH = 4  # pixels of each colour
ANTS_REPAINT_CELL = 32  # the ants repaint the squares of this many widget pixels the outline crosses

_tracer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mask-outline")


def trace(doc, scale: int) -> MaskOutline | None:
    """The outline of ``doc``'s mask at ``scale`` mask pixels per cell; ``None`` for no document,
    an empty mask, or a failed trace (logged: no ants, the tint still shows)."""
    if doc is None:
        return None
    try:
        outline = MaskOutline.trace(doc.mask, scale)
    except Exception:  # a bug here must not take the canvas down: no ants, the tint still shows
        log.exception("tracing the mask outline failed")
        return None
    return None if outline.empty else outline


class MarchingAnts(QObject):
    """The traced outline of ``view``'s mask and its animation (a child of the canvas).

    ``view`` is the canvas: its ``document``, ``camera``, ``mask_visible``, ``previewing`` and
    ``showing_original`` say what is on screen; the ants repaint it through ``update``.
    """

    def __init__(self, view) -> None:
        super().__init__(view)
        self._view = view
        self.enabled = True  # the user's choice (CanvasView.set_show_outline)
        self.outline: MaskOutline | None = None
        self._gen = 0  # bumped by every change the traced outline does not show yet
        self._dirty = False
        self._busy = False
        self._scale = 1
        self._trace_timer = QTimer(self, singleShot=True, interval=OUTLINE_DELAY_MS)
        self._trace_timer.timeout.connect(self._trace_later)
        gui_thread.ensure()
        self.phase = 0
        self._timer = QTimer(self, interval=ANTS_INTERVAL_MS)
        self._timer.timeout.connect(self.march)

    # --- state ------------------------------------------------------------------------------
    @property
    def pending(self) -> bool:
        """Whether a newer outline is still to be traced or on its way."""
        return self._dirty or self._busy

    @property
    def marching(self) -> bool:
        """Whether the animation timer runs."""
        return self._timer.isActive()

    def shown(self) -> bool:
        """Whether the ants are on the canvas now."""
        v = self._view
        return (self.outline is not None and self.enabled and v.mask_visible and v.document is not None
                and not v.showing_original and not v.previewing)

    def update_timer(self) -> None:
        """Run the timer only while the ants are on screen."""
        v = self._view
        if self.shown() and v.isVisible() and not v.window().isMinimized():
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    def clear(self) -> None:
        """A new document or canvas size: no outline until the next trace."""
        self.outline = None

    # --- tracing ----------------------------------------------------------------------------
    def invalidate(self) -> None:
        """The mask (or the resolution the outline needs) changed: trace again once it is still."""
        self._gen += 1
        self._dirty = True
        self._scale = self._wanted_scale()
        self._trace_timer.start()  # restarts: a stroke's dabs trace once, after the stroke

    def check_scale(self) -> None:
        """The zoom changed: trace again if it needs another resolution."""
        if self._view.document is not None and self._wanted_scale() != self._scale:
            self.invalidate()

    def flush(self) -> None:
        """Trace now, in this thread, if the outline is out of date (tests, screenshots)."""
        if not self._dirty:
            return
        self._trace_timer.stop()
        self._gen += 1  # whatever the tracing thread is doing is stale now
        self._accept(trace(self._view.document, self._scale))

    def _wanted_scale(self) -> int:
        return outline_scale(self._view.camera.zoom * self._view.devicePixelRatioF())

    def _trace_later(self) -> None:
        if not self._dirty or self._busy:
            return  # a trace in flight: its result (stale) starts the next one
        doc = self._view.document
        if doc is None:
            self._accept(None)
            return
        self._busy = True
        gen, scale = self._gen, self._scale

        def work():
            outline = trace(doc, scale)
            # Through the relay, not a signal: the canvas (and so the ants) may be deleted meanwhile.
            gui_thread.post(self, lambda ants: ants._on_traced(gen, outline))

        # The mask is read while the GUI thread may paint into it: a torn read is harmless, as
        # every change bumps the generation and so discards the result.
        _tracer.submit(work)

    def _on_traced(self, gen: int, outline) -> None:
        self._busy = False
        if gen == self._gen:
            self._accept(outline)
        elif self._dirty and not self._trace_timer.isActive():
            self._trace_later()

    def _accept(self, outline: MaskOutline | None) -> None:
        old = self._widget_rect()
        self.outline = outline
        self._dirty = False
        new = self._widget_rect()
        if not old.isEmpty() or not new.isEmpty():
            self._view.update(old.united(new))
        self.update_timer()

    # --- drawing ----------------------------------------------------------------------------
    def march(self) -> None:
        """One step of the animation: the dashes move by a pixel (a repaint, never a trace)."""
        if self._view.window().isMinimized():  # still "visible" to Qt; nothing to see though
            return
        self.phase = (self.phase + 1) % (2 * ANTS_DASH)
        region = self.widget_region()
        if not region.isEmpty():
            self._view.update(region)  # a repaint of cached tiles along the outline, never a trace

    def widget_region(self) -> QRegion:
        """The squares of the widget the outline passes through: what each step of the ants
        repaints (not the whole bounding rect of a big mask)."""
        region = QRegion()
        if self.outline is None:
            return region
        v, cell = self._view, ANTS_REPAINT_CELL
        grid = covered_cells(self.outline.boxes, v.camera.transform, (v.width(), v.height()), cell)
        padded = np.zeros((grid.shape[0], grid.shape[1] + 2), np.int8)
        padded[:, 1:-1] = grid
        for row, line in enumerate(np.diff(padded, axis=1)):
            starts, ends = np.flatnonzero(line == 1), np.flatnonzero(line == -1)
            for c0, c1 in zip(starts, ends):
                region = region.united(QRect(int(c0) * cell, row * cell, int(c1 - c0) * cell, cell))
        return region

    def _widget_rect(self) -> QRect:
        """The widget rect the outline covers (clipped to the widget), empty without one."""
        if self.outline is None:
            return QRect()
        rect = self._view.image_rect_to_widget(self.outline.bounds.getRect()).toAlignedRect()
        return rect.adjusted(-2, -2, 2, 2).intersected(self._view.rect())

    def draw(self, p: QPainter) -> None:
        """The ants: a 1 px light line under dark dashes, in widget pixels at any zoom."""
        p.save()
        p.setRenderHint(QPainter.Antialiasing, False)
        zoom, dx, dy = self._view.camera.transform
        p.setTransform(QTransform(zoom, 0, 0, zoom, dx, dy))
        p.setBrush(Qt.NoBrush)
        # A cosmetic pen's width counts device pixels: one logical pixel is dpr of them, so the ants
        # (and their dashes, measured in pen widths) look the same on a HiDPI screen.
        width = max(1.0, round(self._view.devicePixelRatioF()))
        light = QPen(theme.MASK_OUTLINE_LIGHT, width)
        light.setCosmetic(True)
        p.setPen(light)
        p.drawPath(self.outline.path)
        dark = QPen(theme.MASK_OUTLINE_DARK, width)
        dark.setCosmetic(True)
        dark.setDashPattern([ANTS_DASH, ANTS_DASH])
        dark.setDashOffset(self.phase)
        p.setPen(dark)
        p.drawPath(self.outline.path)
        p.restore()
