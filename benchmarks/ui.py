"""Time to first window: the BrushEdit Studio main window against a bare PySide6 QMainWindow.

Each sample starts a fresh Python process (so imports count, as for a user) and measures, from the
moment the parent launches it, until the window's first paint. Modes: ``bare`` (QApplication +
QMainWindow), ``editor`` (our theme + MainWindow, empty), ``editor_photo`` (MainWindow with a photo
open and drawn). Prints the machine, the medians, the ratio editor/bare, and whether torch was
imported before the window showed (it must not be); the last line is a JSON object of the figures.

    python benchmarks/ui.py [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time
mode, photo = sys.argv[1], sys.argv[2]
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Paint and not hasattr(self, "t"):
            self.t = time.time()
            QTimer.singleShot(0, QApplication.instance().quit)
        return False

if mode == "bare":
    app = QApplication(sys.argv[:1])
    win = QMainWindow()
    win.setWindowTitle("bare")
    win.resize(1400, 900)
    target = win
else:
    from desktop.ui.app import _application
    app = _application([])
    from desktop.ui.main_window import MainWindow
    settings = QSettings(sys.argv[3], QSettings.IniFormat)
    win = MainWindow(settings=settings)
    win.ask_unsaved = lambda: "discard"
    win.resize(1400, 900)
    if mode == "editor_photo":
        win.open_path(photo)
    target = win.canvas
spy = FirstPaint()
target.installEventFilter(spy)
win.show()
app.exec()
print("SHOWN", repr(spy.t), "torch" in sys.modules)
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def sample(mode: str, photo: Path, tmp: Path) -> tuple[float, bool]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"),
               PYTHONPATH=str(ROOT))
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(photo), str(tmp / "settings.ini")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("SHOWN")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{mode} child failed: {proc.stderr[-2000:]}")
    _, shown, torch = line.split()
    return float(shown) - t0, torch == "True"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    print("machine:", machine())
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        from PIL import Image
        from skimage import data

        photo = tmp / "astronaut.png"
        Image.fromarray(data.astronaut()).save(photo)
        modes = ("bare", "editor", "editor_photo")
        times: dict[str, list[float]] = {m: [] for m in modes}
        torch_seen = False
        sample("bare", photo, tmp)  # warm the OS file cache once; not counted
        for _ in range(args.reps):
            for m in modes:  # interleaved, so drift in machine load hits all modes alike
                t, torch = sample(m, photo, tmp)
                times[m].append(t)
                torch_seen |= torch and m != "bare"
    med = {m: statistics.median(v) for m, v in times.items()}
    for m in modes:
        print(f"{m:13s} median {med[m] * 1000:7.0f} ms  (runs: {', '.join(f'{t * 1000:.0f}' for t in times[m])})")
    ratio = med["editor"] / med["bare"]
    print(f"editor / bare: {ratio:.2f}x; torch imported before the window showed: {torch_seen}")
    result = {
        "machine": machine(),
        "reps": args.reps,
        "bare_ms": round(med["bare"] * 1000, 1),
        "editor_ms": round(med["editor"] * 1000, 1),
        "editor_photo_ms": round(med["editor_photo"] * 1000, 1),
        "ratio_editor_vs_bare": round(ratio, 3),
        "ratio_editor_photo_vs_bare": round(med["editor_photo"] / med["bare"], 3),
        "torch_imported_at_startup": torch_seen,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
