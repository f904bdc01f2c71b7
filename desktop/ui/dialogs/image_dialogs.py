"""Small non-blocking dialogs for whole images: File ▸ New, Image ▸ Resize, export quality.

Each is opened with ``open()`` (the window keeps running) and read back through ``values()``
when accepted.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
)

SIZE_PRESETS = (("1920 × 1080 (Full HD)", 1920, 1080), ("1080 × 1080 (square post)", 1080, 1080),
                ("1080 × 1920 (story)", 1080, 1920), ("2480 × 3508 (A4, 300 dpi)", 2480, 3508),
                ("1024 × 1024", 1024, 1024), ("512 × 512 (SD 1.5)", 512, 512))
BACKGROUNDS = (("White", (255, 255, 255, 255)), ("Black", (0, 0, 0, 255)),
               ("Transparent", None), ("Colour…", "pick"))


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _size_spin(value: int, max_side: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(1, max_side)
    spin.setValue(value)
    spin.setSuffix(" px")
    spin.setToolTip(tip)
    return spin


class NewImageDialog(QDialog):
    """File ▸ New: a blank canvas of a size and background colour."""

    def __init__(self, max_side: int, parent=None, width: int = 1920, height: int = 1080) -> None:
        super().__init__(parent)
        self.setWindowTitle("New image")
        self.setObjectName("newImageDialog")
        self.preset = QComboBox()
        self.preset.addItem("Custom", None)
        for label, w, h in SIZE_PRESETS:
            self.preset.addItem(label, (w, h))
        self.preset.setToolTip("A common size")
        self.preset.currentIndexChanged.connect(self._use_preset)
        self.width_spin = _size_spin(width, max_side, "Width of the new image")
        self.height_spin = _size_spin(height, max_side, "Height of the new image")
        # The preset names the size in the fields (1920 × 1080 is "Full HD", not "Custom").
        self._applying_preset = False
        self.width_spin.valueChanged.connect(self._follow_size)
        self.height_spin.valueChanged.connect(self._follow_size)
        self._follow_size()
        self.background = QComboBox()
        for label, value in BACKGROUNDS:
            self.background.addItem(label, value)
        self.background.setToolTip("What the Background layer is filled with")
        self.background.activated.connect(self._background_chosen)
        self._picked = QColor(128, 128, 128)
        self.swatch = QLabel()
        self.swatch.setFixedSize(22, 22)
        self._show_swatch()
        bg_row = QHBoxLayout()
        bg_row.addWidget(self.background, 1)
        bg_row.addWidget(self.swatch)
        form = QFormLayout()
        form.addRow("Size", self.preset)
        form.addRow("Width", self.width_spin)
        form.addRow("Height", self.height_spin)
        form.addRow("Background", bg_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_buttons(self))

    def _use_preset(self, _index: int) -> None:
        size = self.preset.currentData()
        if size:
            self._applying_preset = True
            try:
                self.width_spin.setValue(size[0])
                self.height_spin.setValue(size[1])
            finally:
                self._applying_preset = False

    def _follow_size(self, _value: int = 0) -> None:
        """Show the preset of the size typed (or "Custom" for none), without changing the size."""
        if self._applying_preset:
            return
        size = (self.width_spin.value(), self.height_spin.value())
        index = next((i for i in range(1, self.preset.count()) if tuple(self.preset.itemData(i) or ()) == size), 0)
        self.preset.blockSignals(True)
        try:
            self.preset.setCurrentIndex(index)
        finally:
            self.preset.blockSignals(False)

    def _background_chosen(self, _index: int) -> None:
        if self.background.currentData() == "pick":
            picker = QColorDialog(self._picked, self)
            picker.setWindowTitle("Background colour")
            picker.colorSelected.connect(self._set_picked)
            picker.open()
            self._picker = picker
        self._show_swatch()

    def _set_picked(self, color: QColor) -> None:
        self._picked = QColor(color)
        self._show_swatch()

    def _show_swatch(self) -> None:
        rgba = self.color()
        if rgba is None:
            style = "background: qlineargradient(x1:0, y1:0, x2:1, y2:1, stop:0 #ccc, stop:1 #666);"
        else:
            style = f"background: rgb({rgba[0]}, {rgba[1]}, {rgba[2]});"
        self.swatch.setStyleSheet(style + " border: 1px solid #888;")

    def color(self):
        """The background as (r, g, b, a), or None for transparent."""
        value = self.background.currentData()
        if value == "pick":
            return (self._picked.red(), self._picked.green(), self._picked.blue(), 255)
        return value

    def values(self) -> dict:
        return {"width": self.width_spin.value(), "height": self.height_spin.value(),
                "background": self.color()}


class ResizeImageDialog(QDialog):
    """Image ▸ Resize: a new size in px or per cent, aspect ratio kept by default, a resampler."""

    RESAMPLERS = (("Lanczos (sharpest)", "lanczos"), ("Bicubic", "bicubic"),
                  ("Bilinear", "bilinear"), ("Nearest (pixel art)", "nearest"))

    def __init__(self, width: int, height: int, max_side: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Resize image")
        self.setObjectName("resizeImageDialog")
        self._size = (int(width), int(height))
        self.width_spin = _size_spin(width, max_side, "New width")
        self.height_spin = _size_spin(height, max_side, "New height")
        self.keep_ratio = QCheckBox("Keep the aspect ratio")
        self.keep_ratio.setChecked(True)
        self.percent = QSpinBox()
        self.percent.setRange(1, 1000)
        self.percent.setValue(100)
        self.percent.setSuffix(" %")
        self.percent.setToolTip("Scale both sides by this much")
        self.resample = QComboBox()
        for label, value in self.RESAMPLERS:
            self.resample.addItem(label, value)
        self.resample.setToolTip("How new pixels are computed")
        self._syncing = False
        self.width_spin.valueChanged.connect(lambda v: self._sync("w", v))
        self.height_spin.valueChanged.connect(lambda v: self._sync("h", v))
        self.percent.valueChanged.connect(lambda v: self._sync("p", v))
        form = QFormLayout()
        form.addRow("Width", self.width_spin)
        form.addRow("Height", self.height_spin)
        form.addRow("Scale", self.percent)
        form.addRow("", self.keep_ratio)
        form.addRow("Resample", self.resample)
        self.note = QLabel(f"Now {width} × {height} px")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(_buttons(self))

    def _sync(self, which: str, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        w0, h0 = self._size
        try:
            if which == "p":
                self.width_spin.setValue(max(1, round(w0 * value / 100)))
                self.height_spin.setValue(max(1, round(h0 * value / 100)))
            elif self.keep_ratio.isChecked():
                if which == "w":
                    self.height_spin.setValue(max(1, round(h0 * value / w0)))
                else:
                    self.width_spin.setValue(max(1, round(w0 * value / h0)))
        finally:
            self._syncing = False

    def values(self) -> dict:
        return {"width": self.width_spin.value(), "height": self.height_spin.value(),
                "resample": self.resample.currentData()}


class ExportOptionsDialog(QDialog):
    """Quality for a JPEG or WebP export (and lossless for WebP), asked after the file name."""

    def __init__(self, fmt: str, quality: int = 92, lossless: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {fmt}")
        self.setObjectName("exportOptionsDialog")
        self.quality = QSlider(Qt.Horizontal)
        self.quality.setRange(1, 100)
        self.quality.setValue(int(quality))
        self.quality.setToolTip("Higher keeps more detail in a larger file")
        self.quality_label = QLabel()
        self.quality_label.setMinimumWidth(32)
        self.quality.valueChanged.connect(lambda v: self.quality_label.setText(str(v)))
        self.quality_label.setText(str(self.quality.value()))
        row = QHBoxLayout()
        row.addWidget(QLabel("Quality"))
        row.addWidget(self.quality, 1)
        row.addWidget(self.quality_label)
        self.lossless = QCheckBox("Lossless (larger file, exact pixels)")
        self.lossless.setChecked(bool(lossless))
        self._webp = fmt == "WebP"
        self.lossless.setVisible(self._webp)
        self.lossless.toggled.connect(lambda on: self.quality.setEnabled(not on))
        self.quality.setEnabled(not self.lossless.isChecked())
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.lossless)
        layout.addWidget(_buttons(self))
        self.setMinimumWidth(320)

    def values(self) -> dict:
        return {"quality": self.quality.value(), "lossless": self._webp and self.lossless.isChecked()}

