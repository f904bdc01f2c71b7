"""The main window's side of autosave: start it once the first frame is drawn, and offer to
recover what a crash left behind (the autosave itself is :mod:`desktop.ui.autosave`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox


def start_autosave(window) -> None:
    """Start ``window``'s autosaver (``window._autosaver``, at the Preferences' interval, and after
    every accepted edit); offer the recovery of a crash's autosave when no document is open."""
    from desktop.ui.autosave import Autosaver

    folder = window.settings.value("autosave/folder") or None
    try:
        recovery = Autosaver.find_recovery(folder)
    except OSError:
        recovery = None
    autosaver = Autosaver(lambda: window.document, folder=folder, parent=window,
                          interval_s=window.preferences.autosave_minutes * 60)
    window._autosaver = autosaver
    autosaver.start()
    window.controller.accepted.connect(lambda _layers: autosaver.save_now())
    if recovery is not None and window.document is None:
        window.offer_recovery(recovery)


def offer_recovery(window, path) -> QMessageBox:
    """Ask (non-modal) whether to recover the autosave at ``path``, naming the file and the time;
    Recover opens it (``window.open_recovery``). The box is ``window.recovery_box``."""
    from desktop.ui.autosave import Autosaver, recovery_name, recovery_time

    info = Autosaver.recovery_info(Path(path).parent)
    name, when = recovery_name(info), recovery_time(info)
    box = window.boxes.box(QMessageBox.Question, "Recover unsaved work?",
                           f"BrushEdit Studio closed without saving. Recover {name}"
                           + (f", autosaved {when}?" if when else "?"))
    box.setStandardButtons(QMessageBox.Open | QMessageBox.Discard)
    box.button(QMessageBox.Open).setText(f"Recover {name}")
    box.accepted.connect(lambda: window.open_recovery(path))
    window.recovery_box = box
    box.show()
    return box
