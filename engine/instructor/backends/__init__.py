"""Instructor backends: offline parser, local Qwen2-VL, OpenAI-compatible endpoint.

Heavy libraries are imported only when a model is loaded.
"""

from __future__ import annotations

import os

from engine.instructor.backends.base import InstructorBackend, StepsUnderstanding, Understanding
from engine.instructor.backends.offline import OfflineBackend
from engine.instructor.backends.openai_compat import OpenAICompatBackend
from engine.instructor.backends.qwen_vl import QwenVLBackend

__all__ = ["InstructorBackend", "StepsUnderstanding", "Understanding", "OfflineBackend", "QwenVLBackend",
           "OpenAICompatBackend", "load_backend"]

DEFAULT_OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o"


def load_backend(name: str = "offline", **settings) -> InstructorBackend:
    """Build the backend chosen in settings.

    Parameters
    ----------
    name : {"offline", "local", "openai"}
    **settings
        local: ``model_dir`` (or ``path``), ``device``, ``dtype``, ``max_new_tokens``.
        openai: ``base_url`` (default ``BRUSHEDIT_BASE_URL``/``OPENAI_BASE_URL`` or OpenAI's),
        ``model`` (default ``BRUSHEDIT_MODEL`` or gpt-4o), ``api_key`` (default from the
        environment), ``timeout``, ``transport``.
    """
    name = (name or "offline").lower()
    if name == "offline":
        return OfflineBackend()
    if name == "local":
        directory = settings.get("model_dir") or settings.get("path") or settings.get("directory")
        if not directory:
            from engine.api import MissingModelsError
            raise MissingModelsError(["qwen2-vl-7b"], "no local instructor model folder is set")
        extra = {k: settings[k] for k in ("max_new_tokens", "max_side") if k in settings}
        return QwenVLBackend.from_pretrained(directory, device=settings.get("device"),
                                             dtype=settings.get("dtype"), **extra)
    if name == "openai":
        return OpenAICompatBackend(
            base_url=settings.get("base_url") or os.environ.get("BRUSHEDIT_BASE_URL")
            or os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_URL,
            model=settings.get("model") or os.environ.get("BRUSHEDIT_MODEL") or DEFAULT_OPENAI_MODEL,
            api_key=settings.get("api_key"), timeout=float(settings.get("timeout", 60.0)),
            transport=settings.get("transport"))
    raise ValueError(f"unknown instructor backend {name!r}; expected offline, local or openai")
