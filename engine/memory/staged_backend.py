"""The local instructor as the planner gets it when the memory plan may move it off the card.

This used to be ``StagedBackend``, an :class:`~engine.instructor.backends.base.InstructorBackend`
subclass that forwarded attribute reads to the loaded backend. Its inherited class attributes
(``box_scale = "auto"``) shadowed the forwarding, and it ran the base class's ``understand_steps`` on
itself: Qwen2-VL's 0-1000 boxes were read as pixels on every GPU. The planner now asks a
:class:`~engine.instructor.backends.base.BackendHandle` for the loaded backend and lets that object
answer, so nothing can drift between the staged path and the direct one. ``StagedBackend`` stays as
the old name of the handle.
"""

from __future__ import annotations

from engine.instructor.backends.base import BackendHandle

StagedBackend = BackendHandle

__all__ = ["BackendHandle", "StagedBackend"]
