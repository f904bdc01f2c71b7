"""Category and target accuracy of the offline parser on a labelled JSONL file (used by the tests
and runnable: ``python -m tests.engine.instructor.accuracy FILE...``)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from engine.instructor import parse_instruction

_LEAD = re.compile(r"^(?:the|a|an|both|any|all|some|every|each|this|that|these|those|one|two|three|"
                   r"four|five|six|seven|eight|nine|ten|\d+)\s+", re.I)


def norm_target(t):
    """Compare targets without case, articles, numbers or end punctuation."""
    if t is None:
        return None
    t = re.sub(r"\s+", " ", str(t).lower()).strip(" .,;:!?\"'")
    for _ in range(4):
        t = _LEAD.sub("", t)
    return t or None


def load(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]


def evaluate(rows):
    """Return (category accuracy, target accuracy, failures)."""
    cat_ok = tgt_ok = 0
    failures = []
    for r in rows:
        intent = parse_instruction(r["instruction"])
        c = intent.category == r["category"]
        t = norm_target(intent.target) == norm_target(r.get("target"))
        cat_ok += c
        tgt_ok += t
        if not (c and t):
            failures.append((r["instruction"], r["category"], r.get("target"), intent.category,
                             intent.target))
    n = max(1, len(rows))
    return cat_ok / n, tgt_ok / n, failures


if __name__ == "__main__":
    for f in sys.argv[1:]:
        rows = load(f)
        c, t, fails = evaluate(rows)
        print(f"{f}: n={len(rows)} category={c:.3f} target={t:.3f}")
        if "-v" in sys.argv or True:
            for x in fails:
                print("   ", x)
