"""Issue 14's broken items in the main window, each driven as a user meets it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication, QMessageBox


def _flush_deletes():
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QApplication.processEvents()


def test_a_second_message_box_shows_after_the_first_was_closed(make_window, qtbot):
    w = make_window()
    w.show_error("First", "one")
    first = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert len(first) == 1
    first[0].close()  # WA_DeleteOnClose: the C++ box goes away
    _flush_deletes()
    w.show_error("Second", "two")  # raised "Internal C++ object already deleted"
    visible = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert [b.windowTitle() for b in visible] == ["Second"]
    w.show_message("Third", "three")
    assert w.messages[-1] == ("Third", "three")
