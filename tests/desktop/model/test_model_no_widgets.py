"""The model layer needs no widget: its modules import no PySide6 module but QtCore (import-linter
cannot name PySide6.QtWidgets, see pyproject.toml), and a compound instruction runs through it under a
QCoreApplication alone, where making a widget would abort."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_model_modules_import_only_qtcore_of_qt():
    modules = sorted((ROOT / "desktop" / "model").glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        qt = {n for n in _imports(path) if n.split(".")[0] in ("PySide6", "qtawesome", "shiboken6")}
        bad = {n for n in qt if n != "PySide6" and not n.startswith(("PySide6.QtCore", "shiboken6"))}
        assert not bad, f"{path.name} imports {sorted(bad)}"
        ui = {n for n in _imports(path) if n.startswith("desktop.ui")}
        assert not ui, f"{path.name} imports {sorted(ui)}"


def test_a_chain_runs_under_a_core_application_alone():
    code = """
import sys
import numpy as np
from PySide6.QtCore import QCoreApplication, QTimer
app = QCoreApplication([])
from skimage import data
from desktop.document import Document
from desktop.model.edit_model import EditModel
from tests.fakes.fake_engine import fake_engine_client

client, services = fake_engine_client(steps=2, step_delay=0.002)
doc = Document.from_array(np.ascontiguousarray(data.astronaut()[::4, ::4]))
model = EditModel(client, lambda: doc)
out = {}
model.chain_finished.connect(lambda layers, skipped, cancelled: (out.update(n=len(layers)), app.quit()))
QTimer.singleShot(20000, app.quit)
model.run_text("remove the flag and make the helmet gold")
app.exec()
client.shutdown()
print(type(QCoreApplication.instance()).__name__, out.get("n"), "desktop.ui" in sys.modules,
      any(m.startswith("desktop.ui.") for m in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-4:] == ["QCoreApplication", "2", "False", "False"], proc.stdout + proc.stderr[-2000:]


def test_the_contract_catches_a_model_module_importing_the_widgets(tmp_path):
    from tests.test_architecture import _lint_tree

    proc = _lint_tree(tmp_path, {"desktop/model/leak.py": "import desktop.ui\n"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the editor's model layer imports no widgets BROKEN" in proc.stdout
    assert "desktop.model.leak -> desktop.ui" in proc.stdout
