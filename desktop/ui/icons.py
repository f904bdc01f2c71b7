"""Icons: Material Design Icons (mdi6) glyphs, tinted for the dark theme.

The glyphs come from the mdi6 font that qtawesome ships, painted here by a small QIconEngine:
importing qtawesome itself costs a few hundred ms at start-up (its qtpy layer star-imports
QtCore, QtGui and QtWidgets, which makes PySide6 build every class and enum), more than all the
window's icons together. qtawesome stays the fallback when the font or its charmap is not found.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QIconEngine, QPainter, QPixmap

# action name -> mdi6 glyph
GLYPHS = {
    "open": "mdi6.folder-open",
    "batch": "mdi6.folder-multiple-image",
    "recent": "mdi6.history",
    "paste": "mdi6.content-paste",
    "copy": "mdi6.content-copy",
    "save": "mdi6.content-save",
    "save_as": "mdi6.content-save-edit",
    "export": "mdi6.export",
    "close": "mdi6.close",
    "quit": "mdi6.exit-to-app",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "zoom_in": "mdi6.magnify-plus",
    "zoom_out": "mdi6.magnify-minus",
    "fit": "mdi6.fit-to-screen",
    "actual_size": "mdi6.numeric-1-box",
    "compare": "mdi6.compare",
    "brush": "mdi6.brush",
    "eraser": "mdi6.eraser",
    "sam": "mdi6.gesture-tap",
    "box": "mdi6.selection",
    "ellipse": "mdi6.selection-ellipse",
    "lasso": "mdi6.lasso",
    "move_layer": "mdi6.cursor-move",
    "paint": "mdi6.palette",
    "remove": "mdi6.bandage",
    "pan": "mdi6.hand-back-right",
    "visible": "mdi6.eye",
    "hidden": "mdi6.eye-off",
    "layers": "mdi6.layers",
    "history": "mdi6.history",
    "delete": "mdi6.delete",
    "duplicate": "mdi6.content-copy",
    "up": "mdi6.arrow-up",
    "down": "mdi6.arrow-down",
    "rename": "mdi6.pencil",
    "raise_layer": "mdi6.arrange-bring-forward",
    "lower_layer": "mdi6.arrange-send-backward",
    "erase_masked": "mdi6.vector-difference",
    "keep_masked": "mdi6.vector-intersection",
    "merge_down": "mdi6.arrow-collapse-down",
    "flatten": "mdi6.layers-minus",
    "mask_from_layer": "mdi6.selection-drag",
    "expand_canvas": "mdi6.arrow-expand-all",
    "crop_to_mask": "mdi6.crop",
    "new_image": "mdi6.file-plus-outline",
    "new_layer": "mdi6.layers-plus",
    "resize_image": "mdi6.resize",
    "rotate_cw": "mdi6.rotate-right",
    "rotate_ccw": "mdi6.rotate-left",
    "rotate_180": "mdi6.rotate-3d-variant",
    "flip_h": "mdi6.flip-horizontal",
    "flip_v": "mdi6.flip-vertical",
    "new_seed": "mdi6.dice-5",
    "new_prompt": "mdi6.text-box-edit",
    "show_mask": "mdi6.image-filter-center-focus",
    "dilate": "mdi6.arrow-expand-all",
    "erode": "mdi6.arrow-collapse-all",
    "feather": "mdi6.blur",
    "move": "mdi6.arrow-all",
    "invert": "mdi6.select-inverse",
    "clear": "mdi6.selection-off",
    "fill": "mdi6.format-color-fill",
    "to_box": "mdi6.vector-square",
    "to_ellipse": "mdi6.checkbox-blank-circle-outline",
    "models": "mdi6.download",
    "about": "mdi6.information-outline",
    "app": "mdi6.auto-fix",
    "engine": "mdi6.chip",
    "recover": "mdi6.backup-restore",
    "shrink": "mdi6.minus-circle-outline",
    "grow": "mdi6.plus-circle-outline",
    "reset_selection": "mdi6.selection-remove",
}

COLOR = "#d6d6d8"
ACTIVE = "#ffffff"
DISABLED = "#66666a"


@lru_cache(maxsize=1)
def _mdi6() -> tuple[str, dict] | None:
    """(font family, glyph name -> character) of qtawesome's mdi6 font, without importing it."""
    spec = importlib.util.find_spec("qtawesome")
    if spec is None or not spec.submodule_search_locations:
        return None
    fonts = os.path.join(list(spec.submodule_search_locations)[0], "fonts")
    ttf = sorted(glob.glob(os.path.join(fonts, "materialdesignicons6-webfont-[0-9]*.ttf")))
    charmap = sorted(glob.glob(os.path.join(fonts, "materialdesignicons6-webfont-charmap-*.json")))
    if not ttf or not charmap:
        return None
    font_id = QFontDatabase.addApplicationFont(ttf[-1])
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        return None
    with open(charmap[-1], encoding="utf-8") as f:
        chars = {k: chr(int(v, 16)) for k, v in json.load(f).items()}
    return families[0], chars


class _GlyphEngine(QIconEngine):
    """Paints one font glyph in the colour of the icon's mode (normal, active, disabled)."""

    def __init__(self, family: str, char: str, colors: dict) -> None:
        super().__init__()
        self.family, self.char, self.colors = family, char, colors

    def paint(self, painter: QPainter, rect: QRect, mode, state) -> None:
        painter.save()
        font = QFont(self.family)
        font.setPixelSize(max(1, round(0.875 * min(rect.width(), rect.height()))))
        painter.setFont(font)
        painter.setPen(self.colors.get(mode, self.colors[QIcon.Mode.Normal]))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.char)
        painter.restore()

    def pixmap(self, size: QSize, mode, state) -> QPixmap:
        pm = QPixmap(size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        self.paint(painter, QRect(0, 0, size.width(), size.height()), mode, state)
        painter.end()
        return pm

    def clone(self) -> "_GlyphEngine":
        return _GlyphEngine(self.family, self.char, self.colors)


def glyph_icon(glyph: str, color: str = None) -> QIcon | None:
    """An ``mdi6.*`` glyph as an icon painted from the font (None when it cannot be)."""
    if not glyph.startswith("mdi6."):
        return None
    font = _mdi6()
    if font is None or glyph[5:] not in font[1]:
        return None
    normal = QColor(color or COLOR)
    colors = {QIcon.Mode.Normal: normal, QIcon.Mode.Selected: normal,
              QIcon.Mode.Active: QColor(ACTIVE if color is None else color), QIcon.Mode.Disabled: QColor(DISABLED)}
    return QIcon(_GlyphEngine(font[0], font[1][glyph[5:]], colors))


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """Return the icon of action ``name`` (a key of :data:`GLYPHS` or an ``mdi6.*`` glyph)."""
    glyph = GLYPHS.get(name, name)
    painted = glyph_icon(glyph)
    if painted is not None:
        return painted
    if "." not in glyph:  # an action without a glyph of its own (its caller sets one)
        return QIcon()
    import qtawesome as qta  # only for a glyph the font above lacks

    try:
        return qta.icon(glyph, color=COLOR, color_active=ACTIVE, color_disabled=DISABLED)
    except Exception:  # an unknown glyph in an older qtawesome: fall back rather than crash
        return QIcon()


def app_icon() -> QIcon:
    """The application icon: ``resources/app_icon.svg`` when present, else the glyph."""
    svg = Path(__file__).resolve().parents[2] / "resources" / "app_icon.svg"
    if svg.exists():
        ic = QIcon(str(svg))
        if not ic.isNull():
            return ic
    painted = glyph_icon(GLYPHS["app"], "#3d8ef0")
    if painted is not None:
        return painted
    import qtawesome as qta

    return qta.icon(GLYPHS["app"], color="#3d8ef0")
