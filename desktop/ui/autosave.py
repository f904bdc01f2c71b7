"""No lost work: autosave the open project to the app's data folder, and find it after a crash.

The autosave is an OpenRaster file written with the document's own ``save`` to a temporary name and
moved into place (``os.replace``), so a crash mid-write never leaves a broken autosave. A small JSON
beside it records the running process and the original path; a clean exit removes both. At start,
:meth:`Autosaver.find_recovery` returns a leftover autosave whose writer is no longer running.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

APP_NAME = "BrushEditStudio"
AUTOSAVE_NAME = "autosave.ora"
INFO_NAME = "autosave.json"


def default_folder() -> Path:
    """``platformdirs.user_data_path("BrushEditStudio") / "autosave"``."""
    import platformdirs

    return Path(platformdirs.user_data_path(APP_NAME, appauthor=False)) / "autosave"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except OSError:
        return False
    return True


class Autosaver(QObject):
    """Saves ``document_getter()`` every ``interval_s`` seconds (when changed) and on :meth:`save_now`.

    Call :meth:`clear` on a clean exit (or after the user saved/discarded the project) so that the next
    start does not offer a recovery.
    """

    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, document_getter: Callable[[], Any], folder=None, interval_s: float = 180, parent=None):
        super().__init__(parent)
        self._doc = document_getter
        self.folder = Path(folder) if folder is not None else default_folder()
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, int(interval_s * 1000)))
        self.timer.timeout.connect(self._tick)
        self._saved_key: Any = None
        self.last_saved: float | None = None

    @property
    def path(self) -> Path:
        return self.folder / AUTOSAVE_NAME

    @property
    def info_path(self) -> Path:
        return self.folder / INFO_NAME

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _key(self, doc: Any) -> Any:
        history = getattr(doc, "history", None)
        return (id(doc), getattr(history, "index", None), len(getattr(history, "entries", ()) or ()))

    def _tick(self) -> None:
        doc = self._doc()
        if doc is not None and getattr(doc, "dirty", True) and self._key(doc) != self._saved_key:
            self.save_now()

    def save_now(self) -> Path | None:
        """Write the autosave now (atomic). Returns its path, or None when there is nothing to save."""
        doc = self._doc()
        if doc is None:
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".autosave-{os.getpid()}.tmp.ora"
            _save_copy(doc, tmp)
            os.replace(tmp, self.path)
            info = {
                "pid": os.getpid(),
                "time": time.time(),
                "original": str(doc.path) if getattr(doc, "path", None) else None,
                "size": [int(doc.width), int(doc.height)],
            }
            tmp_info = self.folder / f".autosave-{os.getpid()}.tmp.json"
            tmp_info.write_text(json.dumps(info), encoding="utf-8")
            os.replace(tmp_info, self.info_path)
        except Exception as exc:  # autosave must never take the editor down
            log.exception("autosave failed")
            self.failed.emit(f"Autosave failed: {exc}")
            return None
        self._saved_key = self._key(doc)
        self.last_saved = time.time()
        self.saved.emit(str(self.path))
        return self.path

    def clear(self) -> None:
        """Remove the autosave: a clean exit, or the work is safe elsewhere."""
        for p in (self.path, self.info_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                log.warning("could not remove %s", p)
        self._saved_key = None

    @staticmethod
    def find_recovery(folder=None) -> Path | None:
        """A leftover autosave from a session that did not exit cleanly, or None.

        An autosave whose writer is still running (another open editor) is not offered.
        """
        folder = Path(folder) if folder is not None else default_folder()
        path = folder / AUTOSAVE_NAME
        if not path.is_file() or path.stat().st_size == 0:
            return None
        try:
            info = json.loads((folder / INFO_NAME).read_text(encoding="utf-8"))
            pid = int(info.get("pid", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            pid = 0
        if pid and pid != os.getpid() and _pid_alive(pid):
            return None
        return path

    @staticmethod
    def recovery_info(folder=None) -> dict:
        """What the autosave's JSON says (original path, time), or {}."""
        folder = Path(folder) if folder is not None else default_folder()
        try:
            data = json.loads((folder / INFO_NAME).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}


def _save_copy(doc: Any, path: Path) -> None:
    """Write ``doc`` as OpenRaster to ``path`` without changing what the user sees.

    ``Document.save`` would adopt the file as the project and clear the unsaved flag, so the
    autosave writes the same OpenRaster through the document package's writer instead.
    """
    saver = getattr(doc, "save_copy", None)
    if callable(saver):
        saver(path)
        return
    try:
        from desktop.document.ora import save_ora
    except ImportError:  # pragma: no cover - a document without the OpenRaster module
        save_ora = None
    if save_ora is None:
        _save_and_restore(doc, path)
        return
    history = getattr(doc, "history", None)
    entries = list(getattr(history, "entries", ()) or ())[: getattr(history, "index", 0)]
    mask = getattr(doc, "mask", None)
    save_ora(path, doc.width, doc.height, doc.layers, doc.flatten(),
             None if mask is None else np.asarray(mask),
             {"history": entries, "source": None, "autosave": True})


def _save_and_restore(doc: Any, path: Path) -> None:
    path_before = getattr(doc, "_path", None)
    saved_before = getattr(doc, "_saved_state", None)
    doc.save(path)
    if hasattr(doc, "_path"):
        doc._path = path_before
    if hasattr(doc, "_saved_state"):
        doc._saved_state = saved_before
