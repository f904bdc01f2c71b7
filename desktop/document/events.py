"""Plain-Python change notifications from the document to whoever draws it (no Qt here)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Literal

EventKind = Literal["layers", "pixels", "mask", "history", "path", "size", "active"]
Rect = tuple[int, int, int, int]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentEvent:
    """What changed: ``kind`` and the canvas rectangle ``(x, y, w, h)`` it touched (None = all).

    ``layers``: the stack or a layer's properties changed (repaint ``rect``); ``pixels``: layer
    pixels changed in ``rect``; ``mask``: the edit mask changed in ``rect``; ``history``: the undo
    stack moved; ``path``: the document was saved or opened under a new path (or its dirty flag
    changed); ``size``: the canvas was cropped or expanded (views reset; ``layers`` and ``mask``
    follow). ``active``: the active layer changed; it comes on the document's own
    ``active_events`` (napari keeps the selection's events apart from the list's), not on
    ``events``, so a view of the pixels never hears of it.
    """

    kind: EventKind
    rect: Rect | None = None


class Events:
    """A list of callbacks; ``emit`` calls each with a :class:`DocumentEvent`.

    A failing callback is logged and does not stop the others, nor the document change that caused
    the event (the model must not be left half-updated by a view's bug).
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[DocumentEvent], None]] = []
        self._blocked = 0

    def connect(self, callback: Callable[[DocumentEvent], None]) -> None:
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[DocumentEvent], None]) -> None:
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, kind: EventKind, rect: Rect | None = None) -> None:
        if self._blocked:
            return
        event = DocumentEvent(kind, None if rect is None else tuple(int(v) for v in rect))
        for cb in list(self._callbacks):
            try:
                cb(event)
            except Exception:  # a view's bug must not break the model
                log.exception("document event callback %r failed", cb)
