"""Hand results from worker threads to the GUI thread without racing widget deletion.

A worker that emits a signal of a widget (or of any QObject the GUI thread may delete) races with
that deletion: if the GUI thread deletes the object while the worker is inside ``emit``, the
process crashes (a use-after-free seen as a rare segfault in the test suite). Workers post here
instead: one relay object that lives as long as the application carries the call over, and the
GUI thread runs it only if the receiver is still alive.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    posted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception:  # one failing delivery must not stop the others
            log.exception("a call posted to the GUI thread failed")


_relay: _Relay | None = None
_lock = threading.Lock()


def _get_relay() -> _Relay:
    global _relay
    with _lock:
        if _relay is None:
            relay = _Relay()
            app = QCoreApplication.instance()
            if app is not None and relay.thread() is not app.thread():
                relay.moveToThread(app.thread())  # created on a worker: push it to the GUI thread
            _relay = relay
        return _relay


def ensure() -> None:
    """Create the relay now (call on the GUI thread, e.g. from a constructor)."""
    _get_relay()


def post(receiver: QObject, call: Callable[[QObject], None]) -> None:
    """Run ``call(receiver)`` on the GUI thread, unless ``receiver`` is deleted by then. Safe to call
    from any thread."""
    ref = weakref.ref(receiver)

    def deliver() -> None:
        obj = ref()
        if obj is not None and shiboken6.isValid(obj):
            call(obj)

    _get_relay().posted.emit(deliver)
