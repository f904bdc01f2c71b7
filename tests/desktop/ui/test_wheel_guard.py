"""Scrolling the Instruction panel with the wheel over a value field scrolls the panel and leaves the
value alone (it changed Steps from 50 to 47 under the pointer); a focused field takes the wheel."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QVBoxLayout, QWidget

from desktop.ui.wheel_guard import guard_wheel


def _wheel_down(widget) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, -120), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(widget, event)


def test_an_unfocused_field_scrolls_the_panel_and_keeps_its_value(qtbot):
    from desktop.ui.panels.instruction_panel import _combo, _dspin, _spin

    body = QWidget()
    column = QVBoxLayout(body)
    steps, guidance = _spin(1, 150, 50), _dspin(0.0, 30.0, 7.5, 0.5)
    combo = _combo((("Auto", "auto"), ("Fill", "fill"), ("LaMa", "lama")), "auto")
    for w in (steps, guidance, combo):
        column.addWidget(w)
    column.addSpacing(2000)  # taller than the area: it scrolls
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(body)
    area.resize(300, 200)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    before = area.verticalScrollBar().value()
    for _ in range(2):  # twice in a row, as a person scrolls
        for field in (steps, guidance, combo):
            _wheel_down(field)
    assert (steps.value(), guidance.value(), combo.currentData()) == (50, 7.5, "auto")
    assert area.verticalScrollBar().value() > before  # the panel scrolled instead

    steps.setFocus()
    qtbot.waitUntil(steps.hasFocus)
    _wheel_down(steps)
    assert steps.value() == 49  # a clicked (focused) field takes the wheel as before


def test_the_guard_keeps_a_field_that_is_not_in_a_scrolling_panel_still(qtbot):
    field = guard_wheel(_spin_in(qtbot))
    _wheel_down(field)
    assert field.value() == 5


def _spin_in(qtbot):
    from desktop.ui.panels.instruction_panel import _spin

    s = _spin(0, 10, 5)
    s.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    qtbot.addWidget(s)
    s.show()
    return s
