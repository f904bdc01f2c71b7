"""The first frame's canvas: the photo given at start-up, drawn as the canvas will draw it.

The editor's first frame comes before numpy, OpenCV, the document model and the engine's api are
imported (together some 300 ms at start-up): :class:`PhotoStandIn` decodes the photo with Qt's own
image readers, at the size the view shows it, and paints it where :class:`CanvasView` will once the
document is open, so the swap to the real canvas does not move a pixel of the picture. It only
shows; it takes no input. Both place the image with :mod:`desktop.ui.canvas.camera`, so they agree.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageIOHandler, QImageReader, QPainter, QPen
from PySide6.QtWidgets import QWidget

from desktop.ui import theme
from desktop.ui.canvas import camera
from desktop.ui.canvas.camera import FIT_MARGIN, MAX_ZOOM, MIN_ZOOM, fit_zoom  # noqa: F401  (their old home)

PLACEHOLDER = "Open a photo (Ctrl+O), drop one here, or paste one (Ctrl+V)"


def centred_offset(view_w: int, view_h: int, image_w: int, image_h: int, zoom: float) -> QPointF:
    """The widget position of the top-left corner of an image centred in the view at ``zoom``
    (:func:`desktop.ui.canvas.camera.centred_offset` as a point)."""
    return QPointF(*camera.centred_offset(view_w, view_h, image_w, image_h, zoom))


def draw_image_frame(p: QPainter, frame: QRectF) -> None:
    """The thin dark line the canvas draws around the picture."""
    p.setPen(QPen(QColor(0, 0, 0, 140), 1))
    p.drawRect(frame.adjusted(-1, -1, 0, 0))


def draw_placeholder(p: QPainter, rect, text: str) -> None:
    """The empty canvas's hint, as the canvas draws it."""
    p.setPen(theme.DISABLED_TEXT)
    f = p.font()
    f.setPointSizeF(f.pointSizeF() * 1.3)
    p.setFont(f)
    p.drawText(rect, Qt.AlignCenter, text)


def opening_text(path: str) -> str:
    """What the stand-in says while a file it cannot draw opens."""
    return f"Opening {Path(path).name}…"


def _turned(reader: QImageReader) -> bool:
    """Whether the photo's EXIF orientation turns it a quarter (its width becomes its height)."""
    return bool(reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90)


class PhotoStandIn(QWidget):
    """Paints ``path`` fitted (the empty canvas's hint when there is none; "Opening NAME…" for a
    project or a file Qt cannot read).

    ``painted`` is emitted after each paint: the window builds the rest of itself once the first
    frame is drawn. ``image_size`` is the photo's size as shown (after its EXIF orientation), or
    ``None``; ``decoded_size`` the size it was decoded at (the view's pixels, not the photo's).
    """

    painted = Signal()

    def __init__(self, path: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self._path = path
        self._image: QImage | None = None
        self.image_size: QSize | None = None
        self._reader: QImageReader | None = None
        if path:
            reader = QImageReader(path)
            reader.setAutoTransform(True)  # EXIF orientation, as the document applies it
            size = reader.size()
            if reader.canRead() and size.isValid() and not size.isEmpty():
                if _turned(reader):
                    size = size.transposed()
                self._reader, self.image_size = reader, size
        # A project (.ora: no Qt reader) or a file Qt cannot decode: say what is coming, not "Open a
        # photo" while it opens (the document's own error follows when it cannot).
        self.text = "" if self.image_size is not None else opening_text(path) if path else PLACEHOLDER

    @property
    def decoded_size(self) -> QSize | None:
        return None if self._image is None else self._image.size()

    def _decoded(self, zoom: float) -> QImage | None:
        """The photo decoded once, at the device pixels it covers (JPEG decodes scaled for less)."""
        if self._image is None and self._reader is not None:
            reader, self._reader = self._reader, None
            dpr = self.devicePixelRatioF()
            full = self.image_size
            scale = min(1.0, zoom * dpr)
            target = QSize(max(1, round(full.width() * scale)), max(1, round(full.height() * scale)))
            if _turned(reader):
                target = target.transposed()  # the reader scales before it rotates
            if scale < 1.0:
                reader.setScaledSize(target)
            image = reader.read()
            if image.isNull():
                self.image_size, self.text = None, opening_text(self._path)
                return None
            self._image = image
        return self._image

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(event.rect(), theme.CANVAS_BACKGROUND)
        size = self.image_size
        if size is not None:
            zoom = fit_zoom(self.width(), self.height(), size.width(), size.height())
            image = self._decoded(zoom)
            if image is not None:
                off = centred_offset(self.width(), self.height(), size.width(), size.height(), zoom)
                frame = QRectF(off.x(), off.y(), size.width() * zoom, size.height() * zoom)
                draw_image_frame(p, frame)
                p.setRenderHint(QPainter.SmoothPixmapTransform, zoom < 2.0)
                p.drawImage(frame, image)
        if self.text:
            draw_placeholder(p, self.rect(), self.text)
        p.end()
        self.painted.emit()
