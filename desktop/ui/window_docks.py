"""The main window's docks: their frames at their places and sizes, the panels put in them, and
View ▸ Reset layout.

The shell (the first frame) shows the five docks empty, already where and as large as they will
be (``restoreState`` included), so nothing moves when the body fills them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QVBoxLayout, QWidget

from desktop.ui.icons import icon

RIGHT, LEFT = Qt.RightDockWidgetArea, Qt.LeftDockWidgetArea
# key, title, area, icon; in the order they are added (the Panels menu lists them so).
DOCKS = (("instruction", "Instruction", RIGHT, "mdi6.message-text"),
         ("layers", "Layers", RIGHT, "layers"),
         ("history", "History", RIGHT, "history"),
         ("tool_options", "Tool options", LEFT, "mdi6.tune-variant"),
         ("queue", "Job queue", RIGHT, "engine"))


class DockLayout:
    """The docks of ``window`` by key (``docks``), each listed in ``panels_menu``."""

    def __init__(self, window: QMainWindow, panels_menu: QMenu) -> None:
        self.window = window
        self.docks: dict[str, QDockWidget] = {}
        for key, title, area, glyph in DOCKS:
            dock = QDockWidget(title, window)
            dock.setObjectName(f"{key}Dock")
            dock.setWidget(QWidget())  # an empty frame until the body fills it
            dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                             | QDockWidget.DockWidgetClosable)
            window.addDockWidget(area, dock)
            action = dock.toggleViewAction()
            action.setIcon(icon(glyph))
            panels_menu.addAction(action)
            self.docks[key] = dock
        self.arrange()

    def arrange(self) -> None:
        """The default arrangement of the docks (at start, and for View ▸ Reset layout)."""
        w, docks = self.window, self.docks
        w.splitDockWidget(docks["instruction"], docks["layers"], Qt.Vertical)
        w.tabifyDockWidget(docks["layers"], docks["history"])
        w.tabifyDockWidget(docks["history"], docks["queue"])
        docks["layers"].raise_()
        w.resizeDocks([docks["instruction"]], [380], Qt.Horizontal)
        # The instruction dock holds the transcript, the plan, the parameters and the candidates:
        # it gets most of the height; Layers/History/Job queue share the rest.
        w.resizeDocks([docks["instruction"], docks["layers"]], [500, 420], Qt.Vertical)
        w.resizeDocks([docks["tool_options"]], [250], Qt.Horizontal)

    def reset(self) -> None:
        """Every dock back in its place and shown (a dock dragged away or closed had no way back but
        the Panels menu, one at a time)."""
        for key, dock in self.docks.items():
            dock.setFloating(False)
            self.window.addDockWidget(LEFT if key == "tool_options" else RIGHT, dock)
            dock.show()
        self.arrange()

    def fill(self, widgets: dict[str, QWidget]) -> None:
        """Put the body's panels in the docks, in place of the shell's empty frames."""
        for key, widget in widgets.items():
            dock = self.docks[key]
            dock.widget().deleteLater()  # the empty frame the shell put there
            dock.setWidget(widget)


def keep_in_view(area, field) -> None:
    """Scroll ``area`` (a scroll area) the least that brings ``field`` into view: all of it when it fits,
    else its top. Nothing moves when it is in view already."""
    if not field.isVisible():
        return
    bar, seen = area.verticalScrollBar(), area.viewport().height()
    top = field.mapTo(area.widget(), field.rect().topLeft()).y()
    bottom = top + field.height()
    if top < bar.value() or seen < field.height():
        bar.setValue(top)
    elif bottom > bar.value() + seen:
        bar.setValue(bottom - seen)


def instruction_dock(panel, strip, line_spacing: int) -> QWidget:
    """The Instruction dock's content: the panel scrolling as a whole, the candidate strip below it,
    then the panel's Plan / Run / Cancel row."""
    from desktop.ui.panels.vertical_scroll import VerticalScrollArea

    instruction = QWidget()
    il = QVBoxLayout(instruction)
    il.setContentsMargins(0, 0, 0, 0)
    il.setSpacing(0)
    # The panel scrolls as a whole (its parameters too) when the dock is short, so the dock
    # never asks for more height than a laptop screen has; the strip stays below it, in view.
    instruction_area = VerticalScrollArea(panel)
    panel.follow_height(instruction_area)  # a short dock folds the log first
    # It scrolls: two lines are enough at the least (Plan / Run are pinned below it), so that on a
    # 540 px screen (200 %) the strip of candidates does not push the window past the screen's bottom.
    instruction_area.setMinimumHeight(2 * line_spacing)
    il.addWidget(instruction_area, 1)
    il.addWidget(strip, 0)  # fixed height: always in view when an edit ends
    # When the thumbnails come in, the panel above loses their height: on a short screen (1920x1080 at
    # 200 %) that scrolled the instruction field out of view; keep it in view (the log folds first).
    strip.row_shown.connect(lambda: QTimer.singleShot(0, lambda: keep_in_view(instruction_area, panel.instruction)))
    # A plan is the news after Plan: on a laptop (1366x768) its steps sat below the fold; bring them in view.
    panel.controller.plan_ready.connect(
        lambda _plan: QTimer.singleShot(0, lambda: keep_in_view(instruction_area, panel.plan_box)))
    # Plan / Run / Cancel last: in view as the panel scrolls, and where they were when a run starts
    # (below the strip, Cancel jumped 124 px up as the live preview came in).
    il.addWidget(panel.take_footer(), 0)
    return instruction
