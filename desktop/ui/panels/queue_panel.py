"""The job queue: the running job and the waiting ones, each with a cancel button."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


class _JobRow(QWidget):
    def __init__(self, job, client, parent=None):
        super().__init__(parent)
        self.job_id = job.job_id
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(90)
        self.bar.setTextVisible(False)
        self.cancel = QToolButton()
        self.cancel.setText("✕")
        self.cancel.setToolTip("Cancel this job")
        self.cancel.clicked.connect(lambda: client.cancel(self.job_id))
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.update_from(job)

    def update_from(self, job) -> None:
        state = "▶" if job.state == "running" else "…"
        self.label.setText(f"{state} {job.label}")
        self.label.setToolTip(f"Job {job.job_id} ({job.kind}), {job.state}" + (f": {job.stage}" if job.stage else ""))
        if job.state != "running":
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
        elif job.total > 0:
            self.bar.setRange(0, job.total)
            self.bar.setValue(job.step)
        else:
            self.bar.setRange(0, 0)


class JobQueuePanel(QWidget):
    """Lists ``client.jobs()`` (running first); refreshes on the client's queue and progress signals."""

    def __init__(self, client, parent=None):
        super().__init__(parent)
        self.client = client
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.list = QListWidget()
        self.empty = QLabel("No jobs. Plans, edits, selections and downloads show here while they run.")
        self.empty.setWordWrap(True)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        self.rows: dict[int, _JobRow] = {}
        # Progress is painted at most every 100 ms (steps may come much faster).
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._update_rows)
        client.queue_changed.connect(self.refresh)
        client.progress.connect(self._on_progress)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        self.rows = {}
        for job in self.client.jobs():
            item = QListWidgetItem()
            row = _JobRow(job, self.client)
            item.setSizeHint(row.sizeHint())
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            self.rows[job.job_id] = row
        self.empty.setVisible(not self.rows)

    def _on_progress(self, job_id: int, step: int, total: int, stage: str) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _update_rows(self) -> None:
        for job in self.client.jobs():
            row = self.rows.get(job.job_id)
            if row is not None:
                row.update_from(job)
