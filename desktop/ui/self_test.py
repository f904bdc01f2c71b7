"""``BrushEditStudio --self-test``: prove an installed bundle works, end to end, without a screen.

Opens the real main window offscreen, loads the bundled example photo, masks a region, runs a fill
edit through the real engine thread, accepts the candidate as an edit layer, saves an ``.ora`` into a
temporary folder, re-opens it and checks pixels and provenance. Prints one line per step; exits 0, or
prints the failing step and exits 1. Settings and autosave go to the temporary folder, so the user's
own preferences and recovery files are never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "example.jpg"
TIMEOUT_S = 120.0


class SelfTestFailure(RuntimeError):
    pass


def _wait_for(app, predicate, what: str, timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SelfTestFailure(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def run_self_test(argv: list[str] | None = None, out=None) -> int:
    """Run the self-test; returns the process exit code (0 = every step passed)."""
    out = out or sys.stdout
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="brushedit-selftest-"))
    state: dict = {}

    def open_window():
        app = QApplication.instance() or QApplication(["BrushEditStudio", "--self-test"])
        settings = QSettings(str(tmp / "settings.ini"), QSettings.IniFormat)
        settings.setValue("autosave/folder", str(tmp / "autosave"))
        from desktop.ui.main_window import MainWindow

        # Staged, as the editor's entry opens it: the shell first, the body after its first frame
        # (in a bundle this is where a module the shell imports late would be found missing).
        window = MainWindow(settings=settings, staged=True)
        state.update(app=app, window=window)
        window.show()
        _wait_for(app, lambda: window.ready and window.stand_in is None, "the window's body to be built")

    def load_photo():
        if not EXAMPLE.exists():
            raise SelfTestFailure(f"the bundled example photo is missing: {EXAMPLE}")
        if not state["window"].open_path(EXAMPLE):
            raise SelfTestFailure(f"could not open {EXAMPLE}: {state['window'].messages[-1:]}")
        doc = state["window"].document
        state["doc"] = doc
        state["original"] = doc.flatten().copy()

    def mask_region():
        doc = state["doc"]
        w, h = doc.size
        doc.mask_op("ellipse", rect=(w // 3, h // 3, w // 4, h // 4))
        if not doc.mask.any():
            raise SelfTestFailure("the mask stayed empty")

    def fill_edit():
        from desktop.engine_client import EditParams

        controller, app = state["window"].controller, state["app"]
        got: dict = {}
        controller.candidates_changed.connect(lambda c: got.setdefault("candidates", c))
        controller.error.connect(lambda msg, hint: got.setdefault("error", f"{msg} ({hint})"))
        controller.run("", EditParams(engine="fill", num_candidates=1), instruction="self-test fill")
        _wait_for(app, lambda: got.get("candidates") or "error" in got, "the fill edit")
        if "error" in got:
            raise SelfTestFailure("the engine failed: " + got["error"])
        layers = controller.accept([0])
        if len(layers) != 1 or len(state["doc"].layers) != 2:
            raise SelfTestFailure("accepting the candidate did not add one edit layer")

    def save_ora():
        path = tmp / "self-test.ora"
        if not state["window"].save_as(path) or not path.exists():
            raise SelfTestFailure(f"saving {path} failed: {state['window'].messages[-1:]}")
        state["ora"] = path

    def reopen():
        from desktop.document import Document

        doc = Document.open(state["ora"])
        if len(doc.layers) != 2:
            raise SelfTestFailure(f"re-opened project has {len(doc.layers)} layers, expected 2")
        if not np.array_equal(doc.flatten(), state["doc"].flatten()):
            raise SelfTestFailure("re-opened project differs from the saved one")
        prov = doc.layers[-1].provenance
        if prov is None or prov.engine != "fill":
            raise SelfTestFailure("the edit layer lost its provenance")
        if np.array_equal(doc.flatten(), state["original"]):
            raise SelfTestFailure("the fill edit changed nothing")

    steps = [
        ("open the main window offscreen", open_window),
        ("load the example photo", load_photo),
        ("mask a region", mask_region),
        ("run a fill edit through the engine thread", fill_edit),
        ("save an .ora project", save_ora),
        ("re-open the project", reopen),
    ]
    code = 0
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # report the failing step, whatever broke
            print(f"self-test FAILED at step '{name}': {exc}", file=out)
            if not isinstance(exc, SelfTestFailure):
                traceback.print_exc(file=out)
            code = 1
            break
        print(f"self-test: {name}: ok", file=out)
    window = state.get("window")
    if window is not None:
        window.client.shutdown()
        window.close()
    if code == 0:
        print("self-test passed", file=out)
    return code
