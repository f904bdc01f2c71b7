"""View ▸ Reset layout (issue 25 item 10): a dock dragged away or closed goes back to its place."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_reset_layout_puts_every_dock_back(make_window, qtbot):
    w = make_window()
    view = next(m for m in w.menuBar().findChildren(type(w.panels_menu)) if m.title() == "&View")
    assert w.actions["reset_layout"] in view.actions()
    w.docks["instruction"].setFloating(True)
    w.docks["instruction"].move(40, 40)
    w.docks["layers"].setFloating(True)
    w.docks["history"].close()
    w.removeDockWidget(w.docks["tool_options"])
    w.addDockWidget(Qt.RightDockWidgetArea, w.docks["tool_options"])
    for _ in range(2):  # twice in a row
        w.actions["reset_layout"].trigger()
        qtbot.wait(20)
        for key, dock in w.docks.items():
            assert not dock.isFloating() and dock.isVisibleTo(w), key
        assert w.dockWidgetArea(w.docks["tool_options"]) == Qt.LeftDockWidgetArea
        for key in ("instruction", "layers", "history", "queue"):
            assert w.dockWidgetArea(w.docks[key]) == Qt.RightDockWidgetArea, key
        assert set(w.tabifiedDockWidgets(w.docks["layers"])) == {w.docks["history"], w.docks["queue"]}
        assert w.docks["instruction"] not in w.tabifiedDockWidgets(w.docks["layers"])
        assert w.docks["instruction"].geometry().bottom() < w.docks["layers"].geometry().top()
