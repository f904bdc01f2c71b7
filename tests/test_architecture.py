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


def _contract_modules() -> set[str]:
    """Every internal module the contracts in pyproject.toml name (sources, forbidden, layers)."""
    import re
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    roots = tuple(config["root_packages"])
    names: set[str] = set()
    for contract in config["contracts"]:
        for key in ("source_modules", "forbidden_modules", "layers"):
            for entry in contract.get(key, ()):
                names.update(n for n in re.split(r"\s*[|:]\s*", entry.strip("() ")) if n.split(".")[0] in roots)
    return names


def _lint_tree(tmp_path, files: dict[str, str]):
    """Run the project's contracts over a skeleton tree (each module the contracts name, as an empty
    package) with ``files`` added."""
    import os
    import shutil

    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for name in _contract_modules() | {"engine.segment.mask_ops", "desktop.document", "desktop.ui"}:
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            (tmp_path.joinpath(*parts[:depth])).mkdir(exist_ok=True)
            (tmp_path.joinpath(*parts[:depth]) / "__init__.py").touch()
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
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
        "desktop/engine_client/__init__.py": "import engine.api\nimport engine.connect\nimport engine.service\n",
        "masks/leaky.py": "import engine\n",
        "engine/server/client/__init__.py": "import ray\n",
    })
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the document is plain Python: no Qt, no torch, no engine BROKEN" in proc.stdout
    assert "the bridge reaches the engine only through api, protocol and connect BROKEN" in proc.stdout
    assert "the shared mask operations belong to neither side BROKEN" in proc.stdout
    assert "desktop.engine_client -> engine.service" in proc.stdout
    assert "only the server needs Ray and FastAPI BROKEN" in proc.stdout  # the editor's client never needs Ray
    assert "desktop.engine_client -> engine.connect" not in proc.stdout  # the factory is the bridge's to use


def test_the_engine_house_runs_one_way(tmp_path):
    """The layers contract: the contract at the bottom never reaches up (not even lazily, as the old
    engine.api factory did), the owner does not import its server, independent siblings stay apart; the
    same modules importing downward are fine."""
    house = "the engine's house: the factory on top, the contract below"
    lazy_up = "def local_engine():\n    import engine.service\n"
    proc = _lint_tree(tmp_path, {
        "engine/api/__init__.py": "import engine.wire\n" + lazy_up,
        "engine/dispatch/__init__.py": "import engine.painters\nimport engine.server\n",
        "engine/painters/__init__.py": "import engine.models\nimport engine.loaders\n",
        "engine/connect/__init__.py": "import engine.service\nimport engine.server\n",
    })
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{house} BROKEN" in proc.stdout
    assert "engine.api -> engine.service" in proc.stdout
    assert "engine.dispatch -> engine.server" in proc.stdout
    assert "engine.painters -> engine.loaders" in proc.stdout  # siblings in one layer, independent
    for fine in ("engine.connect -> engine.service", "engine.dispatch -> engine.painters",
                 "engine.painters -> engine.models", "engine.api -> engine.wire"):
        assert fine not in proc.stdout, fine
    (tmp_path / "clean").mkdir()
    clean = _lint_tree(tmp_path / "clean", {})  # the skeleton alone keeps every contract
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_engine_api_is_cheap_to_import():
    """The editor imports engine.api on the GUI thread: it must not pull in torch or Qt."""
    code = (
        "import sys, engine.api, desktop.document\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_import_circle_among_the_projects_packages():
    """No circle among engine, desktop, cli and masks, counting every import, lazy ones too (issue 20: a
    33-module circle through engine.api's factory, and four small ones, grew while each contract held)."""
    from tests.import_graph import circles, import_graph

    graph = import_graph(ROOT)
    assert len(graph) > 200 and "engine.api" in graph and "desktop.model.edit_model" in graph
    assert circles(graph) == []


def test_the_circle_check_sees_lazy_and_relative_imports(tmp_path):
    from tests.import_graph import circles, import_graph

    (tmp_path / "engine" / "sub").mkdir(parents=True)
    (tmp_path / "engine" / "__init__.py").write_text("")
    (tmp_path / "engine" / "sub" / "__init__.py").write_text("")
    (tmp_path / "engine" / "a.py").write_text("def f():\n    from engine.sub import b\n")  # lazy
    (tmp_path / "engine" / "sub" / "b.py").write_text("from ..a import f\n")  # relative
    (tmp_path / "engine" / "c.py").write_text("import engine.a\n")  # into the circle, not part of it
    assert circles(import_graph(tmp_path, ("engine",))) == [["engine.a", "engine.sub.b"]]
    (tmp_path / "engine" / "sub" / "b.py").write_text("X = 1\n")
    assert circles(import_graph(tmp_path, ("engine",))) == []
