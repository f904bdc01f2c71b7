"""The compound plan's steps table in a narrow dock (issue 25 item 4: "Caption" cut to "Capti")."""

from __future__ import annotations

from tests.desktop.ui.test_instruction_steps import _plan, ui  # noqa: F401 - the fixture


def test_every_column_title_shows_whole_in_a_narrow_panel(ui, qtbot):  # noqa: F811
    client, controller, doc, panel, services = ui
    panel.resize(380, 700)
    _plan(panel, controller, qtbot, "remove the flag on the left of the astronaut and make the sky a deep sunset orange")
    tree = panel.steps_list.tree
    qtbot.wait(20)
    header = tree.header()
    metrics = header.fontMetrics()
    for col in range(tree.columnCount()):
        title = tree.headerItem().text(col)
        assert header.sectionSize(col) >= metrics.horizontalAdvance(title) + 8, (title, header.sectionSize(col))
    # The last column ends inside the table: no horizontal scrolling needed to read "Caption".
    assert header.sectionViewportPosition(3) + metrics.horizontalAdvance("Caption") <= tree.viewport().width()
    assert tree.topLevelItem(0).toolTip(3) == tree.topLevelItem(0).text(3)
