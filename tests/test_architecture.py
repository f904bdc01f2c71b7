"""The arrows of DESIGN.md, enforced: import-linter contracts plus a start-up import check."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" not in proc.stdout.lower().replace("0 broken", ""), proc.stdout


def test_contracts_catch_a_violation(tmp_path):
    """The same contracts, run over a tree with one forbidden arrow, must report it broken."""
    import os
    import shutil

    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for pkg in ("engine", "engine/segment", "desktop", "desktop/document", "desktop/ui", "cli"):
        (tmp_path / pkg).mkdir(parents=True, exist_ok=True)
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "engine/segment/mask_ops.py").write_text("")
    (tmp_path / "desktop/engine_client.py").write_text("")
    (tmp_path / "engine/sneaky.py").write_text("import PySide6\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "engine never imports Qt or the editor BROKEN" in proc.stdout
    assert "engine.sneaky -> PySide6" in proc.stdout


def test_engine_api_is_cheap_to_import():
    """The editor imports engine.api on the GUI thread: it must not pull in torch or Qt."""
    code = (
        "import sys, engine.api, desktop.document\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
