"""Apply a memory plan to loaded models: off the card after their stage unless the plan keeps them.

:class:`Residency` is what the model cache (:class:`engine.memory.cache.ModelCache`) consults whenever a
stage begins (a model of one kind is asked for): every *other* loaded model whose plan says ``offload`` is moved to the
CPU, one that says ``drop`` (or cannot move, such as a bitsandbytes 4-bit model) is forgotten, and
the model asked for is moved back to the card if it was offloaded. Moving lazily, when the next
stage starts, means a stage that repeats (click after click with SAM) moves nothing.

:class:`StagedModel` hands a model to code that uses it later (the planner gets the detector and
SAM before it runs the instructor): the stage begins at its first use, not when it is handed over,
and it holds no reference of its own, so a dropped model is really freed.
"""

from __future__ import annotations

import gc
import logging
from typing import Any, Callable

from engine.device import empty_cuda_cache

log = logging.getLogger("brushedit.engine")


def _torch_module(obj: Any):
    import torch

    if isinstance(obj, torch.nn.Module):
        return obj
    inner = getattr(obj, "model", None)
    return inner if isinstance(inner, torch.nn.Module) else None


def is_quantized(obj: Any) -> bool:
    """Whether ``obj`` (or its ``.model``) holds bitsandbytes weights, which cannot be moved."""
    module = _torch_module(obj)
    return bool(module is not None and (getattr(module, "is_loaded_in_4bit", False)
                                        or getattr(module, "is_loaded_in_8bit", False)))


def move_model(obj: Any, device: str) -> bool:
    """Move a loaded engine model to ``device``; False when it cannot move (drop it instead).

    Knows the engine's holders: an object with ``to_device(device)`` (SAM's segmenter, which also
    moves its cached image embeddings), a diffusers pipeline or torch module (``.to``), and a holder
    of a torch module in ``.model`` with a plain ``device`` attribute (GroundingDINO's detector, the
    Qwen2-VL backend).
    """
    if is_quantized(obj):
        return False
    if hasattr(obj, "to_device"):
        obj.to_device(device)
        return True
    if hasattr(obj, "components") and hasattr(obj, "to"):  # a diffusers pipeline
        if getattr(obj, "_offload_gpu_id", None) is not None or getattr(obj, "hf_device_map", None):
            return True  # model CPU offload already moves each part on and off the card itself
        obj.to(device)
        return True
    module = _torch_module(obj)
    if module is None:
        return False
    import torch

    module.to(device)
    if module is not obj and "device" in getattr(obj, "__dict__", {}):
        obj.device = torch.device(device)
    return True


class Residency:
    """Where each loaded kind is (``"device"`` or ``"cpu"``) and the moves the plan asked for.

    Parameters
    ----------
    after : dict
        Engine cache kind -> ``"keep"``, ``"offload"`` or ``"drop"`` (``MemoryPlan.after_stage()``).
    device : str
        The card's torch device (``"cuda"``).
    """

    def __init__(self, after: dict[str, str], device: str) -> None:
        self.after = dict(after)
        self.device = device
        self.offloaded: set[str] = set()
        self.moves: list[tuple[str, str]] = []  # (kind, "offloaded" | "dropped" | "restored"), in order
        self.current: str | None = None

    def enter(self, kind: str, cache: dict[str, tuple[Any, Any]]) -> None:
        """Stage ``kind`` begins: move or drop the others the plan does not keep; bring ``kind`` back."""
        freed = False
        for other in list(cache):
            if other == kind or other in self.offloaded or self.after.get(other, "keep") == "keep":
                continue
            obj = cache[other][1]
            if self.after[other] == "offload" and move_model(obj, "cpu"):
                self.offloaded.add(other)
                self.moves.append((other, "offloaded"))
                log.info("memory plan: %s moved to the CPU before %s", other, kind)
            else:
                del cache[other]
                self.moves.append((other, "dropped"))
                log.info("memory plan: %s freed before %s", other, kind)
            freed = True
        if kind in self.offloaded:
            self.offloaded.discard(kind)
            if kind in cache:
                move_model(cache[kind][1], self.device)
                self.moves.append((kind, "restored"))
                log.info("memory plan: %s back on %s", kind, self.device)
        self.current = kind
        if freed:
            gc.collect()  # a model in a reference cycle is freed now, not at the next collection
            empty_cuda_cache()

    def forget(self, kind: str) -> None:
        """``kind`` was unloaded or replaced by the engine."""
        self.offloaded.discard(kind)


class StagedModel:
    """A stand-in for a loaded model whose stage begins at its first use.

    Every attribute read fetches the model anew through ``get`` (the engine's cache: a hit, which
    begins the stage when it is not current), so nothing here keeps a dropped model alive.
    """

    def __init__(self, get: Callable[[], Any]) -> None:
        object.__setattr__(self, "_get", get)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)
