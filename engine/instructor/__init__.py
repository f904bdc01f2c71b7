"""Instruction -> edit plan: category, target object, caption and mask (BrushEdit's agent).

``parse_instruction`` is the offline parser (no model); ``plan`` runs a backend and the detectors
and returns an :class:`engine.api.EditPlan`. Importing this package does not import torch.
"""

from engine.instructor.intent import Intent
from engine.instructor.parser import parse_instruction

__all__ = ["Intent", "parse_instruction", "plan"]


def __getattr__(name):
    # ``plan`` lives in planner.py; imported lazily so the parser alone stays light.
    if name == "plan":
        from engine.instructor.planner import plan
        return plan
    raise AttributeError(name)
