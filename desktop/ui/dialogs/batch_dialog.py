"""File > Batch...: one instruction or one mask set over a folder, with progress, cancel and the report.

The same batch as ``brushedit batch`` (:mod:`engine.batch.run`, reached through the bridge): outputs
into the output folder under the inputs' names, ``report.jsonl`` and ``index.html`` there, ``Resume`` continues a batch that stopped. The
photos are painted by the editor's engine through the engine client (:mod:`desktop.ui.batch_bridge`).
Double-click an edited photo (or Open) to open it as a document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ENGINES = ("auto", "brushedit", "fill", "lama")
FORMATS = (("Same as each photo", None), ("PNG", ".png"), ("JPEG", ".jpg"), ("WebP", ".webp"))


class BatchDialog(QDialog):
    """Pick the folders and what to do; run; watch each photo's line arrive; open a result."""

    def __init__(self, client: Any, open_document: Callable[[str], Any] | None = None,
                 parent: QWidget | None = None, start_dir: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch: edit a folder of photos")
        self.setObjectName("batchDialog")
        self.client = client
        self.open_document = open_document
        self.thread: Any = None
        self.runner: Any = None
        self.summary: Any = None
        self.lines: list[dict] = []
        self._close_when_done = False

        form = QFormLayout()
        self.in_dir = self._folder_row(form, "&Photos folder:", "The folder of photos to edit", start_dir)
        self.instruction = QLineEdit()
        self.instruction.setPlaceholderText('e.g. "remove the price tag" (each photo gets its own plan)')
        form.addRow("&Instruction:", self.instruction)
        self.masks = self._folder_row(form, "&Masks:", "Optional: a folder of masks matched by file name "
                                      "(white = repaint), or one mask file for all", "", allow_file=True)
        self.out_dir = self._folder_row(form, "&Output folder:", "Where the edited photos, report.jsonl and "
                                        "index.html go (not the photos folder)", "")
        options = QHBoxLayout()
        self.engine = QComboBox()
        self.engine.addItems(ENGINES)
        self.engine.setToolTip("Painter: auto picks as for a single edit; fill needs no weights")
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 2)
        self.seed.setValue(-1)
        self.seed.setSpecialValueText("random")
        self.seed.setToolTip("Base seed; each photo's seed derives from it and its name")
        self.steps = QSpinBox()
        self.steps.setRange(1, 200)
        self.steps.setValue(50)
        self.format = QComboBox()
        for text, _ in FORMATS:
            self.format.addItem(text)
        for label, widget in (("Engine", self.engine), ("Seed", self.seed), ("Steps", self.steps),
                              ("Format", self.format)):
            options.addWidget(QLabel(label))
            options.addWidget(widget)
        form.addRow("Options:", options)
        checks = QHBoxLayout()
        self.recursive = QCheckBox("Include sub-folders")
        self.resume = QCheckBox("Resume a stopped batch")
        self.ora = QCheckBox("Keep a layered .ora per photo")
        for box in (self.recursive, self.resume, self.ora):
            checks.addWidget(box)
        form.addRow("", checks)

        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m photos")
        self.status = QLabel("Choose a folder and an instruction or masks.")
        self.status.setWordWrap(True)
        self.stage = QLabel("")  # the photo in hand: loading a model, painting 12/50
        self.stage.setObjectName("batchStage")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Photo", "Status", "Caption / reason"])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.itemDoubleClicked.connect(lambda item: self.open_row(item.row()))

        buttons = QDialogButtonBox()
        self.start_button = buttons.addButton("&Start", QDialogButtonBox.AcceptRole)
        self.cancel_button = buttons.addButton("&Cancel batch", QDialogButtonBox.ActionRole)
        self.open_button = buttons.addButton("&Open result", QDialogButtonBox.ActionRole)
        self.sheet_button = buttons.addButton("Contact &sheet", QDialogButtonBox.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.Close)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(lambda: self.open_row(self.table.currentRow()))
        self.sheet_button.clicked.connect(self.open_sheet)
        self.close_button.clicked.connect(self.close)
        self.cancel_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.sheet_button.setEnabled(False)
        self.table.currentCellChanged.connect(lambda *_: self._update_open())

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.stage)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(860, 620)

    def _folder_row(self, form: QFormLayout, label: str, tip: str, value: str, allow_file: bool = False) -> QLineEdit:
        edit = QLineEdit(value)
        edit.setToolTip(tip)
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        browse = QPushButton("Folder…")
        browse.clicked.connect(lambda: self._pick_folder(edit))
        row.addWidget(browse)
        if allow_file:
            one = QPushButton("File…")
            one.clicked.connect(lambda: self._pick_file(edit))
            row.addWidget(one)
        buddy = QLabel(label)  # a row of widgets gets no buddy by itself: the mnemonic needs one
        buddy.setBuddy(edit)
        form.addRow(buddy, row)
        return edit

    def _pick_folder(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", edit.text())
        if folder:
            edit.setText(folder)

    def _pick_file(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a mask", edit.text(),
                                              "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)")
        if path:
            edit.setText(path)

    # --- running ------------------------------------------------------------------------------------

    def settings(self) -> Any:
        """The batch's :class:`engine.batch.run.BatchSettings` from the form (raises ValueError)."""
        from desktop.engine_client import BatchSettings, EditParams

        in_dir, out_dir = self.in_dir.text().strip(), self.out_dir.text().strip()
        instruction, masks = self.instruction.text().strip(), self.masks.text().strip()
        if not in_dir or not out_dir:
            raise ValueError("choose the photos folder and the output folder")
        if not instruction and not masks:
            raise ValueError("give an instruction, masks, or both")
        params = EditParams(steps=self.steps.value(), engine=self.engine.currentText(), num_candidates=1)
        return BatchSettings(
            in_dir=Path(in_dir), out_dir=Path(out_dir), instruction=instruction,
            mask=Path(masks) if masks else None, params=params,
            base_seed=None if self.seed.value() < 0 else self.seed.value(),
            recursive=self.recursive.isChecked(), fmt=FORMATS[self.format.currentIndex()][1],
            ora=self.ora.isChecked(), resume=self.resume.isChecked(),
        )

    def start(self) -> None:
        from desktop.ui.batch_bridge import BatchThread, ClientRunner

        if self.running:
            return
        try:
            settings = self.settings()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.lines, self.summary = [], None
        self.table.setRowCount(0)
        self.progress.reset()
        from desktop.engine_client import REPORT, STATE

        if not settings.resume and any((settings.out_dir / name).exists() for name in (STATE, REPORT)):
            # The runner would refuse in the CLI's words (-o, --resume); say it in the dialog's.
            self.status.setText(f"{settings.out_dir} holds a batch already: tick \u201cResume a stopped "
                                "batch\u201d to finish it, or choose another output folder.")
            return
        self.runner = ClientRunner(self.client, self)
        self.thread = BatchThread(settings, self.runner, self)
        self.runner.progressed.connect(lambda step, total, stage: self.stage.setText(f"{stage} {step}/{total}"))
        self.thread.began.connect(self._began)
        self.thread.line.connect(self._line)
        self.thread.ended.connect(self._ended)
        self.thread.crashed.connect(self._crashed)
        self.thread.finished.connect(self._thread_done)
        self._set_running(True)
        self.status.setText("Starting…")
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def cancel(self) -> None:
        """Stop after cancelling the photo being painted; what is done stays done (Resume continues)."""
        if self.running:
            self.thread.cancel()
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.in_dir, self.out_dir, self.masks, self.instruction, self.engine, self.seed, self.steps,
                  self.format, self.recursive, self.resume, self.ora):
            w.setEnabled(not running)

    def _began(self, todo: int, total: int) -> None:
        self.progress.setRange(0, max(todo, 1))
        self.progress.setValue(0)
        done = total - todo
        self.status.setText(f"{todo} photos to edit" + (f" ({done} done already)" if done else ""))

    def _line(self, line: dict, done: int, todo: int) -> None:
        self.lines.append(line)
        self.progress.setValue(done)
        row = self.table.rowCount()
        self.table.insertRow(row)
        ok = line["status"] == "ok"
        if ok:
            detail = line.get("caption") or f"→ {Path(line['output']).name}"
            detail += f"  (seed {line.get('seed')}, {line.get('engine') or '?'})"
        else:
            detail = line.get("reason") or ""
        for col, text in enumerate((line["key"], line["status"], detail)):
            item = QTableWidgetItem(text)
            item.setToolTip(line.get("output") or line.get("input") or "")
            if col == 1 and not ok:
                item.setForeground(Qt.red)
            self.table.setItem(row, col, item)
        self.status.setText(f"{done} of {todo} photos: {line['key']} {line['status']}")

    def _ended(self, summary: Any) -> None:
        self.summary = summary
        verb = "Cancelled" if summary.cancelled else "Done"
        text = f"{verb}: {summary.ok} of {summary.total} photos edited"
        if summary.failed:
            text += f", {summary.failed} not (see the reasons below and report.jsonl)"
        if summary.cancelled:
            text += "; Resume continues it"
        self.status.setText(text)
        self.sheet_button.setEnabled(summary.sheet is not None)

    def _crashed(self, message: str) -> None:
        self.status.setText(f"The batch could not run: {message}")

    def _thread_done(self) -> None:
        self._set_running(False)
        self.stage.setText("")
        if self.runner is not None:
            self.runner.close()
        self._update_open()
        if self._close_when_done:
            self._close_when_done = False
            self.close()

    def _update_open(self) -> None:
        row = self.table.currentRow()
        self.open_button.setEnabled(0 <= row < len(self.lines) and bool(self.lines[row].get("output"))
                                    and self.open_document is not None)

    def open_row(self, row: int) -> bool:
        """Open the output of row ``row`` as a document (the .ora when one was kept)."""
        if not (0 <= row < len(self.lines)) or self.open_document is None:
            return False
        line = self.lines[row]
        path = line.get("ora") or line.get("output")
        if not path:
            return False
        self.open_document(path)
        return True

    def open_sheet(self) -> None:
        if self.summary is not None and self.summary.sheet is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.summary.sheet)))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # Not a blocking wait: the engine's answers reach the batch thread through this (GUI) thread.
        if self.running:
            self.cancel()
            self._close_when_done = True
            self.status.setText("Cancelling… the dialog closes when the photo in hand has stopped.")
            event.ignore()
            return
        super().closeEvent(event)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """The editor is quitting: stop the batch now (what is done stays done) and wait for its thread."""
        if self.running:
            self.thread.cancel()
            if self.runner is not None:
                self.runner.abandon()
            self.thread.wait(timeout_ms)


def open_batch_dialog(window: Any) -> BatchDialog:
    """File > Batch... of ``window`` (its engine client; results open through its ``open_path``)."""
    dialog = getattr(window, "_batch_dialog", None)
    if dialog is None:
        dialog = BatchDialog(window.client, getattr(window, "open_path", None), window)
        window._batch_dialog = dialog
        from PySide6.QtWidgets import QApplication

        QApplication.instance().aboutToQuit.connect(dialog.shutdown)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
