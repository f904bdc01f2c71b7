"""Guard for the PySide6 pin in pyproject.toml.

PySide6-Essentials 6.12.0 drops a reference to ``True`` on every ``Signal.emit()`` and to ``None``
on every void method; on CPython 3.11 that aborts the process after enough calls ("bool_dealloc").
The editor emits thousands of signals per job, so the installed binding must not leak.
"""

import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal(object)


def test_installed_pyside6_does_not_leak_singleton_references():
    probe = _Probe()
    probe.ping.connect(lambda _v: None)
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        probe.ping.emit(0)
        probe.blockSignals(False)
        probe.setObjectName("probe")
    after = sys.getrefcount(None), sys.getrefcount(True)
    assert after[0] >= before[0] - 10 and after[1] >= before[1] - 10, (before, after)
