"""The local instructor as the planner sees it when the memory plan may move it off the card."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from engine.instructor.backends.base import InstructorBackend, Understanding


class StagedBackend(InstructorBackend):
    """An :class:`InstructorBackend` that fetches the loaded backend at each use (no reference kept).

    The planner holds its backend until the plan is done; through this stand-in the engine can still
    free a 4-bit instructor once detection starts, and bring an offloaded one back when it is asked.
    """

    def __init__(self, get: Callable[[], InstructorBackend], name: str = "local") -> None:
        self._get = get
        self.name = name

    def __getattr__(self, attr: str) -> Any:  # box_scale, max_side, ... of the real backend
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._get(), attr)

    def ask(self, image: np.ndarray, instruction: str, problem: str | None = None):
        return self._get().ask(image, instruction, problem)

    def understand(self, image: np.ndarray, instruction: str) -> Understanding:
        return self._get().understand(image, instruction)
