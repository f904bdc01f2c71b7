"""Every action of the main window declared once, as data: no Qt here.

napari lists each ``Action(id, title, callback, keybindings)`` in ``_app_model/actions/``; so do we.
:data:`ACTIONS` holds each action's name, text, shortcuts, tooltip and what it runs (a function of
the window); :data:`MENUS` and :data:`TOOLBARS` say where each appears. ``desktop.ui.actions.
build_actions(window)`` loops over them to make the ``QAction``\\ s, menus and toolbars, and the
shortcuts dialog reads the actions back, so neither can drift from the table.

An action's tooltip is its ``tip`` (else its text) with its first shortcut: "Brush (B)". A
``run`` that reaches the canvas or a panel looks it up when triggered: in a staged window the
actions exist before the body does (see ``MainWindow.__getattr__``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class StandardKey(str):
    """A platform's standard shortcut by its name in ``QKeySequence.StandardKey`` ("Open": Ctrl+O
    here, ⌘O on a Mac)."""


@dataclass(frozen=True)
class Action:
    """One action of the window.

    ``run(window)`` is called when it is triggered; ``toggled(window, on)`` when a checkable one is
    toggled. ``keys`` are key sequences ("Ctrl+J") or :class:`StandardKey`\\ s, the first shown in
    the tooltip. ``icon`` names the icon when it is not the action's own ``name``. ``canvas_only``:
    the shortcut acts only while the canvas has focus (dialogs, text fields and the Layers list keep
    their own Esc and Del). ``group``: checkable actions of one exclusive group. ``role``: the
    menu role on a Mac ("preferences").
    """

    name: str
    text: str
    run: Callable[[Any], object] | None = None
    keys: tuple[str, ...] = ()
    tip: str | None = None
    icon: str | None = None
    checkable: bool = False
    toggled: Callable[[Any, bool], object] | None = None
    canvas_only: bool = False
    group: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Submenu:
    """A submenu the window fills itself, kept as ``window.<attribute>``."""

    attribute: str
    title: str
    icon: str | None = None


@dataclass(frozen=True)
class Toolbar:
    title: str
    object_name: str
    icon_size: int
    area: str  # "top" or "left"
    items: tuple[str, ...]


SEPARATOR = "-"


def _open_batch_dialog(window):
    from desktop.ui.dialogs.batch_dialog import open_batch_dialog  # imported when asked, not at start-up

    return open_batch_dialog(window)


def _layer_request(signal_name: str) -> Callable[[Any], None]:
    """Ask for the Layers panel's ``signal_name`` on its selected edit layer."""
    def run(window) -> None:
        panel = window.layers_panel  # built after the first frame, as the canvas is
        panel._emit(getattr(panel, signal_name))
    return run


# (name, text, key) of the canvas tools, in the order they are created.
TOOLS = (("brush", "Brush", "B"), ("eraser", "Eraser", "E"), ("sam", "SAM select", "S"), ("box", "Box mask", "M"),
         ("ellipse", "Ellipse mask", "Shift+M"), ("lasso", "Lasso mask", "L"), ("move_layer", "Move layer", "V"),
         ("paint", "Paint", "P"), ("remove", "Remove brush", "J"))
# The order the Tools menu and toolbar show them.
TOOL_ORDER = ("brush", "eraser", "remove", "sam", "box", "ellipse", "lasso", "paint", "move_layer")


def _tool(name: str, text: str, key: str) -> Action:
    return Action(name, text, lambda window: window.set_tool(name), (key,), checkable=True, group="tools")


def _mask_op(name: str, text: str, key: str) -> Action:
    return Action(name, text, lambda window: window.tool_options.apply_op(name), (key,))


ACTIONS: tuple[Action, ...] = (
    # File and Edit
    Action("new_image", "&New…", lambda window: window.new_image_dialog(), (StandardKey("New"),),
           tip="New image: a blank canvas of a size and colour"),
    Action("open", "&Open…", lambda window: window.open_dialog(), (StandardKey("Open"),)),
    Action("paste", "&Paste", lambda window: window.paste_image(), (StandardKey("Paste"),),
           tip="Paste the clipboard's image as a new layer (a new image when none is open)"),
    Action("paste_new", "Paste as new &image", lambda window: window.paste_as_new_image(), ("Ctrl+Shift+N",),
           icon="paste"),
    Action("batch", "&Batch…", _open_batch_dialog,
           tip="Batch: edit every photo of a folder with one instruction or one mask set"),
    Action("copy", "&Copy", lambda window: window.copy_image(merged=False), (StandardKey("Copy"),),
           tip="Copy the selected layer inside the mask"),
    Action("copy_merged", "Copy &merged", lambda window: window.copy_image(merged=True), ("Ctrl+Shift+C",),
           tip="Copy the picture inside the mask, all layers merged", icon="copy"),
    Action("save", "&Save project", lambda window: window.save(), (StandardKey("Save"),)),
    Action("save_as", "Save project &as…", lambda window: window.save_as(), ("Ctrl+Shift+S",)),
    Action("export", "&Export image…", lambda window: window.export(), ("Ctrl+E",)),
    Action("close", "&Close", lambda window: window.close_document(), (StandardKey("Close"),)),
    Action("quit", "&Quit", lambda window: window.close(), (StandardKey("Quit"),)),
    Action("undo", "&Undo", lambda window: window.undo(), ("Ctrl+Z",)),
    Action("redo", "&Redo", lambda window: window.redo(), ("Ctrl+Shift+Z", "Ctrl+Y")),
    # View
    Action("zoom_in", "Zoom &in", lambda window: window.canvas.zoom_by(1.25), (StandardKey("ZoomIn"), "Ctrl+=")),
    Action("zoom_out", "Zoom &out", lambda window: window.canvas.zoom_by(0.8), (StandardKey("ZoomOut"),)),
    Action("fit", "&Fit to window", lambda window: window.canvas.fit(), ("Ctrl+0",)),
    Action("actual_size", "&Actual size (100 %)", lambda window: window.canvas.actual_size(), ("Ctrl+1",)),
    Action("reset_layout", "&Reset layout", lambda window: window.reset_layout(),
           tip="Reset layout: every panel back in its place, as at the first start", icon="mdi6.view-dashboard-outline"),
    Action("compare", "Compare with original (hold \\)", checkable=True,
           toggled=lambda window, on: window.canvas.set_show_original(on)),
    # Engine, Preferences, Help
    Action("models", "&Models…", lambda window: window.show_models_dialog()),
    Action("preferences", "&Preferences…", lambda window: window.show_preferences(), ("Ctrl+,",),
           icon="mdi6.cog", role="preferences"),
    Action("about", "&About BrushEdit Studio", lambda window: window.show_about()),
    Action("shortcuts", "&Keyboard shortcuts…", lambda window: window.show_shortcuts(), ("F1",),
           icon="mdi6.keyboard-outline"),
    # Tools
    *(_tool(name, text, key) for name, text, key in TOOLS),
    Action("shrink", "Smaller brush", lambda window: window.resize_brush(-1), ("[",)),
    Action("grow", "Bigger brush", lambda window: window.resize_brush(+1), ("]",)),
    Action("reset_selection", "Start the selection over (SAM clicks, lasso)", lambda window: window.reset_sam(),
           ("Esc",), canvas_only=True),  # the window adds it to its canvas
    # Layer
    Action("duplicate_layer", "&Duplicate layer", lambda window: window.layers_panel.duplicate_current(),
           ("Ctrl+J",), icon="duplicate"),
    Action("delete_layer", "De&lete layer", lambda window: window.layers_panel.delete_current(),
           tip="Delete layer (Del in the Layers list) — deleting an edit layer reverts the edit", icon="delete"),
    Action("raise_layer", "&Raise layer", lambda window: window.layers_panel.move_current(+1), ("Ctrl+]",)),
    Action("lower_layer", "Lo&wer layer", lambda window: window.layers_panel.move_current(-1), ("Ctrl+[",)),
    # Del / Backspace erase only while the canvas has focus: the Layers list keeps Del for deleting a
    # layer, text fields keep it for text.
    Action("erase_masked", "&Erase masked area", lambda window: window.erase_masked(keep=False), ("Del", "Backspace"),
           tip="Erase masked area from the selected layer", canvas_only=True),
    Action("keep_masked", "&Keep only masked area", lambda window: window.erase_masked(keep=True),
           tip="Keep only the masked area of the selected layer"),
    Action("mask_from_layer", "Mask from layer &pixels", lambda window: window.mask_from_layer_pixels(),
           tip="Mask from the selected layer's pixels (or Ctrl+click its row)"),
    Action("merge_down", "&Merge down", lambda window: window.layers_panel.merge_down_current(),
           tip="Merge the selected layer into the layer below"),
    Action("flatten", "&Flatten image", lambda window: window.flatten_image(),
           tip="Flatten image: merge all shown layers into one"),
    Action("layer_new_seed", "Re-run with a new &seed", _layer_request("rerun_seed_requested"),
           tip="Re-run the selected edit with a new seed (adds a variation)", icon="new_seed"),
    Action("layer_new_prompt", "Re-run with a changed &prompt…", _layer_request("rerun_prompt_requested"),
           icon="new_prompt"),
    Action("layer_show_mask", "Show its m&ask", _layer_request("show_mask_requested"),
           tip="Show the mask the selected edit was made with", icon="show_mask"),
    Action("new_layer", "&New empty layer", lambda window: window.new_empty_layer(), ("Ctrl+Alt+N",),
           tip="New empty layer above the selected one"),
    # Image
    Action("resize_image", "&Resize image…", lambda window: window.resize_image_dialog(), ("Ctrl+Alt+I",),
           tip="Resize image: scale every layer to a new size"),
    Action("rotate_cw", "Rotate 90° &clockwise", lambda window: window.rotate_image(90)),
    Action("rotate_ccw", "Rotate 90° counter-clock&wise", lambda window: window.rotate_image(-90)),
    Action("rotate_180", "Rotate &180°", lambda window: window.rotate_image(180)),
    Action("flip_h", "Flip &horizontal", lambda window: window.flip_image(True), tip="Flip horizontal: mirror left-right"),
    Action("flip_v", "Flip &vertical", lambda window: window.flip_image(False), tip="Flip vertical: mirror top-bottom"),
    Action("expand_canvas", "&Expand canvas…", lambda window: window.expand_canvas_dialog(), ("Ctrl+Alt+C",),
           tip="Expand canvas: add space around the picture, masked for a fill or generative expand"),
    Action("crop_to_mask", "&Crop to mask", lambda window: window.crop_to_mask(),
           tip="Crop the canvas to the mask's bounding box"),
    # Mask
    _mask_op("invert", "Invert mask", "Ctrl+I"),
    _mask_op("clear", "Clear mask", "Ctrl+Shift+A"),
    _mask_op("fill", "Select all", "Ctrl+A"),
)

S = SEPARATOR
MENUS: tuple[tuple[str, tuple], ...] = (
    ("&File", ("new_image", "open", Submenu("recent_menu", "Open &recent", "recent"), "paste_new", "batch", S,
               "save", "save_as", "export", S, "close", "quit")),
    ("&Edit", ("undo", "redo", S, "copy", "copy_merged", "paste", S, "preferences")),
    ("&View", ("zoom_in", "zoom_out", "fit", "actual_size", "compare", S, Submenu("panels_menu", "&Panels"),
               "reset_layout")),
    ("&Image", ("resize_image", "expand_canvas", "crop_to_mask", S, "rotate_cw", "rotate_ccw", "rotate_180",
                "flip_h", "flip_v")),
    ("&Layer", ("new_layer", "duplicate_layer", "delete_layer", S, "raise_layer", "lower_layer", S,
                "mask_from_layer", "erase_masked", "keep_masked", S, "merge_down", "flatten", S,
                "layer_new_seed", "layer_new_prompt", "layer_show_mask")),
    ("&Tools", (*TOOL_ORDER, S, "shrink", "grow", "reset_selection")),
    ("&Mask", ("fill", "invert", "clear")),
    ("E&ngine", ("models",)),
    ("&Help", ("shortcuts", "about")),
)

TOOLBARS: tuple[Toolbar, ...] = (
    Toolbar("File", "fileToolbar", 20, "top", ("open", "save", "export", S, "undo", "redo", S, "zoom_out", "zoom_in",
                                                "fit", "actual_size", "compare", S, "models")),
    Toolbar("Tools", "toolsToolbar", 22, "left", TOOL_ORDER),
)
del S
