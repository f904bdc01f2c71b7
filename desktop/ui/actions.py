"""Menus, toolbars and their actions for the main window, made from the table in
:mod:`desktop.ui.action_table`: every action has an mdi6 icon and a tooltip that names its shortcut
("Brush (B)")."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from desktop.ui.action_table import ACTIONS, MENUS, SEPARATOR, TOOLBARS, StandardKey, Submenu
from desktop.ui.icons import icon

_ROLES = {"preferences": QAction.MenuRole.PreferencesRole}
_AREAS = {"top": Qt.TopToolBarArea, "left": Qt.LeftToolBarArea}


def key_sequence(key) -> QKeySequence:
    """A key sequence from the table: "Ctrl+J", or a :class:`StandardKey` (its first binding here)."""
    if isinstance(key, StandardKey):
        return QKeySequence(getattr(QKeySequence.StandardKey, key))
    return QKeySequence(key)


def make_action(parent, name, text, slot=None, shortcuts=(), checkable=False, tip=None, glyph=None) -> QAction:
    """An action with the icon of ``glyph`` (else ``name``) and a tooltip that shows its first shortcut."""
    action = QAction(icon(glyph or name), text, parent)
    action.setObjectName(name)
    seqs = [key_sequence(s) for s in shortcuts]
    if seqs:
        action.setShortcuts(seqs)
    plain = (tip or text).replace("&", "").rstrip("…").rstrip(".")
    first = seqs[0].toString(QKeySequence.NativeText) if seqs else ""
    action.setToolTip(f"{plain} ({first})" if first else plain)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(slot)
    return action


def build_actions(window) -> dict[str, QAction]:
    """Create ``window``'s actions, menus and toolbars from the table; return the actions by name."""
    actions: dict[str, QAction] = {}
    groups: dict[str, QActionGroup] = {}
    for spec in ACTIONS:
        run = None if spec.run is None else (lambda _checked=False, run=spec.run: run(window))
        action = make_action(window, spec.name, spec.text, run, spec.keys, spec.checkable, spec.tip, spec.icon)
        if spec.toggled is not None:
            action.toggled.connect(lambda on, toggled=spec.toggled: toggled(window, on))
        if spec.canvas_only:  # the window adds it to its canvas
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        if spec.role is not None:
            action.setMenuRole(_ROLES[spec.role])
        if spec.group is not None:
            if spec.group not in groups:
                groups[spec.group] = QActionGroup(window)
                groups[spec.group].setExclusive(True)
            groups[spec.group].addAction(action)
        actions[spec.name] = action

    bar = window.menuBar()
    for title, items in MENUS:
        menu = bar.addMenu(title)
        for item in items:
            if item == SEPARATOR:
                menu.addSeparator()
            elif isinstance(item, Submenu):
                sub = menu.addMenu(icon(item.icon), item.title) if item.icon else menu.addMenu(item.title)
                setattr(window, item.attribute, sub)
            else:
                menu.addAction(actions[item])

    window.toolbars = []
    for spec in TOOLBARS:
        toolbar = QToolBar(spec.title)
        toolbar.setObjectName(spec.object_name)
        toolbar.setIconSize(QSize(spec.icon_size, spec.icon_size))
        toolbar.setMovable(False)
        for item in spec.items:
            if item == SEPARATOR:
                toolbar.addSeparator()
            else:
                toolbar.addAction(actions[item])
        window.addToolBar(_AREAS[spec.area], toolbar)
        window.toolbars.append(toolbar)
    return actions
