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
    seqs = [QKeySequence(s) if isinstance(s, str) else QKeySequence(s) for s in shortcuts]
    if seqs:
        action.setShortcuts(seqs)
    plain = (tip or text).replace("&", "").rstrip("…").rstrip(".")
    first = seqs[0].toString(QKeySequence.NativeText) if seqs else ""
    action.setToolTip(f"{plain} ({first})" if first else plain)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(slot)
    return action


def build_actions(w) -> dict[str, QAction]:
    """Create the window's actions, menus and toolbars; return the actions by name."""
    a: dict[str, QAction] = {}

    def add(name, text, slot=None, shortcuts=(), **kw):
        a[name] = make_action(w, name, text, slot, shortcuts, **kw)
        return a[name]

    add("open", "&Open…", w.open_dialog, [QKeySequence.Open])
    add("paste", "&Paste image", w.paste_image, [QKeySequence.Paste])
    add("save", "&Save project", w.save, [QKeySequence.Save])
    add("save_as", "Save project &as…", lambda: w.save_as(), ["Ctrl+Shift+S"])
    add("export", "&Export image…", lambda: w.export(), ["Ctrl+E"])
    add("close", "&Close", w.close_document, [QKeySequence.Close])
    add("quit", "&Quit", w.close, [QKeySequence.Quit])
    add("undo", "&Undo", w.undo, ["Ctrl+Z"])
    add("redo", "&Redo", w.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
    add("zoom_in", "Zoom &in", lambda: w.canvas.zoom_by(1.25), [QKeySequence.ZoomIn, "Ctrl+="])
    add("zoom_out", "Zoom &out", lambda: w.canvas.zoom_by(0.8), [QKeySequence.ZoomOut])
    add("fit", "&Fit to window", w.canvas.fit, ["Ctrl+0"])
    add("actual_size", "&Actual size (100 %)", w.canvas.actual_size, ["Ctrl+1"])
    add("compare", "Compare with original (hold \\)", None, checkable=True)
    a["compare"].toggled.connect(w.canvas.set_show_original)
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
    ):
        act = add(name, text, lambda _=False, n=name: w.set_tool(n), [key], checkable=True)
        tools.addAction(act)
    add("shrink", "Smaller brush", lambda: w.resize_brush(-1), ["["])
    add("grow", "Bigger brush", lambda: w.resize_brush(+1), ["]"])
    add("reset_selection", "Start a new SAM selection", w.reset_sam, ["Esc"])
    # Esc only while the canvas has focus: dialogs and text fields keep their own Esc.
    a["reset_selection"].setShortcutContext(Qt.WidgetWithChildrenShortcut)
    w.canvas.addAction(a["reset_selection"])
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
    m.addActions([a["open"]])
    w.recent_menu = m.addMenu(icon("recent"), "Open &recent")
    m.addActions([a["paste"]])
    m.addSeparator()
    m.addActions([a["save"], a["save_as"], a["export"]])
    m.addSeparator()
    m.addActions([a["close"], a["quit"]])
    m = mb.addMenu("&Edit")
    m.addActions([a["undo"], a["redo"]])
    m.addSeparator()
    m.addAction(a["preferences"])
    m = mb.addMenu("&View")
    m.addActions([a["zoom_in"], a["zoom_out"], a["fit"], a["actual_size"], a["compare"]])
    m.addSeparator()
    w.panels_menu = m.addMenu("&Panels")
    m = mb.addMenu("&Tools")
    m.addActions([a[n] for n in ("brush", "eraser", "sam", "box", "ellipse")])
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
    side.addActions([a[n] for n in ("brush", "eraser", "sam", "box", "ellipse")])
    w.addToolBar(Qt.LeftToolBarArea, side)
    w.toolbars = [top, side]
    return a
