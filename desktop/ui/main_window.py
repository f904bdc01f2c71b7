"""The main window: canvas in the centre; Layers, History, Instruction, Tool options and Job queue
docks; a status bar with zoom, image size, engine state and GPU memory.

File handling (open, drag-and-drop, paste, recent files, save .ora, export, unsaved-changes prompt)
lives here; the AI side (plans, candidates, jobs) is the edit controller's. Message boxes are
non-modal so nothing blocks the engine's messages (and tests never hang on one).
"""

from __future__ import annotations

import html
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui import window_geometry
from desktop.ui.actions import build_actions
from desktop.ui.canvas.stand_in import PhotoStandIn
from desktop.ui.dialogs.preferences_mixin import PreferencesMixin
from desktop.ui.error_text import for_display, missing_model_names
from desktop.ui.file_actions import APP_NAME, FileActionsMixin
from desktop.ui.icons import app_icon, icon
from desktop.ui.image_actions import IMAGE_ACTIONS, ImageActionsMixin
from desktop.ui.lazy_engine import app_version, model_entries, model_path_status

# What the first frame does not show (the canvas with its tiles, the panels, the engine client,
# the tools, numpy and the document model) is imported in MainWindow._build_body: with a photo
# to open, the window is drawn before it loads (see MainWindow's docstring).

STAGED_FALLBACK_MS = 1500  # a staged window never drawn (not shown, or no expose) still builds its body
# What the body adds to the window. One of them asked for before the body exists (an action clicked or
# a shortcut pressed between the window's mapping and its first paint) builds the body first.
BODY_ATTRIBUTES = frozenset({
    "canvas", "banner", "banner_text", "preferences", "client", "controller", "tools", "layers_panel",
    "history_panel", "tool_options", "instruction_panel", "candidate_strip", "queue_panel", "generate_bar",
})

FIRST_RUN_TEXT = ("<b>No AI models installed yet.</b> Painting, masks and the fill engine work now; generative "
                  "fill, click-to-select and instructions need models.")
FEATURE_NEEDS = (
    "Painting, masks and the classic <b>fill</b> engine work now. "
    "<b>Generative fill</b> needs BrushNet + Stable Diffusion 1.5 (brushnet-x, sd15-realistic-vision); "
    "<b>click-to-select</b> needs SAM (sam-vit-h, or -l/-b); <b>instructions</b> need GroundingDINO "
    "(grounding-dino-tiny) and, for the full instructor, Qwen2-VL (qwen2-vl-7b or -2b)."
)


def _one_line(text: str) -> str:
    """Lines as sentences on one line: each ends with a full stop before the next begins."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line if line.endswith((".", "!", "?", "…", ":")) or i == len(lines) - 1 else line + "."
                    for i, line in enumerate(lines))


class MainWindow(PreferencesMixin, FileActionsMixin, ImageActionsMixin, QMainWindow):
    """The editor's window.

    Built in two parts. The *shell* is what the first frame shows: the menus and toolbars, the
    docks' frames at their sizes, the status bar and, in the centre, :class:`PhotoStandIn` (the
    photo given at start-up, decoded by Qt). The *body* is the rest: the canvas, the panels in the
    docks, the engine client, the tools, and the document. ``MainWindow()`` builds both at once;
    ``MainWindow(staged=True, photo=path)`` (what the editor's entry does) builds the body on the
    event loop's turn after the stand-in's first paint, so the photo is on screen before numpy,
    OpenCV, the document model and the engine's api are imported. ``ready`` says whether the
    body is built; ``built`` is emitted then.
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
        self.messages: list[tuple[str, str]] = []  # (title, text) of every message shown
        self._boxes: list[QMessageBox] = []
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
        self._body_pending = staged  # see __getattr__
        if staged:
            self.stand_in = PhotoStandIn(photo)
            self._canvas_stack.addWidget(self.stand_in)

        self.docks: dict[str, QDockWidget] = {}
        self.actions = build_actions(self)
        self._build_dock_frames()
        self._build_status_bar()
        self._rebuild_recent_menu()
        s = self.settings
        window_geometry.restore(self, s)  # fitted to the screen, or as last time on this screen
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        self._update_title()
        if staged:
            # The first frame as the body will show it: the photo's name in the title, the tool.
            if photo and self.stand_in.image_size is not None:
                self.setWindowTitle(f"{Path(photo).name} — {APP_NAME}")
            tool = self.actions.get(str(s.value("tools/current", "brush")))
            if tool is not None and tool.isCheckable():
                tool.setChecked(True)
            # The rest once the first frame is drawn: a zero timer from here would run before the
            # window server has exposed the window (an X11 round trip), and delay that frame.
            self._photo, self._pending_client = photo, client
            self.stand_in.painted.connect(self._build_after_first_frame, Qt.SingleShotConnection)
            QTimer.singleShot(STAGED_FALLBACK_MS, self, self._build_after_first_frame)  # never shown
        else:
            self._build_body(client)

    def __getattr__(self, name: str):
        # Only reached when the attribute is missing: in a staged window, a part of the body asked
        # for before the body is built. Build it (once; during the build a missing name is an error
        # as usual), then answer.
        if name in BODY_ATTRIBUTES and self.__dict__.get("_body_pending"):
            self.ensure_built()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _build_after_first_frame(self) -> None:
        if self._body_pending:
            QTimer.singleShot(0, self, self.ensure_built)

    def ensure_built(self) -> None:
        """Build a staged window's body, open its photo and retire the stand-in, unless done: on the
        turn after the first frame, or at once when something needs it first (a file dropped, the
        window closed, an action used before that turn)."""
        if not self._body_pending:  # built, being built, failed, or built at once (not staged)
            return
        self._body_pending = False
        client, self._pending_client = self._pending_client, None
        try:
            self._build_body(client)
        except Exception as exc:  # a broken install: say so in the window, keep it closable
            self._body_failed(exc)
            return
        photo, self._photo = self._photo, None
        if photo:
            self.open_path(photo)
        self._retire_stand_in()

    def _body_failed(self, exc: Exception) -> None:
        """The staged window's body could not be built (a module missing from an install, a broken
        package): the traceback to stderr, one message in the window, every action but Quit, About
        and the shortcut list greyed out (they would reach a body that is not there)."""
        traceback.print_exception(exc, file=sys.stderr)
        keep = {"quit", "about", "shortcuts"}
        for name, action in self.actions.items():
            action.setEnabled(name in keep)
        self.show_error("BrushEdit Studio could not finish starting",
                        f"{type(exc).__name__}: {exc}\nNothing was opened or changed. Run `brushedit doctor` "
                        "to check the installation, or reinstall (the README's first command).")

    def _retire_stand_in(self) -> None:
        """The canvas takes the stand-in's place, drawn (its visible tiles rendered) first."""
        stand_in = self.stand_in
        if stand_in is None:
            return
        if self.document is not None:
            self.canvas.render_all()
        self.stand_in = None
        self._canvas_stack.setCurrentWidget(self.canvas)
        self._canvas_stack.removeWidget(stand_in)
        stand_in.deleteLater()

    def _build_body(self, client) -> None:
        """Everything the first frame does not show (see the class docstring)."""
        from desktop.engine_client import EngineClient
        from desktop.ui.canvas.canvas_view import CanvasView
        from desktop.ui.dialogs.preferences_store import Preferences, has_saved_preferences
        from desktop.ui.dialogs.studio_server import EngineLocation
        from desktop.ui.edit_controller import EditController
        from desktop.ui.first_paint import AfterFirstPaint
        from desktop.ui.focus_return import FocusReturn
        from desktop.ui.panels.history_panel import HistoryPanel
        from desktop.ui.panels.layers_panel import LayersPanel
        from desktop.ui.panels.tool_options import ToolOptionsPanel
        from desktop.ui.tools.brush import MaskBrushTool
        from desktop.ui.tools.lasso import LassoMaskTool
        from desktop.ui.tools.move import MoveTool
        from desktop.ui.tools.paint import PaintTool
        from desktop.ui.tools.remove import RemoveBrushTool
        from desktop.ui.tools.sam_click import SamClickTool
        from desktop.ui.tools.shapes import ShapeMaskTool

        self.canvas = CanvasView()
        self._canvas_stack.addWidget(self.canvas)
        if self.stand_in is None:
            self._canvas_stack.setCurrentWidget(self.canvas)
        # Esc and Del act on the canvas only while it has focus (see build_actions).
        self.canvas.addAction(self.actions["reset_selection"])
        self.canvas.addAction(self.actions["erase_masked"])
        self.banner = self._make_banner()
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

        self.tools = {
            "brush": MaskBrushTool("paint"),
            "eraser": MaskBrushTool("erase"),
            "sam": SamClickTool(self._segment),
            "box": ShapeMaskTool("box"),
            "ellipse": ShapeMaskTool("ellipse"),
            "lasso": LassoMaskTool(),
            "move_layer": MoveTool(lambda: self.layers_panel.current_layer()),
            "paint": PaintTool(lambda: self.layers_panel.current_layer()),
            "remove": RemoveBrushTool(lambda since=None: self.controller.quick_remove(self.instruction_panel.params(),
                                                                                  since=since)),
        }
        s = self.settings
        for name, tool in self._brushes():
            try:
                tool.size = int(s.value(f"tools/{name}/size", tool.size))
                tool.hardness = float(s.value(f"tools/{name}/hardness", tool.hardness))
            except (TypeError, ValueError):
                pass  # a hand-edited settings file: keep the defaults
        try:
            paint = self.tools["paint"]
            paint.color = [int(c) for c in s.value("tools/paint/color", list(paint.color))]
            paint.opacity = float(s.value("tools/paint/opacity", paint.opacity))
        except (TypeError, ValueError):
            pass

        self.layers_panel = LayersPanel()
        self.history_panel = HistoryPanel()
        self.tool_options = ToolOptionsPanel(lambda: self.document)
        self.tool_options.mask_visibility_changed.connect(self._set_mask_visible)
        self._fill_docks()
        # Esc / Enter in a Parameters or Tool options field gives the keys back to the canvas.
        self._focus_return = FocusReturn(self.canvas, self)
        self._focus_return.watch(self.instruction_panel, self.tool_options)
        self.instruction_panel.restore_settings(self.settings)
        self.instruction_panel.set_instructor(self.preferences.instructor)
        self.instruction_panel.instructor_changed.connect(self._on_panel_instructor)
        self.instruction_panel.set_document_open(False)
        self._build_generate_bar()
        self._wire()
        self.set_tool(str(s.value("tools/current", "brush")))
        self.ready = True
        self._update_title()
        self._after_show_once = AfterFirstPaint(self.canvas, self._after_show)  # the first frame first
        self.built.emit()

    # --- construction ---------------------------------------------------------------------
    def _brushes(self):
        """``(name, tool)`` of the tools with a round brush (size and hardness kept in settings)."""
        return [(name, tool) for name, tool in self.tools.items() if hasattr(tool, "hardness")]

    def _fit_brushes(self, old_side: int | None, new_side: int) -> None:
        """Brush sizes follow the image (a size in image pixels from a 6000 px photo would cover a
        small one whole, its cursor out of view): scaled by the change of the long side, and never
        over a quarter of it."""
        for _name, tool in self._brushes():
            size = tool.size * new_side / old_side if old_side else tool.size
            tool.size = max(1, min(size, max(1, new_side // 4)))

    def _make_banner(self) -> QFrame:
        from desktop.ui.banner import Banner

        # Short (one line on a laptop screen); what each feature needs is in the tooltip and the
        # Models dialog.
        self.banner_text = QLabel(FIRST_RUN_TEXT)
        self.banner_text.setWordWrap(True)
        self.banner_text.setToolTip(FEATURE_NEEDS)
        download = QPushButton(icon("models"), "Download models…")
        download.clicked.connect(self.show_models_dialog)
        # A small ✕ (not a word button): the banner must fit the canvas of a 200 % laptop screen.
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setAutoRaise(True)
        dismiss.setToolTip("Dismiss this notice")
        dismiss.setAccessibleName("Dismiss")
        dismiss.clicked.connect(self.dismiss_banner)
        # The buttons go below the text on a narrow canvas (200 %): two or three lines, not one word a line.
        banner = Banner(self.banner_text, download, dismiss)
        banner.setObjectName("firstRunBanner")
        banner.setStyleSheet("#firstRunBanner { background: #2c3a4f; border-bottom: 1px solid #3d8ef0; }")
        banner.hide()
        return banner

    def _dock(self, key: str, title: str, widget, area, glyph: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        action = dock.toggleViewAction()
        action.setIcon(icon(glyph))
        self.panels_menu.addAction(action)
        self.docks[key] = dock
        return dock

    def _build_dock_frames(self) -> None:
        """The docks, empty, at their places and sizes (the first frame shows them so); the body
        fills them (:meth:`_fill_docks`)."""
        right = Qt.RightDockWidgetArea
        for key, title, area, glyph in (("instruction", "Instruction", right, "mdi6.message-text"),
                                        ("layers", "Layers", right, "layers"),
                                        ("history", "History", right, "history"),
                                        ("tool_options", "Tool options", Qt.LeftDockWidgetArea, "mdi6.tune-variant"),
                                        ("queue", "Job queue", right, "engine")):
            self._dock(key, title, QWidget(), area, glyph)
        self._arrange_docks()

    def reset_layout(self) -> None:
        """View ▸ Reset layout: every panel back in its place and shown (a dock dragged away or
        closed had no way back but the Panels menu, one at a time)."""
        right = Qt.RightDockWidgetArea
        for key, dock in self.docks.items():
            dock.setFloating(False)
            self.addDockWidget(Qt.LeftDockWidgetArea if key == "tool_options" else right, dock)
            dock.show()
        self._arrange_docks()

    def _arrange_docks(self) -> None:
        """The default arrangement of the docks (at start, and for View ▸ Reset layout)."""
        self.splitDockWidget(self.docks["instruction"], self.docks["layers"], Qt.Vertical)
        self.tabifyDockWidget(self.docks["layers"], self.docks["history"])
        self.tabifyDockWidget(self.docks["history"], self.docks["queue"])
        self.docks["layers"].raise_()
        self.resizeDocks([self.docks["instruction"]], [380], Qt.Horizontal)
        # The instruction dock holds the transcript, the plan, the parameters and the candidates:
        # it gets most of the height; Layers/History/Job queue share the rest.
        self.resizeDocks([self.docks["instruction"], self.docks["layers"]], [500, 420], Qt.Vertical)
        self.resizeDocks([self.docks["tool_options"]], [250], Qt.Horizontal)

    def _fill_docks(self) -> None:
        from desktop.ui.panels.candidates import CandidateStrip
        from desktop.ui.panels.instruction_panel import InstructionPanel
        from desktop.ui.panels.queue_panel import JobQueuePanel
        from desktop.ui.panels.vertical_scroll import VerticalScrollArea

        self.instruction_panel = InstructionPanel(self.controller)
        self.candidate_strip = CandidateStrip(self.controller)
        self.queue_panel = JobQueuePanel(self.client)
        instruction = QWidget()
        il = QVBoxLayout(instruction)
        il.setContentsMargins(0, 0, 0, 0)
        il.setSpacing(0)
        # The panel scrolls as a whole (its parameters too) when the dock is short, so the dock
        # never asks for more height than a laptop screen has; the strip stays below it, in view.
        instruction_area = VerticalScrollArea(self.instruction_panel)
        self.instruction_panel.follow_height(instruction_area)  # a short dock folds the log first
        # It scrolls: two lines are enough at the least (Plan / Run are pinned below it), so that on a
        # 540 px screen (200 %) the strip of candidates does not push the window past the screen's bottom.
        instruction_area.setMinimumHeight(2 * self.fontMetrics().lineSpacing())
        il.addWidget(instruction_area, 1)
        il.addWidget(self.candidate_strip, 0)  # fixed height: always in view when an edit ends
        # Plan / Run / Cancel last: in view as the panel scrolls, and where they were when a run starts
        # (below the strip, Cancel jumped 124 px up as the live preview came in).
        il.addWidget(self.instruction_panel.take_footer(), 0)
        for key, widget in (("instruction", instruction), ("layers", self.layers_panel),
                            ("history", self.history_panel), ("tool_options", VerticalScrollArea(self.tool_options)),
                            ("queue", self.queue_panel)):
            dock = self.docks[key]
            dock.widget().deleteLater()  # the empty frame the shell put there
            dock.setWidget(widget)

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
        self._update_layer_actions(self.layers_panel.current_layer())
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
        self._start_autosave()
        self._check_models()

    # --- documents ------------------------------------------------------------------------
    def set_document(self, doc) -> None:
        replaced = self.document is not None  # text typed before any photo was open is kept
        old_side = max(self.document.width, self.document.height) if replaced else None
        if self.document is not None:
            self.document.events.disconnect(self._on_doc_event)  # a no-op if not connected
        self.document = doc
        if doc is not None:
            doc.events.connect(self._on_doc_event)
        if doc is not None:
            self._fit_brushes(old_side, max(doc.width, doc.height))
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

    def _segment(self, points, labels) -> None:
        self.controller.segment_click(points, labels)

    def _set_mask_visible(self, on: bool) -> None:
        self.canvas.mask_visible = on
        self.canvas.update()

    def undo(self) -> None:
        if self.document is not None:
            self.document.undo()

    def redo(self) -> None:
        if self.document is not None:
            self.document.redo()

    # --- the Layer menu ---------------------------------------------------------------------
    def _update_layer_actions(self, layer) -> None:
        """Grey out what the selected layer cannot do (the mask is checked when run: cheaper than
        watching every brush dab)."""
        can = self.layers_panel.abilities(layer)
        for action, ability in (("duplicate_layer", "duplicate"), ("delete_layer", "delete"),
                                ("raise_layer", "up"), ("lower_layer", "down"), ("erase_masked", "selected"),
                                ("keep_masked", "selected"), ("mask_from_layer", "selected"),
                                ("merge_down", "merge_down"), ("flatten", "flatten"),
                                ("layer_new_seed", "new_seed"), ("layer_new_prompt", "new_prompt"),
                                ("layer_show_mask", "show_mask")):
            self.actions[action].setEnabled(can[ability])

    def erase_masked(self, keep: bool = False) -> None:
        """Erase the masked area from the selected layer (``keep``: erase everything else)."""
        doc, layer = self.document, self.layers_panel.current_layer()
        if doc is None or layer is None:
            return
        if not doc.mask.any():
            self.statusBar().showMessage("Paint or select a mask first: it marks the area to "
                                         + ("keep" if keep else "erase"), 5000)
            return
        if doc.erase_masked(layer, keep=keep):
            done = "Kept only the masked area of" if keep else "Erased the masked area from"
            message = f"{done} “{layer.name}” (Ctrl+Z undoes)"
        else:
            why = "covers all of" if keep else "does not cover"
            message = f"Nothing changed: the mask {why} “{layer.name}”"
        self.statusBar().showMessage(message, 5000)

    def flatten_image(self) -> None:
        if self.document is not None and len(self.document.layers) > 1:
            self.document.flatten_image()  # the panel's refresh selects the new layer

    # --- the Image menu ---------------------------------------------------------------------
    def expand_canvas_dialog(self) -> None:
        """Ask how much to add on each side (non-blocking), then expand in one undo step."""
        if self.document is None:
            return
        from desktop.document.document import MAX_SIDE
        from desktop.ui.dialogs.canvas_dialog import ExpandCanvasDialog

        dialog = ExpandCanvasDialog(self.document.width, self.document.height, MAX_SIDE, self)
        dialog.accepted.connect(lambda: self.expand_canvas(**dialog.values(),
                                                           mask_new_area=dialog.mask_new.isChecked()))
        dialog.open()
        self._canvas_dialog = dialog

    def expand_canvas(self, left=0, top=0, right=0, bottom=0, mask_new_area=True) -> None:
        if self.document is None:
            return
        from desktop.document import DocumentError

        try:
            self.document.expand_canvas(left, top, right, bottom, mask_new_area=mask_new_area)
        except DocumentError as e:
            self.show_error("Cannot expand the canvas", str(e))
            return
        if mask_new_area:
            self.statusBar().showMessage("The new area is masked: Run fills it (or describe what it "
                                         "should show first)", 8000)

    def crop_to_mask(self) -> None:
        if self.document is None:
            return
        from desktop.document import DocumentError

        try:
            self.document.crop_to_mask()
        except DocumentError as e:
            self.statusBar().showMessage(str(e).capitalize(), 5000)

    # --- layers panel requests ------------------------------------------------------------
    def rerun_with_new_seed(self, layer) -> None:
        import random

        self.controller.rerun_layer(layer, seed=random.randrange(2**31))

    def rerun_with_new_prompt(self, layer) -> None:
        prov = getattr(layer, "provenance", None)
        old = (getattr(prov, "caption", "") or getattr(prov, "prompt", "")
               or getattr(prov, "instruction", "") or "")
        dialog = QInputDialog(self)
        title = "Re-run with changed prompt"
        dialog.setWindowTitle(title)
        dialog.setLabelText(f"New prompt for “{layer.name}”:")
        dialog.setTextValue(old)
        # Wide enough for the title (window managers cut it short otherwise) and a real prompt;
        # on its field, since QInputDialog's layout resets the dialog's own minimum when shown.
        field = dialog.findChild(QLineEdit)
        if field is not None:
            field.setMinimumWidth(max(440, dialog.fontMetrics().horizontalAdvance(title) + 160))
        dialog.setModal(False)
        dialog.textValueSelected.connect(lambda text: text.strip() and self.controller.rerun_layer(layer, prompt=text.strip()))
        dialog.open()
        self._prompt_dialog = dialog

    def show_layer_mask(self, layer) -> None:
        if self.document is not None and getattr(layer, "mask", None) is not None:
            self.document.mask_from_layer(layer)

    def mask_from_layer_pixels(self, layer=None) -> None:
        """The selected layer's pixels (their alpha) become the mask (Ctrl+click a thumbnail)."""
        layer = layer if layer is not None else self.layers_panel.current_layer()
        if self.document is not None and layer is not None:
            self.document.mask_from_layer(layer, alpha=True)

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

    def sam_status(self):
        """Whether click-to-select can run: the SAM checkpoint of the preferences or found on disk
        (a studio server's: found on the server's disk, where its engine looks)."""
        if not _is_local(self.client):
            return self.client.model_path_status("sam", "")
        return model_path_status("sam", self.preferences.model_paths.get("sam", ""))

    def model_path_status(self, kind: str, path: str = ""):
        """A model path check by the engine that runs the edits: this computer's, or a studio
        server's about its own disk (Preferences ▸ Models and the Models dialog ask here)."""
        if not _is_local(self.client):
            return self.client.model_path_status(kind, path)
        return model_path_status(kind, path)

    def update_sam_tool(self) -> None:
        """Grey out the SAM tool with a one-line reason when no SAM checkpoint is usable."""
        action = self.actions["sam"]
        try:
            status = self.sam_status()
            usable, reason = bool(status.usable), str(status.text)
        except Exception as exc:  # an unreadable models folder: say so, keep the editor going
            usable, reason = False, f"cannot check the SAM checkpoint ({exc})"
        action.setEnabled(usable)
        if usable:
            action.setToolTip("SAM select (S)")
            action.setStatusTip("")
        else:
            line = f"SAM select (S) — unavailable: {reason[:1].lower() + reason[1:]}"
            action.setToolTip(line)
            action.setStatusTip(line)
            if self.current_tool() is self.tools["sam"]:
                self.set_tool("brush")

    def _check_models(self) -> None:
        """First run: with no weights installed, explain what each feature needs."""
        if self._own_client or not _is_local(self.client):
            self.update_sam_tool()
        try:
            entries = self._model_entries(None)
        except Exception:  # an unreadable models folder must not stop the editor from opening
            return
        dismissed = self.settings.value("first_run/dismissed", False, type=bool)
        if entries and not any(e.installed for e in entries) and not dismissed:
            self.banner.show()

    def dismiss_banner(self) -> None:
        """Hide the first-run notice for good (a missing-models failure still brings it back)."""
        self.banner.hide()
        self.settings.setValue("first_run/dismissed", True)

    def show_models_dialog(self) -> None:
        from desktop.ui.dialogs.models_dialog import ModelsDialog  # imported when first opened

        dirs = self.preferences.model_dirs() or None
        # "Use a file I already have" sets this computer's Preferences path, which a studio
        # server does not read (it runs with its own model options): offered for local engines only.
        local = _is_local(self.client)
        self._models_dialog = ModelsDialog(self.client, self, entries=lambda: self._model_entries(dirs),
                                          on_model_path=self.use_model_path if local else None,
                                          status_fn=self.model_path_status)
        self._models_dialog.setModal(False)
        if self._own_client or not local:
            self._models_dialog.finished.connect(lambda _r: self.update_sam_tool())
        self._models_dialog.show()

    def _model_entries(self, dirs: object) -> list:
        """The manifest as the engine sees it: a studio server reports its own disk."""
        if getattr(self.client, "model_entries", None) is not None and not _is_local(self.client):
            return self.client.model_entries()
        return model_entries(dirs) if dirs else model_entries()

    def _start_autosave(self) -> None:
        from desktop.ui.autosave import Autosaver

        folder = self.settings.value("autosave/folder") or None
        try:
            recovery = Autosaver.find_recovery(folder)
        except OSError:
            recovery = None
        self._autosaver = Autosaver(lambda: self.document, folder=folder, parent=self,
                                    interval_s=self.preferences.autosave_minutes * 60)
        self._autosaver.start()
        self.controller.accepted.connect(lambda _layers: self._autosaver.save_now())
        if recovery is not None and self.document is None:
            self.offer_recovery(recovery)

    def offer_recovery(self, path) -> None:
        from desktop.ui.autosave import Autosaver, recovery_name, recovery_time

        info = Autosaver.recovery_info(Path(path).parent)
        name, when = recovery_name(info), recovery_time(info)
        box = self._box(QMessageBox.Question, "Recover unsaved work?",
                        f"BrushEdit Studio closed without saving. Recover {name}"
                        + (f", autosaved {when}?" if when else "?"))
        box.setStandardButtons(QMessageBox.Open | QMessageBox.Discard)
        box.button(QMessageBox.Open).setText(f"Recover {name}")
        box.accepted.connect(lambda: self.open_recovery(path))
        self.recovery_box = box
        box.show()

    # --- messages -------------------------------------------------------------------------
    def _box(self, kind, title: str, text: str) -> QMessageBox:
        self.messages.append((title, text))
        box = QMessageBox(kind, title, text, QMessageBox.Ok, self)
        box.setWindowModality(Qt.NonModal)
        box.setAttribute(Qt.WA_DeleteOnClose)
        # A closed box is deleted by Qt: forget it then, never ask a deleted box if it is visible.
        box.destroyed.connect(lambda _obj=None, key=id(box): self._forget_box(key))
        self._boxes.append(box)
        return box

    def _forget_box(self, key: int) -> None:
        self._boxes = [b for b in self._boxes if id(b) != key]

    def show_error(self, title: str, text: str) -> None:
        """A non-blocking error message (title, one clear line and the fix)."""
        self._box(QMessageBox.Warning, title, text).show()
        self.statusBar().showMessage(f"{title}: {_one_line(text)}", 8000)

    def show_message(self, title: str, text: str) -> None:
        self._box(QMessageBox.Information, title, text).show()

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

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.ensure_built()
            self.open_path(files[0])

    def closeEvent(self, event) -> None:
        self.ensure_built()
        if not self.ready:  # the body could not be built (see _body_failed): nothing to save
            event.accept()
            return
        if not self.maybe_save():
            event.ignore()
            return
        s = self.settings
        window_geometry.save(self, s)
        s.setValue("window/state", self.saveState())
        for name, tool in self._brushes():
            s.setValue(f"tools/{name}/size", tool.size)
            s.setValue(f"tools/{name}/hardness", tool.hardness)
        s.setValue("tools/paint/color", list(self.tools["paint"].color))
        s.setValue("tools/paint/opacity", self.tools["paint"].opacity)
        self.instruction_panel.save_settings(s)
        s.sync()
        if self._autosaver is not None and hasattr(self._autosaver, "clear"):
            self._autosaver.clear()  # a clean exit leaves nothing to recover
        if self.client is not None and hasattr(self.client, "shutdown"):
            self.client.shutdown()
        event.accept()


def _is_local(client: object) -> bool:
    """Whether ``client`` drives an engine in this process (not a studio server), also before its
    engine started (a server chosen in Preferences is asked from then on)."""
    if getattr(client, "remote", False) is True:
        return False
    return not hasattr(getattr(client, "service", None), "client_id")
