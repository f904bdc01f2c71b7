"""Fit the card: parameter counts of the default models and the per-stage memory plan.

``plan_memory(vram_gb, ...)`` says which instructor runs, which models stay on the card after their
stage, each stage's estimated peak, and whether the agent edit fits (with the fix when it does not).
Nothing here imports torch unless a config's count is not cached (then it builds on ``meta``).
"""

from engine.memory.plan import (INSTRUCTOR_PRECISIONS, INSTRUCTORS, STAGES, MemoryPlan, ModelMemory,
                                StageMemory, model_gb, plan_memory)

__all__ = ["INSTRUCTOR_PRECISIONS", "INSTRUCTORS", "STAGES", "MemoryPlan", "ModelMemory", "StageMemory",
           "model_gb", "plan_memory"]
