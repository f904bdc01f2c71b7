"""The Models dialog names the file at fault, and a long status does not squeeze "Enables" to "…"
(issue 25 items 7 and 10)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt

from desktop.engine_client import ModelEntry
from desktop.ui.dialogs.models_dialog import ModelsDialog
from tests.desktop.ui.test_models_dialog import client  # noqa: F401 - the fixture


ENABLES = "instruction edits from a photo and a sentence: find the object by its name and paint it"


def _entries():
    return [
        ModelEntry("qwen2-vl-7b", 16_600_000_000, False,
                   "incomplete: model-00003-of-00005.safetensors: missing", ENABLES, "Qwen2-VL 7B"),
        ModelEntry("sam-vit-h", 2_564_550_879, False,
                   "corrupt: sam_vit_h_4b8939.pth: all zero bytes at its start: not a torch checkpoint",
                   "select an object by clicking it", "SAM ViT-H", default=True),
        ModelEntry("brushnet-x", 2_900_000_000, True, "installed", "paint a masked region", "BrushNetX"),
    ]


def _shows_whole(table, row: int, column: int) -> bool:
    """The cell's text fits its cell, wrapped at words (nothing elided)."""
    item = table.item(row, column)
    width = table.columnWidth(column) - 8  # the item's margins
    needed = table.fontMetrics().boundingRect(QRect(0, 0, width, 10_000), Qt.TextWordWrap, item.text())
    return needed.width() <= width and needed.height() <= table.rowHeight(row)


def test_long_states_wrap_and_every_cell_shows_whole(client, qtbot):  # noqa: F811
    dialog = ModelsDialog(client, entries=_entries)
    qtbot.addWidget(dialog)
    dialog.resize(760, 420)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.table
    assert table.item(0, 2).text() == "incomplete: model-00003-of-00005.safetensors: missing"
    assert table.columnWidth(3) >= 200, table.columnWidth(3)  # "Enables" keeps its room
    for row in range(table.rowCount()):
        for column in (2, 3):
            assert _shows_whole(table, row, column), (row, column, table.item(row, column).text())
    assert table.item(1, 2).toolTip().startswith("corrupt: sam_vit_h_4b8939.pth")
