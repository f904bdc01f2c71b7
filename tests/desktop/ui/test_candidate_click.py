"""A click selects one candidate; Ctrl/Shift-click adds (issue 25 item 10: clicking a second candidate
added it, then "Accept 2 as layers", where designers expect a click to select one)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.desktop.ui.test_instruction_panel import ui  # noqa: F401 - the fixture


def test_click_selects_one_and_ctrl_or_shift_click_adds(ui, qtbot):  # noqa: F811
    client, controller, doc, panel, strip, _, services = ui
    doc.set_mask(np.pad(np.full((40, 40), 255, np.uint8), 44))
    panel.candidates.setValue(3)
    panel.instruction.setPlainText("a planet")
    with qtbot.waitSignal(controller.candidates_changed, timeout=5000, check_params_cb=bool):
        panel.run()
    b = strip.buttons
    assert strip.selected() == [0]
    qtbot.mouseClick(b[1], Qt.LeftButton)
    assert strip.selected() == [1] and strip.accept_button.text() == "Accept"
    qtbot.mouseClick(b[1], Qt.LeftButton)  # again: still that one (a click never empties the choice)
    assert strip.selected() == [1]
    qtbot.mouseClick(b[2], Qt.LeftButton)
    assert strip.selected() == [2]
    qtbot.mouseClick(b[0], Qt.LeftButton, Qt.ControlModifier)
    assert strip.selected() == [0, 2] and strip.accept_button.text() == "Accept 2 as layers"
    qtbot.mouseClick(b[1], Qt.LeftButton, Qt.ShiftModifier)
    assert strip.selected() == [0, 1, 2]
    qtbot.mouseClick(b[0], Qt.LeftButton, Qt.ControlModifier)  # Ctrl-click takes one out again
    assert strip.selected() == [1, 2]
    qtbot.mouseClick(b[0], Qt.LeftButton)
    assert strip.selected() == [0]
