"""Image snapshots of the document for engine requests.

A request carries the flattened image. Flattening a 24-megapixel photo takes long enough to be felt,
so :class:`Snapshots` keeps the last one until the pixels change, and composites big documents on a
helper thread (layer pixel arrays are immutable, so that is safe) before handing the image back on
the GUI thread.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PySide6.QtCore import QObject

from desktop.model import gui_thread

if TYPE_CHECKING:  # pragma: no cover
    from desktop.document import Document

log = logging.getLogger(__name__)


def snapshot_rgb(doc: "Document", below: Any = None) -> np.ndarray:
    """The visible composite as an ``H x W x 3`` uint8 copy (with ``below``: only the layers under it)."""
    return _composite_rgb(_layers_below(doc, below), (doc.width, doc.height))


def _layers_below(doc: Any, below: Any) -> list:
    layers = list(doc.layers)
    if below is None:
        return layers
    index = next((i for i, item in enumerate(layers) if item is below), len(layers))
    return layers[:index]


def _composite_rgb(layers: list, size: tuple[int, int]) -> np.ndarray:
    """Flatten ``layers`` to RGB over white. Layer pixel arrays are immutable, so any thread may."""
    from desktop.document.compositing import composite

    pixels = np.asarray(composite(layers, size))
    alpha = pixels[..., 3]
    if int(alpha.min()) == 255:  # the usual case (an opaque photo): a plain copy, no maths
        return np.ascontiguousarray(pixels[..., :3])
    # Composite over white where the document is transparent (as an export would show it).
    a = alpha[..., None].astype(np.uint16)
    rgb = (pixels[..., :3].astype(np.uint16) * a + 255 * (255 - a) + 127) // 255
    return rgb.astype(np.uint8)


class Snapshots(QObject):
    """Image snapshots for requests: cached until the pixels change, and composited off the GUI
    thread for big documents (a 24 MP flatten takes long enough to be felt)."""

    SYNC_PIXELS = 2_000_000

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pool: ThreadPoolExecutor | None = None
        self._doc: Any = None
        self._version = 0
        self._cache: tuple[int, np.ndarray] | None = None
        gui_thread.ensure()

    def key(self, doc: Any) -> str:
        """Changes whenever the document's pixels do (SAM reuses its embedding while it does not)."""
        self._watch(doc)
        return f"{id(doc)}:{self._version}"

    def take(self, doc: Any, below: Any, callback: Callable[[np.ndarray | None], None]) -> None:
        """Call ``callback(image)`` now (small or cached) or later on the GUI thread (None on failure).

        ``below``: a layer whose re-run needs only what lies under it (None: the whole document).
        """
        self._watch(doc)
        version = self._version
        if below is None and self._cache is not None and self._cache[0] == version:
            callback(self._cache[1])
            return
        layers = _layers_below(doc, below)
        size = (doc.width, doc.height)
        if doc.width * doc.height <= self.SYNC_PIXELS:
            callback(self._store(version, below, _composite_rgb(layers, size)))
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="brushedit-snapshot")
        future = self._pool.submit(_composite_rgb, layers, size)
        # Through the relay, not our own signal: the controller (our parent) may be deleted meanwhile.
        future.add_done_callback(
            lambda f: gui_thread.post(self, lambda snapshots: snapshots._deliver((f, callback, version, below))))

    def _deliver(self, item) -> None:
        future, callback, version, below = item
        try:
            image = self._store(version, below, future.result())
        except Exception:
            log.exception("snapshot failed")
            image = None
        callback(image)

    def _store(self, version: int, below: Any, image: np.ndarray) -> np.ndarray:
        image.flags.writeable = False  # shared by requests: a snapshot never changes
        if below is None and version == self._version:
            self._cache = (version, image)
        return image

    def _watch(self, doc: Any) -> None:
        if doc is self._doc:
            return
        if self._doc is not None:
            self._doc.events.disconnect(self._on_event)
        self._doc, self._cache = doc, None
        self._version += 1
        if doc is not None:
            doc.events.connect(self._on_event)

    def _on_event(self, event: Any) -> None:
        if event.kind in ("pixels", "layers"):
            self._version += 1
            self._cache = None
