"""What the Instruction panel writes in its log, as plain functions (no widget): the plan, a chain's
steps and outcome, who painted the candidates. The decisions behind them are the model's."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

PAINTED = "painted"  # the mask choice for the mask the user painted before planning


def mask_choices(plan: Any, painted: Any) -> list[tuple[str, Any]]:
    """The Mask choices a plan offers: a mask painted before planning is kept first (as Photoshop's
    Generative Fill keeps the selection), then the instructor's own unless it is that same mask (no
    GroundingDINO/SAM: the plan's mask IS the painted one), then its alternatives."""
    choices = []
    if painted is not None:
        choices.append(("Your painted mask", PAINTED))
    if painted is None or not same_mask(plan.mask, painted):
        choices.append(("Proposed" if painted is None else "Proposed by the instructor", None))
    choices += [(f"Alternative {i + 1}", i) for i in range(len(plan.candidate_masks))]
    return choices


def same_mask(a: Any, b: Any) -> bool:
    """Whether two masks cover the same pixels (any non-zero value repaints)."""
    return np.shape(a) == np.shape(b) and bool(np.array_equal(np.asarray(a) > 0, np.asarray(b) > 0))


def _steps_line(steps) -> str:
    return "; ".join(f"<b>{html.escape(st.category)}</b>" + (f" · {html.escape(st.target)}" if st.target else "")
                     for st in steps)


def plan_summary(plan: Any, kept_painted: bool) -> str:
    """The log's line for a plan (HTML): its edit, or its steps; kept objects; notes; and, when the
    user's painted mask was kept over the instructor's, how to switch."""
    chain = len(getattr(plan, "steps", ()) or ()) > 1
    text = f"<b>{html.escape(plan.category)}</b>"
    if plan.target:
        text += f" · {html.escape(plan.target)}"
    if plan.caption:
        text += f" → “{html.escape(plan.caption)}”"
    if chain:
        text = f"{len(plan.steps)} steps, each its own layer: " + _steps_line(plan.steps)
    if getattr(plan, "protected", ()):
        text += f"<br>keeping: {html.escape(', '.join(plan.protected))}"
    notes = "; ".join(plan.notes)
    if notes:
        text += f"<br><i>{html.escape(notes)}</i>"
    if kept_painted:
        text += ("<br><i>Kept your painted mask; pick “Proposed by the instructor” under Mask to use "
                 "its mask instead.</i>")
    return text


def chain_planned(plan: Any) -> str:
    """Run without Plan: the steps about to be painted (as Plan would have listed them)."""
    steps = getattr(plan, "steps", ()) or (plan,)
    text = f"{len(steps)} step{'s' if len(steps) != 1 else ''}, each its own layer: " + _steps_line(steps)
    if getattr(plan, "protected", ()):
        text += f"<br>keeping: {html.escape(', '.join(plan.protected))}"
    return text


def chain_finished(layers: list, skipped: list, cancelled: bool) -> str:
    """How a chain ended: the steps painted (or none), those skipped and why."""
    if layers:
        text = f"{len(layers)} step{'s' if len(layers) != 1 else ''} painted, each its own layer"
        if cancelled:
            text += " (cancelled: the finished steps are kept)"
    else:  # failed or cancelled before any step: no layer, no History entry, nothing to undo
        text = "Nothing was painted" + (" (cancelled)" if cancelled else "")
    for number, why in skipped:
        text += f"<br><i>step {int(number)} skipped: {html.escape(str(why))}</i>"
    return text + (". One undo takes the chain back." if layers else ".")


def describe_candidates(candidates: list, engine: str = "", model: str = "") -> str:
    """One transcript line naming who painted: ``"fill: 2 candidates, seeds 0-1"``,
    ``"brushedit (brushnet-x): 1 candidate, seed 42"``."""
    seeds = [int(c.seed) for c in candidates]
    n = len(seeds)
    if n > 2 and seeds == list(range(seeds[0], seeds[0] + n)) or n == 2 and seeds[1] == seeds[0] + 1:
        seed_text = f"seeds {seeds[0]}-{seeds[-1]}"
    else:
        seed_text = ("seed " if n == 1 else "seeds ") + ", ".join(map(str, seeds))
    who = engine or "engine"
    if model and model != engine:
        who += f" ({model})"
    return f"{who}: {n} candidate{'s' if n != 1 else ''}, {seed_text}"
