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


def _lint_tree(tmp_path, files: dict[str, str]):
    """Run the project's contracts over a skeleton tree with ``files`` added."""
    import os
    import shutil

    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for pkg in ("engine", "engine/segment", "engine/models", "engine/instructor", "engine/brushnet", "engine/fill",
                "engine/server", "desktop", "desktop/document", "desktop/model", "desktop/ui", "cli", "masks"):
        (tmp_path / pkg).mkdir(parents=True, exist_ok=True)
        (tmp_path / pkg / "__init__.py").write_text("")
    for module in ("engine/segment/mask_ops.py", "masks/mask_ops.py", "desktop/engine_client.py", "engine/api.py",
                   "engine/wire.py", "engine/service.py", "engine/dispatch.py", "engine/queries.py", "engine/version.py",
                   "engine/server/client.py", "engine/server/codec.py"):
        (tmp_path / module).write_text("")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env=env)


def test_contracts_catch_a_violation(tmp_path):
    """The same contracts, run over a tree with one forbidden arrow, must report it broken."""
    proc = _lint_tree(tmp_path, {"engine/sneaky.py": "import PySide6\n"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "engine never imports Qt or the editor BROKEN" in proc.stdout
    assert "engine.sneaky -> PySide6" in proc.stdout


def test_the_one_seam_is_enforced(tmp_path):
    """The document may no longer reach the engine for mask operations, nor the bridge past engine.api."""
    proc = _lint_tree(tmp_path, {
        "desktop/document/old.py": "from engine.segment import mask_ops\n",
        "desktop/engine_client.py": "import engine.api\nimport engine.service\n",
        "masks/leaky.py": "import engine\n",
        "engine/server/client.py": "import ray\n",
    })
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the document is plain Python: no Qt, no torch, no engine BROKEN" in proc.stdout
    assert "the bridge reaches the engine only through engine.api BROKEN" in proc.stdout
    assert "the shared mask operations belong to neither side BROKEN" in proc.stdout
    assert "desktop.engine_client -> engine.service" in proc.stdout
    assert "only the server needs Ray and FastAPI BROKEN" in proc.stdout  # the editor's client never needs Ray


def test_engine_api_is_cheap_to_import():
    """The editor imports engine.api on the GUI thread: it must not pull in torch or Qt."""
    code = (
        "import sys, engine.api, desktop.document\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
