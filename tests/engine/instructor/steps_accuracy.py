"""Accuracy of :func:`engine.instructor.parse_steps` on a labelled steps file, per kind of phrasing.

Each row: ``instruction``, ``kind``, ``steps`` ([{category, target}]), ``protected``. A row's category
is right when the step count and every step's category match; its target is right when every step with
a labelled target has a target whose last word (its head noun) is the labelled target's last word.
Runnable: ``python tests/engine/instructor/steps_accuracy.py FILE...``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from engine.instructor import read_instruction


def head(t):
    if not t:
        return None
    words = str(t).lower().replace("-", " ").split()
    return words[-1].strip(".,;:!?\"'") if words else None


def load(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def score_row(row):
    reading = read_instruction(row["instruction"])
    got = [(s.category, s.target) for s in reading.steps]
    want = [(s["category"], s.get("target")) for s in row["steps"]]
    cat_ok = len(got) == len(want) and all(g[0] == w[0] for g, w in zip(got, want))
    tgt_ok = len(got) == len(want) and all(w[1] is None or head(g[1]) == head(w[1]) for g, w in zip(got, want))
    want_prot = {head(p) for p in row.get("protected", [])}
    prot_ok = want_prot == {head(p) for p in reading.protected}
    return cat_ok, tgt_ok, prot_ok, got, list(reading.protected)


def evaluate(rows):
    """{kind: {"n", "category", "target", "protected"}} plus "all", and the failures."""
    by = defaultdict(lambda: {"n": 0, "category": 0, "target": 0, "protected": 0, "targets_n": 0})
    failures = []
    for r in rows:
        c, t, p, got, prot = score_row(r)
        has_target = any(s.get("target") for s in r["steps"])
        for k in (r.get("kind", "other"), "all"):
            b = by[k]
            b["n"] += 1
            b["category"] += c
            b["protected"] += p
            if has_target:
                b["targets_n"] += 1
                b["target"] += t
        if not (c and t and p):
            failures.append((r["instruction"], r["steps"], r.get("protected"), got, prot))
    out = {}
    for k, b in by.items():
        out[k] = {"n": b["n"], "category": b["category"] / b["n"], "protected": b["protected"] / b["n"],
                  "target": b["target"] / b["targets_n"] if b["targets_n"] else 1.0}
    return out, failures


if __name__ == "__main__":
    for f in sys.argv[1:]:
        scores, fails = evaluate(load(f))
        print(f)
        for k, v in sorted(scores.items()):
            print(f"  {k:12s} n={v['n']:3d} category={v['category']:.3f} target={v['target']:.3f} "
                  f"protected={v['protected']:.3f}")
        if "-v" in sys.argv:
            for x in fails:
                print("   ", x)
