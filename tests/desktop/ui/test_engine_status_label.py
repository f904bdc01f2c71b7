"""The status bar's engine state after a SAM click (issue 25 item 5: it stayed at "Engine: segment…"
for minutes after the click's mask had landed)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt


def test_the_engine_label_says_idle_after_each_sam_click(make_window, photo_path, qtbot, send_mouse):
    w = make_window()
    w.open_path(photo_path)
    c, doc = w.canvas, w.document
    w.set_tool("sam")
    started = []
    w.client.started.connect(lambda _job, kind: started.append(kind))
    for x in (220, 300):  # twice in a row
        with qtbot.waitSignal(w.controller.segment_ready, timeout=5000):
            pos = c.image_to_widget(QPointF(x, 150))
            send_mouse(c, "press", pos, Qt.LeftButton)
            send_mouse(c, "release", pos, Qt.LeftButton)
        qtbot.waitUntil(lambda: not w.client.busy, timeout=5000)
        assert w.engine_label.text() == "Engine: idle"
    assert started == ["segment", "segment"]
    assert doc.mask[150, 220] > 0
