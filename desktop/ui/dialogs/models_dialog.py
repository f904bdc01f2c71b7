"""The Models dialog: what each weight enables, its size and status; download through the engine thread."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop import engine_client
from desktop.engine_client import DownloadRequest
from desktop.ui.dialogs.preferences_store import MODEL_KINDS

INTRO = (
    "Painting masks, the layers and the fast <b>fill</b> engine work without any model. "
    "Instruction edits need the BrushNet and Stable Diffusion 1.5 weights; click-to-select needs SAM; "
    "object detection from text needs GroundingDINO; the local instructor needs Qwen2-VL. "
    "Downloads run in the background and can be cancelled."
)


def human_size(n: int | None) -> str:
    """Decimal units (1 GB = 10^9 bytes), as ``brushedit models list`` and ``doctor`` print them:
    the same model must not read 2.4 GB here and 2.6 GB in the shell."""
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit in ("B", "KB") else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover


class ModelsDialog(QDialog):
    """The weights manifest as a table; "Download" fetches the selected (or all missing) entries.

    Parameters
    ----------
    client : EngineClient
        Downloads are ``DownloadRequest`` jobs on the engine thread (progress, cancel).
    entries : callable, optional
        Returns the list of ``engine_client.ModelEntry`` (default: ``engine_client.model_entries``).
    """

    COLUMNS = ("Model", "Size", "Status", "Enables")

    def __init__(self, client, parent=None, entries=None, on_model_path=None, status_fn=None):
        super().__init__(parent)
        # "Use a file I already have": ``on_model_path(kind, path)`` keeps a checked path (the
        # window saves it in the preferences); ``status_fn(kind, path)`` checks it.
        self._on_model_path = on_model_path
        self._status_fn = status_fn or engine_client.model_path_status
        self.setWindowTitle("Models")
        self.resize(760, 420)
        self.client = client
        self._entries_fn = entries or engine_client.model_entries
        self.entries = []
        self.job_id: int | None = None

        layout = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        # A long status ("incomplete: model-00003-of-00005.safetensors: missing") wraps in a column of
        # its own width instead of squeezing "Enables" to "…"; rows grow to their wrapped text.
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        layout.addWidget(self.table, 1)

        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        # A failed download's message can be long: it wraps on its own line (selectable, to copy),
        # and never widens the dialog past the screen.
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.use_file_button = QPushButton("Use a file I already have…")
        self.use_file_button.setToolTip("Point the selected model at weights already on this disk "
                                        "(a checkpoint file or a model folder) instead of downloading")
        self.use_file_button.clicked.connect(self.choose_existing)
        self.use_file_button.setVisible(on_model_path is not None)
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setEnabled(False)
        layout.addWidget(self.status)
        row.addWidget(self.progress, 1)
        row.addWidget(self.use_file_button)
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        layout.addWidget(box)

        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel_download)
        client.progress.connect(self._on_progress)
        client.finished.connect(self._on_finished)
        client.failed.connect(self._on_failed)
        client.cancelled.connect(self._on_cancelled)
        self.refresh()

    def refresh(self) -> None:
        try:
            self.entries = list(self._entries_fn())
        except Exception as exc:  # the dialog must open even if the manifest is broken
            self.entries = []
            self.status.setText(f"Could not read the models manifest: {exc}")
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            name = f"{e.name} (default)" if getattr(e, "default", False) else e.name
            cells = (name, human_size(e.size_bytes), e.status, e.enables or e.description)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                if c == 0 and e.description:
                    item.setToolTip(e.description)
                if c == 2:
                    item.setForeground(Qt.GlobalColor.green if e.installed else Qt.GlobalColor.yellow)
                    item.setToolTip(str(text))
                if c == 3:
                    item.setToolTip(str(text))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        status_width = self.fontMetrics().horizontalAdvance("incomplete: model-00000-of-00000")
        if self.table.columnWidth(2) > status_width:
            self.table.setColumnWidth(2, status_width)
        self.table.resizeRowsToContents()
        missing = [e for e in self.entries if not e.installed]
        if not self.entries:
            self.status.setText(self.status.text() or "No models manifest available")
        elif self.job_id is None:
            self.status.setText(f"{len(missing)} of {len(self.entries)} not installed" if missing
                                else "All models are installed")
        self._update_buttons()

    def selected_names(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.entries[r].name for r in rows if r < len(self.entries)]

    def to_download(self) -> list[str]:
        """The selected entries, or else the missing default models (what the app uses out of the box)."""
        selected = self.selected_names()
        if selected:
            return selected
        return [e.name for e in self.entries if not e.installed and getattr(e, "default", False)]

    def download_selected(self) -> int | None:
        """Download :meth:`to_download`."""
        return self.download(self.to_download())

    def download(self, names: list[str]) -> int | None:
        if not names or self.job_id is not None:
            return None
        self.job_id = self.client.submit(DownloadRequest(tuple(names)))
        self.status.setText("Downloading " + ", ".join(names) + "…")
        self.progress.setRange(0, 0)
        self._update_buttons()
        return self.job_id

    def kind_of(self, name: str) -> str | None:
        """The model kind ("sam", "brushnet", ...) of manifest entry ``name``."""
        for kind, *_ in MODEL_KINDS:
            try:
                if name in engine_client.model_names(kind):
                    return kind
            except Exception:  # an unreadable manifest: no kind, the button says so
                return None
        return None

    def choose_existing(self) -> None:
        """Pick a file or folder for the selected entry (non-blocking), then :meth:`use_path`."""
        names = self.selected_names()
        kind = self.kind_of(names[0]) if names else None
        if kind is None:
            self.status.setText("Select the model to point at your copy first")
            return
        pick, what = next((k[2], k[3]) for k in MODEL_KINDS if k[0] == kind)
        dialog = QFileDialog(self, f"Use my copy of {names[0]}")
        if pick == "folder":
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
            dialog.setNameFilters(["Checkpoints (*.pth *.pt *.safetensors)", "All files (*)"])
        dialog.setToolTip(what)
        dialog.fileSelected.connect(lambda path, k=kind: self.use_path(k, path))
        self._file_dialog = dialog
        dialog.open()

    def use_path(self, kind: str, path: str) -> bool:
        """Check ``path`` as a model of ``kind``; keep it when usable. Says which in one line."""
        try:
            status = self._status_fn(kind, path)
        except Exception as exc:  # a broken file must not break the dialog
            self.status.setText(f"Cannot use {path}: {exc}")
            return False
        if not status.usable:
            self.status.setText(f"Cannot use {path}: {status.text}")
            return False
        if self._on_model_path is not None:
            self._on_model_path(kind, path)
        self.refresh()
        self.status.setText(f"Using {path} ({status.text})")
        return True

    def cancel_download(self) -> None:
        if self.job_id is not None:
            self.client.cancel(self.job_id)

    def _update_buttons(self) -> None:
        running = self.job_id is not None
        names = self.to_download() if self.entries else []
        sizes = [e.size_bytes or 0 for e in self.entries if e.name in names]
        self.download_button.setText(f"Download {len(names)} ({human_size(sum(sizes))})" if names else "Download")
        self.download_button.setEnabled(not running and bool(names))
        self.cancel_button.setEnabled(running)

    def _on_progress(self, job_id: int, step: int, total: int, stage: str) -> None:
        if job_id != self.job_id:
            return
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(step)
        if stage:
            self.status.setText(stage)
            self.status.setToolTip(stage)

    def _done(self, text: str) -> None:
        self.job_id = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.refresh()
        self.status.setText(text)

    def _on_finished(self, job_id: int, result) -> None:
        if job_id == self.job_id:
            self.progress.setValue(1)
            self._done("Download finished")

    def _on_failed(self, job_id: int, error: str, hint: str, kind: str) -> None:
        if job_id == self.job_id:
            self._done(f"Download failed: {error}" + (f" — {hint}" if hint else ""))

    def _on_cancelled(self, job_id: int) -> None:
        if job_id == self.job_id:
            self._done("Download cancelled")
