"""The action table on plain data: no Qt, no window. Built into QActions by ``build_actions``
(tests/desktop/ui/test_shortcuts_dialog.py and the window tests drive those)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop.ui.action_table import ACTIONS, MENUS, SEPARATOR, TOOLBARS, StandardKey, Submenu

ROOT = Path(__file__).resolve().parents[3]
BY_NAME = {spec.name: spec for spec in ACTIONS}


class Recorder:
    """A stand-in window: records every call made on it, however deep (``canvas.zoom_by(1.25)``)."""

    def __init__(self, calls=None, path=""):
        self._calls, self._path = (calls if calls is not None else []), path

    def __getattr__(self, name):
        return Recorder(self._calls, f"{self._path}.{name}" if self._path else name)

    def __call__(self, *args, **kwargs):
        self._calls.append((self._path, args, kwargs))
        return None


def _run(name):
    window = Recorder()
    BY_NAME[name].run(window)
    return window._calls


def test_importing_the_table_imports_no_qt():
    code = ("import sys; import desktop.ui.action_table; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_names_are_unique_and_every_action_is_in_a_menu():
    assert len(BY_NAME) == len(ACTIONS)
    in_menus = [item for _title, items in MENUS for item in items if isinstance(item, str) and item != SEPARATOR]
    assert len(in_menus) == len(set(in_menus))  # each action once: the shortcuts dialog names its menu
    assert set(in_menus) == set(BY_NAME)
    for toolbar in TOOLBARS:
        assert {i for i in toolbar.items if i != SEPARATOR} <= set(BY_NAME)
    assert {s.attribute for _t, items in MENUS for s in items if isinstance(s, Submenu)} == {"recent_menu", "panels_menu"}


def test_no_two_actions_share_a_key():
    keys = [key for spec in ACTIONS for key in spec.keys]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert all(isinstance(k, str) for k in keys)
    assert {k for k in keys if isinstance(k, StandardKey)} == {"New", "Open", "Paste", "Copy", "Save", "Close",
                                                                "Quit", "ZoomIn", "ZoomOut"}


@pytest.mark.parametrize("name,call", [
    ("open", ("open_dialog", (), {})),
    ("copy_merged", ("copy_image", (), {"merged": True})),
    ("zoom_in", ("canvas.zoom_by", (1.25,), {})),
    ("zoom_out", ("canvas.zoom_by", (0.8,), {})),
    ("lasso", ("set_tool", ("lasso",), {})),
    ("remove", ("set_tool", ("remove",), {})),
    ("shrink", ("resize_brush", (-1,), {})),
    ("raise_layer", ("layers_panel.move_current", (1,), {})),
    ("keep_masked", ("erase_masked", (), {"keep": True})),
    ("rotate_ccw", ("rotate_image", (-90,), {})),
    ("flip_v", ("flip_image", (False,), {})),
    ("invert", ("tool_options.apply_op", ("invert",), {})),
    ("fill", ("tool_options.apply_op", ("fill",), {})),
    ("quit", ("close", (), {})),
])
def test_each_action_runs_what_its_name_says(name, call):
    assert _run(name) == [call]


def test_an_edit_layers_requests_go_through_the_panel_with_its_signal():
    calls = _run("layer_new_seed")
    assert len(calls) == 1
    path, args, _kw = calls[0]
    assert path == "layers_panel._emit" and args[0]._path == "layers_panel.rerun_seed_requested"


def test_every_action_but_compare_runs_something_and_only_checkables_toggle():
    for spec in ACTIONS:
        if spec.name == "compare":
            window = Recorder()
            spec.toggled(window, True)
            assert spec.run is None and window._calls == [("canvas.set_show_original", (True,), {})]
            continue
        if spec.name == "batch":  # opens a dialog module: checked by tests/desktop/ui/test_batch_dialog.py
            continue
        assert spec.toggled is None and len(_run(spec.name)) == 1, spec.name
        assert not spec.checkable or spec.group == "tools", spec.name
