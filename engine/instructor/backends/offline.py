"""The offline backend: the rule-based parser, no model, no network."""

from __future__ import annotations

import numpy as np

from engine.instructor.backends.base import InstructorBackend, StepsUnderstanding, Understanding
from engine.instructor.steps import parse_instruction
from engine.instructor.steps import read_instruction


class OfflineBackend(InstructorBackend):
    """Answers with :func:`engine.instructor.parse_instruction`; the default and every fallback."""

    name = "offline"

    def ask(self, image: np.ndarray, instruction: str, problem: str | None = None) -> dict:
        i = parse_instruction(instruction)
        return {"category": i.category, "target": i.target, "caption": i.caption, "box": None}

    def understand(self, image: np.ndarray, instruction: str) -> Understanding:
        return Understanding(parse_instruction(instruction), self.name, ())

    def understand_steps(self, image: np.ndarray, instruction: str) -> StepsUnderstanding:
        reading = read_instruction(instruction)
        return StepsUnderstanding(reading.steps, reading.protected, self.name, reading.notes)
