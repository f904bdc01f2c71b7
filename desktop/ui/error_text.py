"""Engine errors in the editor's words: the engine's hints name shell commands (they serve the CLI
too); in the window the same fix is a menu, a panel setting or a button."""

from __future__ import annotations

import re

MODELS_MENU = "Engine ▸ Models…"
RUN_ON = "Edit ▸ Preferences ▸ Engine ▸ Run on"
_DOWNLOAD = re.compile(r"run: brushedit models download (--force )?((?:[\w.-]+ ?)+)")


def missing_model_names(hint: str) -> list[str]:
    """The manifest names a ``run: brushedit models download [--force] A B`` hint asks for (empty if none)."""
    match = _DOWNLOAD.search(hint or "")
    return match.group(2).split() if match else []


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def for_display(message: str, hint: str = "") -> tuple[str, str]:
    """``(message, hint)`` as the window shows them: a capitalised sentence, and the fix in GUI terms."""
    message = (message or "").strip()
    if message:
        message = message[0].upper() + message[1:]
    hint = (hint or "").strip()
    names = missing_model_names(hint)
    if names:
        again = " again" if _DOWNLOAD.search(hint).group(1) else ""  # a broken copy is fetched anew
        rest = _DOWNLOAD.sub("", hint, count=1).strip()
        hint = f"Download {_names(names)}{again} in {MODELS_MENU}" + (f" {rest}" if rest else "")
    hint = hint.replace("pass --device cpu (slow) or use a removal with the fill engine",
                        f"choose CPU under {RUN_ON} (slow: minutes per edit), or the Fill engine in "
                        "Parameters to erase the region")
    hint = hint.replace("use device cpu (slow), or check the NVIDIA driver with: brushedit doctor",
                        f"choose CPU under {RUN_ON} (slow), or check the NVIDIA driver with: brushedit doctor")
    hint = hint.replace("brushedit doctor", "Help ▸ About and the shell command brushedit doctor")
    if hint:
        hint = hint[0].upper() + hint[1:]
    return message, hint
