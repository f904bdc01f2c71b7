"""Build the PyInstaller bundle and run it from another folder with a clean environment.

Slow (several minutes, several GB on disk), so it runs where BRUSHEDIT_TEST_BUNDLE=1 — CI sets it
in .ci/run — and is skipped, with that reason, in a developer's quick runs.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "BrushEditStudio"
EXE = BUNDLE / ("BrushEditStudio.exe" if os.name == "nt" else "BrushEditStudio")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("BRUSHEDIT_TEST_BUNDLE") != "1",
                       reason="bundle build is slow: set BRUSHEDIT_TEST_BUNDLE=1 (CI does)"),
]


@pytest.fixture(scope="module")
def bundle():
    proc = subprocess.run([sys.executable, "packaging/build.py", "--tarball"], cwd=ROOT,
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "bundle:" in proc.stdout
    print(proc.stdout)
    assert EXE.exists()
    return EXE


def _clean_env(tmp_path):
    """No virtual environment, no PYTHONPATH, a fresh HOME: what a new user's session has."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           "QT_QPA_PLATFORM": "offscreen", "BRUSHEDIT_MODELS_DIR": str(tmp_path / "models"),
           "HF_HOME": str(tmp_path / "hf")}
    (tmp_path / "home").mkdir()
    return env


def test_tarball_carries_the_menu_entry_installer_and_icon(bundle):
    import tarfile

    from engine.version import __version__

    tarball = ROOT / "dist" / f"BrushEditStudio-{__version__}-linux-x86_64.tar.gz"
    assert tarball.exists()
    head = []
    with tarfile.open(tarball, "r|gz") as tar:  # streaming: read only the first members
        for member in tar:
            head.append(member)
            if len(head) == 4:
                break
    names = [m.name.split("/", 1)[1] for m in head]
    assert names[:3] == ["brushedit-studio.desktop", "install.sh", "brushedit-studio.png"]
    assert head[1].mode & 0o111, "install.sh must be executable"
    assert names[3] == "BrushEditStudio"


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
