"""How an edit layer was made: the instruction, the plan, the parameters and the engine."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _json_safe(value: Any, depth: int = 0) -> Any:
    """A JSON-serialisable copy of ``value`` (numpy scalars -> Python, unknowns -> str)."""
    if depth > 20:
        return str(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and getattr(value, "ndim", 1) == 0:
        return _json_safe(item(), depth + 1)
    return str(value)


@dataclass(frozen=True)
class Provenance:
    """The record an :class:`~desktop.document.layers.EditLayer` carries (the mask is on the layer).

    All fields are optional so a fill edit or an imported layer can leave what does not apply empty.
    ``created`` is an ISO 8601 UTC time; ``extra`` holds anything else (JSON-safe values).
    """

    instruction: str = ""
    category: str = ""
    target: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    strength: float | None = None
    conditioning_scale: float | None = None
    engine: str = ""
    model: str = ""
    created: str = field(default_factory=_now)
    extra: dict = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict:
        """A JSON-safe dict of every field."""
        return {f.name: _json_safe(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "Provenance":
        """Rebuild from :meth:`to_dict` output; unknown keys go to ``extra``, bad types are dropped."""
        if not isinstance(data, dict):
            raise ValueError("provenance must be a JSON object")
        kinds = {"seed": int, "steps": int, "guidance": float, "strength": float,
                 "conditioning_scale": float}
        names = {f.name for f in dataclasses.fields(cls)}
        kw: dict[str, Any] = {}
        extra = dict(data.get("extra") or {}) if isinstance(data.get("extra"), dict) else {}
        for key, value in data.items():
            if key == "extra":
                continue
            if key not in names:
                extra[str(key)] = _json_safe(value)
                continue
            if key in kinds:
                if value is None or isinstance(value, bool):
                    kw[key] = None
                    continue
                try:
                    kw[key] = kinds[key](value)
                except (TypeError, ValueError, OverflowError):
                    kw[key] = None
            elif key == "target":
                kw[key] = None if value is None else str(value)
            else:
                kw[key] = "" if value is None else str(value)
        kw["extra"] = _json_safe(extra)
        return cls(**kw)

    def summary(self) -> str:
        """One line for metadata and tooltips, e.g. ``removal "remove the man" seed 42 (brushedit)``."""
        parts = [self.category or "edit"]
        if self.instruction:
            parts.append(json.dumps(self.instruction, ensure_ascii=False))
        elif self.prompt:
            parts.append(json.dumps(self.prompt, ensure_ascii=False))
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.engine or self.model:
            parts.append("(" + "/".join(p for p in (self.engine, self.model) if p) + ")")
        return " ".join(parts)
