"""Path questions a server answers only inside its own model folders (no oracle for its disk).

``POST /v1/answer`` checks model paths on the server's disk for an editor. Anything outside the folders
the server was told to use for models — its models folder (``$BRUSHEDIT_MODELS_DIR`` or the platform
default), the Hugging Face cache, the model options it was started with (``--sam F``, ``--brushnet D``,
...) and ``--models-root D`` — gets one answer, the same whether the path exists or not, and so does a
missing path inside them: a client learns nothing about files it may not use. Paths are resolved
(symlinks, ``..``) before they are compared.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from engine import api

NOT_HERE = "Not usable: not a model file or folder this server can use (only its model folders are checked)"
_CONFIG_PATHS = ("sam_path", "brushnet_dir", "base_model_dir", "grounding_dir", "lama_path")


def _resolved(path: Any) -> Path | None:
    try:
        return Path(str(path)).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def model_roots(config: Any, extra: Iterable[Any] = ()) -> tuple[Path, ...]:
    """The folders (and single files) whose contents this server answers questions about."""
    from engine.models.locate import hf_cache_dir, models_dir

    found: list[Any] = [models_dir(), hf_cache_dir(), *extra]
    if config is not None:
        found += [getattr(config, name, None) for name in _CONFIG_PATHS]
        found += list(dict(getattr(config, "model_dirs", None) or {}).values())
    roots = [_resolved(p) for p in found if p]
    return tuple(dict.fromkeys(r for r in roots if r is not None))


def allowed(path: Any, roots: Iterable[Path]) -> bool:
    """Whether ``path`` exists and lies inside (or is) one of ``roots``."""
    p = _resolved(path)
    if p is None or not os.path.lexists(p):
        return False
    return any(p == root or p.is_relative_to(root) for root in roots)


def confined(query: Any, roots: tuple[Path, ...]) -> Any:
    """``(query, None)`` when ``query`` may be answered, else ``(None, the refusal)``; a model status
    keeps only the folders inside ``roots`` (the server's own search answers for the rest)."""
    if isinstance(query, api.ModelPathRequest) and query.path.strip():
        if not allowed(query.path.strip(), roots):
            return None, api.ModelPathStatus(False, NOT_HERE)
    elif isinstance(query, api.FolderCheckRequest):
        if not allowed(query.folder, roots):
            return None, api.FolderCheck(False, "", NOT_HERE)
    elif isinstance(query, api.ModelStatusRequest) and query.model_dirs:
        kept = tuple((name, folder) for name, folder in query.model_dirs if allowed(folder, roots))
        return api.ModelStatusRequest(kept, query.names), None
    return query, None
