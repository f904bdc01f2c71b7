"""How many candidates ``num_candidates=AUTO_CANDIDATES`` paints.

The BrushEdit demo paints 4 samples per edit (its "Num samples" slider defaults to 4) in one batched
pipeline call. We do the same where the memory plan fits 4 beside everything else kept on the card,
else 2, else 1. On the CPU (no card managed) it is 1: there each candidate's 50 steps cost minutes,
and one batched call of 4 still takes about twice as long as one (``benchmarks/brushnet.py``).
"""

from __future__ import annotations

from typing import Callable

REFERENCE_CANDIDATES = 4
_TRIED = (REFERENCE_CANDIDATES, 2, 1)


def auto_candidates(plan_for: Callable[[int], object]) -> tuple[int, str]:
    """``(count, why)``: the most of 4, 2, 1 candidates whose memory plan fits.

    Parameters
    ----------
    plan_for : callable
        ``plan_for(candidates)`` -> the :class:`~engine.memory.plan.MemoryPlan` of a paint with that
        many candidates, or None when no card is managed (the CPU).
    """
    first = plan_for(REFERENCE_CANDIDATES)
    if first is None:
        return 1, "on the CPU: one candidate per run (ask for more with --samples or Candidates)"
    for n in _TRIED:
        plan = first if n == REFERENCE_CANDIDATES else plan_for(n)
        if plan.fits:
            if n == REFERENCE_CANDIDATES:
                return n, f"{n} candidates fit the card ({plan.peak_gb:.1f} GB peak)"
            return n, f"{n} candidate(s): 4 would need {first.peak_gb:.1f} GB of the card's {first.vram_gb:.0f} GB"
    return 1, f"one candidate: even that does not fit the plan ({plan.summary})"
