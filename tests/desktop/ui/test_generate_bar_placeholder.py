"""The Generate bar on a narrow canvas (issue 25 item 4: at 200 % its placeholder was cut over the picture)."""

from __future__ import annotations


def test_the_placeholder_shows_whole_however_narrow_the_canvas(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    w.showNormal()
    bar = w.generate_bar
    for width in (1400, 960, 760):  # 100 %, then 1920x1080 at 200 % with its docks, twice narrower
        w.resize(width, 700)
        qtbot.wait(30)
        w.document.mask_op("box", rect=(100, 100, 60 + width // 100, 60))
        qtbot.waitUntil(bar.isVisible, timeout=3000)
        qtbot.wait(20)
        metrics = bar.prompt.fontMetrics()
        shown = bar.prompt.placeholderText()
        assert metrics.horizontalAdvance(shown) <= bar.prompt.width() - 12, (width, shown, bar.prompt.width())
