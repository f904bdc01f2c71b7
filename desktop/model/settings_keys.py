"""The editor's stored settings of the Instruction panel, declared once (krita-ai-diffusion's
``settings.py`` habit): each key with its type. Qt-free: ``settings`` is anything with ``value(key)``
and ``setValue(key, value)`` (a ``QSettings``)."""

from __future__ import annotations

from typing import Any

INSTRUCTION = "instruction"
HISTORY = f"{INSTRUCTION}/history"  # earlier instructions, oldest first

# key -> type, as stored under "instruction/"
INSTRUCTION_SETTINGS: dict[str, type] = {
    "candidates": int, "steps": int, "guidance": float, "strength": float, "global_strength": float,
    "removal_strength": float, "harmonize": float, "seed": int, "seed_lock": bool, "negative": str,
    "blend": bool, "resolution_mode": str, "working_size": int, "engine": str, "instructor": str,
    "painter": str, "params_shown": bool,
}


def key(name: str) -> str:
    """The full key of an Instruction panel setting."""
    if name not in INSTRUCTION_SETTINGS:
        raise KeyError(f"not an Instruction panel setting: {name!r}")
    return f"{INSTRUCTION}/{name}"


def read(settings: Any, name: str) -> Any:
    """The stored value of ``name`` as its declared type; None when missing or unreadable."""
    kind = INSTRUCTION_SETTINGS[name]
    value = settings.value(key(name))
    if value is None:
        return None
    try:
        if kind is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
        return kind(value)
    except (TypeError, ValueError):
        return None


def read_history(settings: Any, limit: int) -> list[str] | None:
    """The stored instruction history (the newest ``limit``), or None when there is none."""
    history = settings.value(HISTORY)
    if isinstance(history, str):  # an INI file gives a one-item list back as its item
        history = [history]
    if not isinstance(history, (list, tuple)):
        return None
    return [str(h) for h in history if str(h).strip()][-limit:]
