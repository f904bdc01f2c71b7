"""main.py routes: subcommands and mistyped subcommands to the CLI, files to the editor."""

import os
import subprocess
import sys
from pathlib import Path

import main

ROOT = Path(__file__).resolve().parents[1]


def test_routing(tmp_path):
    photo = tmp_path / "photo"
    photo.write_bytes(b"x")  # an existing file without a suffix is still a file to open
    assert main._is_cli(["doctor"]) and main._is_cli(["--version"]) and main._is_cli(["modles"])
    assert not main._is_cli([]) and not main._is_cli(["cat.jpg"]) and not main._is_cli([str(photo)])
    assert not main._is_cli(["--self-test"])


def test_mistyped_subcommand_gets_one_line_usage_error():
    proc = subprocess.run([sys.executable, "main.py", "modles", "list"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "modles" in proc.stderr
