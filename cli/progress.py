"""Progress on stderr: a tqdm bar on a terminal, sparse plain lines otherwise, nothing with --quiet.

A stage that ends within half a second prints nothing: instant steps (loading the offline parser,
a cached model) are noise, and an error right after them stays the only line on stderr.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

QUIET_SECONDS = 0.5  # stages shorter than this print nothing
PLAIN_EVERY = 2.0  # at most one plain line per stage every this many seconds (plus the end)


class ProgressReporter:
    """Callable as ``progress(step, total, stage="")``; one bar (or line series) per stage.

    Parameters
    ----------
    quiet : bool
        Print nothing.
    stream : file, optional
        Where to print (stderr).
    default_stage : str
        The label of updates that name no stage.
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None,
                 default_stage: str = "working") -> None:
        self.quiet = quiet
        self.default_stage = default_stage
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar = None
        self._stage: str | None = None
        self._started = 0.0
        self._last_line = 0.0
        self._printed = False
        self._last = (0, 0)

    def __call__(self, step: int, total: int, stage: str = "", *_: object) -> None:
        if self.quiet:
            return
        stage = stage or self.default_stage
        now = time.monotonic()
        if stage != self._stage:
            self.close()
            self._stage, self._started, self._printed = stage, now, False
        step, total = int(step), int(total)
        self._last = (step, total)
        if now - self._started < QUIET_SECONDS:
            return
        if self.tty:
            self._show_bar(stage, step, total)
        elif not self._printed or now - self._last_line >= PLAIN_EVERY or (total and step >= total):
            self._line(stage, step, total, now)

    def _show_bar(self, stage: str, step: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=max(total, 1), desc=stage, file=self.stream, leave=False,
                             unit_scale=total > 10_000, dynamic_ncols=True)
        self._bar.total = max(total, 1)
        self._bar.n = min(step, self._bar.total)
        self._bar.refresh()

    def _line(self, stage: str, step: int, total: int, now: float) -> None:
        pct = int(100 * step / total) if total else 100
        self.stream.write(f"{stage}: {_amount(step, total)} ({pct}%)\n")
        self.stream.flush()
        self._printed, self._last_line = True, now

    def note(self, text: str) -> None:
        """A one-line remark (not printed with --quiet)."""
        if not self.quiet:
            self.close()
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the current stage."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._stage = None


def _amount(step: int, total: int) -> str:
    if total > 10_000:  # bytes
        return f"{step / 1e6:.1f}/{total / 1e6:.1f} MB"
    return f"{step}/{total}"
