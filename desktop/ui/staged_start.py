"""The staged window: the photo on screen first, the rest of the window on the next turn.

``MainWindow(staged=True, photo=path)`` (what the editor's entry does) shows its *shell* (menus,
toolbars, the docks' frames, the status bar) with :class:`~desktop.ui.canvas.stand_in.PhotoStandIn`
in the centre, the photo decoded by Qt. :class:`StagedStart` builds the *body* (the canvas, the
panels, the engine client, the document) on the event loop's turn after the stand-in's first paint,
opens the photo and swaps the canvas in once its visible tiles are rendered; or at once when
something needs the body first (a file dropped, the window closed, an action used before that turn).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from desktop.ui.canvas.stand_in import PhotoStandIn
from desktop.ui.file_actions import APP_NAME

STAGED_FALLBACK_MS = 1500  # a staged window never drawn (not shown, or no expose) still builds its body
# What the body adds to the window. One of them asked for before the body exists (an action clicked or
# a shortcut pressed between the window's mapping and its first paint) builds the body first.
BODY_ATTRIBUTES = frozenset({
    "canvas", "banner", "banner_text", "preferences", "client", "controller", "tools", "layers_panel",
    "history_panel", "tool_options", "instruction_panel", "candidate_strip", "queue_panel", "generate_bar",
})


class StagedStart:
    """A staged ``window``'s body still to build: ``pending`` until :meth:`finish` runs (once)."""

    def __init__(self, window, photo: str | None, client) -> None:
        self.window, self.photo, self.client = window, photo, client
        self.pending = True
        window.stand_in = PhotoStandIn(photo)
        window._canvas_stack.addWidget(window.stand_in)

    def show_first_frame(self) -> None:
        """The first frame as the body will show it (the photo's name in the title, the tool), and
        the body built once it is drawn."""
        window = self.window
        if self.photo and window.stand_in.image_size is not None:
            window.setWindowTitle(f"{Path(self.photo).name} — {APP_NAME}")
        tool = window.actions.get(str(window.settings.value("tools/current", "brush")))
        if tool is not None and tool.isCheckable():
            tool.setChecked(True)
        # A zero timer from here would run before the window server has exposed the window (an X11
        # round trip), and delay that frame.
        window.stand_in.painted.connect(self._after_first_frame, Qt.SingleShotConnection)
        QTimer.singleShot(STAGED_FALLBACK_MS, window, self._after_first_frame)  # never shown

    def _after_first_frame(self) -> None:
        if self.pending:
            QTimer.singleShot(0, self.window, self.finish)

    def finish(self) -> None:
        """Build the body, open the photo and retire the stand-in, unless done (or being done)."""
        if not self.pending:  # built, being built, or failed
            return
        self.pending = False
        client, self.client = self.client, None
        try:
            self.window._build_body(client)
        except Exception as exc:  # a broken install: say so in the window, keep it closable
            self._failed(exc)
            return
        photo, self.photo = self.photo, None
        if photo:
            self.window.open_path(photo)
        self._retire_stand_in()

    def _failed(self, exc: Exception) -> None:
        """The body could not be built (a module missing from an install, a broken package): the
        traceback to stderr, one message in the window, every action but Quit, About and the
        shortcut list greyed out (they would reach a body that is not there)."""
        traceback.print_exception(exc, file=sys.stderr)
        keep = {"quit", "about", "shortcuts"}
        for name, action in self.window.actions.items():
            action.setEnabled(name in keep)
        self.window.show_error("BrushEdit Studio could not finish starting",
                               f"{type(exc).__name__}: {exc}\nNothing was opened or changed. Run `brushedit doctor` "
                               "to check the installation, or reinstall (the README's first command).")

    def _retire_stand_in(self) -> None:
        """The canvas takes the stand-in's place, drawn (its visible tiles rendered) first."""
        window = self.window
        stand_in = window.stand_in
        if stand_in is None:
            return
        if window.document is not None:
            window.canvas.render_all()
        window.stand_in = None
        window._canvas_stack.setCurrentWidget(window.canvas)
        window._canvas_stack.removeWidget(stand_in)
        stand_in.deleteLater()
