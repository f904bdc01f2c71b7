"""The Instruction panel's parameters: the form, what it sets (``EditParams``) and its stored settings."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from desktop.engine_client import DEFAULT_NEGATIVE_PROMPT, EditParams
from desktop.model import settings_keys
from desktop.ui.wheel_guard import guard_wheel

# Short labels that fit a narrow dock (about 30 characters at 1366x768; a combo may share its row); the
# full wording is each item's tooltip.
_ENGINES = (("Auto (BrushEdit, else fill)", "auto", "Auto: BrushEdit if installed, else the fill engine"),
            ("BrushEdit (BrushNet)", "brushedit"),
            ("Fill (fast, no weights)", "fill"), ("LaMa (removal, any machine)", "lama"))
_PAINTERS = (("Auto (klein, else BrushNet)", "auto",
              "Auto: FLUX.2 [klein] 4B if installed and it fits the card, else BrushNet"),
             ("BrushNet (SD1.5)", "brushnet"), ("FLUX.2 [klein] 4B", "klein"))
_INSTRUCTORS = (("Auto (VLM where it fits)", "auto",
                 "Auto: the local VLM where it is installed and fits the card, else the rules"),
                ("Offline (rules, no model)", "offline"), ("Local VLM (Qwen2-VL)", "local"),
                ("OpenAI API", "openai"))
_RESOLUTIONS = (("Crop", "crop", "Crop around the mask: work on the region around it"),
                ("Whole image", "whole", "Whole image: work on the whole picture"))


class EditParamsForm(QWidget):
    """Candidates, steps, guidance, strengths, seed, negative prompt, blend, colour match, resolution,
    engine, painter and instructor, as one form."""

    instructor_changed = Signal(str)  # the user picked another instructor here

    def __init__(self, parent=None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        d = EditParams()
        self.candidates = _spin(0, 8, d.num_candidates)
        self.candidates.setSpecialValueText("Auto")  # 0 = AUTO_CANDIDATES
        self.candidates.setToolTip("Results per run, painted in one batch. Auto: 4 where the card's memory "
                                   "allows (as BrushEdit), else fewer; 1 on the CPU")
        self.steps = _spin(1, 150, d.steps)
        self.guidance = _dspin(0.0, 30.0, d.guidance, 0.5)
        self.strength = _dspin(0.0, 1.0, d.strength, 0.05)
        self.strength.setToolTip("For masked edits: how much of the masked region is repainted "
                                 "(1 paints it anew, as BrushNet was trained)")
        # A global plan (style, season, time of day) repaints the whole photo image-to-image at
        # EditParams.global_strength, BrushNet scaled out; Strength is for masked edits.
        self.global_strength = _dspin(0.0, 1.0, d.global_strength, 0.05)
        self.global_strength.setToolTip(
            "For global edits (“make it a watercolor”, “turn it into winter”): how far the "
            "whole photo is repainted. Lower keeps more of the photo (0 returns it unchanged), higher "
            "changes more and lets the layout go. Strength is for masked edits.")
        self.removal_strength = _dspin(0.0, 1.0, d.removal_strength, 0.05)
        self.removal_strength.setToolTip("Removal with LaMa and BrushEdit: how much of LaMa's fill BrushNet "
                                         "repaints (0 keeps LaMa's fill; higher invents more)")
        seed_row = QWidget()
        seed_layout = QHBoxLayout(seed_row)
        seed_layout.setContentsMargins(0, 0, 0, 0)
        self.seed = _spin(0, 2**31 - 1, 0)
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setToolTip("Locked: every run uses this seed. Unlocked: a new random seed each run")
        seed_layout.addWidget(self.seed, 1)
        seed_layout.addWidget(self.seed_lock)
        self.negative = QLineEdit(DEFAULT_NEGATIVE_PROMPT)
        self.blend = QCheckBox("Blend the edges")
        self.blend.setToolTip("Feather the result into the photo outside the mask")
        self.blend.setChecked(d.blend)
        self.harmonize = _dspin(0.0, 1.0, d.harmonize, 0.1)
        self.harmonize.setToolTip("How much of the painter's colour and tone cast at the edge of the edit is "
                                  "removed, so the seam does not show (0 keeps the painting as it came)")
        res_row = QWidget()
        res_layout = QGridLayout(res_row)
        res_layout.setContentsMargins(0, 0, 0, 0)
        self.resolution_mode = _combo(_RESOLUTIONS, d.resolution_mode)
        self.resolution_mode.setToolTip("Crop: work on the region around the mask (sharper for small edits). "
                                        "Whole image: work on the whole picture")
        self.working_size = _spin(256, 2048, d.working_size)
        self.working_size.setSingleStep(64)
        self.working_size.setSuffix(" px")
        self.working_size.setToolTip("Short side of the frame the model paints (SD1.5 was trained at 512)")
        res_layout.addWidget(self.resolution_mode, 0, 0)
        res_layout.addWidget(self.working_size, 0, 1)
        res_layout.setColumnStretch(0, 3)  # the choice's words get the room, the number what it needs
        res_layout.setColumnStretch(1, 2)
        self.engine = _combo(_ENGINES, d.engine)
        self.painter = _combo(_PAINTERS, d.painter)
        self.painter.setToolTip("Who paints BrushEdit's edits: BrushNet (50 steps at the working size) or "
                                "FLUX.2 [klein] 4B (4 steps at about 1024 px; whole-image edits from the photo)")
        self.instructor = _combo(_INSTRUCTORS, "auto")
        self.instructor.setToolTip("Who reads instructions; the same setting as Edit ▸ Preferences… ▸ Instructor")
        self.instructor.currentIndexChanged.connect(
            lambda _i: self.instructor_changed.emit(self.instructor.currentData()))
        form.addRow("Candidates", self.candidates)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Strength", self.strength)
        form.addRow("Global strength", self.global_strength)
        form.addRow("Removal repaint", self.removal_strength)
        form.addRow("Seed", seed_row)
        form.addRow("Negative prompt", self.negative)
        form.addRow("", self.blend)
        form.addRow("Match colours", self.harmonize)
        form.addRow("Resolution", res_row)
        res_row.setToolTip("Working resolution: the region around the mask (or the whole image) and the "
                           "short side the model paints it at (640 as BrushEdit; long side at most ~1024)")
        form.addRow("Engine", self.engine)
        form.addRow("Painter", self.painter)
        form.addRow("Instructor", self.instructor)

    def params(self) -> EditParams:
        """The parameters as set in the panel."""
        return EditParams(
            steps=self.steps.value(),
            guidance=self.guidance.value(),
            strength=self.strength.value(),
            global_strength=self.global_strength.value(),
            seed=self.seed.value() if self.seed_lock.isChecked() else None,
            num_candidates=self.candidates.value(),
            negative_prompt=self.negative.text(),
            blend=self.blend.isChecked(),
            resolution_mode=self.resolution_mode.currentData(),
            working_size=self.working_size.value(),
            engine=self.engine.currentData(),
            removal_strength=self.removal_strength.value(),
            harmonize=self.harmonize.value(),
            painter=self.painter.currentData(),
        )

    def set_params(self, params: EditParams) -> None:
        self.steps.setValue(params.steps)
        self.guidance.setValue(params.guidance)
        self.strength.setValue(params.strength)
        self.global_strength.setValue(params.global_strength)
        if params.seed is not None:
            self.seed.setValue(params.seed)
        self.candidates.setValue(params.num_candidates)
        self.negative.setText(params.negative_prompt)
        self.blend.setChecked(params.blend)
        _select(self.resolution_mode, params.resolution_mode)
        self.working_size.setValue(params.working_size)
        _select(self.engine, params.engine)
        _select(self.painter, params.painter)
        self.removal_strength.setValue(params.removal_strength)
        self.harmonize.setValue(params.harmonize)

    def setting_widgets(self) -> dict[str, QWidget]:
        """The widget of each stored setting (``desktop.model.settings_keys``)."""
        return {"candidates": self.candidates, "steps": self.steps, "guidance": self.guidance,
                "strength": self.strength, "global_strength": self.global_strength,
                "removal_strength": self.removal_strength, "harmonize": self.harmonize, "seed": self.seed,
                "seed_lock": self.seed_lock, "negative": self.negative, "blend": self.blend,
                "resolution_mode": self.resolution_mode, "working_size": self.working_size,
                "engine": self.engine, "instructor": self.instructor, "painter": self.painter}


def save_widgets(settings: Any, widgets: dict[str, QWidget]) -> None:
    """Store each widget's value under its setting's key."""
    for name, widget in widgets.items():
        settings.setValue(settings_keys.key(name), widget_value(widget))


def restore_widgets(settings: Any, widgets: dict[str, QWidget]) -> None:
    """Set each widget from its stored setting (missing or bad values keep the widget's own)."""
    for name, widget in widgets.items():
        value = settings_keys.read(settings, name)
        if value is not None:
            set_widget_value(widget, value)


def widget_value(widget: QWidget) -> Any:
    if isinstance(widget, QAbstractSpinBox):
        return widget.value()
    if isinstance(widget, (QCheckBox, QToolButton)):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    return widget.text()


def set_widget_value(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QAbstractSpinBox):
        widget.setValue(value)
    elif isinstance(widget, (QCheckBox, QToolButton)):
        widget.setChecked(value)
    elif isinstance(widget, QComboBox):
        _select(widget, value)
    else:
        widget.setText(value)


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    return guard_wheel(s)


def _dspin(lo: float, hi: float, value: float, step: float) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setDecimals(2)
    s.setValue(value)
    return guard_wheel(s)


def _combo(items, current) -> QComboBox:
    c = QComboBox()
    # Narrow when the dock is (a laptop, 200 %): the open list still shows the whole labels.
    c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    c.setMinimumContentsLength(8)
    for label, data, *tip in items:
        c.addItem(label, data)
        if tip:
            c.setItemData(c.count() - 1, tip[0], Qt.ItemDataRole.ToolTipRole)
    _select(c, current)
    return guard_wheel(c)


def _select(combo: QComboBox, data) -> None:
    i = combo.findData(data)
    if i >= 0:
        combo.setCurrentIndex(i)
