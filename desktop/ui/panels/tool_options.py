"""Tool options: brush size and hardness, hints for the click tools, and the mask operations
(dilate, erode, feather, move, invert, clear, fill, to box, to ellipse), each one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSlider,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.icons import icon

HINTS = {
    "brush": "Paint the region to repaint.  [ ] size · Space-drag pan · \\ compare",
    "eraser": "Erase from the mask.  [ ] size",
    "sam": "Click an object: left click adds, Alt+click or right click subtracts. Esc starts over.",
    "box": "Drag a box. Shift adds to the mask, Alt subtracts.",
    "ellipse": "Drag an ellipse. Shift adds to the mask, Alt subtracts.",
    "remove": "Paint over what should go: it is removed when you let go (the engine chosen in Parameters). "
              "[ ] size",
    "paint": "Paint a colour sketch on a Paint layer (never on the photo), then mask it and Run with a "
             "Strength below 1 to turn it into a picture. Alt+click picks a colour.  [ ] size",
    "move_layer": "Drag to move the layer selected in the Layers panel. Shift keeps the move straight; "
                  "the arrow keys nudge it (Shift: 10 px).",
    "lasso": "Drag around an area; release closes the outline. Shift adds to the mask, Alt subtracts, Esc cancels.",
}


class ToolOptionsPanel(QWidget):
    mask_visibility_changed = Signal(bool)

    def __init__(self, document_getter, parent=None) -> None:
        super().__init__(parent)
        self._doc = document_getter
        self.tool = None

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #a8a8ac;")

        self.brush_box = QGroupBox("Brush")
        self.size = QSlider(Qt.Horizontal)
        self.size.setRange(1, 1000)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 1000)
        self.size_spin.setSuffix(" px")
        self.size.valueChanged.connect(self.size_spin.setValue)
        self.size_spin.valueChanged.connect(self.size.setValue)
        self.size_spin.valueChanged.connect(self._apply_size)
        self.hardness = QSlider(Qt.Horizontal)
        self.hardness.setRange(0, 100)
        self.hardness_label = QLabel()
        self.hardness.valueChanged.connect(self._apply_hardness)
        form = QFormLayout(self.brush_box)
        size_row = QWidget()
        sr = QGridLayout(size_row)
        sr.setContentsMargins(0, 0, 0, 0)
        sr.addWidget(self.size, 0, 0)
        sr.addWidget(self.size_spin, 0, 1)
        hard_row = QWidget()
        hr = QGridLayout(hard_row)
        hr.setContentsMargins(0, 0, 0, 0)
        hr.addWidget(self.hardness, 0, 0)
        hr.addWidget(self.hardness_label, 0, 1)
        form.addRow("Size", size_row)
        form.addRow("Hardness", hard_row)
        # The paint tool's colour and opacity (hidden for the mask brushes).
        self.color_button = QToolButton()
        self.color_button.setToolTip("Paint colour: click to choose (Alt+click the picture picks one)")
        self.color_button.setFixedSize(46, 22)
        self.color_button.clicked.connect(self.choose_color)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(1, 100)
        self.opacity_label = QLabel()
        self.opacity.valueChanged.connect(self._apply_opacity)
        opacity_row = QWidget()
        orow = QGridLayout(opacity_row)
        orow.setContentsMargins(0, 0, 0, 0)
        orow.addWidget(self.opacity, 0, 0)
        orow.addWidget(self.opacity_label, 0, 1)
        self.color_label, self.opacity_title = QLabel("Colour"), QLabel("Opacity")
        form.addRow(self.color_label, self.color_button)
        form.addRow(self.opacity_title, opacity_row)
        self._color_dialog = None

        self.mask_box = QGroupBox("Mask")
        grid = QGridLayout(self.mask_box)
        self.amount = QSpinBox()
        self.amount.setRange(1, 200)
        self.amount.setValue(8)
        self.amount.setSuffix(" px")
        self.amount.setToolTip("How far dilate, erode, feather and move go")
        grid.addWidget(QLabel("Amount"), 0, 0)
        grid.addWidget(self.amount, 0, 1, 1, 3)
        self.op_buttons: dict[str, QToolButton] = {}
        ops = [
            ("dilate", "Grow", "Dilate (grow) the mask by Amount"),
            ("erode", "Shrink", "Erode (shrink) the mask by Amount"),
            ("feather", "Feather", "Soften the mask edge by Amount"),
            ("invert", "Invert", "Invert the mask (Ctrl+I)"),
            ("to_box", "To box", "Replace the mask by its bounding box"),
            ("to_ellipse", "To ellipse", "Replace the mask by the ellipse in its bounding box"),
            ("fill", "All", "Select everything (Ctrl+A)"),
            ("clear", "Clear", "Clear the mask (Ctrl+Shift+A)"),
        ]
        for i, (name, text, tip) in enumerate(ops):
            b = self._op_button(name, tip, lambda _=False, n=name: self.apply_op(n), text)
            grid.addWidget(b, 1 + i // 2, 2 * (i % 2), 1, 2)
        for i, (name, glyph, dx, dy) in enumerate(
            (("left", "mdi6.arrow-left", -1, 0), ("up", "mdi6.arrow-up", 0, -1),
             ("down", "mdi6.arrow-down", 0, 1), ("right", "mdi6.arrow-right", 1, 0))
        ):
            b = self._op_button(glyph, f"Move the mask {name}", lambda _=False, x=dx, y=dy: self.move_mask(x, y))
            self.op_buttons["move_" + name] = b
            grid.addWidget(b, 6, i)
        grid.addWidget(QLabel("Move by Amount"), 5, 0, 1, 4)
        self.show_mask = QCheckBox("Show mask overlay")
        self.show_mask.setChecked(True)
        self.show_mask.toggled.connect(self.mask_visibility_changed)
        grid.addWidget(self.show_mask, 7, 0, 1, 4)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.hint)
        layout.addWidget(self.brush_box)
        layout.addWidget(self.mask_box)
        layout.addStretch(1)
        self.set_tool(None)

    def _op_button(self, name, tip, slot, text="") -> QToolButton:
        b = QToolButton()
        b.setIcon(icon(name))
        if text:
            b.setText(text)
            b.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            b.setProperty("maskOp", True)
            b.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.clicked.connect(slot)
        self.op_buttons[name] = b
        return b

    def set_tool(self, tool) -> None:
        if self.tool is not None:
            try:
                self.tool.changed.disconnect(self._sync)
            except Exception:
                pass
        self.tool = tool
        if tool is not None:
            tool.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        tool = self.tool
        name = getattr(tool, "name", "")
        self.hint.setText(HINTS.get(name, ""))
        is_brush = hasattr(tool, "hardness")
        self.brush_box.setVisible(is_brush)
        if is_brush:
            self.brush_box.setTitle(tool.label)
            for w in (self.size_spin, self.size, self.hardness):
                w.blockSignals(True)
            self.size_spin.setValue(tool.size)
            self.size.setValue(tool.size)
            self.hardness.setValue(int(round(tool.hardness * 100)))
            for w in (self.size_spin, self.size, self.hardness):
                w.blockSignals(False)
            self.hardness_label.setText(f"{self.hardness.value()} %")
        has_color = hasattr(tool, "color")
        for w in (self.color_label, self.color_button, self.opacity_title, self.opacity, self.opacity_label):
            w.setVisible(has_color)
        if has_color:
            self.color_button.setStyleSheet(
                "QToolButton { background: rgb(%d, %d, %d); border: 1px solid #6a6a70; border-radius: 3px; }"
                % tool.color)
            self.opacity.blockSignals(True)
            self.opacity.setValue(int(round(tool.opacity * 100)))
            self.opacity.blockSignals(False)
            self.opacity_label.setText(f"{self.opacity.value()} %")

    def choose_color(self) -> None:
        """A colour dialog that never blocks: the tool follows the colour as it changes."""
        from PySide6.QtGui import QColor
        from PySide6.QtWidgets import QColorDialog

        tool = self.tool
        if not hasattr(tool, "color"):
            return
        dialog = QColorDialog(QColor(*tool.color), self)
        dialog.setWindowTitle("Paint colour")
        dialog.currentColorChanged.connect(lambda c: setattr(tool, "color", (c.red(), c.green(), c.blue())))
        old = tool.color
        dialog.rejected.connect(lambda: setattr(tool, "color", old))  # Cancel puts it back
        dialog.open()
        self._color_dialog = dialog

    def _apply_opacity(self, value) -> None:
        self.opacity_label.setText(f"{value} %")
        if hasattr(self.tool, "opacity"):
            self.tool.opacity = value / 100

    def _apply_size(self, value) -> None:
        if hasattr(self.tool, "size"):
            self.tool.size = value

    def _apply_hardness(self, value) -> None:
        self.hardness_label.setText(f"{value} %")
        if hasattr(self.tool, "hardness"):
            self.tool.hardness = value / 100

    def apply_op(self, name: str) -> None:
        doc = self._doc()
        if doc is None:
            return
        if name in ("dilate", "erode", "feather"):
            doc.mask_op(name, px=self.amount.value())
        else:
            doc.mask_op(name)

    def move_mask(self, dx: int, dy: int) -> None:
        doc = self._doc()
        if doc is not None:
            step = self.amount.value()
            doc.mask_op("move", dx=dx * step, dy=dy * step)
