"""The main window: canvas in the centre; Layers, History, Instruction, Tool options and Job queue
docks; a status bar with zoom, image size, engine state and GPU memory.

The window builds its parts and wires them; each concern lives beside it: the docks
(``window_docks``), message boxes (``window_messages``), the staged start (``staged_start``), the
tools and their settings (``window_tools``), autosave and recovery (``recovery``), the models banner
and Models dialog (``banner``, ``model_status``), and the menus' slots (``file_actions`` with drag
and drop, ``image_actions``, ``layer_actions``, the Preferences mixin). The AI side (plans,
candidates, jobs) is the edit controller's. Message boxes are non-modal so nothing blocks the
engine's messages (and tests never hang on one).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from desktop.ui import window_geometry, window_tools
from desktop.ui.actions import build_actions
from desktop.ui.dialogs.preferences_mixin import PreferencesMixin
from desktop.ui.error_text import for_display, missing_model_names
from desktop.ui.file_actions import APP_NAME, FileActionsMixin
from desktop.ui.icons import app_icon
from desktop.ui.image_actions import IMAGE_ACTIONS, ImageActionsMixin
from desktop.ui.layer_actions import LayerActionsMixin
from desktop.ui.lazy_engine import app_version
from desktop.ui.model_status import ModelStatusMixin
from desktop.ui.staged_start import BODY_ATTRIBUTES, StagedStart
from desktop.ui.window_docks import DockLayout, instruction_dock
from desktop.ui.window_messages import MessageBoxes

# What the first frame does not show (the canvas with its tiles, the panels, the engine client,
# the tools, numpy and the document model) is imported in MainWindow._build_body: with a photo
# to open, the window is drawn before it loads (see MainWindow's docstring).


class MainWindow(PreferencesMixin, FileActionsMixin, ImageActionsMixin, LayerActionsMixin, ModelStatusMixin,
                 QMainWindow):
    """The editor's window.

    Built in two parts. The *shell* is what the first frame shows: the menus and toolbars, the
    docks' frames at their sizes, the status bar and, in the centre, :class:`PhotoStandIn` (the
    photo given at start-up, decoded by Qt). The *body* is the rest: the canvas, the panels in the
    docks, the engine client, the tools, and the document. ``MainWindow()`` builds both at once;
    ``MainWindow(staged=True, photo=path)`` (what the editor's entry does) builds the body on the
    event loop's turn after the stand-in's first paint (:class:`StagedStart`), so the photo is on
    screen before numpy, OpenCV, the document model and the engine's api are imported. ``ready``
    says whether the body is built; ``built`` is emitted then.
    """

    built = Signal()

    def __init__(self, client=None, settings: QSettings | None = None, parent=None, *, staged: bool = False,
                 photo: str | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings("BrushEdit", "BrushEdit Studio")
        self.document = None
        self.ready = False
        self._autosaver = None
        self._recovered = None  # the document opened from a crash's autosave, until saved
        self.boxes = MessageBoxes(self)
        self.messages: list[tuple[str, str]] = self.boxes.messages  # (title, text) of every message shown
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setObjectName("mainWindow")
        from desktop.ui.dialogs import screen_fit

        screen_fit.install()  # every dialog fits the screen it opens on (100 %, 200 %)

        central = QWidget()
        self._central_layout = cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        self._canvas_stack = QStackedWidget()
        cl.addWidget(self._canvas_stack, 1)
        self.setCentralWidget(central)
        self.stand_in = None
        self._staged = StagedStart(self, photo, client) if staged else None  # see __getattr__

        self.actions = build_actions(self)
        self.dock_layout = DockLayout(self, self.panels_menu)
        self.docks = self.dock_layout.docks
        self._build_status_bar()
        self._rebuild_recent_menu()
        window_geometry.restore(self, self.settings)  # fitted to the screen, or as last time on this screen
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self._update_title()
        if staged:
            self._staged.show_first_frame()
        else:
            self._build_body(client)

    def __getattr__(self, name: str):
        # Only reached when the attribute is missing: in a staged window, a part of the body asked
        # for before the body is built. Build it (once; during the build a missing name is an error
        # as usual), then answer.
        staged = self.__dict__.get("_staged")
        if name in BODY_ATTRIBUTES and staged is not None and staged.pending:
            self.ensure_built()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def ensure_built(self) -> None:
        """Build a staged window's body, open its photo and retire the stand-in, unless done: on the
        turn after the first frame, or at once when something needs it first (a file dropped, the
        window closed, an action used before that turn)."""
        if self._staged is not None:
            self._staged.finish()

    def _build_body(self, client) -> None:
        """Everything the first frame does not show (see the class docstring)."""
        from desktop.engine_client import EngineClient
        from desktop.ui.banner import first_run_banner
        from desktop.ui.canvas.canvas_view import CanvasView
        from desktop.ui.dialogs.preferences_store import Preferences, has_saved_preferences
        from desktop.ui.dialogs.studio_server import EngineLocation
        from desktop.ui.edit_controller import EditController
        from desktop.ui.first_paint import AfterFirstPaint
        from desktop.ui.focus_return import FocusReturn
        from desktop.ui.panels.candidates import CandidateStrip
        from desktop.ui.panels.history_panel import HistoryPanel
        from desktop.ui.panels.instruction_panel import InstructionPanel
        from desktop.ui.panels.layers_panel import LayersPanel
        from desktop.ui.panels.queue_panel import JobQueuePanel
        from desktop.ui.panels.tool_options import ToolOptionsPanel
        from desktop.ui.panels.vertical_scroll import VerticalScrollArea

        self.canvas = CanvasView()
        self._canvas_stack.addWidget(self.canvas)
        if self.stand_in is None:
            self._canvas_stack.setCurrentWidget(self.canvas)
        # Esc and Del act on the canvas only while it has focus (see build_actions).
        self.canvas.addAction(self.actions["reset_selection"])
        self.canvas.addAction(self.actions["erase_masked"])
        self.banner = first_run_banner(self.show_models_dialog, self.dismiss_banner)
        self.banner_text = self.banner.text
        self._central_layout.insertWidget(0, self.banner)

        # Edit ▸ Preferences…: the engine's device, model folders and instructor. A client the window
        # builds starts with them; a client passed in keeps its own configuration until the user has
        # saved preferences.
        self.preferences = Preferences.load(self.settings)
        self._prefs_dialog = None
        self._own_client = client is None  # a client given to the window answers for its own models
        if client is None:
            client = EngineClient(EngineLocation.for_engine(self.settings).service_factory(self._engine_config()))
        elif has_saved_preferences(self.settings) and hasattr(client, "set_config"):
            client.set_config(self._engine_config())
        self.client = client
        self.controller = EditController(self.client, lambda: self.document, self)

        self.tools = window_tools.make_tools(self)
        window_tools.restore(self.tools, self.settings)
        self.layers_panel = LayersPanel()
        self.history_panel = HistoryPanel()
        self.tool_options = ToolOptionsPanel(lambda: self.document)
        self.tool_options.mask_visibility_changed.connect(self._set_mask_visible)
        self.instruction_panel = InstructionPanel(self.controller)
        self.candidate_strip = CandidateStrip(self.controller)
        self.queue_panel = JobQueuePanel(self.client)
        self.dock_layout.fill({
            "instruction": instruction_dock(self.instruction_panel, self.candidate_strip,
                                            self.fontMetrics().lineSpacing()),
            "layers": self.layers_panel, "history": self.history_panel,
            "tool_options": VerticalScrollArea(self.tool_options), "queue": self.queue_panel})
        # Esc / Enter in a Parameters or Tool options field gives the keys back to the canvas.
        self._focus_return = FocusReturn(self.canvas, self)
        self._focus_return.watch(self.instruction_panel, self.tool_options)
        self.instruction_panel.restore_settings(self.settings)
        self.instruction_panel.set_instructor(self.preferences.instructor)
        self.instruction_panel.instructor_changed.connect(self._on_panel_instructor)
        self.instruction_panel.set_document_open(False)
        self._build_generate_bar()
        self._wire()
        self.set_tool(str(self.settings.value("tools/current", "brush")))
        self.ready = True
        self._update_title()
        self._after_show_once = AfterFirstPaint(self.canvas, self._after_show)  # the first frame first
        self.built.emit()

    # --- construction ---------------------------------------------------------------------
    def reset_layout(self) -> None:
        """View ▸ Reset layout: every panel back in its place and shown."""
        self.dock_layout.reset()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.zoom_label = QLabel("—")
        self.size_label = QLabel("—")
        self.engine_label = QLabel("Engine: idle")
        self.engine_label.setToolTip("The engine loads its models on first use; the device shows after the first job")
        self.gpu_label = QLabel("GPU: —")
        for w in (self.size_label, self.zoom_label, self.engine_label, self.gpu_label):
            bar.addPermanentWidget(w)

    def _wire(self) -> None:
        self.canvas.zoom_changed.connect(self._on_zoom)
        self.layers_panel.rerun_seed_requested.connect(self.rerun_with_new_seed)
        self.layers_panel.rerun_prompt_requested.connect(self.rerun_with_new_prompt)
        self.layers_panel.show_mask_requested.connect(self.show_layer_mask)
        self.layers_panel.current_changed.connect(self._update_layer_actions)
        self.layers_panel.mask_from_pixels_requested.connect(self.mask_from_layer_pixels)
        # The Move tool outlines the selected layer: redraw when the selection changes.
        self.layers_panel.current_changed.connect(
            lambda _layer: self.canvas.update() if self.canvas.tool is self.tools["move_layer"] else None)
        self._update_layer_actions(self.active_layer())
        c = self.controller
        if c is not None:
            c.preview_changed.connect(self.canvas.set_preview)
            c.live_preview.connect(self.canvas.set_live_preview)
            c.error.connect(self._on_controller_error)
            c.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
            c.accepted.connect(lambda _layers: self.canvas.hide_mask_tint())
            c.candidates_changed.connect(lambda cands: self._hide_failure_banner() if cands else None)
            c.accepted.connect(lambda _layers: self._hide_failure_banner())
        from desktop.model.engine_state import EngineState

        self.engine_state = EngineState(self.client, c, self)  # decides the "Engine: ..." words
        self.engine_state.text_changed.connect(self._set_engine_state)
        if self.client is not None:
            for sig, slot in (("failed", self._on_job_failed), ("status", self._on_engine_status)):
                if hasattr(self.client, sig):
                    getattr(self.client, sig).connect(slot)

    def _after_show(self) -> None:
        """Start-up work that may show messages: recovery offer, autosave, first-run check."""
        from desktop.ui import recovery

        recovery.start_autosave(self)
        self._check_models()

    def offer_recovery(self, path) -> None:
        """Offer to recover the autosave a crash left at ``path`` (``recovery_box``)."""
        from desktop.ui import recovery

        recovery.offer_recovery(self, path)

    # --- documents ------------------------------------------------------------------------
    def active_layer(self):
        """The layer the user works on: the document's active layer (None without a document)."""
        return self.document.active_layer if self.document is not None else None

    def set_document(self, doc) -> None:
        replaced = self.document is not None  # text typed before any photo was open is kept
        old_side = max(self.document.width, self.document.height) if replaced else None
        if self.document is not None:
            self.document.events.disconnect(self._on_doc_event)  # a no-op if not connected
        self.document = doc
        if doc is not None:
            doc.events.connect(self._on_doc_event)
        if doc is not None:
            window_tools.fit_brushes(self.tools, old_side, max(doc.width, doc.height))
        self.canvas.set_document(doc)
        self.layers_panel.set_document(doc)
        self.history_panel.set_document(doc)
        self.tools["sam"].reset()
        self.controller.cancel()  # the previous document's jobs: nothing would take their results
        self.controller.discard()
        self._hide_failure_banner()  # the old document's failure says nothing of a new one, or of none
        self.size_label.setText(f"{doc.width} × {doc.height} px" if doc is not None else "—")
        if replaced:
            self.instruction_panel.new_document()
        self.instruction_panel.set_document_open(doc is not None)
        self._update_title()

    def _on_doc_event(self, event) -> None:
        if event.kind in ("history", "path"):
            self._update_title()
        elif event.kind == "size":
            doc = self.document
            self.size_label.setText(f"{doc.width} × {doc.height} px")
            self.tools["sam"].reset()  # its clicks were on the old canvas
            self.controller.discard()  # candidates painted for the old canvas no longer fit

    def _update_title(self) -> None:
        doc = self.document
        if hasattr(self, "actions"):
            # Nothing to save, export, close, copy or undo without a photo: grey it out, not a message.
            for name in ("save", "save_as", "export", "close", "copy", "copy_merged", "expand_canvas",
                         "crop_to_mask", *IMAGE_ACTIONS):
                self.actions[name].setEnabled(doc is not None)
        if doc is None:
            self.setWindowTitle(APP_NAME)
            self.setWindowModified(False)
            if hasattr(self, "actions"):
                self.actions["undo"].setEnabled(False)
                self.actions["redo"].setEnabled(False)
            return
        name = getattr(doc, "title", None) or (Path(doc.path).name if doc.path else "Untitled")
        recovered = self.is_unsaved_recovery()
        if recovered:
            from desktop.ui.autosave import recovery_name

            name = f"Recovered work ({recovery_name(getattr(self, '_recovered_info', None) or {})})"
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")
        self.setWindowModified(bool(doc.dirty) or recovered)
        self.setWindowFilePath(str(doc.path) if doc.path else "")
        if hasattr(self, "actions"):
            self.actions["undo"].setEnabled(doc.can_undo)
            self.actions["redo"].setEnabled(doc.can_redo)

    # --- tools ----------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        tool = self.tools.get(name, self.tools["brush"])
        self.canvas.set_tool(tool)
        self.tool_options.set_tool(tool)
        self.actions[tool.name].setChecked(True)
        self.settings.setValue("tools/current", tool.name)

    def current_tool(self):
        return self.canvas.tool

    def resize_brush(self, direction: int) -> None:
        tool = self.canvas.tool
        if hasattr(tool, "grow"):
            tool.grow() if direction > 0 else tool.shrink()

    def reset_sam(self) -> None:
        """Esc on the canvas: drop a lasso being drawn, or start a new SAM selection."""
        self.tools["lasso"].cancel()
        self.tools["sam"].reset()

    def _set_mask_visible(self, on: bool) -> None:
        self.canvas.mask_visible = on
        self.canvas.update()

    def undo(self) -> None:
        if self.document is not None:
            self.document.undo()

    def redo(self) -> None:
        if self.document is not None:
            self.document.redo()

    # --- engine ---------------------------------------------------------------------------
    def _set_engine_state(self, state: str) -> None:
        self.engine_label.setText(f"Engine: {state}")

    def _on_job_failed(self, job_id: int, error: str, hint: str, kind: str) -> None:
        if kind == "missing-models":
            message, hint = (html.escape(t.rstrip(".")) for t in for_display(error, hint))
            fix = f" {hint}" + ("" if hint.endswith("…") else ".") if hint else ""
            # One line: what is missing and the fix; what each feature needs stays in the tooltip.
            self.banner_text.setText(f"<b>{message}.</b>{fix}")
            self.banner.show()
            self._failure_banner = True

    def _hide_failure_banner(self) -> None:
        """A later edit worked: an earlier failure's banner no longer describes the present."""
        if getattr(self, "_failure_banner", False):
            self._failure_banner = False
            self.banner.hide()

    def _on_controller_error(self, message: str, hint: str) -> None:
        """An engine error: one clear line and the fix; the document is untouched.

        Missing weights are not a box to click away: the banner says what is missing, next to its
        Download button (the transcript keeps the line too)."""
        missing = missing_model_names(hint)
        if any(name.startswith("sam-") for name in missing):
            # The click selected nothing: its marker must not stay on the canvas as if it had.
            self.tools["sam"].reset()
            self.canvas.update()
        message, hint = for_display(message, hint)
        if missing:
            # The banner (set by _on_job_failed for the same failure) says it, next to its button.
            self.messages.append(("Models needed", f"{message}\n{hint}"))
            self.statusBar().showMessage(message, 8000)
            if not self.banner.isVisible():  # not a job's failure: offer the download here too
                self.banner_text.setText(f"<b>{html.escape(message.rstrip('.'))}.</b> {html.escape(hint)}")
                self.banner.show()
                self._failure_banner = True
            return
        self.show_error("The edit did not run", f"{message}\n{hint}" if hint else message)

    def set_gpu_memory(self, used_bytes: int | None, total_bytes: int | None = None) -> None:
        """Show GPU memory in the status bar ("—" when unknown)."""
        if used_bytes is None:
            self.gpu_label.setText("GPU: —")
            return
        text = f"GPU: {used_bytes / 2**30:.1f}"
        self.gpu_label.setText(text + (f" / {total_bytes / 2**30:.0f} GiB" if total_bytes else " GiB"))

    def _on_engine_status(self, status) -> None:
        """The engine said where it runs (after each job): GPU memory, or CPU, and the device name."""
        if getattr(status, "device", "") == "cuda":
            self.set_gpu_memory(status.gpu_used_bytes, status.gpu_total_bytes)
            name = status.gpu_name or "CUDA GPU"
            self.gpu_label.setToolTip(f"GPU memory held by the engine: {name}")
            self.engine_label.setToolTip(f"The engine runs on {name}")
        else:
            self.gpu_label.setText("CPU")
            self.gpu_label.setToolTip("The last edit ran on the CPU (no GPU in use)")
            self.engine_label.setToolTip("The engine runs on the CPU")


    # --- messages -------------------------------------------------------------------------
    def show_error(self, title: str, text: str) -> None:
        """A non-blocking error message (title, one clear line and the fix)."""
        self.boxes.error(title, text)

    def show_message(self, title: str, text: str) -> None:
        self.boxes.info(title, text)

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard shortcuts (F1): a non-modal, filterable table of every shortcut."""
        from desktop.ui.dialogs.shortcuts_dialog import ShortcutsDialog

        self._shortcuts_dialog = ShortcutsDialog(self.actions, self)
        self._shortcuts_dialog.setModal(False)
        self._shortcuts_dialog.show()

    def show_about(self) -> None:
        self.show_message(f"About {APP_NAME}", f"{APP_NAME} {app_version()}\n\nA photo editor driven by a local BrushEdit agent: "
                          "paint, click or type an edit; every edit is a revertible layer.")

    # --- window events --------------------------------------------------------------------
    def _on_zoom(self, z: float) -> None:
        self.zoom_label.setText(f"{z * self.devicePixelRatioF() * 100:.0f} %")

    def closeEvent(self, event) -> None:
        self.ensure_built()
        if not self.ready:  # the body could not be built (see StagedStart): nothing to save
            event.accept()
            return
        if not self.maybe_save():
            event.ignore()
            return
        s = self.settings
        window_geometry.save(self, s)
        s.setValue("window/state", self.saveState())
        window_tools.save(self.tools, s)
        self.instruction_panel.save_settings(s)
        s.sync()
        if self._autosaver is not None and hasattr(self._autosaver, "clear"):
            self._autosaver.clear()  # a clean exit leaves nothing to recover
        if self.client is not None and hasattr(self.client, "shutdown"):
            self.client.shutdown()
        event.accept()
