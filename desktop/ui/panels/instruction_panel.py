"""The chat-like instruction panel: type an instruction, see the plan, tune parameters, run or cancel."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine_client import EditParams
from desktop.model import settings_keys
from desktop.model.run_text import ignored_prompt_note
from desktop.model.run_text import is_compound, prompt_from_text  # noqa: F401  (moved; old names kept)
from desktop.ui.error_text import for_display
from desktop.ui.panels.edit_params_form import (  # noqa: F401  (_spin, _dspin, _combo: old names kept)
    EditParamsForm,
    _combo,
    _dspin,
    _select,
    _spin,
    restore_widgets,
    save_widgets,
)
from desktop.ui.panels import instruction_text as texts
from desktop.ui.panels.instruction_text import describe_candidates  # noqa: F401  (old name kept)
from desktop.ui.panels.plan_steps import PlanStepsList
from desktop.ui.panels.vertical_scroll import VerticalScrollArea

_FORM_FIELDS = ("candidates", "steps", "guidance", "strength", "global_strength", "removal_strength", "seed",
                "seed_lock", "negative", "blend", "harmonize", "resolution_mode", "working_size", "engine",
                "painter", "instructor")


class InstructionPanel(QWidget):
    """Instruction box, Plan / Run / Cancel, the plan (category, target, editable caption), parameters.

    Without a plan, the text in the box is used as the prompt for the painted mask ("skip planning").
    """

    run_requested = Signal()
    # The user picked another instructor here; the window keeps it in the preferences (one setting).
    instructor_changed = Signal(str)
    UPDATE_MS = 50
    HISTORY_MAX = 50  # instructions ↑ / ↓ can recall, kept across sessions

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.plan = None
        self.history: list[str] = []  # earlier instructions, oldest first
        self._history_pos: int | None = None  # the entry shown, None: the user's own draft
        self._draft = ""
        self._pending_progress: tuple[int, int, str] | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(self.UPDATE_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self._build()
        controller.plan_ready.connect(self._on_plan)
        controller.busy_changed.connect(self._on_busy)
        controller.progress_changed.connect(self._on_progress)
        controller.error.connect(self._on_error)
        controller.candidates_changed.connect(self._on_candidates)
        controller.accepted.connect(lambda _layers: self.reset_progress())
        controller.notice.connect(self._on_notice)
        if hasattr(controller, "chain_finished"):
            controller.chain_finished.connect(self._on_chain_finished)
        if hasattr(controller, "chain_planned"):
            controller.chain_planned.connect(self._on_chain_planned)
        self._on_busy(False)

    # --- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)

        # The log can be folded away (the parameters then get its room); open, it keeps at least
        # five lines however much the plan and the parameters take.
        self.log_toggle = QToolButton()
        self.log_toggle.setText("Log")
        self.log_toggle.setCheckable(True)
        self.log_toggle.setChecked(True)
        self.log_toggle.setAutoRaise(True)
        self.log_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.log_toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.log_toggle.setToolTip("Show or hide the log of instructions and the engine's answers")
        root.addWidget(self.log_toggle)
        self.transcript = QTextBrowser()
        self.transcript.setPlaceholderText("Your instructions and the engine's answers appear here.")
        self.transcript.setMinimumHeight(5 * self.fontMetrics().lineSpacing() + 12)
        # The transcript takes what the plan and the parameters leave (it scrolls itself).
        self.transcript.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        root.addWidget(self.transcript, 1)
        self.log_toggle.toggled.connect(self._toggle_log)

        self.instruction = QPlainTextEdit()
        self.instruction.setPlaceholderText("\"remove the cat\", \"make the sky a sunset\"… then Plan (Ctrl+Enter). "
                                            "Or paint a mask, say what it should show, and Run (Ctrl+Shift+Enter).")
        self.instruction.setMaximumHeight(70)
        self.instruction.setToolTip("↑ / ↓ on the first / last line recall earlier instructions")
        self.instruction.installEventFilter(self)
        root.addWidget(self.instruction)

        # Plan / Run / Cancel: a footer that the window pins below the scrolling part
        # (see take_footer), so that they stay in view however far the plan and parameters scroll.
        self.footer = QWidget()
        footer_layout = QVBoxLayout(self.footer)
        footer_layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        footer_layout.addLayout(buttons)
        self.plan_button = QPushButton("Plan")
        self.plan_button.setToolTip("Ask the instructor for the edit type, the object mask and a caption "
                                    "(Ctrl+Enter)")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Paint the masked region with the caption (or the text above) "
                                   "(Ctrl+Shift+Enter)")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running plan or edit (it stops within one step)")
        buttons.addWidget(self.plan_button)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        root.addWidget(self.footer)

        # The plan, editable before running.
        self.plan_box = QFrame()
        self.plan_box.setFrameShape(QFrame.Shape.StyledPanel)
        plan_form = QFormLayout(self.plan_box)
        self._plan_form = plan_form
        self.category_label = QLabel("—")
        self.target_label = QLabel("—")
        self.caption = QLineEdit()
        self.caption.setPlaceholderText("What the region should show (empty: remove / fill)")
        self.clear_plan_button = QToolButton()
        self.clear_plan_button.setText("Clear plan")
        self.clear_plan_button.setToolTip("Forget the plan: Run then uses the text above as the prompt")
        plan_form.addRow("Category", self.category_label)
        plan_form.addRow("Target", self.target_label)
        self.mask_choice = QComboBox()
        self.mask_choice.setToolTip("The instructor found several candidates for the object: pick the mask")
        plan_form.addRow("Caption", self.caption)
        plan_form.addRow("Mask", self.mask_choice)
        plan_form.addRow("", self.clear_plan_button)
        # A compound instruction: its steps, to untick, edit or reorder before Run.
        self.steps_list = PlanStepsList()
        self.steps_list.setVisible(False)
        plan_form.addRow(self.steps_list)
        self.plan_box.setVisible(False)
        # The plan and the parameters scroll, so that with both open the panel still fits a laptop
        # screen next to the Layers panel; the transcript, buttons and progress stay in view.
        details = QWidget()
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self.plan_box)

        # Collapsible parameters.
        self.params_toggle = QToolButton()
        self.params_toggle.setText("Parameters")
        self.params_toggle.setCheckable(True)
        self.params_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.params_toggle.setArrowType(Qt.ArrowType.RightArrow)
        details_layout.addWidget(self.params_toggle)
        self.params_box = self.params_form = EditParamsForm()
        self.params_form.instructor_changed.connect(self.instructor_changed)
        for name in _FORM_FIELDS:  # the form's fields, as the panel's own (the window and tests use them)
            setattr(self, name, getattr(self.params_form, name))
        self.params_box.setVisible(False)
        details_layout.addWidget(self.params_box)
        self.details = VerticalScrollArea(details)
        # As tall as the plan and parameters need: all their rows show, and the panel as a whole
        # scrolls in its dock when that is more than the dock has (no 7-row box of its own).
        self.details.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        root.addWidget(self.details)
        self._end_stretch = root.count()
        root.addStretch(0)  # takes the transcript's room while the log is folded

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.stage = QLabel("Ready")
        self.stage.setWordWrap(True)
        root.addWidget(self.progress)
        root.addWidget(self.stage)

        self.plan_button.clicked.connect(self.request_plan)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.clear_plan_button.clicked.connect(self.clear_plan)
        self.mask_choice.activated.connect(self._choose_mask)
        self.params_toggle.toggled.connect(self._toggle_params)
        QShortcut(QKeySequence("Ctrl+Return"), self.instruction, self.request_plan,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence("Ctrl+Shift+Return"), self.instruction, self.run,
                  context=Qt.ShortcutContext.WidgetShortcut)

    def take_footer(self, margins: int = 6) -> QWidget:
        """Take Plan / Run / Cancel out of the panel, for the window to pin below the
        panel's scroll area (at 1366x768 with candidates shown they scrolled out of view)."""
        root = self.layout()
        if root.indexOf(self.footer) < self._end_stretch:
            self._end_stretch -= 1  # the log's stretch moves up one item
        root.removeWidget(self.footer)
        self.footer.setParent(None)
        self.footer.layout().setContentsMargins(margins, 0, margins, 2)
        self._footer_pinned = True
        return self.footer

    _footer_pinned = False

    # --- a short dock: the field to type in before the log ----------------------------------------

    _log_chosen = False  # the user folded or opened the log: leave it so
    _log_auto_folded = False

    def follow_height(self, area) -> None:
        """Fold the log while ``area`` (the VerticalScrollArea around this panel) is too short to show the
        log, the instruction field and Plan/Run together (1920x1080 at 200 %), and open it again
        when there is room; a log the user folded or opened stays as the user left it."""
        area.resized.connect(self._fit_log)
        self.log_toggle.clicked.connect(lambda _checked: setattr(self, "_log_chosen", True))

    def _fit_log(self, height: int) -> None:
        if self._log_chosen:
            return
        root = self.layout()
        margins = root.contentsMargins()
        spacing = max(0, root.spacing())
        need = (margins.top() + self.log_toggle.sizeHint().height() + spacing
                + self.transcript.minimumHeight() + spacing
                + min(self.instruction.maximumHeight(), self.instruction.sizeHint().height()) + spacing
                + (0 if self._footer_pinned else self.run_button.sizeHint().height()) + margins.bottom())
        if self.log_toggle.isChecked() and height < need:
            self._log_auto_folded = True
            self.log_toggle.setChecked(False)
        elif self._log_auto_folded and height >= need:
            self._log_auto_folded = False
            self.log_toggle.setChecked(True)

    def _toggle_log(self, shown: bool) -> None:
        self.transcript.setVisible(shown)
        self.log_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.layout().setStretch(self._end_stretch, 0 if shown else 1)

    def _toggle_params(self, shown: bool) -> None:
        self.params_box.setVisible(shown)
        self.params_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # --- actions -------------------------------------------------------------------------------------

    def params(self) -> EditParams:
        """The parameters as set in the panel."""
        return self.params_form.params()

    def set_params(self, params: EditParams) -> None:
        self.params_form.set_params(params)

    SETTINGS_KEYS = tuple(settings_keys.INSTRUCTION_SETTINGS)

    def _setting_widgets(self) -> dict:
        return {**self.params_form.setting_widgets(), "params_shown": self.params_toggle}

    def save_settings(self, settings) -> None:
        """Store the parameters in a ``QSettings`` (group "instruction")."""
        save_widgets(settings, self._setting_widgets())
        settings.setValue(settings_keys.HISTORY, list(self.history))

    def restore_settings(self, settings) -> None:
        """Restore what :meth:`save_settings` stored (missing or bad values keep the defaults)."""
        restore_widgets(settings, self._setting_widgets())
        history = settings_keys.read_history(settings, self.HISTORY_MAX)
        if history is not None:
            self.history = history

    # --- instruction history ------------------------------------------------------------------------

    def remember(self, text: str) -> None:
        """Add ``text`` as the newest instruction ↑ recalls (moved to the end if it was there)."""
        text = text.strip()
        if text:
            self.history = [h for h in self.history if h != text][-(self.HISTORY_MAX - 1):] + [text]
        self._history_pos = None

    def recall(self, step: int) -> bool:
        """Show the previous (``step`` = -1) or next (+1) instruction; past the newest, the draft
        typed before recalling. False when there is nothing further that way."""
        pos = len(self.history) if self._history_pos is None else self._history_pos
        new = pos + step
        if not 0 <= new <= len(self.history) or new == pos:
            return False
        if self._history_pos is None:
            self._draft = self.instruction.toPlainText()
        self._history_pos = None if new == len(self.history) else new
        self.instruction.setPlainText(self._draft if self._history_pos is None else self.history[new])
        self.instruction.moveCursor(QTextCursor.MoveOperation.End)
        return True

    def eventFilter(self, obj, event) -> bool:
        if obj is self.instruction and event.type() == QEvent.Type.KeyPress and \
                event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and \
                not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            up = event.key() == Qt.Key.Key_Up
            cursor = self.instruction.textCursor()
            # Only at the edge: inside a multi-line instruction the arrows move the cursor.
            if not cursor.movePosition(QTextCursor.MoveOperation.Up if up else QTextCursor.MoveOperation.Down):
                return self.recall(-1 if up else +1) or super().eventFilter(obj, event)
        return super().eventFilter(obj, event)

    def request_plan(self) -> None:
        text = self.instruction.toPlainText().strip()
        self.remember(text)
        if text:
            self._say("you", text)
        self.controller.request_plan(text, backend=self.instructor.currentData())

    def run(self) -> None:
        """Run what the typed text means: the model decides (the plan shown, a chain, or one edit)."""
        text = self.instruction.toPlainText().strip()
        self.remember(text)
        decision = self.controller.decide_run(text, self.plan)
        if decision.drops_plan:
            self.clear_plan()  # a new text typed after planning: it is the prompt now
        if self.plan is None and text:
            self._say("you", text)
        if decision.action == "chain":
            self._say("plan", "several edits: planning them, then painting each as its own layer")
        elif decision.read_as_instruction:
            self._say("plan", f"painting “{decision.prompt}” ({decision.category}; your text read as an "
                              "instruction)")
        self.controller.run_decision(
            decision, self.params(), plan=self.plan, caption=self.caption.text(),
            steps=self.steps_list.choices() if decision.action == "steps" else None,
            backend=self.instructor.currentData())
        self.run_requested.emit()

    def clear_plan(self) -> None:
        self.plan = None
        self.plan_box.setVisible(False)
        self.steps_list.setVisible(False)
        for widget in (self.category_label, self.target_label, self.caption, self.mask_choice):
            self._plan_form.setRowVisible(widget, True)

    # --- controller signals ---------------------------------------------------------------------------

    PAINTED = texts.PAINTED  # the mask_choice entry for the mask the user painted before planning

    def _choose_mask(self, index: int) -> None:
        if self.plan is None:
            return
        choice = self.mask_choice.itemData(index)
        if choice == self.PAINTED:
            self.controller.use_painted_mask()
        else:
            self.controller.apply_plan(self.plan, choice)

    def _on_plan(self, plan) -> None:
        self.plan = plan
        painted = getattr(self.controller, "painted_mask", None)
        choices = texts.mask_choices(plan, painted)
        self.mask_choice.clear()
        for label, data in choices:
            self.mask_choice.addItem(label, data)
        self.mask_choice.setCurrentIndex(0)
        self.mask_choice.setEnabled(self.mask_choice.count() > 1)
        self.category_label.setText(plan.category or "—")
        self.target_label.setText(plan.target or "—")
        self.caption.setText(plan.caption)
        if plan.negative_prompt:
            self.negative.setText(plan.negative_prompt)
        chain = len(getattr(plan, "steps", ()) or ()) > 1
        if chain:
            self.steps_list.set_plan(plan)
        self.steps_list.setVisible(chain)
        # A chain's list says it all per step; the one-edit rows would only repeat step 1.
        for widget in (self.category_label, self.target_label, self.caption, self.mask_choice):
            self._plan_form.setRowVisible(widget, not chain)
        self.plan_box.setVisible(True)
        self._finish_progress()
        kept_over_proposed = painted is not None and any(data is None for _label, data in choices)
        self._say("plan", texts.plan_summary(plan, kept_over_proposed), escaped=True)
        from desktop.engine_client import instructor_fallback_line

        fallback = instructor_fallback_line(getattr(plan, "instructor", None))
        if fallback:  # the VLM was wanted and the rule parser answered: one line, never silently
            self._say("instructor", fallback)
        if painted is None:
            self.controller.apply_plan(plan)
        self.stage.setText("Plan ready: untick, edit or reorder the steps, then Run" if chain else
                           "Plan ready: adjust the mask or caption, then Run")

    def set_instructor(self, name: str) -> None:
        """Show the instructor chosen elsewhere (Preferences) without echoing it back."""
        self.instructor.blockSignals(True)
        try:
            _select(self.instructor, name)
        finally:
            self.instructor.blockSignals(False)

    def set_document_open(self, is_open: bool) -> None:
        """Plan and Run need a photo: greyed out (with the reason in the stage line) without one."""
        self._document_open = bool(is_open)
        self._on_busy(bool(getattr(self.controller, "busy", False)))
        if not is_open:
            self.stage.setText("Open a photo to start (Ctrl+O)")
        elif self.stage.text().startswith("Open a photo"):
            self.stage.setText("Ready")

    def reset_progress(self, text: str = "Ready") -> None:
        """An empty bar and ``text``: nothing runs (after Accept, or for another document)."""
        self._progress_timer.stop()
        self._pending_progress = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.stage.setText(text)

    def new_document(self) -> None:
        """Another document (or none): no instruction, plan or log of the previous one."""
        self.transcript.clear()
        self.instruction.clear()
        self.clear_plan()
        self._history_pos = None
        self.reset_progress()

    def _on_busy(self, busy: bool) -> None:
        ready = not busy and getattr(self, "_document_open", True)
        self.run_button.setEnabled(ready)
        self.plan_button.setEnabled(ready)
        self.cancel_button.setEnabled(busy and getattr(self, "_document_open", True))
        if busy:
            self.progress.setRange(0, 0)  # indeterminate until the first step
            self.stage.setText("Waiting for the engine…")

    def _on_progress(self, step: int, total: int, stage: str) -> None:
        # Steps can come faster than is worth painting (a progress bar repaints synchronously):
        # show the latest at most every UPDATE_MS; final states at once.
        self._pending_progress = (step, total, stage)
        if total <= 0:
            self._progress_timer.stop()
            self._show_progress()
        elif not self._progress_timer.isActive():
            self._progress_timer.start()

    def _finish_progress(self) -> None:
        """A job ended: drop a throttled step still waiting, so it cannot overwrite the outcome."""
        self._progress_timer.stop()
        self._pending_progress = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1)

    def _show_progress(self) -> None:
        if self._pending_progress is None:
            return
        step, total, stage = self._pending_progress
        self._pending_progress = None
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(step)
            self.stage.setText(f"{stage.capitalize() or 'Working'} {step}/{total}")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if stage == "done" else 0)
            self.stage.setText({"done": "Done", "cancelled": "Cancelled", "failed": "Failed"}.get(stage, stage))

    def _on_error(self, message: str, hint: str) -> None:
        message, hint = for_display(message, hint)
        text = f"<span style='color:#ff7a7a'>{html.escape(message)}</span>"
        if hint:
            text += f"<br>{html.escape(hint)}"
        self._say("engine", text, escaped=True)
        self.stage.setText(message)

    def _on_candidates(self, candidates: list) -> None:
        if not candidates:
            return
        result = getattr(self.controller, "result", None)
        engine = getattr(result, "engine", "")
        self._say("engine", describe_candidates(candidates, engine, getattr(result, "model", "")))
        note = None if self._fill_noticed else ignored_prompt_note(result)
        if note:  # the fill engine only erases: said rather than let "winter" come back unchanged
            self._say("note", f"<i>{html.escape(note)}</i>", escaped=True)
        self._fill_noticed = False
        if not self.seed_lock.isChecked():
            self.seed.setValue(int(candidates[0].seed) % (2**31))

    _fill_noticed = False  # the controller said before the run that the fill engine would ignore the prompt

    def _on_notice(self, text: str) -> None:
        self._fill_noticed = True
        self._say("note", f"<i>{html.escape(text)}</i>", escaped=True)

    def _on_chain_planned(self, plan) -> None:
        """Run without Plan: the steps about to be painted (as Plan would have listed them)."""
        self._say("plan", texts.chain_planned(plan), escaped=True)

    def _on_chain_finished(self, layers: list, skipped: list, cancelled: bool) -> None:
        self._say("engine", texts.chain_finished(layers, skipped, cancelled), escaped=True)

    def _say(self, who: str, text: str, escaped: bool = False) -> None:
        body = text if escaped else html.escape(text)
        self.transcript.append(f"<p><b>{html.escape(who)}:</b> {body}</p>")
