"""Fit and finish a designer expects: the SAM tool greyed out with its reason, the default paint
colour visible on the dark theme, the re-run prompt dialog, the Generate bar beside the mask."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.engine_client import ModelPathStatus


@pytest.fixture
def win(make_window, photo_path):
    w = make_window()
    w.open_path(photo_path)  # chelsea: 451 x 300
    return w


def test_sam_tool_is_greyed_out_with_a_one_line_reason_when_sam_is_missing(win, qtbot):
    w = win
    w.set_tool("sam")
    w.sam_status = lambda: ModelPathStatus(False, "Not installed: download sam-vit-b with Engine ▸ Models…")
    w.update_sam_tool()
    action = w.actions["sam"]
    assert not action.isEnabled()
    assert action.toolTip() == ("SAM select (S) — unavailable: not installed: download sam-vit-b with "
                                "Engine ▸ Models…")
    assert "\n" not in action.toolTip()
    assert w.current_tool().name == "brush"  # not left on a tool that cannot run
    w.canvas.setFocus()
    qtbot.waitUntil(w.canvas.hasFocus)
    QTest.keyClick(w.canvas, Qt.Key_S)  # the shortcut of a greyed-out tool does nothing
    assert w.current_tool().name == "brush"
    w.sam_status = lambda: ModelPathStatus(True, "Found automatically: sam-vit-b", "sam-vit-b")
    w.update_sam_tool()
    assert action.isEnabled() and action.toolTip() == "SAM select (S)"
    QTest.keyClick(w.canvas, Qt.Key_S)
    assert w.current_tool().name == "sam"


def _luminance(rgb) -> float:
    def lin(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_default_paint_colour_is_visible_on_the_dark_theme(win):
    w = win
    w.set_tool("paint")
    color = w.tools["paint"].color
    from desktop.ui import theme

    for background in (theme.WINDOW, theme.BASE, theme.CANVAS_BACKGROUND):  # panels, fields, canvas
        hi, lo = sorted((_luminance(color), _luminance(background.getRgb())), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 3.0, (color, background)  # WCAG's contrast for graphics
    assert "rgb(%d, %d, %d)" % color in w.tool_options.color_button.styleSheet()
    assert w.tool_options.color_button.isVisible()


def test_rerun_prompt_dialog_is_wide_enough_and_prefilled(win, qtbot):
    from desktop.document import Provenance

    w = win
    layer = w.document.add_edit(np.zeros((30, 40, 3), np.uint8), offset=(10, 20),
                                provenance=Provenance(prompt="a wooden bench", seed=1), name="Bench")
    calls = []
    w.controller.rerun_layer = lambda lay, **kw: calls.append((lay, kw))
    qtbot.waitUntil(lambda: w.layers_panel.current_layer() is layer)
    assert w.layers_panel.buttons["new_prompt"].isEnabled()
    qtbot.mouseClick(w.layers_panel.buttons["new_prompt"], Qt.LeftButton)
    dialog = w._prompt_dialog
    qtbot.waitExposed(dialog)
    assert dialog.textValue() == "a wooden bench"
    title_px = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title_px + 150 and dialog.width() <= 1366
    from PySide6.QtWidgets import QLineEdit

    edit = dialog.findChild(QLineEdit)
    edit.selectAll()
    qtbot.keyClicks(edit, "a stone bench")
    qtbot.keyClick(edit, Qt.Key_Return)
    assert calls[-1] == (layer, {"prompt": "a stone bench"})


def test_generate_bar_appears_beside_the_mask_and_runs_its_prompt(win, qtbot, drag):
    from PySide6.QtCore import QPointF, QRectF

    from desktop.ui.canvas.generate_bar import place

    w = win
    bar = w.generate_bar
    assert not bar.isVisible()  # no mask yet
    w.set_tool("box")
    c = w.canvas
    a, mid, b = (c.image_to_widget(QPointF(x, y)) for x, y in ((150, 100), (200, 130), (250, 160)))
    drag(c, [a, mid, b])  # a real box drag on the canvas
    assert w.document.mask.any()
    qtbot.waitUntil(bar.isVisible, timeout=3000)
    mask_rect = c.image_rect_to_widget((150, 100, 100, 60))
    assert not QRectF(bar.geometry()).intersects(mask_rect)  # never over the mask when there is room
    assert c.rect().contains(bar.geometry())
    calls = []
    w.controller.run = lambda prompt, params=None, **kw: calls.append(prompt)
    bar.prompt.setFocus()
    qtbot.keyClicks(bar.prompt, "a wooden bench")
    qtbot.mouseClick(bar.run_button, Qt.LeftButton)
    assert calls == ["a wooden bench"]
    assert w.instruction_panel.instruction.toPlainText() == "a wooden bench"
    w.tool_options.apply_op("clear")
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=3000)
    # Placement: below, else above, else beside; over the target only without room.
    assert place(100, 30, QRectF(10, 10, 50, 50), 400, 300).top() == 70
    assert place(100, 30, QRectF(10, 240, 50, 50), 400, 300).bottom() < 240
    tall = place(100, 30, QRectF(10, 5, 50, 290), 400, 300)
    assert tall.left() >= 70
    full = place(100, 30, QRectF(0, 0, 400, 300), 400, 300)
    assert full.bottom() <= 300


def test_the_generate_bar_gives_the_keyboard_back_to_the_canvas(win, qtbot):
    """Found under Xvfb: after typing in the Generate bar, Ctrl+Z (and B, J, [ ]) went to its text field
    for the rest of the session: Image ▸ Flip then Ctrl+Z cleared the prompt instead of undoing the flip."""
    w = win
    mask = np.zeros((w.document.height, w.document.width), np.uint8)
    mask[100:160, 150:250] = 255
    w.document.set_mask(mask, label="Brush")
    bar = w.generate_bar
    qtbot.waitUntil(bar.isVisible, timeout=3000)
    w.activateWindow()
    calls = []
    w.controller.run = lambda prompt, params=None, **kw: calls.append(prompt)
    qtbot.mouseClick(bar.prompt, Qt.LeftButton)
    qtbot.waitUntil(bar.prompt.hasFocus)
    qtbot.keyClicks(bar.prompt, "a wooden bench")
    QTest.keyClick(bar.prompt, Qt.Key_Return)  # Enter runs, and the canvas takes the keys again
    assert calls == ["a wooden bench"]
    qtbot.waitUntil(w.canvas.hasFocus)
    qtbot.mouseClick(bar.prompt, Qt.LeftButton)
    qtbot.waitUntil(bar.prompt.hasFocus)
    QTest.keyClick(bar.prompt, Qt.Key_Escape)  # Esc leaves the field, as in the panels' value fields
    qtbot.waitUntil(w.canvas.hasFocus)
    assert bar.prompt.text() == "a wooden bench"  # kept for the next Generate
    w.flip_image(True)
    entries = w.document.history.index
    QTest.keyClick(w.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert w.document.history.index == entries - 1  # Ctrl+Z undid the flip


def test_the_generate_bar_fits_a_narrow_canvas(win, qtbot):
    """Found under Xvfb at 1920x1080 and 200 %: the canvas was ~300 px wide and the bar's Generate
    button was cut off at its right edge."""
    w = win
    mask = np.zeros((w.document.height, w.document.width), np.uint8)
    mask[100:160, 150:250] = 255
    w.document.set_mask(mask, label="Brush")
    bar = w.generate_bar
    qtbot.waitUntil(bar.isVisible, timeout=3000)
    w.canvas.setMinimumWidth(0)
    w.canvas.setFixedWidth(300)
    qtbot.waitUntil(lambda: w.canvas.width() == 300, timeout=3000)
    w.canvas.update()
    qtbot.wait(50)
    bar.reposition()
    assert w.canvas.rect().contains(bar.geometry()), (bar.geometry(), w.canvas.rect())
    button = bar.run_button.geometry().translated(bar.pos())
    assert w.canvas.rect().contains(button)
    w.canvas.setFixedWidth(900)  # room again: the prompt takes its width back
    qtbot.waitUntil(lambda: w.canvas.width() == 900, timeout=3000)
    bar.reposition()
    assert bar.prompt.width() >= 260 and w.canvas.rect().contains(bar.geometry())
