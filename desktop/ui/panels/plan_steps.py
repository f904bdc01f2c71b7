"""The steps of a compound instruction's plan, for the user to approve before Run.

One row per step: a tick (run it or not), the step's text (editable: an edited step is planned again
from its new text when its turn comes), category, object, caption (editable: the prompt of that step)
and a thumbnail of the proposed mask. Up / Down (or drag and drop) change the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QToolButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

THUMB = 32
_TEXT, _CATEGORY, _TARGET, _CAPTION = range(4)
_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class StepChoice:
    """A ticked step as the user left it: its text, its plan (None: plan it again from ``text``) and the
    caption to paint (None: the plan's)."""

    text: str
    plan: object | None
    caption: str | None
    edited: bool = False


def mask_icon(mask, size: int = THUMB) -> QIcon:
    """A small white-on-black picture of ``mask`` (H x W, 255 = repaint)."""
    m = np.asarray(mask)
    if m.ndim != 2 or not m.size:
        return QIcon()
    step = max(1, int(np.ceil(max(m.shape) / size)))
    small = np.ascontiguousarray((m[::step, ::step] > 0).astype(np.uint8) * 255)
    h, w = small.shape
    image = QImage(small.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QIcon(QPixmap.fromImage(image))


def _fit_headers(tree) -> None:
    """Every column at least as wide as its title (in a narrow dock the last, "Caption", was cut to
    "Capti" past the table's edge): category and object as wide as their words, the step's text and
    the caption share the rest and elide (their tooltips hold the whole text)."""
    from PySide6.QtWidgets import QHeaderView

    header = tree.header()
    metrics = header.fontMetrics()
    widest = max(metrics.horizontalAdvance(tree.headerItem().text(c)) for c in range(tree.columnCount()))
    header.setMinimumSectionSize(widest + 24)
    header.setStretchLastSection(False)
    for col, mode in enumerate((QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.ResizeToContents,
                                QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch)):
        header.setSectionResizeMode(col, mode)


class PlanStepsList(QWidget):
    """The list of a plan's steps; :meth:`choices` gives the ticked ones in the order shown."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Step", "Category", "Object", "Caption"])
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(QSize(THUMB, THUMB))
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.tree.setToolTip("Untick a step to skip it; double-click its text or caption to edit; "
                             "drag or use ▲ ▼ to reorder")
        self.tree.setMinimumHeight((THUMB + 10) * 4)  # four steps in view
        self.tree.itemChanged.connect(lambda *_: self.changed.emit())
        layout.addWidget(self.tree)
        row = QHBoxLayout()
        self.protected_label = QLabel("")
        self.protected_label.setWordWrap(True)
        self.up_button = QToolButton()
        self.up_button.setText("▲")
        self.up_button.setToolTip("Run the selected step earlier")
        self.down_button = QToolButton()
        self.down_button.setText("▼")
        self.down_button.setToolTip("Run the selected step later")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(+1))
        row.addWidget(self.protected_label, 1)
        row.addWidget(self.up_button)
        row.addWidget(self.down_button)
        layout.addLayout(row)

    def set_plan(self, plan) -> None:
        """Show ``plan.steps`` (all ticked) and the objects it keeps."""
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            for k, step in enumerate(plan.steps):
                item = QTreeWidgetItem([step.instruction, step.category or "—", step.target or "—",
                                        step.caption or ""])
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
                item.setCheckState(_TEXT, Qt.CheckState.Checked)
                item.setIcon(_TEXT, mask_icon(step.mask))
                item.setData(_TEXT, _ROLE, (k, step))
                item.setToolTip(_TEXT, "; ".join(step.notes) or step.instruction)
                item.setToolTip(3, step.caption or "")  # the whole caption, where the column elides it
                self.tree.addTopLevelItem(item)
            _fit_headers(self.tree)
        finally:
            self.tree.blockSignals(False)
        kept = ", ".join(getattr(plan, "protected", ()) or ())
        self.protected_label.setText(f"Kept unchanged: {kept}" if kept else "")

    def count(self) -> int:
        return self.tree.topLevelItemCount()

    def item(self, row: int) -> QTreeWidgetItem:
        return self.tree.topLevelItem(row)

    def set_checked(self, row: int, checked: bool) -> None:
        self.item(row).setCheckState(_TEXT, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def move(self, row: int, delta: int) -> None:
        """Move step ``row`` by ``delta`` places (kept in range)."""
        new = max(0, min(self.count() - 1, row + delta))
        if new == row:
            return
        item = self.tree.takeTopLevelItem(row)
        self.tree.insertTopLevelItem(new, item)
        self.tree.setCurrentItem(item)
        self.changed.emit()

    def move_selected(self, delta: int) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.move(self.tree.indexOfTopLevelItem(item), delta)

    def choices(self) -> list[StepChoice]:
        """The ticked steps in the order shown. A step keeps its plan (and its mask) only when it is
        unedited and still the first step to run: its mask was found on the picture as it is now."""
        out: list[StepChoice] = []
        for row in range(self.count()):
            item = self.item(row)
            if item.checkState(_TEXT) != Qt.CheckState.Checked:
                continue
            index, step = item.data(_TEXT, _ROLE)
            text = item.text(_TEXT).strip() or step.instruction
            edited = text != step.instruction
            caption = item.text(_CAPTION).strip()
            first_unchanged = not out and index == 0 and not edited
            out.append(StepChoice(text, step if first_unchanged else None,
                                  caption if caption != (step.caption or "") else None, edited))
        return out
