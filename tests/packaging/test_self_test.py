"""The --self-test entry (what the packaged app runs) passes here and reports a broken step."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args, **kw):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env, **kw)


def test_self_test_passes_through_the_real_engine_thread():
    proc = _run(["main.py", "--self-test"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "self-test: run a fill edit through the engine thread: ok" in lines
    assert "self-test: re-open the project: ok" in lines
    assert lines[-1] == "self-test passed"


def test_self_test_names_the_failing_step_and_exits_1():
    code = (
        "import sys; from pathlib import Path; import desktop.ui.self_test as st\n"
        "st.EXAMPLE = Path('/nonexistent/example.jpg')\n"
        "sys.exit(st.run_self_test([]))"
    )
    proc = _run(["-c", code])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "self-test FAILED at step 'load the example photo'" in proc.stdout
    assert "/nonexistent/example.jpg" in proc.stdout
