"""The weights manifest: what the app can use, where it is on disk, how to get and check it.

Cheap to import (no torch, no huggingface_hub until a function needs it).
"""

from __future__ import annotations

from engine.models.check import Problem, check_folder
from engine.models.locate import (
    ModelLocation,
    ModelStatus,
    all_status,
    app_folder,
    candidates,
    env_var,
    find_model,
    hf_cache_dir,
    model_status,
    models_dir,
)
from engine.models.manifest import FEATURES, KINDS, MANIFEST, ModelSpec, defaults, get_spec, models_for


def download(names, *, progress=None, source=None, settings=None, force=False):
    """Download manifest models (see :func:`engine.models.fetch.download`)."""
    from engine.models.fetch import download as _download

    return _download(names, progress=progress, source=source, settings=settings, force=force)


def verify(name, *, settings=None, progress=None):
    """Verify an installed model (see :func:`engine.models.integrity.verify`)."""
    from engine.models.integrity import verify as _verify

    return _verify(name, settings=settings, progress=progress)


__all__ = [
    "FEATURES", "KINDS", "MANIFEST", "ModelLocation", "ModelSpec", "ModelStatus", "Problem",
    "all_status", "app_folder", "candidates", "check_folder", "defaults", "download", "env_var",
    "find_model", "get_spec", "hf_cache_dir", "model_status", "models_dir", "models_for", "verify",
]
