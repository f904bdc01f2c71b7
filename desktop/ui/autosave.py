"""No lost work: autosave the open project to the app's data folder, and find it after a crash.

The autosave is an OpenRaster file written with the document package's writer to a temporary name and
moved into place (``os.replace``), so a crash mid-write never leaves a broken autosave; the user's
own project path and unsaved state are not touched. A small JSON
beside it records the running process and the original path; a clean exit removes both. At start,
:meth:`Autosaver.find_recovery` returns a leftover autosave whose writer is no longer running.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from desktop.ui import gui_thread

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

    The layers and mask are captured on the GUI thread (pixel arrays are immutable, so that is cheap)
    and, for big documents, flattened and written on a helper thread so the editor never stalls on
    PNG encoding. Call :meth:`clear` on a clean exit (or after the user saved/discarded the project)
    so that the next start does not offer a recovery.
    """

    SYNC_PIXELS = 2_000_000
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
        self._pool: ThreadPoolExecutor | None = None
        self._running: Future | None = None
        self._again = False
        self.last_saved: float | None = None
        gui_thread.ensure()

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

    def save_now(self, wait: bool | None = None) -> Path | None:
        """Write the autosave (atomically). Returns its path, or None when there is nothing to save.

        ``wait=None`` writes small documents at once and big ones on a helper thread (``saved``
        follows); ``True``/``False`` force either way.
        """
        doc = self._doc()
        if doc is None:
            return None
        if self._running is not None:
            self._again = True  # one more save once the running one is done
            return self.path
        try:
            job = _capture(doc)
        except Exception as exc:
            log.exception("autosave failed")
            self.failed.emit(f"Autosave failed: {exc}")
            return None
        key = self._key(doc)
        if wait is None:
            wait = doc.width * doc.height <= self.SYNC_PIXELS
        if wait:
            try:
                _write(job, self.folder)
            except Exception as exc:  # autosave must never take the editor down
                log.exception("autosave failed")
                self.failed.emit(f"Autosave failed: {exc}")
                return None
            self._done(key)
            return self.path
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="brushedit-autosave")
        self._running = self._pool.submit(_write, job, self.folder)
        # Through the relay, not our own signal: this object may be deleted before the write ends.
        self._running.add_done_callback(
            lambda f: gui_thread.post(self, lambda saver: saver._on_written((f, key))))
        return self.path

    def wait(self, timeout: float | None = 30) -> None:
        """Wait for a background save to finish (before quitting)."""
        running = self._running
        if running is not None:
            try:
                running.result(timeout)
            except Exception:
                pass

    def _on_written(self, item) -> None:
        future, key = item
        if future is not self._running:
            return
        self._running = None
        try:
            future.result()
        except Exception as exc:
            log.error("autosave failed: %s", exc)
            self.failed.emit(f"Autosave failed: {exc}")
        else:
            self._done(key)
        if self._again:
            self._again = False
            self.save_now()

    def _done(self, key: Any) -> None:
        self._saved_key = key
        self.last_saved = time.time()
        self.saved.emit(str(self.path))

    def clear(self) -> None:
        """Remove the autosave: a clean exit, or the work is safe elsewhere."""
        self._again = False
        self.wait()
        self._running = None
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


def recovery_name(info: dict) -> str:
    """The file the autosaved work belongs to ("chelsea.png", "poster.ora"), or "Untitled"."""
    for key in ("original", "source"):
        if info.get(key):
            return Path(str(info[key])).name
    return "Untitled"


def recovery_time(info: dict, now: float | None = None) -> str:
    """When it was autosaved, in words: "today at 14:05", "yesterday at 09:30", "3 Mar 2026 at 18:00"
    ("" when unknown)."""
    try:
        when = float(info["time"])
    except (KeyError, TypeError, ValueError):
        return ""
    then, today = time.localtime(when), time.localtime(now if now is not None else time.time())
    clock = time.strftime("%H:%M", then)
    days = (time.mktime(today[:3] + (0, 0, 0, 0, 0, -1)) - time.mktime(then[:3] + (0, 0, 0, 0, 0, -1))) / 86400
    if round(days) == 0:
        return f"today at {clock}"
    if round(days) == 1:
        return f"yesterday at {clock}"
    return f"{then.tm_mday} {time.strftime('%b %Y', then)} at {clock}"


def recovery_save_path(info: dict) -> Path | None:
    """Where saving recovered work should propose: its project, or a project beside its photo."""
    if info.get("original") and str(info["original"]).lower().endswith(".ora") \
            and Path(str(info["original"])).name != AUTOSAVE_NAME:
        return Path(str(info["original"]))
    if info.get("source"):
        return Path(str(info["source"])).with_suffix(".ora")
    return None


def _capture(doc: Any) -> dict:
    """What the writer needs, taken on the GUI thread: the layer list (immutable pixel arrays), a
    copy of the edit mask (painted in place by strokes) and the metadata."""
    history = getattr(doc, "history", None)
    entries = list(getattr(history, "entries", ()) or ())[: getattr(history, "index", 0)]
    mask = getattr(doc, "mask", None)
    return {
        "width": int(doc.width), "height": int(doc.height), "layers": list(doc.layers),
        "mask": None if mask is None else np.array(mask, copy=True),
        "meta": {"history": entries, "source": None, "autosave": True},
        "info": {"pid": os.getpid(), "time": time.time(),
                 "original": str(doc.path) if getattr(doc, "path", None) else None,
                 # The photo it was opened from: a recovered photo edit is saved beside it.
                 "source": str(doc.source_path) if getattr(doc, "source_path", None) else None,
                 "size": [int(doc.width), int(doc.height)]},
    }


def _write(job: dict, folder: Path) -> None:
    """Flatten and write the OpenRaster autosave, then its JSON (any thread)."""
    from desktop.document.compositing import composite
    from desktop.document.ora import save_ora

    folder.mkdir(parents=True, exist_ok=True)
    merged = composite(job["layers"], (job["width"], job["height"]))
    tmp = folder / f".autosave-{os.getpid()}.tmp.ora"
    save_ora(tmp, job["width"], job["height"], job["layers"], merged, job["mask"], job["meta"])
    os.replace(tmp, folder / AUTOSAVE_NAME)
    tmp_info = folder / f".autosave-{os.getpid()}.tmp.json"
    tmp_info.write_text(json.dumps(job["info"]), encoding="utf-8")
    os.replace(tmp_info, folder / INFO_NAME)
