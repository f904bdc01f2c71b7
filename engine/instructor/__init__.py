"""Instruction -> edit plan: category, target object, caption and mask (BrushEdit's agent).

``parse_steps`` reads a whole instruction as ordered steps and ``parse_instruction`` gives the first
(the offline parser, no model); ``plan`` runs a backend and the detectors
and returns an :class:`engine.api.EditPlan`. Importing this package does not import torch.
"""

from engine.instructor.intent import Intent
from engine.instructor.steps import Reading, parse_instruction, parse_instruction_or_none, parse_steps, read_instruction

__all__ = ["Intent", "Reading", "parse_instruction", "parse_instruction_or_none", "parse_steps", "plan", "read_instruction"]


def __getattr__(name):
    # ``plan`` lives in planner.py; imported lazily so the parser alone stays light.
    if name == "plan":
        from engine.instructor.planner import plan
        return plan
    raise AttributeError(name)
