"""Cancel stays where it was when a run starts (issue 25 item 4: at 1366x768 it jumped from y=303 to
y=179 as the live preview came in above it, and a click at the old place missed)."""

from __future__ import annotations

from PySide6.QtCore import QPoint


def test_plan_run_cancel_do_not_move_when_a_run_starts(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    w.showNormal()
    w.resize(1366, 740)
    qtbot.wait(50)
    panel, strip = w.instruction_panel, w.candidate_strip
    for attempt in range(2):  # twice in a row
        w.document.mask_op("box", rect=(100, 100, 60, 60))
        before = panel.cancel_button.mapTo(w, QPoint(0, 0))
        w.controller.run("a red planet")
        qtbot.waitUntil(lambda: strip.live.isVisible() or bool(strip.buttons), timeout=5000)
        qtbot.wait(30)
        assert strip.scroll.isVisible()  # the live preview (or the candidates) took its room
        assert panel.cancel_button.mapTo(w, QPoint(0, 0)) == before
        qtbot.waitUntil(lambda: not w.controller.busy, timeout=5000)
        w.controller.discard()
        qtbot.wait(30)
