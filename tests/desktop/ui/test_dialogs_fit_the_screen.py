"""Every dialog the keyboard reaches fits the screen it opens on, at 100 % and 200 % (issue 25 item 3:
Preferences opened 1640x1200 device px on 1920x1080 at 200 %, OK/Cancel/Apply off the screen).

Each screen is a subprocess with an offscreen screen of that size (Qt's offscreen ``configfile``) and
``QT_SCALE_FACTOR``: :mod:`dialog_fit_probe` opens the dialogs and reports their geometry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROBE = Path(__file__).with_name("dialog_fit_probe.py")
EXPECTED = {"new_image", "open", "preferences", "models", "about", "shortcuts", "resize_image", "expand_canvas",
            "export", "export_options", "export_replace", "unsaved", "error", "recover", "new_prompt"}


def _probe(tmp_path, width: int, height: int, scale: int, photo) -> dict:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": f"fake-{width}x{height}", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                               "dpr": 1}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRUSHEDIT_", "HF_"))}
    env.update(QT_QPA_PLATFORM=f"offscreen:configfile={config}", QT_SCALE_FACTOR=str(scale),
               PYTHONPATH=str(ROOT), BRUSHEDIT_MODELS_DIR=str(tmp_path / "models"), HF_HOME=str(tmp_path / "hf"),
               HF_HUB_OFFLINE="1", HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, str(PROBE), str(photo)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("width, height, scale", [(1366, 768, 1), (1920, 1080, 2), (1920, 1080, 1)])
def test_every_dialog_fits_the_screen(tmp_path, photo_path, width, height, scale):
    report = _probe(tmp_path, width, height, scale, photo_path)
    x0, y0, aw, ah = report["screen"]
    assert (aw, ah) == (width // scale, height // scale)
    fw, fh = report["frame"]
    assert set(report["dialogs"]) == EXPECTED
    problems = []
    for name, dialogs in report["dialogs"].items():
        if not dialogs:
            problems.append(f"{name}: no dialog opened")
        for d in dialogs:
            where = f"{name} ({d['title']!r} {d['width']}x{d['height']} at {d['x']},{d['y']})"
            fx, fy, fwidth, fheight = d["frame"]
            if fx < x0 or fy < y0 or fx + fwidth > x0 + aw or fy + fheight > y0 + ah:
                problems.append(f"{where}: off the {aw}x{ah} screen")
            if d["width"] + fw > aw or d["height"] + fh > ah:  # a window manager's title bar and borders
                problems.append(f"{where}: no room for a window frame on the {aw}x{ah} screen")
            if d["width"] < d["min_width"] or d["height"] < d["min_height"]:
                problems.append(f"{where}: squeezed below its content ({d['min_width']}x{d['min_height']})")
            problems += [f"{where}: button {b['text']!r} cut off" for b in d["buttons"] if not b["inside"]]
    assert not problems, "\n".join(problems)
