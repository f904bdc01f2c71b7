"""What the status bar says the engine is doing, decided from the bridge's and the model's signals.

The window shows :attr:`EngineState.text` as "Engine: TEXT" and holds no rule of its own: a job of
any kind started ("segment…"), the model's progress ("denoising 3/20"), busy or idle; idle as soon as
the engine's queue is empty and the model waits for nothing (a SAM click is not the model's busy
state, so "segment…" stayed for minutes when only the model's busy state could end it); idle after
a failure.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal


class EngineState(QObject):
    """``text_changed(text)``: the engine's state in a few words ("idle", "busy", "segment…", ...)."""

    text_changed = Signal(str)

    def __init__(self, client: Any, model: Any = None, parent=None):
        super().__init__(parent)
        self.client, self.model = client, model
        self.text = "idle"
        if model is not None:
            model.busy_changed.connect(lambda busy: self._set("busy" if busy else "idle"))
            model.progress_changed.connect(self._on_progress)
            model.error.connect(lambda *_: self._set("idle"))
        if client is not None:
            for name, slot in (("started", lambda _job, kind: self._set(f"{kind}…")),
                               ("busy_changed", self._on_engine_busy),
                               ("failed", lambda *_: self._set("idle"))):
                if hasattr(client, name):
                    getattr(client, name).connect(slot)

    def _set(self, text: str) -> None:
        self.text = text
        self.text_changed.emit(text)

    def _on_progress(self, step: int, total: int, stage: str) -> None:
        text = f"{stage} {step}/{total}" if total else (stage or "working")
        self._set(text.strip())

    def _on_engine_busy(self, busy: bool) -> None:
        if not busy and not getattr(self.model, "busy", False):
            self._set("idle")
