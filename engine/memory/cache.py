"""The engine's loaded models: one of each kind, and the memory plan's residency applied as stages begin.

InvokeAI's model manager splits store / load / cache; this is the cache (``get``, ``make_room``),
split out of the engine's owner (:class:`engine.dispatch.Engine`), which keeps the store's questions
(:class:`engine.models.weights.WeightLocator`) and the loaders. A model is held under its *kind*
(``"brushnet"``, ``"instructor"``, ``"grounding"``, ``"sam"``, ``"lama"``, ``"klein"``: the memory
plan's stages name them in :data:`engine.memory.plan.ENGINE_KIND`) with the *key* it was loaded for (paths,
device, dtype): a different key for a kind frees the old model before the new one loads.

Before a model is handed out, :meth:`ModelCache.make_room` lets the residency
(:class:`engine.memory.residency.Residency`) move the other stages' models off the card, as the plan
says; the residency is built at the first stage that runs with torch loaded (no torch, no model on a
card yet), from the plan the owner gives.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from engine.device import empty_cuda_cache
from engine.memory.residency import Residency


class ModelCache:
    """Loaded models by kind, with the residency of the memory plan.

    Parameters
    ----------
    plan : callable
        ``plan() -> MemoryPlan or None``: the memory plan of the owner's configuration (``None``: no
        card is managed, nothing moves).
    device : callable
        ``device() -> str``: where the models run (``"cuda"`` or ``"cpu"``).

    Notes
    -----
    ``entries`` (kind -> ``(key, model)``) and ``residency`` (``None``: not planned yet; ``False``:
    no card is managed; else a :class:`Residency`) are read by the owner and by tests. Not thread-safe:
    one thread drives the engine.
    """

    def __init__(self, plan: Callable[[], Any], device: Callable[[], str]) -> None:
        self._plan = plan
        self._device = device
        self.entries: dict[str, tuple[Any, Any]] = {}
        self.residency: Any = None

    def get(self, kind: str, key: Any, load: Callable[[], Any], on_progress: Callable[..., None] | None = None,
            *, stage: bool = True) -> Any:
        """The model of ``kind`` loaded for ``key``; ``load()`` runs when none (or another) is held.

        ``stage`` (default) begins the model's stage first (:meth:`make_room`); a model that holds
        no GPU memory (the offline or OpenAI instructor) passes ``False``. Loading reports
        ``on_progress(0, 1, "loading KIND")`` and ``(1, 1, ...)``.
        """
        if stage:
            self.make_room(kind)
        held = self.entries.get(kind)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:  # a different model of this kind: free it before loading the next
            self.drop(kind)
            held = None
        if on_progress is not None:
            on_progress(0, 1, f"loading {kind}")
        obj = load()
        self.entries[kind] = (key, obj)
        if on_progress is not None:
            on_progress(1, 1, f"loading {kind}")
        return obj

    def make_room(self, kind: str) -> None:
        """A model of ``kind`` is about to be used: apply the plan to the other loaded models."""
        if self.residency is None and "torch" not in sys.modules:
            return  # no torch, so no model on a card yet: plan when the first one loads
        if self.residency is None:
            plan = self._plan()
            self.residency = Residency(plan.after_stage(), self._device()) if plan is not None else False
        if self.residency:
            self.residency.enter(kind, self.entries)

    def replan(self) -> None:
        """Forget the residency: it is planned again, from the owner's plan, at the next stage."""
        self.residency = None

    def drop(self, kind: str) -> None:
        """Forget the model of ``kind`` (and return CUDA's cached memory)."""
        if self.entries.pop(kind, None) is not None and self.residency:
            self.residency.forget(kind)
        empty_cuda_cache()

    def clear(self) -> None:
        """Forget every loaded model and the residency (and free GPU memory when torch is loaded)."""
        self.entries.clear()
        self.residency = None
        empty_cuda_cache()
