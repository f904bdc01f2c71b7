"""Icons: Material Design Icons (mdi6) glyphs through qtawesome, tinted for the dark theme."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

# action name -> mdi6 glyph
GLYPHS = {
    "open": "mdi6.folder-open",
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


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """Return the icon of action ``name`` (a key of :data:`GLYPHS` or an ``mdi6.*`` glyph)."""
    import qtawesome as qta  # imported on first use: keeps start-up lean

    glyph = GLYPHS.get(name, name)
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
    import qtawesome as qta

    return qta.icon(GLYPHS["app"], color="#3d8ef0")
