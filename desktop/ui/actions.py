"""Menus, toolbars and their actions for the main window: every action has an mdi6 icon and a
tooltip that names its shortcut ("Brush (B)")."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from desktop.ui.icons import icon


def make_action(parent, name, text, slot=None, shortcuts=(), checkable=False, tip=None) -> QAction:
    """An action with the icon of ``name`` and a tooltip that shows its first shortcut."""
    action = QAction(icon(name), text, parent)
    action.setObjectName(name)
    seqs = [QKeySequence(s) for s in shortcuts]
    if seqs:
        action.setShortcuts(seqs)
    plain = (tip or text).replace("&", "").rstrip("…").rstrip(".")
    first = seqs[0].toString(QKeySequence.NativeText) if seqs else ""
    action.setToolTip(f"{plain} ({first})" if first else plain)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(slot)
    return action


def _open_batch_dialog(window):
    from desktop.ui.dialogs.batch_dialog import open_batch_dialog  # imported when asked, not at start-up

    return open_batch_dialog(window)


def build_actions(w) -> dict[str, QAction]:
    """Create the window's actions, menus and toolbars; return the actions by name."""
    a: dict[str, QAction] = {}

    def add(name, text, slot=None, shortcuts=(), **kw):
        a[name] = make_action(w, name, text, slot, shortcuts, **kw)
        return a[name]

    add("new_image", "&New…", w.new_image_dialog, [QKeySequence.New],
        tip="New image: a blank canvas of a size and colour")
    add("open", "&Open…", w.open_dialog, [QKeySequence.Open])
    add("paste", "&Paste", w.paste_image, [QKeySequence.Paste],
        tip="Paste the clipboard's image as a new layer (a new image when none is open)")
    add("paste_new", "Paste as new &image", w.paste_as_new_image, ["Ctrl+Shift+N"])
    add("batch", "&Batch…", lambda: _open_batch_dialog(w),
        tip="Batch: edit every photo of a folder with one instruction or one mask set")
    a["paste_new"].setIcon(icon("paste"))
    add("copy", "&Copy", lambda: w.copy_image(merged=False), [QKeySequence.Copy],
        tip="Copy the selected layer inside the mask")
    add("copy_merged", "Copy &merged", lambda: w.copy_image(merged=True), ["Ctrl+Shift+C"],
        tip="Copy the picture inside the mask, all layers merged")
    a["copy_merged"].setIcon(icon("copy"))
    add("save", "&Save project", w.save, [QKeySequence.Save])
    add("save_as", "Save project &as…", lambda: w.save_as(), ["Ctrl+Shift+S"])
    add("export", "&Export image…", lambda: w.export(), ["Ctrl+E"])
    add("close", "&Close", w.close_document, [QKeySequence.Close])
    add("quit", "&Quit", w.close, [QKeySequence.Quit])
    add("undo", "&Undo", w.undo, ["Ctrl+Z"])
    add("redo", "&Redo", w.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
    add("zoom_in", "Zoom &in", lambda: w.canvas.zoom_by(1.25), [QKeySequence.ZoomIn, "Ctrl+="])
    add("zoom_out", "Zoom &out", lambda: w.canvas.zoom_by(0.8), [QKeySequence.ZoomOut])
    add("fit", "&Fit to window", lambda: w.canvas.fit(), ["Ctrl+0"])
    add("actual_size", "&Actual size (100 %)", lambda: w.canvas.actual_size(), ["Ctrl+1"])
    add("reset_layout", "&Reset layout", w.reset_layout,
        tip="Reset layout: every panel back in its place, as at the first start")
    a["reset_layout"].setIcon(icon("mdi6.view-dashboard-outline"))
    add("compare", "Compare with original (hold \\)", None, checkable=True)
    a["compare"].toggled.connect(lambda on: w.canvas.set_show_original(on))
    add("models", "&Models…", w.show_models_dialog)
    add("preferences", "&Preferences…", w.show_preferences, ["Ctrl+,"])
    a["preferences"].setIcon(icon("mdi6.cog"))
    a["preferences"].setMenuRole(QAction.MenuRole.PreferencesRole)
    add("about", "&About BrushEdit Studio", w.show_about)
    add("shortcuts", "&Keyboard shortcuts…", w.show_shortcuts, ["F1"])
    a["shortcuts"].setIcon(icon("mdi6.keyboard-outline"))

    tools = QActionGroup(w)
    tools.setExclusive(True)
    for name, text, key in (
        ("brush", "Brush", "B"),
        ("eraser", "Eraser", "E"),
        ("sam", "SAM select", "S"),
        ("box", "Box mask", "M"),
        ("ellipse", "Ellipse mask", "Shift+M"),
        ("lasso", "Lasso mask", "L"),
        ("move_layer", "Move layer", "V"),
        ("paint", "Paint", "P"),
        ("remove", "Remove brush", "J"),
    ):
        act = add(name, text, lambda _=False, n=name: w.set_tool(n), [key], checkable=True)
        tools.addAction(act)
    add("shrink", "Smaller brush", lambda: w.resize_brush(-1), ["["])
    add("grow", "Bigger brush", lambda: w.resize_brush(+1), ["]"])
    add("reset_selection", "Start the selection over (SAM clicks, lasso)", w.reset_sam, ["Esc"])
    # Esc only while the canvas has focus: dialogs and text fields keep their own Esc.
    a["reset_selection"].setShortcutContext(Qt.WidgetWithChildrenShortcut)  # the window adds it to its canvas

    def lp():  # the Layers panel, built after the first frame (as the canvas is)
        return w.layers_panel

    add("duplicate_layer", "&Duplicate layer", lambda: lp().duplicate_current(), ["Ctrl+J"])
    a["duplicate_layer"].setIcon(icon("duplicate"))
    add("delete_layer", "De&lete layer", lambda: lp().delete_current(),
        tip="Delete layer (Del in the Layers list) — deleting an edit layer reverts the edit")
    a["delete_layer"].setIcon(icon("delete"))
    add("raise_layer", "&Raise layer", lambda: lp().move_current(+1), ["Ctrl+]"])
    add("lower_layer", "Lo&wer layer", lambda: lp().move_current(-1), ["Ctrl+["])
    add("erase_masked", "&Erase masked area", lambda: w.erase_masked(keep=False), [Qt.Key_Delete, Qt.Key_Backspace],
        tip="Erase masked area from the selected layer")
    add("keep_masked", "&Keep only masked area", lambda: w.erase_masked(keep=True),
        tip="Keep only the masked area of the selected layer")
    # Del / Backspace erase only while the canvas has focus: the Layers list keeps Del for
    # deleting a layer, text fields keep it for text.
    a["erase_masked"].setShortcutContext(Qt.WidgetWithChildrenShortcut)  # on the canvas, as Esc
    add("mask_from_layer", "Mask from layer &pixels", lambda: w.mask_from_layer_pixels(),
        tip="Mask from the selected layer's pixels (or Ctrl+click its row)")
    add("merge_down", "&Merge down", lambda: lp().merge_down_current(),
        tip="Merge the selected layer into the layer below")
    add("flatten", "&Flatten image", w.flatten_image, tip="Flatten image: merge all shown layers into one")
    add("layer_new_seed", "Re-run with a new &seed", lambda: lp()._emit(lp().rerun_seed_requested),
        tip="Re-run the selected edit with a new seed (adds a variation)")
    a["layer_new_seed"].setIcon(icon("new_seed"))
    add("layer_new_prompt", "Re-run with a changed &prompt…", lambda: lp()._emit(lp().rerun_prompt_requested))
    a["layer_new_prompt"].setIcon(icon("new_prompt"))
    add("layer_show_mask", "Show its m&ask", lambda: lp()._emit(lp().show_mask_requested),
        tip="Show the mask the selected edit was made with")
    a["layer_show_mask"].setIcon(icon("show_mask"))

    add("new_layer", "&New empty layer", w.new_empty_layer, ["Ctrl+Alt+N"],
        tip="New empty layer above the selected one")
    add("resize_image", "&Resize image…", w.resize_image_dialog, ["Ctrl+Alt+I"],
        tip="Resize image: scale every layer to a new size")
    add("rotate_cw", "Rotate 90° &clockwise", lambda: w.rotate_image(90))
    add("rotate_ccw", "Rotate 90° counter-clock&wise", lambda: w.rotate_image(-90))
    add("rotate_180", "Rotate &180°", lambda: w.rotate_image(180))
    add("flip_h", "Flip &horizontal", lambda: w.flip_image(True), tip="Flip horizontal: mirror left-right")
    add("flip_v", "Flip &vertical", lambda: w.flip_image(False), tip="Flip vertical: mirror top-bottom")
    add("expand_canvas", "&Expand canvas…", w.expand_canvas_dialog, ["Ctrl+Alt+C"],
        tip="Expand canvas: add space around the picture, masked for a fill or generative expand")
    add("crop_to_mask", "&Crop to mask", w.crop_to_mask, tip="Crop the canvas to the mask's bounding box")

    for op, text in (("invert", "Invert mask"), ("clear", "Clear mask"), ("fill", "Select all")):
        add(op, text, lambda _=False, n=op: w.tool_options.apply_op(n))
    a["invert"].setShortcut("Ctrl+I")
    a["invert"].setToolTip("Invert mask (Ctrl+I)")
    a["clear"].setShortcut("Ctrl+Shift+A")
    a["clear"].setToolTip("Clear mask (Ctrl+Shift+A)")
    a["fill"].setShortcut("Ctrl+A")
    a["fill"].setToolTip("Select all (Ctrl+A)")

    mb = w.menuBar()
    m = mb.addMenu("&File")
    m.addActions([a["new_image"], a["open"]])
    w.recent_menu = m.addMenu(icon("recent"), "Open &recent")
    m.addActions([a["paste_new"], a["batch"]])
    m.addSeparator()
    m.addActions([a["save"], a["save_as"], a["export"]])
    m.addSeparator()
    m.addActions([a["close"], a["quit"]])
    m = mb.addMenu("&Edit")
    m.addActions([a["undo"], a["redo"]])
    m.addSeparator()
    m.addActions([a["copy"], a["copy_merged"], a["paste"]])
    m.addSeparator()
    m.addAction(a["preferences"])
    m = mb.addMenu("&View")
    m.addActions([a["zoom_in"], a["zoom_out"], a["fit"], a["actual_size"], a["compare"]])
    m.addSeparator()
    w.panels_menu = m.addMenu("&Panels")
    m.addAction(a["reset_layout"])
    m = mb.addMenu("&Image")
    m.addActions([a["resize_image"], a["expand_canvas"], a["crop_to_mask"]])
    m.addSeparator()
    m.addActions([a["rotate_cw"], a["rotate_ccw"], a["rotate_180"], a["flip_h"], a["flip_v"]])
    m = mb.addMenu("&Layer")
    m.addActions([a["new_layer"], a["duplicate_layer"], a["delete_layer"]])
    m.addSeparator()
    m.addActions([a["raise_layer"], a["lower_layer"]])
    m.addSeparator()
    m.addActions([a["mask_from_layer"], a["erase_masked"], a["keep_masked"]])
    m.addSeparator()
    m.addActions([a["merge_down"], a["flatten"]])
    m.addSeparator()
    m.addActions([a["layer_new_seed"], a["layer_new_prompt"], a["layer_show_mask"]])
    m = mb.addMenu("&Tools")
    m.addActions([a[n] for n in ("brush", "eraser", "remove", "sam", "box", "ellipse", "lasso", "paint", "move_layer")])
    m.addSeparator()
    m.addActions([a["shrink"], a["grow"], a["reset_selection"]])
    m = mb.addMenu("&Mask")
    m.addActions([a["fill"], a["invert"], a["clear"]])
    m = mb.addMenu("E&ngine")
    m.addAction(a["models"])
    m = mb.addMenu("&Help")
    m.addActions([a["shortcuts"], a["about"]])

    top = QToolBar("File")
    top.setObjectName("fileToolbar")
    top.setIconSize(QSize(20, 20))
    top.setMovable(False)
    top.addActions([a["open"], a["save"], a["export"]])
    top.addSeparator()
    top.addActions([a["undo"], a["redo"]])
    top.addSeparator()
    top.addActions([a["zoom_out"], a["zoom_in"], a["fit"], a["actual_size"], a["compare"]])
    top.addSeparator()
    top.addAction(a["models"])
    w.addToolBar(Qt.TopToolBarArea, top)

    side = QToolBar("Tools")
    side.setObjectName("toolsToolbar")
    side.setIconSize(QSize(22, 22))
    side.setMovable(False)
    side.addActions([a[n] for n in ("brush", "eraser", "remove", "sam", "box", "ellipse", "lasso", "paint", "move_layer")])
    w.addToolBar(Qt.LeftToolBarArea, side)
    w.toolbars = [top, side]
    return a
