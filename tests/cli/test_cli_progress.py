"""The progress reporter: quiet for instant stages, sparse plain lines, silent with --quiet."""

from __future__ import annotations

import io

import pytest

from cli import progress as progress_module
from cli.progress import ProgressReporter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", c)
    return c


def test_instant_stages_print_nothing(clock):
    out = io.StringIO()
    p = ProgressReporter(stream=out)
    p(0, 1, "loading instructor")
    p(1, 1, "loading instructor")
    p(0, 4, "understanding")
    p.close()
    assert out.getvalue() == ""


def test_long_stages_print_sparse_lines_and_the_end(clock):
    out = io.StringIO()
    p = ProgressReporter(stream=out, default_stage="painting")
    p(0, 50)
    for step in range(1, 51):
        clock.now += 0.1  # 5 s in all
        p(step, 50)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("painting: ")
    assert lines[-1] == "painting: 50/50 (100%)"
    assert 2 <= len(lines) <= 5  # one every 2 s at most, plus the end


def test_bytes_are_shown_in_megabytes(clock):
    out = io.StringIO()
    p = ProgressReporter(stream=out)
    p(0, 3_000_000, "sam-vit-b: file")
    clock.now += 1
    p(3_000_000, 3_000_000, "sam-vit-b: file")
    assert "3.0/3.0 MB (100%)" in out.getvalue()


def test_quiet_prints_nothing_even_notes(clock):
    out = io.StringIO()
    p = ProgressReporter(quiet=True, stream=out)
    p(0, 2, "x")
    clock.now += 10
    p(2, 2, "x")
    p.note("hello")
    assert out.getvalue() == ""
