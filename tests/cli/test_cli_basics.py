"""The CLI's surface: help, version, usage errors as one line, and cheap start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import ROOT


def test_help_lists_every_subcommand(brushedit):
    r = brushedit("--help")
    assert r.code == 0, r
    for word in ("edit", "plan", "models", "doctor", "exit codes"):
        assert word in r.out


@pytest.mark.parametrize("sub", ["edit", "plan", "models", "doctor"])
def test_each_subcommand_has_help(brushedit, sub):
    r = brushedit(sub, "--help")
    assert r.code == 0, r
    assert "usage: brushedit " + sub in r.out


def test_version(brushedit):
    from engine.version import __version__

    r = brushedit("--version")
    assert r.code == 0 and r.out.strip() == f"brushedit {__version__}"


@pytest.mark.parametrize("args", [
    ["edit", "--frobnicate"],
    ["edit"],
    ["models"],
    ["models", "explode"],
    ["edit", "x.png", "-o", "y.png", "--steps", "zero"],
    ["edit", "x.png", "-o", "y.png", "--engine", "magic"],
])
def test_bad_usage_is_one_line_and_exit_2(brushedit, args):
    r = brushedit(*args)
    assert r.code == 2, r
    assert len(r.err_lines) == 1 and r.err_lines[0].startswith("brushedit: error:"), r
    assert "Traceback" not in r.err


def test_installed_console_script(brushedit):
    script = Path(sys.executable).with_name("brushedit")
    if not script.exists():
        pytest.skip("the package is not installed in this environment")
    r = brushedit("--version", executable=str(script))
    assert r.code == 0 and r.out.startswith("brushedit ")
    r = brushedit("no-such-command", executable=str(script))
    assert r.code == 2 and len(r.err_lines) == 1, r


def test_help_and_models_list_do_not_import_torch():
    code = (
        "import sys, contextlib, io\n"
        "from cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help']) == 0\n"
        "    assert main(['models', 'list']) == 0\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_fill_edit_and_an_offline_plan_do_not_import_torch(photos, tmp_path, isolated_env):
    """Only BrushEdit, the detectors and doctor need torch: the fill path starts fast."""
    code = (
        "import sys, contextlib, io\n"
        "from cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['edit', {str(photos / 'cat.png')!r}, 'remove the cat', '--mask',\n"
        f"                 {str(photos / 'cat_mask.png')!r}, '-o', {str(tmp_path / 'o.png')!r}, '-q']) == 0\n"
        f"    assert main(['plan', {str(photos / 'cat.png')!r}, 'make it look like winter',\n"
        f"                 '--mask-out', {str(tmp_path / 'm.png')!r}, '-q']) == 0\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env=isolated_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "o.png").is_file() and (tmp_path / "m.png").is_file()
