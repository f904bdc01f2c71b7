"""Image ▸ Expand canvas: add space on any side, masked so one Run fills or paints it (a
generative expand, like Photoshop's Crop-tool expand with Generative Fill)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QHBoxLayout,
)

SIDES = ("left", "top", "right", "bottom")


class ExpandCanvasDialog(QDialog):
    """Pixels to add per side, the resulting size, and whether to mask the new area."""

    def __init__(self, width: int, height: int, max_side: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Expand canvas")
        self._size = (int(width), int(height))
        self.spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        for side in SIDES:
            spin = QSpinBox()
            spin.setRange(0, max_side)
            spin.setSuffix(" px")
            spin.setSingleStep(16)
            spin.setToolTip(f"Pixels to add on the {side}")
            spin.valueChanged.connect(self._update)
            self.spins[side] = spin
            form.addRow(side.capitalize(), spin)
        presets = QHBoxLayout()
        for percent in (10, 25, 50):
            b = QPushButton(f"{percent} % each side")
            b.setToolTip(f"Add {percent} % of the width on the left and right and {percent} % of the "
                         "height on the top and bottom")
            b.clicked.connect(lambda _=False, p=percent: self.set_percent(p))
            presets.addWidget(b)
        self.new_size = QLabel()
        self.mask_new = QCheckBox("Mask the new area (then Run fills or paints it)")
        self.mask_new.setChecked(True)
        self.mask_new.setToolTip("Replaces the mask by the added borders, so the next Run extends the "
                                 "picture into them")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.Ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(presets)
        layout.addWidget(self.new_size)
        layout.addWidget(self.mask_new)
        layout.addWidget(buttons)
        self._update()

    def set_percent(self, percent: float) -> None:
        w, h = self._size
        for side, base in zip(SIDES, (w, h, w, h)):
            self.spins[side].setValue(int(round(base * percent / 100)))

    def values(self) -> dict[str, int]:
        """Pixels per side: ``{"left": .., "top": .., "right": .., "bottom": ..}``."""
        return {side: spin.value() for side, spin in self.spins.items()}

    def _update(self, *_args) -> None:
        v = self.values()
        w, h = self._size
        self.new_size.setText(f"New size: {w + v['left'] + v['right']} × {h + v['top'] + v['bottom']} px "
                              f"(now {w} × {h})")
        self.ok.setEnabled(any(v.values()))
