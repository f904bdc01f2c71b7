"""Which weights an engine configuration means: the explicit path, the manifest's model, or a stand-in.

InvokeAI's model manager keeps the *store* (what is installed, where) apart from the loader and the
cache; :class:`WeightLocator` is that store's question for one configuration (an
``engine.config.EngineConfig``: read by attribute, so this package does not import the engine's
owner). The engine's owner (:class:`engine.dispatch.Engine`) asks it before every load; nothing here
imports torch or loads a model.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine.models.locate import find_model
from engine.models.manifest import MANIFEST

log = logging.getLogger("brushedit.engine")


class WeightLocator:
    """Find the weights a configuration asks for.

    Parameters
    ----------
    config : EngineConfig
        Explicit paths (``base_model_dir``, ``brushnet_dir``, ``sam_path``, ``grounding_dir``,
        ``lama_path``, ``klein_dir``), the manifest names used when a path is ``None``, and the
        per-model user folders (``model_dirs``).
    """

    def __init__(self, config: Any) -> None:
        self.config = config

    def resolve(self, explicit: str | Path | None, name: str) -> tuple[Path | None, str]:
        """``(path, manifest name)``: the explicit path, else ``name``, else another installed model
        of the same kind (defaults first), so a user with only ``sam-vit-b`` still gets SAM."""
        if explicit:
            return Path(explicit).expanduser(), ""
        found = find_model(name, self.config.model_dirs)
        if found is not None:
            return found.path, name
        spec = MANIFEST.get(name)
        if spec is None:
            return None, name
        others = sorted((s for s in MANIFEST.values() if s.kind == spec.kind and s.name != name),
                        key=lambda s: not s.default)
        for other in others:
            found = find_model(other.name, self.config.model_dirs)
            if found is not None:
                log.info("%s not found, using %s", name, other.name)
                return found.path, other.name
        return None, name

    def locate(self, explicit: str | Path | None, name: str) -> Path | None:
        """The path :meth:`resolve` finds, or ``None``."""
        return self.resolve(explicit, name)[0]

    def base_model_dir(self) -> Path | None:
        """The SD1.5 base folder to use, or ``None`` when not found."""
        return self.locate(self.config.base_model_dir, self.config.base_model)

    def brushnet_dir(self) -> Path | None:
        """The BrushNet folder to use, or ``None`` when not found."""
        return self.locate(self.config.brushnet_dir, self.config.brushnet_model)

    def sam_checkpoint(self) -> tuple[Path | None, str | None]:
        """``(checkpoint, segment_anything model type or None)`` of the SAM to use."""
        path, name = self.resolve(self.config.sam_path, self.config.sam_model)
        spec = MANIFEST.get(name) if name else None
        if path is not None and path.is_dir() and spec is not None:
            path = path / spec.files[0]
        return path, (spec.sam_type or None) if spec is not None else None

    def grounding_dir(self) -> Path | None:
        """The GroundingDINO folder to use, or ``None`` when not found."""
        return self.locate(self.config.grounding_dir, self.config.grounding_model)

    def lama_path(self) -> Path | None:
        """The LaMa safetensors file to use, or ``None`` when not installed."""
        path = self.locate(self.config.lama_path, self.config.lama_model)
        if path is not None and path.is_dir():
            path = path / MANIFEST[self.config.lama_model].files[0]
        return path

    def klein_dir(self) -> Path | None:
        """The FLUX.2 [klein] folder (diffusers layout) to use, or ``None`` when not found."""
        config = self.config
        return self.locate(getattr(config, "klein_dir", None), getattr(config, "klein_model", "flux2-klein-4b"))

    def brushedit_missing(self) -> list[str]:
        """Manifest names of the BrushEdit weights that are not found (empty when ready)."""
        missing = []
        if self.brushnet_dir() is None:
            missing.append(self.config.brushnet_model)
        if self.base_model_dir() is None:
            missing.append(self.config.base_model)
        return missing
