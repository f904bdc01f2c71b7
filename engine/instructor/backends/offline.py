"""The offline backend: the rule-based parser, no model, no network."""

from __future__ import annotations

import numpy as np

from engine.instructor.backends.base import InstructorBackend, Understanding
from engine.instructor.parser import parse_instruction


class OfflineBackend(InstructorBackend):
    """Answers with :func:`engine.instructor.parse_instruction`; the default and every fallback."""

    name = "offline"

    def ask(self, image: np.ndarray, instruction: str, problem: str | None = None) -> dict:
        i = parse_instruction(instruction)
        return {"category": i.category, "target": i.target, "caption": i.caption, "box": None}

    def understand(self, image: np.ndarray, instruction: str) -> Understanding:
        return Understanding(parse_instruction(instruction), self.name, ())
