"""The memory plan as the engine uses it: for its configuration, on its card (or a given budget)."""

from __future__ import annotations

import logging

from engine.memory.counts import COMPONENTS
from engine.memory.plan import INSTRUCTORS, MemoryPlan, plan_memory

log = logging.getLogger("brushedit.engine")

DEFAULT_INSTRUCTOR = "qwen2-vl-7b"
_PAINT_DTYPE = {None: "fp16", "float16": "fp16", "bfloat16": "bf16", "float32": "fp32"}
_last_said = ""


def detected_vram_gb() -> float | None:
    """The first CUDA card's memory in GiB, or None without one (imports torch)."""
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_properties(0).total_memory / 2**30


def plan_for_engine(config, cuda: bool, working_size: int = 640, candidates: int = 1,
                    painter: str = "brushnet", quiet: bool = False) -> MemoryPlan | None:
    """The plan for an :class:`~engine.dispatch.EngineConfig`, or None when no card is managed.

    A card is managed on CUDA (its memory, or ``config.vram_gb`` when set), and on the CPU only when
    ``config.vram_gb`` is set (a budget to plan for: what tests and dry runs use). ``quiet``: a
    trial plan (how many candidates fit), not logged.
    """
    vram = getattr(config, "vram_gb", None)
    if vram is None:
        if not cuda:
            return None
        vram = detected_vram_gb()
        if vram is None:
            return None
    from engine.memory.quantize import bitsandbytes_available

    model = config.instructor_model if config.instructor_model in INSTRUCTORS else "auto"
    plan = plan_memory(
        vram, instructor=model, instructor_precision=getattr(config, "instructor_precision", "auto"),
        grounding=config.grounding_model if config.grounding_model in COMPONENTS else "grounding-dino-tiny",
        sam=config.sam_model if config.sam_model in COMPONENTS else "sam-vit-h",
        paint_dtype=_PAINT_DTYPE.get(config.dtype, "fp16"), working_size=working_size,
        candidates=candidates, four_bit_available=cuda and bitsandbytes_available(), painter=painter)
    global _last_said
    if not quiet and plan.summary != _last_said:  # the engine asks often; say each new plan once
        _last_said = plan.summary
        if not plan.fits:
            log.warning("memory plan: %s; fix: %s", plan.summary, plan.fix)
        else:
            log.info("memory plan: %s", plan.summary)
    return plan


def instructor_for(config, plan: MemoryPlan | None) -> tuple[str, str]:
    """``(manifest name, "16bit" | "4bit")`` of the local instructor to load."""
    named = config.instructor_model
    precision = getattr(config, "instructor_precision", "auto")
    if plan is not None:
        name = plan.instructor if named in INSTRUCTORS + ("auto",) else named
        return name, plan.instructor_precision
    return (DEFAULT_INSTRUCTOR if named == "auto" else named), ("16bit" if precision == "auto" else precision)
