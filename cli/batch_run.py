"""The batch run of ``brushedit batch``: :mod:`engine.batch.run` with the document's files.

The run itself (settings, the loop, the local executor, the report and state files) is the engine's
(:mod:`engine.batch.run`), shared with the editor's File ▸ Batch…; the CLI hands it
:class:`~desktop.document.result_files.DocumentFiles` for the photos and outputs. The old names stay
importable from here for outside code (benchmarks, tests).
"""

from __future__ import annotations

from typing import Any, Callable

from engine.batch.run import (  # noqa: F401 - re-exported: the batch's public names, as before
    IMAGE_INPUTS,
    REPORT,
    SHEET,
    STATE,
    THUMBS,
    WRITABLE,
    BatchError,
    BatchSettings,
    BatchSummary,
    Item,
    LocalExecutor,
    ReportWriter,
    check_folders,
    list_items,
    read_report,
    thumb_name,
)
from engine.batch.run import run_batch as _run_batch


def run_batch(s: BatchSettings, executor: Any, on_line: Callable[[dict, int, int], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None,
              on_start: Callable[[int, int], None] | None = None) -> BatchSummary:
    """:func:`engine.batch.run.run_batch` over the document's files (same arguments, as before)."""
    from desktop.document.result_files import DocumentFiles

    return _run_batch(s, executor, DocumentFiles(), on_line=on_line, is_cancelled=is_cancelled, on_start=on_start)
