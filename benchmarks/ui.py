"""Time to first window: the BrushEdit Studio editor against a bare PySide6 QMainWindow.

Each sample starts a fresh Python process (so imports count, as for a user) and measures, from the
moment the parent launches it. The bare child: QApplication + QMainWindow, until its first paint.
The editor children start the editor through ``desktop.ui.app.create_app``, as ``main.py`` does
(the qasync loop included), with the astronaut photo on the command line (``editor_photo``) or
without (``editor``), and report two times: the **first frame** (the window's shell has painted its
canvas stand-in: the photo, or the empty canvas's hint) and **ready** (the rest of the window is
built, the photo is open as a document and the canvas paints it). Prints the machine, the medians,
the ratios to the bare window, and whether torch was imported (it must not be) and numpy before the
first frame (it is not, by design).

Then the canvas on a 6000 x 4000 photo (in this process, offscreen unless a display is set): the
first paint fitted to a 1400 x 900 view, a cached full repaint, and one brush-stroke step (a dab
plus the repaint it causes) at fit and at 100 %, against the baseline a naive canvas pays per step
(re-compositing the whole image into a QImage). The last line is a JSON object of the figures.

    python benchmarks/ui.py [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from machine_info import host  # noqa: E402

CHILD = r"""
import sys, time
mode, photo = sys.argv[1], sys.argv[2]
if mode == "bare":
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    class FirstPaint(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Paint and not hasattr(self, "t"):
                self.t = time.time()
                QTimer.singleShot(0, QApplication.instance().quit)
            return False

    app = QApplication(sys.argv[:1])
    win = QMainWindow()
    win.setWindowTitle("bare")
    win.resize(1400, 900)
    spy = FirstPaint()
    win.installEventFilter(spy)
    win.show()
    app.exec()
    print("SHOWN", repr(spy.t), repr(spy.t), "torch" in sys.modules, "numpy" in sys.modules)
else:
    # The editor's own entry (desktop.ui.app.create_app, as main.py runs it), with a photo on the
    # command line or without. "first": the first frame's canvas (the photo, or the empty canvas's
    # hint) has painted; "ready": the window is built, the photo open as a document and the canvas
    # painting it.
    from desktop.ui.canvas import stand_in as stand_in_module

    marks = {}
    paint = stand_in_module.PhotoStandIn.paintEvent

    def timed_paint(self, event):
        paint(self, event)
        marks.setdefault("first", time.time())
        marks.setdefault("numpy_at_first", "numpy" in sys.modules)

    stand_in_module.PhotoStandIn.paintEvent = timed_paint
    from desktop.ui.app import create_app
    from PySide6.QtCore import QTimer

    app, loop, win = create_app([photo] if mode == "editor_photo" else [])
    win.ask_unsaved = lambda: "discard"

    def on_canvas_paint():
        if "ready" not in marks and win.stand_in is None and (mode == "editor" or win.document is not None):
            marks["ready"] = time.time()
            QTimer.singleShot(0, app.quit)

    def on_built():
        win.canvas.repainting.connect(on_canvas_paint)

    if win.ready:
        on_built()
    else:
        win.built.connect(on_built)
    app.exec()
    print("SHOWN", repr(marks["first"]), repr(marks["ready"]), "torch" in sys.modules, marks["numpy_at_first"])
"""


def sample(mode: str, photo: Path, tmp: Path) -> tuple[float, float, bool, bool]:
    """``(first frame s, ready s, torch imported, numpy imported before the first frame)``."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"),
               PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
    # Bytecode as a user has it after the first start (pip compiles an install; a checkout writes
    # __pycache__ once): with PYTHONDONTWRITEBYTECODE set, every start would compile our ~130
    # modules from source, which the bare window never pays. The cache lives in the temp dir.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(photo)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("SHOWN")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{mode} child failed: {proc.stderr[-2000:]}")
    _, first, ready, torch, numpy = line.split()
    return float(first) - t0, float(ready) - t0, torch == "True", numpy == "True"


def canvas_figures(steps: int = 40) -> dict:
    """Canvas timings on a 6000 x 4000 photo (see the module docstring)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    import cv2
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication
    from skimage import data

    from desktop.document import Document
    from desktop.ui.canvas.canvas_view import CanvasView
    from desktop.ui.canvas.tile_cache import array_to_qimage

    app = QApplication.instance() or QApplication([])
    photo = cv2.resize(data.astronaut(), (6000, 4000), interpolation=cv2.INTER_CUBIC)
    doc = Document.from_array(photo)
    doc.flatten((0, 0, 8, 8))  # let the document build its lazy per-layer tables outside the timing
    view = CanvasView()
    view.resize(1400, 900)
    view.show()
    from PySide6.QtTest import QTest

    QTest.qWaitForWindowExposed(view)  # a window not yet exposed paints nothing: the figures would be 0
    app.processEvents()
    paints = []
    view.repainting.connect(lambda: paints.append(1))
    longest = 0.0
    t = time.perf_counter()
    view.set_document(doc)
    app.processEvents()
    while not paints or view.rendering:  # tiles arrive over several rounds of the loop (a budget per paint)
        t1 = time.perf_counter()
        app.processEvents()
        longest = max(longest, time.perf_counter() - t1)
    first = time.perf_counter() - t
    t = time.perf_counter()
    n = len(paints)
    view.update()
    while len(paints) == n:
        app.processEvents()
    cached = time.perf_counter() - t

    def stroke_step_ms() -> float:
        c = view.widget_to_image(QPointF(700, 450))
        doc.begin_mask_stroke("paint", 80, 0.8)
        ts = []
        for i in range(steps):
            t0 = time.perf_counter()
            doc.mask_stroke_to(c.x() + 6 * i, c.y() + 2 * i)
            app.processEvents()
            ts.append(time.perf_counter() - t0)
        doc.end_mask_stroke()
        return statistics.median(ts) * 1000

    fit_step = stroke_step_ms()
    view.actual_size()
    app.processEvents()
    full_step = stroke_step_ms()
    naive = []
    for _ in range(3):
        t = time.perf_counter()
        array_to_qimage(doc.flatten())
        naive.append(time.perf_counter() - t)
    naive_ms = statistics.median(naive) * 1000
    print(f"canvas 6000x4000: first fit view complete in {first * 1000:.0f} ms (longest event-loop round "
          f"{longest * 1000:.0f} ms), cached repaint {cached * 1000:.0f} ms, "
          f"stroke step {fit_step:.1f} ms at fit / {full_step:.1f} ms at 100 %, "
          f"naive full re-composite {naive_ms:.0f} ms per step ({naive_ms / max(fit_step, full_step):.0f}x slower)")
    view.close()
    return {
        "canvas_first_fit_complete_ms": round(first * 1000, 1),
        "canvas_first_fit_longest_round_ms": round(longest * 1000, 1),
        "canvas_cached_repaint_ms": round(cached * 1000, 1),
        "canvas_stroke_step_fit_ms": round(fit_step, 2),
        "canvas_stroke_step_100pct_ms": round(full_step, 2),
        "canvas_naive_full_recomposite_ms": round(naive_ms, 1),
        "ratio_naive_vs_stroke_step": round(naive_ms / max(fit_step, full_step), 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    print("machine:", host())
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        from PIL import Image
        from skimage import data

        photo = tmp / "astronaut.png"
        Image.fromarray(data.astronaut()).save(photo)
        modes = ("bare", "editor", "editor_photo")
        first: dict[str, list[float]] = {m: [] for m in modes}
        ready: dict[str, list[float]] = {m: [] for m in modes}
        torch_seen = numpy_seen = False
        for m in modes:  # warm the OS file cache and the bytecode cache once; not counted
            sample(m, photo, tmp)
        for _ in range(args.reps):
            for m in modes:  # interleaved, so drift in machine load hits all modes alike
                f, r, torch, numpy = sample(m, photo, tmp)
                first[m].append(f)
                ready[m].append(r)
                torch_seen |= torch and m != "bare"
                numpy_seen |= numpy and m != "bare"
    med = {m: statistics.median(v) for m, v in first.items()}
    med_ready = {m: statistics.median(v) for m, v in ready.items()}
    canvas = canvas_figures()
    for m in modes:
        print(f"{m:13s} first frame median {med[m] * 1000:6.0f} ms (runs: {', '.join(f'{t * 1000:.0f}' for t in first[m])})"
              + ("" if m == "bare" else f"; ready median {med_ready[m] * 1000:6.0f} ms"))
    ratio = med["editor_photo"] / med["bare"]
    print(f"first frame with a photo / bare: {ratio:.2f}x; window ready with the photo open / bare: "
          f"{med_ready['editor_photo'] / med['bare']:.2f}x; torch imported: {torch_seen}; "
          f"numpy imported before the first frame: {numpy_seen}")
    result = {
        "machine": host(),
        "reps": args.reps,
        "bare_ms": round(med["bare"] * 1000, 1),
        "editor_first_frame_ms": round(med["editor"] * 1000, 1),
        "editor_photo_first_frame_ms": round(med["editor_photo"] * 1000, 1),
        "editor_ready_ms": round(med_ready["editor"] * 1000, 1),
        "editor_photo_ready_ms": round(med_ready["editor_photo"] * 1000, 1),
        "ratio_editor_vs_bare": round(med["editor"] / med["bare"], 3),
        "ratio_editor_photo_vs_bare": round(ratio, 3),
        "ratio_editor_photo_ready_vs_bare": round(med_ready["editor_photo"] / med["bare"], 3),
        "torch_imported_at_startup": torch_seen,
        "numpy_imported_before_first_frame": numpy_seen,
        **canvas,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
