"""Edit ▸ Preferences…: where the engine runs, which model folders it uses, the instructor, autosave.

The settings themselves are :class:`~desktop.ui.dialogs.preferences_store.Preferences` (saved in the
window's ``QSettings``, the API key in memory only).

:class:`PreferencesDialog` is non-modal (the engine's messages keep flowing while it is open); Apply
and OK emit :attr:`PreferencesDialog.applied` with the new preferences.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.lazy_engine import model_path_status
from desktop.ui.dialogs.preferences_store import (
    DEFAULT_OPENAI_MODEL,
    DEFAULT_OPENAI_URL,
    DEVICES,
    INSTRUCTORS,
    KEY_ENV,
    LOCAL_INSTRUCTORS,
    MODEL_KINDS,
    Preferences,
    has_saved_preferences,
)
from desktop.ui.dialogs.studio_server import add_studio_server_box
from desktop.ui.icons import icon

# The window's side (PreferencesMixin) lives in preferences_mixin.py, which imports this module
# when the dialog first opens; this module does not import it back (no import circle).
__all__ = ["Preferences", "PreferencesDialog", "has_saved_preferences"]

log = logging.getLogger(__name__)

ACCENT_OK = "#5cc77a"
ACCENT_BAD = "#f0b429"
MUTED = "#9a9aa0"


class _ModelRow(QWidget):
    """A path field with Browse and Clear, and a line that says whether the choice is usable."""

    def __init__(self, kind: str, pick: str, what: str, status_fn: Callable[[str, str], Any], parent=None):
        super().__init__(parent)
        self.kind, self.pick, self._status_fn = kind, pick, status_fn
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Automatic")
        self.edit.setToolTip(what)
        self.edit.setClearButtonEnabled(True)
        self.browse = QPushButton(icon("mdi6.folder-open" if pick == "folder" else "mdi6.file-outline"), "Browse…")
        self.browse.setToolTip(what)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        layout.addLayout(row)
        status_row = QHBoxLayout()
        status_row.setSpacing(5)
        self.status_icon = QLabel()
        self.status_icon.setFixedSize(16, 16)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status_row.addWidget(self.status_icon, 0, Qt.AlignmentFlag.AlignTop)
        status_row.addWidget(self.status, 1)
        layout.addLayout(status_row)
        self.usable = False
        self.edit.editingFinished.connect(self.refresh)
        self.edit.textChanged.connect(lambda text: text or self.refresh())
        self.browse.clicked.connect(self._browse)

    def path(self) -> str:
        return self.edit.text().strip()

    def set_path(self, path: str) -> None:
        self.edit.setText(path or "")
        self.refresh()

    def refresh(self) -> None:
        try:
            status = self._status_fn(self.kind, self.path())
            usable, text = bool(status.usable), str(status.text)
        except Exception as exc:  # an unreadable folder must not break the dialog
            usable, text = False, f"Not usable: {exc}"
        self.usable = usable
        glyph, color = ("mdi6.check-circle", ACCENT_OK) if usable else ("mdi6.alert-circle", ACCENT_BAD)
        import qtawesome as qta

        self.status_icon.setPixmap(qta.icon(glyph, color=color).pixmap(16, 16))
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {ACCENT_OK if usable else ACCENT_BAD};")
        self.status.setToolTip("" if usable or not self.path() else
                               "Until this is fixed, the engine uses the copy it finds automatically, if any")

    def _browse(self) -> None:
        start = self.path() or os.path.expanduser("~")
        dialog = QFileDialog(self, "Choose the model " + ("folder" if self.pick == "folder" else "checkpoint"), start)
        if self.pick == "folder":
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
            dialog.setNameFilters(["Checkpoints (*.pth *.pt *.safetensors)", "All files (*)"])
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.fileSelected.connect(self.set_path)
        self._dialog = dialog
        dialog.open()


def _page(title: str, intro: str) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(22, 16, 22, 12)
    layout.setSpacing(10)
    heading = QLabel(title)
    heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
    layout.addWidget(heading)
    if intro:
        text = QLabel(intro)
        text.setWordWrap(True)
        text.setStyleSheet(f"color: {MUTED};")
        layout.addWidget(text)
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setStyleSheet("color: #3a3a3f;")
    layout.addWidget(line)
    return page, layout


def _section(layout: QVBoxLayout, title: str) -> QFormLayout:
    label = QLabel(title.upper())
    label.setStyleSheet(f"color: {MUTED}; font-size: 8pt; font-weight: 700; letter-spacing: 1px; margin-top: 6px;")
    layout.addWidget(label)
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(10)
    layout.addLayout(form)
    return form


def _field(widget: QWidget, note: QLabel | None = None, max_width: int = 0) -> QWidget:
    """``widget`` with its note close under it (a form row of its own would leave a gap)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    if max_width:
        widget.setMaximumWidth(max_width)
    if max_width:
        layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft)
    else:
        layout.addWidget(widget)
    if note is not None:
        layout.addWidget(note)
    return box


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {MUTED};")
    return label


class PreferencesDialog(QDialog):
    """Engine, Models, Instructor and General pages; OK / Apply / Cancel / Restore defaults.

    Parameters
    ----------
    preferences : Preferences
        The current preferences (the API key of this session included).
    status_fn : callable, optional
        ``status_fn(kind, path) -> ModelPathStatus`` (default: ``engine_client.model_path_status``).
    last_device : str, optional
        Where the engine last ran ("cuda"/"cpu" and the GPU's name), shown under the device choice.
    """

    applied = Signal(object)  # Preferences

    def __init__(self, preferences: Preferences, parent=None, status_fn=None, last_device: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setObjectName("preferencesDialog")
        self.setWindowIcon(icon("mdi6.cog"))
        self.setModal(False)
        self.resize(820, 600)
        self._status_fn = status_fn or model_path_status
        self._initial = preferences

        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        body = QHBoxLayout()
        body.setSpacing(0)
        self.pages_list = QListWidget()
        self.pages_list.setObjectName("preferencesNav")
        self.pages_list.setFixedWidth(180)
        self.pages_list.setStyleSheet(
            "#preferencesNav { background: #252528; border: none; border-right: 1px solid #1c1c1e;"
            " padding-top: 10px; outline: 0; }"
            "#preferencesNav::item { padding: 8px 12px; border-radius: 0; }"
            "#preferencesNav::item:selected { background: #2f5f9e; color: white; }")
        self.stack = QStackedWidget()
        body.addWidget(self.pages_list)
        body.addWidget(self.stack, 1)
        root.addLayout(body, 1)

        self._build_engine_page(last_device)
        self._build_models_page()
        self._build_instructor_page()
        self._build_general_page()
        self.pages_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.pages_list.setCurrentRow(0)

        footer = QFrame()
        footer.setObjectName("preferencesFooter")
        footer.setStyleSheet("#preferencesFooter { background: #2f2f33; border-top: 1px solid #1c1c1e; }")
        fl = QHBoxLayout(footer)
        fl.setContentsMargins(14, 10, 14, 10)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.RestoreDefaults | QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        fl.addWidget(self.buttons)
        root.addWidget(footer)

        self.set_preferences(preferences)

    # --- pages ----------------------------------------------------------------------------------

    def _add_page(self, glyph: str, name: str, page: QWidget) -> None:
        self.pages_list.addItem(QListWidgetItem(icon(glyph), name))
        self.stack.addWidget(page)

    def _build_engine_page(self, last_device: str) -> None:
        page, layout = _page("Engine", "Where the BrushEdit engine runs. Changes apply from the next edit: "
                                       "the models reload when they are next used.")
        form = _section(layout, "Device")
        self.device = QComboBox()
        for label, value in DEVICES:
            self.device.addItem(label, value)
        self.device.setMinimumWidth(320)
        self.device_note = _note("")
        form.addRow("Run on", _field(self.device, self.device_note, 420))
        self.cpu_offload = QCheckBox("Save GPU memory (CPU offload)")
        self.cpu_offload.setToolTip("Keeps model parts in system memory until they are needed: "
                                    "slower, but fits 8 GB graphics cards")
        form.addRow("Memory", _field(self.cpu_offload, _note(
            "For 8 GB graphics cards: edits run slower, but no longer run out of memory.")))
        if last_device:
            form.addRow("Last edit ran on", QLabel(last_device))
        self.studio = add_studio_server_box(layout, getattr(self.parent(), "settings", None))
        layout.addStretch(1)
        self.device.currentIndexChanged.connect(self._update_device)
        self._add_page("mdi6.chip", "Engine", page)

    def _build_models_page(self) -> None:
        page, layout = _page("Models", "Leave a field empty to use the weights found automatically (the "
                                       "Hugging Face cache or the app's models folder). Engine ▸ Models… downloads them.")
        form = _section(layout, "Model folders")
        self.model_rows: dict[str, _ModelRow] = {}
        for kind, label, pick, what, _field in MODEL_KINDS:
            row = _ModelRow(kind, pick, what, self._status_fn)
            self.model_rows[kind] = row
            form.addRow(label, row)
        self.models_where = _note("")  # says so when a studio server answers the checks
        self.models_where.setWordWrap(True)
        self.models_where.setVisible(False)
        layout.addWidget(self.models_where)
        layout.addStretch(1)
        self._add_page("mdi6.database", "Models", page)

    def _build_instructor_page(self) -> None:
        page, layout = _page("Instructor", "The instructor reads an instruction (\u201cremove the cat\u201d) and "
                                           "proposes the edit type, the object and a caption.")
        form = _section(layout, "Backend")
        self.instructor = QComboBox()
        for label, value in INSTRUCTORS:
            self.instructor.addItem(label, value)
        self.instructor.setMinimumWidth(320)
        self.instructor_note = _note("")
        form.addRow("Instructor", _field(self.instructor, self.instructor_note, 420))
        self.local_model = QComboBox()
        for label, model, precision in LOCAL_INSTRUCTORS:
            self.local_model.addItem(label, f"{model}:{precision}")
        form.addRow("Local model", _field(self.local_model, _note(
            "Auto picks by the GPU's memory: the 7B in 16 bits on 24 GB, in 4 bits on 12-16 GB, the 2B "
            "below. brushedit doctor shows the plan for this card."), 420))
        form = _section(layout, "OpenAI-compatible endpoint")
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText(os.environ.get("BRUSHEDIT_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
                                         or DEFAULT_OPENAI_URL)
        self.model_name = QLineEdit()
        self.model_name.setPlaceholderText(os.environ.get("BRUSHEDIT_MODEL") or DEFAULT_OPENAI_MODEL)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("Kept for this session only")
        show = self.api_key.addAction(icon("mdi6.eye"), QLineEdit.ActionPosition.TrailingPosition)
        show.setToolTip("Show or hide the key")
        show.triggered.connect(self._toggle_key_echo)
        form.addRow("Base URL", self.base_url)
        form.addRow("Model", self.model_name)
        env = next((name for name in KEY_ENV if os.environ.get(name)), "")
        self.key_note = _note(
            "The key is kept in memory for this session only: never saved to disk or written to the log. "
            + (f"Left empty, {env} from the environment is used (it is set)." if env else
               "Left empty, BRUSHEDIT_API_KEY or OPENAI_API_KEY from the environment is used."))
        form.addRow("API key", _field(self.api_key, self.key_note))
        self.openai_fields = (self.base_url, self.model_name, self.api_key)
        layout.addStretch(1)
        self.instructor.currentIndexChanged.connect(self._update_instructor)
        self._add_page("mdi6.message-text", "Instructor", page)

    def _build_general_page(self) -> None:
        page, layout = _page("General", "")
        form = _section(layout, "Autosave")
        self.autosave = QSpinBox()
        self.autosave.setRange(1, 60)
        self.autosave.setSuffix(" min")
        self.autosave.setToolTip("How often the open project is saved for recovery after a crash")
        form.addRow("Autosave every", _field(self.autosave, _note(
            "Unsaved work is saved for recovery in the background; your own files are not touched "
            "until you save them."), 110))
        layout.addStretch(1)
        self._add_page("mdi6.tune-variant", "General", page)

    # --- state ----------------------------------------------------------------------------------

    def preferences(self) -> Preferences:
        """The preferences as set in the dialog (the API key included)."""
        return Preferences(
            device=self.device.currentData(),
            # Offloading to the CPU means nothing when the CPU runs everything.
            cpu_offload=self.cpu_offload.isChecked() and self.device.currentData() != "cpu",
            model_paths={kind: row.path() for kind, row in self.model_rows.items() if row.path()},
            instructor=self.instructor.currentData(),
            base_url=self.base_url.text().strip(),
            model=self.model_name.text().strip(),
            autosave_minutes=self.autosave.value(),
            api_key=self.api_key.text().strip(),
            instructor_model=self.local_model.currentData().split(":")[0],
            instructor_precision=self.local_model.currentData().split(":")[1],
        )

    def set_preferences(self, prefs: Preferences) -> None:
        _select(self.device, prefs.device)
        self.cpu_offload.setChecked(prefs.cpu_offload)
        for kind, row in self.model_rows.items():
            row.set_path(prefs.model_paths.get(kind, ""))
        _select(self.instructor, prefs.instructor)
        _select(self.local_model, f"{prefs.instructor_model}:{prefs.instructor_precision}")
        self.base_url.setText(prefs.base_url)
        self.model_name.setText(prefs.model)
        self.api_key.setText(prefs.api_key)
        self.autosave.setValue(prefs.autosave_minutes)
        self._update_device()
        self._update_instructor()

    def set_checked_on(self, server_url: str = "") -> None:
        """Re-check every model row with the current engine; ``server_url``: a studio server answers
        (about its own disk), which the page then says."""
        self.models_where.setText(
            f"Checked by the studio server at {server_url}, on its own disk: it runs with its own model "
            "options. The folders set here are used when the engine runs on this computer." if server_url else "")
        self.models_where.setVisible(bool(server_url))
        for row in self.model_rows.values():
            row.refresh()

    def set_instructor(self, name: str) -> None:
        """Follow a choice made in the instruction panel (the same setting)."""
        _select(self.instructor, name)

    def restore_defaults(self) -> None:
        """Put the defaults in the fields (the API key stays); Apply or OK uses them."""
        self.set_preferences(replace(Preferences(), api_key=self.api_key.text()))

    def apply(self) -> None:
        self.studio.apply()
        self.applied.emit(self.preferences())

    def accept(self) -> None:
        self.apply()
        super().accept()

    # --- helpers --------------------------------------------------------------------------------

    def _update_device(self) -> None:
        device = self.device.currentData()
        self.cpu_offload.setEnabled(device != "cpu")
        self.device_note.setText({
            "auto": "Uses the NVIDIA GPU when there is one. Without one, removals use the fast fill "
                    "engine; choose CPU to run BrushEdit anyway.",
            "cuda": "Edits fail with a clear message when no CUDA GPU is available.",
            "cpu": "Slow: generative edits take minutes on the CPU. One core is left to the editor.",
        }.get(device, ""))

    def _update_instructor(self) -> None:
        name = self.instructor.currentData()
        for widget in self.openai_fields:
            widget.setEnabled(name == "openai")
        self.local_model.setEnabled(name == "local")
        self.instructor_note.setText({
            "auto": "The local VLM where its weights are installed and it fits the CUDA card; otherwise the "
                    "rule-based parser. Every plan and layer says which one read the instruction.",
            "offline": "Rule-based: understands common instructions, needs no model and no network.",
            "local": "Qwen2-VL on this machine: set its folder under Models, or download it in Engine ▸ Models…",
            "openai": "Sends the photo and the instruction to the endpoint below (OpenAI or a local server "
                      "such as vLLM or Ollama).",
        }.get(name, ""))

    def _toggle_key_echo(self) -> None:
        hidden = self.api_key.echoMode() == QLineEdit.EchoMode.Password
        self.api_key.setEchoMode(QLineEdit.EchoMode.Normal if hidden else QLineEdit.EchoMode.Password)


def _select(combo: QComboBox, data: Any) -> None:
    i = combo.findData(data)
    if i >= 0:
        combo.setCurrentIndex(i)
