"""The instructor backend interface and the shared parse / validate / retry / fallback logic."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.instructor.answer import AnswerError, echoes, extract_steps, interpret_answer
from engine.instructor.intent import Intent
from engine.instructor.oddities import looks_like_injection
from engine.instructor.steps import parse_instruction
from engine.instructor.steps import read_instruction

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

    def understand_steps(self, image: np.ndarray, instruction: str) -> "StepsUnderstanding":
        """The instruction as ordered steps and kept objects, validated step by step.

        One answer may hold several steps (``{"steps": [...], "keep": [...]}``) or be one step object.
        A step the validator refuses is asked again (once, with the problem); a step still refused
        after that is the offline parser's step at the same place, so one bad step never loses the
        others.
        """
        offline = read_instruction(instruction)
        if looks_like_injection(instruction):
            return StepsUnderstanding(offline.steps, offline.protected, "offline", offline.notes)
        fallback = list(offline.steps)
        notes: list[str] = []
        best: dict[int, Intent] = {}
        count: int | None = None
        kept: list[str] = []
        problem = None
        for _ in range(1 + max(0, int(self.retries))):
            try:
                raw = self.ask(image, instruction, problem)
                answers, keep = extract_steps(raw)
            except AnswerError as exc:
                problem = str(exc)
                notes.append(f"{self.name} answer refused: {problem}")
                continue
            except Exception as exc:  # noqa: BLE001 -- a failing model must not fail the edit
                problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                notes.append(f"{self.name} failed ({problem})")
                log.warning("instructor backend %s failed: %s", self.name, problem)
                continue
            count = len(answers) if count is None else count
            kept = kept or keep
            problems = []
            for i, answer in enumerate(answers[:count]):
                if i in best:
                    continue
                base = fallback[i] if i < len(fallback) else parse_instruction(instruction)
                try:
                    intent = interpret_answer(answer, instruction, image.shape, base, self.box_scale)
                except AnswerError as exc:
                    problems.append(f"step {i + 1}: {exc}")
                    continue
                if echoes(intent.caption, instruction, 6) and not echoes(base.caption, instruction, 6):
                    intent = intent.with_(caption=base.caption)
                best[i] = intent
            if not problems and len(best) >= (count or 0):
                break
            problem = "; ".join(problems) or "missing steps"
            notes.extend(f"{self.name} answer refused: {p}" for p in problems)
        if count is None:
            notes.append("used the offline parser instead")
            return StepsUnderstanding(offline.steps, offline.protected, "offline", tuple(notes) + offline.notes)
        protected = tuple(kept) or offline.protected
        steps = []
        for i in range(count):
            if i in best:
                steps.append(best[i])
            elif i < len(fallback):
                notes.append(f"step {i + 1}: used the offline parser instead")
                steps.append(fallback[i])
        steps = [s.with_(protected=protected, instruction=instruction) for s in steps]
        used = self.name if best else "offline"
        return StepsUnderstanding(tuple(steps), protected, used, tuple(notes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


@dataclass(frozen=True)
class StepsUnderstanding:
    """What a backend made of a whole instruction: the steps in order, the kept objects, who answered."""

    steps: tuple[Intent, ...]
    protected: tuple[str, ...]
    backend: str
    notes: tuple[str, ...] = ()


class BackendHandle:
    """The instructor as the engine hands it to the planner when the memory plan may move it.

    Not an :class:`InstructorBackend`: it answers nothing itself. The planner asks it for the
    :meth:`loaded` backend at the moment it asks the model, and uses *that* object (its
    ``understand_steps``, its ``box_scale``, whatever a backend later grows), so the staged path and the
    direct one run the same code by construction. Between uses it keeps no reference of its own, so
    the engine can free a 4-bit instructor once detection starts, or bring an offloaded one back.
    """

    def __init__(self, get: "Callable[[], InstructorBackend]", name: str = "local") -> None:
        self._get = get
        self.name = name

    def loaded(self) -> InstructorBackend:
        """The loaded backend (the engine's cache: the plan stage begins here)."""
        return self._get()

    def __repr__(self) -> str:
        return f"BackendHandle(name={self.name!r})"
