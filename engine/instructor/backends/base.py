"""The instructor backend interface and the shared parse / validate / retry / fallback logic."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from engine.instructor.answer import AnswerError, interpret_answer
from engine.instructor.intent import Intent
from engine.instructor.parser import parse_instruction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Understanding:
    """What a backend made of an instruction: the intent, who answered, and what went wrong."""

    intent: Intent
    backend: str
    notes: tuple[str, ...] = ()


class InstructorBackend(ABC):
    """Turns (image, instruction) into an :class:`Intent`.

    Subclasses implement :meth:`ask`, which returns the model's raw answer (a dict, or text that
    holds a JSON object). :meth:`understand` parses and validates it, asks once more with the
    problem spelled out when the answer is unusable, and otherwise falls back to the offline
    parser: an odd answer never fails an edit.
    """

    name: str = "backend"
    #: How the model writes box coordinates: "auto", "pixels", "unit" or "1000".
    box_scale: str = "auto"
    retries: int = 1

    @abstractmethod
    def ask(self, image: np.ndarray, instruction: str, problem: str | None = None) -> dict | str:
        """The model's raw answer. ``problem`` is set on a retry: why the last answer was refused."""

    def understand(self, image: np.ndarray, instruction: str) -> Understanding:
        """Ask, validate, retry once, else fall back to :func:`parse_instruction`."""
        fallback = parse_instruction(instruction)
        notes: list[str] = []
        problem = None
        for _ in range(1 + max(0, int(self.retries))):
            try:
                raw = self.ask(image, instruction, problem)
            except Exception as exc:  # noqa: BLE001 -- a failing model must not fail the edit
                problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                notes.append(f"{self.name} failed ({problem})")
                log.warning("instructor backend %s failed: %s", self.name, problem)
                continue
            try:
                intent = interpret_answer(raw, instruction, image.shape, fallback, self.box_scale)
                return Understanding(intent, self.name, tuple(notes))
            except AnswerError as exc:
                problem = str(exc)
                notes.append(f"{self.name} answer refused: {problem}")
        notes.append("used the offline parser instead")
        return Understanding(fallback, "offline", tuple(notes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
