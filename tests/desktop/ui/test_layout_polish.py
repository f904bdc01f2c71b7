"""Layout problems an integration QA pass found under Xvfb (1366x768, and 1920x1080 at 200 %)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt


def test_the_resolution_combo_shows_its_whole_choice_and_keeps_the_full_text_as_tooltip(make_window, photo_path,
                                                                                         qtbot):
    """The combo read "Crop around the ma…" in a 380 px dock."""
    w = make_window()
    w.resize(1366, 740)
    w.open_path(photo_path)
    panel = w.instruction_panel
    panel.params_toggle.setChecked(True)
    qtbot.wait(50)
    combo = panel.resolution_mode
    for i in range(combo.count()):
        combo.setCurrentIndex(i)
        text_room = combo.width() - 36  # the frame and the arrow
        assert combo.fontMetrics().horizontalAdvance(combo.itemText(i)) <= text_room, (combo.itemText(i),
                                                                                          combo.width())
        assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole), combo.itemText(i)
    assert "Crop around the mask" in combo.itemData(combo.findData("crop"), Qt.ItemDataRole.ToolTipRole)
    assert combo.toolTip()


def test_the_blend_mode_list_shows_eight_rows_at_most(make_window, photo_path, qtbot):
    """The blend-mode list ran to the bottom of the screen."""
    from desktop.ui.panels.layers_panel import BLEND_VISIBLE_ITEMS

    w = make_window()
    w.open_path(photo_path)
    combo = w.layers_panel.blend
    assert combo.count() > BLEND_VISIBLE_ITEMS
    combo.showPopup()
    try:
        view = combo.view()
        qtbot.waitUntil(view.isVisible)
        row = view.sizeHintForRow(0)
        assert view.height() <= (BLEND_VISIBLE_ITEMS + 1) * row, (view.height(), row)
        assert view.verticalScrollBar().maximum() > 0  # the rest scrolls
    finally:
        combo.hidePopup()


def test_job_history_rows_fit_the_panel_width(make_window, qtbot):
    """History rows were cut off on the right, under a horizontal scroll bar."""
    from desktop.ui.panels.queue_panel import JobRecord

    w = make_window()
    panel = w.queue_panel
    w.docks["queue"].raise_()
    panel.records[1] = JobRecord(1, "edit", "Edit: a sunset sky with long orange clouds over the hills, golden light",
                                 queued_at=1.0e9, started_at=1.0e9, ended_at=1.0e9 + 12, state="done")
    panel._refresh_history()
    qtbot.wait(50)
    lst = panel.history_list
    assert lst.count() == 1
    assert lst.horizontalScrollBar().maximum() == 0
    assert not lst.horizontalScrollBar().isVisible()
    rect = lst.visualItemRect(lst.item(0))
    assert rect.right() <= lst.viewport().width(), (rect, lst.viewport().width())


def test_at_1366x768_plan_and_run_stay_in_view_with_candidates_and_parameters(make_window, photo_path, qtbot):
    """With candidates shown, Plan/Run scrolled out of the Instruction panel's view."""
    from desktop.ui.panels.vertical_scroll import VerticalScrollArea

    w = make_window()
    w.resize(1366, 740)
    w.open_path(photo_path)
    panel = w.instruction_panel
    panel.params_toggle.setChecked(True)
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000):
        w.controller.run("")
    qtbot.wait(50)
    area = next(a for a in w.findChildren(VerticalScrollArea) if a.widget() is panel)
    dock = w.docks["instruction"]
    for value in (area.verticalScrollBar().minimum(), area.verticalScrollBar().maximum()):
        area.verticalScrollBar().setValue(value)  # read the parameters, or the log: Plan/Run stay
        qtbot.wait(10)
        for button in (panel.plan_button, panel.run_button):
            top = button.mapTo(dock, QPoint(0, 0)).y()
            assert button.isVisible() and top >= 0 and top + button.height() <= dock.height(), (value, top)
            assert not area.viewport().isAncestorOf(button)
    assert w.candidate_strip.isVisible()


def test_at_200_percent_the_first_run_banner_is_compact(make_window, photo_path, qtbot):
    """At 1920x1080 and 200 % the banner wrapped one word a line and took a third of the canvas's height."""
    w = make_window()
    w.open_path(photo_path)
    w.showNormal()
    w.resize(960, 500)  # 1920x1080 at 200 %, less a panel and the title bar
    w.banner.show()
    qtbot.wait(50)
    banner, text = w.banner, w.banner_text
    assert banner.width() < 400  # the narrow canvas this is about
    line = text.fontMetrics().lineSpacing()
    assert text.width() >= banner.width() - 40  # the text takes the banner's width, the buttons below
    assert text.height() <= 4 * line, (text.height(), line)
    assert banner.height() <= 0.25 * (banner.height() + w.canvas.height()), (banner.height(), w.canvas.height())
    # Wide again: one row, text beside the buttons, at most two lines.
    w.resize(1600, 900)
    qtbot.wait(50)
    assert banner.stacked is False and text.height() <= 2 * line + 4, text.height()


def test_at_1366x768_the_layers_list_shows_three_rows_with_candidates_shown(make_window, photo_path, qtbot):
    """With candidates shown, the Layers list showed only about two rows."""
    w = make_window()
    w.resize(1366, 740)
    w.open_path(photo_path)
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000):
        w.controller.run("")
    w.controller.accept([0])
    qtbot.waitUntil(lambda: len(w.layers_panel.layer_items()) == 2)
    w.layers_panel.select_layer(w.document.layers[-1])
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000):
        w.controller.run("")
    qtbot.wait(50)
    tree = w.layers_panel.tree
    row = tree.sizeHintForRow(0)
    assert tree.viewport().height() >= 3 * row, (tree.viewport().height(), row)
