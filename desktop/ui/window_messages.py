"""The main window's message boxes: non-modal, so nothing blocks the engine's messages (and tests
never hang on one), each also written to the window's transcript of what it said (``messages``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox


def one_line(text: str) -> str:
    """Lines as sentences on one line: each ends with a full stop before the next begins."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line if line.endswith((".", "!", "?", "…", ":")) or i == len(lines) - 1 else line + "."
                    for i, line in enumerate(lines))


class MessageBoxes:
    """Opens ``window``'s boxes and remembers what each said (``messages``: ``(title, text)``)."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.messages: list[tuple[str, str]] = []
        self._open: list[QMessageBox] = []

    def box(self, kind, title: str, text: str) -> QMessageBox:
        """A non-modal box of ``kind`` (``QMessageBox.Warning``...), not shown yet."""
        self.messages.append((title, text))
        box = QMessageBox(kind, title, text, QMessageBox.Ok, self.window)
        box.setWindowModality(Qt.NonModal)
        box.setAttribute(Qt.WA_DeleteOnClose)
        # A closed box is deleted by Qt: forget it then, never ask a deleted box if it is visible.
        box.destroyed.connect(lambda _obj=None, key=id(box): self._forget(key))
        self._open.append(box)
        return box

    def _forget(self, key: int) -> None:
        self._open = [b for b in self._open if id(b) != key]

    def error(self, title: str, text: str) -> None:
        """A warning box, and the same in one line in the status bar."""
        self.box(QMessageBox.Warning, title, text).show()
        self.window.statusBar().showMessage(f"{title}: {one_line(text)}", 8000)

    def info(self, title: str, text: str) -> None:
        self.box(QMessageBox.Information, title, text).show()
