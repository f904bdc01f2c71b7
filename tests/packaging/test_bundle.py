"""Build the PyInstaller bundle and run it from another folder with a clean environment.

Slow (several minutes, ~1 GB of new disk: the CUDA libraries are hard-linked), so it runs where
BRUSHEDIT_TEST_BUNDLE=1 — CI sets it in .ci/run — and is skipped, with that reason, in a developer's
quick runs. It builds into build/test-dist (the same filesystem as .venv, so the links work) and
removes that folder afterwards; the tarball is checked on a small stand-in in test_build.py, since
gzipping 4.6 GB here would only re-test tarfile.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "build" / "test-dist"
BUNDLE = DIST / "BrushEditStudio"
EXE = BUNDLE / ("BrushEditStudio.exe" if os.name == "nt" else "BrushEditStudio")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("BRUSHEDIT_TEST_BUNDLE") != "1",
                       reason="bundle build is slow: set BRUSHEDIT_TEST_BUNDLE=1 (CI does)"),
]


@pytest.fixture(scope="module")
def bundle():
    shutil.rmtree(DIST, ignore_errors=True)
    proc = subprocess.run([sys.executable, "packaging/build.py", "--dist", str(DIST)], cwd=ROOT,
                          capture_output=True, text=True, timeout=3600)
    try:
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        assert "bundle:" in proc.stdout
        print(proc.stdout)
        assert EXE.exists()
        yield EXE
    finally:
        shutil.rmtree(DIST, ignore_errors=True)  # ~4.6 GB as files count it: never left behind


def _clean_env(tmp_path):
    """No virtual environment, no PYTHONPATH, a fresh HOME: what a new user's session has."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           "QT_QPA_PLATFORM": "offscreen", "BRUSHEDIT_MODELS_DIR": str(tmp_path / "models"),
           "HF_HOME": str(tmp_path / "hf")}
    (tmp_path / "home").mkdir()
    return env


def test_cuda_libraries_are_hard_linked_not_copied(bundle):
    import torch

    lib = Path(torch.__file__).parent / "lib"
    big = max((p for p in lib.glob("*.so*") if p.is_file()), key=lambda p: p.stat().st_size)
    inside = BUNDLE / "_internal" / "torch" / "lib" / big.name
    assert inside.is_file() and inside.stat().st_size == big.stat().st_size
    if big.stat().st_dev == DIST.stat().st_dev:  # one filesystem: a link, not a copy
        assert os.path.samefile(inside, big)
    # The top-level links PyInstaller makes into nvidia/ must resolve to a library that is there.
    dangling = [p.name for p in (BUNDLE / "_internal").iterdir() if p.is_symlink() and not p.exists()]
    assert not dangling


def test_bundle_excludes_weights_and_tests(bundle):
    names = {p.name for p in BUNDLE.rglob("*")}
    assert not any(n.endswith((".safetensors", ".pth", ".ckpt")) for n in names)
    assert "pytest" not in names and "_pytest" not in names


def test_bundle_version_self_test_and_doctor_from_another_folder(bundle, tmp_path):
    from engine.version import __version__

    env = _clean_env(tmp_path)
    run = lambda *a: subprocess.run([str(bundle), *a], cwd=tmp_path, env=env, capture_output=True,
                                    text=True, timeout=600)
    version = run("--version")
    assert version.returncode == 0, version.stdout + version.stderr
    assert __version__ in version.stdout

    selftest = run("--self-test")
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr
    assert selftest.stdout.strip().splitlines()[-1] == "self-test passed"

    doctor = run("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "torch" in doctor.stdout.lower()
