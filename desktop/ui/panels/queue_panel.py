"""The job queue: the running job and the waiting ones, each with a cancel button, and below
them the history of finished, failed and cancelled jobs with their start and end times."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


MAX_HISTORY = 200  # oldest entries drop off past it
_MARKS = {"done": "✓", "failed": "✕", "cancelled": "⊘"}


@dataclass
class JobRecord:
    """One job as the history keeps it; times are ``time.time()`` seconds (None: not reached)."""

    job_id: int
    kind: str
    label: str
    queued_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    state: str = "waiting"  # waiting, running, done, failed, cancelled
    error: str = ""

    def describe(self) -> str:
        """One line: the outcome, what it was, when it started and how long it ran."""
        start = self.started_at or self.queued_at
        when = time.strftime("%H:%M:%S", time.localtime(start)) if start else "—"
        took = ""
        if self.ended_at is not None and self.started_at is not None:
            took = f", {_duration(self.ended_at - self.started_at)}"
        elif self.started_at is None:
            took = ", never started"
        return f"{_MARKS.get(self.state, '•')} {self.label} — {when}{took}"

    def tooltip(self) -> str:
        def at(t):
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "—"
        lines = [f"Job {self.job_id} ({self.kind}): {self.state}", f"Queued {at(self.queued_at)}",
                 f"Started {at(self.started_at)}", f"Ended {at(self.ended_at)}"]
        if self.error:
            lines.append(self.error)
        return "\n".join(lines)


def _duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes} min {sec:02d} s"


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
        # History: every job seen, newest first, kept after it ends (with its times).
        self.records: dict[int, JobRecord] = {}
        head = QHBoxLayout()
        head.addWidget(QLabel("History"))
        head.addStretch(1)
        self.clear_history_button = QToolButton()
        self.clear_history_button.setText("Clear")
        self.clear_history_button.setToolTip("Forget the finished jobs listed here")
        self.clear_history_button.clicked.connect(self.clear_history)
        head.addWidget(self.clear_history_button)
        layout.addLayout(head)
        self.history_list = QListWidget()
        self.history_list.setObjectName("jobHistory")
        self.history_list.setToolTip("Finished, failed and cancelled jobs with their times")
        # Rows wrap to the panel's width (a long label and its times ran past the right edge).
        self.history_list.setWordWrap(True)
        self.history_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.history_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        layout.addWidget(self.history_list, 1)
        # Two rows each at least, no more: the panel shares its tabs with Layers, and the tab group is as
        # tall as its tallest minimum (at 1920x1080 and 200 % this panel pushed the Instruction field
        # out of view).
        rows = 2 * self.fontMetrics().lineSpacing() + 10
        for lst in (self.list, self.history_list):
            lst.setMinimumHeight(rows)
        for signal, state in ((client.queued, "waiting"), (client.started, "running")):
            signal.connect(lambda job_id, kind, s=state: self._record(job_id, kind, s))
        client.finished.connect(lambda job_id, _result: self._record(job_id, None, "done"))
        client.failed.connect(lambda job_id, error, hint, kind: self._record(job_id, kind, "failed", error))
        client.cancelled.connect(lambda job_id: self._record(job_id, None, "cancelled"))
        # Progress is painted at most every 100 ms (steps may come much faster).
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._update_rows)
        client.queue_changed.connect(self.refresh)
        client.progress.connect(self._on_progress)
        self.refresh()
        self._refresh_history()

    # --- history ------------------------------------------------------------------------------
    def _record(self, job_id: int, kind, state: str, error: str = "") -> None:
        now = time.time()
        rec = self.records.get(job_id)
        if rec is None:
            live = next((j for j in self.client.jobs() if j.job_id == job_id), None)
            rec = JobRecord(job_id, kind or (live.kind if live else "job"),
                            live.label if live else (kind or "job"), queued_at=now)
            self.records[job_id] = rec
        if state == "running":
            rec.started_at = rec.started_at or now
        elif state in _MARKS:
            rec.ended_at = now
            rec.error = error
        rec.state = state
        while len(self.records) > MAX_HISTORY:
            self.records.pop(next(iter(self.records)))
        if state in _MARKS:
            self._refresh_history()

    def history(self) -> list[JobRecord]:
        """The jobs that ended, newest first."""
        done = [r for r in self.records.values() if r.state in _MARKS]
        return sorted(done, key=lambda r: (r.ended_at or 0, r.job_id), reverse=True)

    def clear_history(self) -> None:
        for job_id in [r.job_id for r in self.history()]:
            self.records.pop(job_id, None)
        self._refresh_history()

    def _refresh_history(self) -> None:
        self.history_list.clear()
        for rec in self.history():
            item = QListWidgetItem(rec.describe())
            item.setToolTip(rec.tooltip())
            self.history_list.addItem(item)
        self.clear_history_button.setEnabled(self.history_list.count() > 0)

    def refresh(self) -> None:
        self.list.clear()
        self.rows = {}
        for job in self.client.jobs():
            rec = self.records.get(job.job_id)
            if rec is not None:
                rec.label = job.label  # the client names a job after it was queued
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
