"""The engine's loaders: each model kind built from its located weights, through the model cache.

The *load* part of InvokeAI's store / load / cache, split out of the engine's owner: a mixin of
:class:`engine.dispatch.Engine` that reads ``self.config``, asks ``self.weights`` (the located
weights), ``self.device()`` and the memory plan, and hands each loader to ``self._cached`` (the
model cache, :class:`engine.memory.cache.ModelCache`), so a model loads once and stays until its key
changes. Every model library is imported inside the loader: nothing here imports torch at import time.
"""

from __future__ import annotations

from typing import Any, Callable

from engine import device as devices
from engine.api import MissingModelsError

ProgressFn = Callable[..., None]


class ModelLoaders:
    """The loaders of :class:`engine.dispatch.Engine` (BrushNet, the instructor, GroundingDINO, SAM, LaMa).

    The owner provides ``config``, ``models`` (a :class:`~engine.memory.cache.ModelCache`), the
    located weights (``base_model_dir()``, ``brushnet_dir()``, ... ``_locate``), ``device()``,
    ``memory_plan()`` and ``_managed()``.
    """

    config: Any
    models: Any

    def _cached(self, kind: str, key: Any, load: Callable[[], Any], on_progress=None) -> Any:
        """The model of ``kind`` for ``key`` from the model cache, loaded by ``load()`` when not held.
        The offline and OpenAI instructors hold no GPU memory: they begin no stage."""
        stage = kind != "instructor" or key[0] == "local"
        return self.models.get(kind, key, load, on_progress, stage=stage)

    def pipeline(self, on_progress: ProgressFn | None = None):
        """The BrushNet pipeline for the current configuration (loaded once, then cached)."""
        missing = self.brushedit_missing()
        if missing:
            raise MissingModelsError(missing)
        base, brushnet = self.base_model_dir(), self.brushnet_dir()
        device = self.device()
        plan = self.memory_plan() if self._managed() else None
        cpu_offload = self.config.cpu_offload or bool(plan is not None and plan.paint_offload)
        key = (str(base), str(brushnet), device, self.config.dtype, cpu_offload)

        def load():
            from engine.brushnet import load_pipeline

            return load_pipeline(
                base, brushnet, device=device, dtype=devices.torch_dtype(self.config.dtype),
                cpu_offload=cpu_offload,
            )

        return self._cached("brushnet", key, load, on_progress)

    def instructor_backend(self, name: str, on_progress=None):
        """The loaded instructor backend ``name`` (``offline`` needs no weights)."""
        settings = dict(self.config.instructor_settings)
        model_name, precision = self.instructor_choice() if name == "local" else ("", "")
        if name == "local" and not settings.get("model_dir"):
            found = self._locate(None, model_name)
            if found is None:
                raise MissingModelsError([model_name])
            settings["model_dir"] = str(found)
        if name == "local":
            settings.setdefault("device", self.device())
            if precision == "4bit":
                settings["quantization"] = "nf4"
        key = (name, repr(sorted((k, str(v)) for k, v in settings.items())))

        def load():
            if settings.pop("quantization", None) == "nf4":
                from engine.memory.quantize import load_instructor_4bit

                extra = {k: settings[k] for k in ("max_new_tokens", "max_side") if k in settings}
                return load_instructor_4bit(settings["model_dir"], settings["device"], **extra)
            from engine.instructor.backends import load_backend

            return load_backend(name, **settings)

        return self._cached("instructor", key, load, on_progress)

    def instructor_choice(self) -> tuple[str, str]:
        """``(manifest name, "16bit" | "4bit")`` of the local instructor: the memory plan's pick on a
        managed card, else the configured model (the 7B for ``auto``) in 16 bits."""
        from engine.memory.engine_hook import instructor_for

        plan = self.memory_plan() if self._managed() else None
        return instructor_for(self.config, plan)

    def detector(self, on_progress=None):
        """The GroundingDINO detector, or ``None`` when its weights are not found."""
        path = self.grounding_dir()
        if path is None:
            return None
        device = self.device()

        def load():
            from engine.segment.grounding import load_grounding_dino

            return load_grounding_dino(path, device=device)

        return self._cached("grounding", (str(path), device), load, on_progress)

    def segmenter(self, on_progress=None):
        """The SAM segmenter, or ``None`` when its checkpoint is not found."""
        path, model_type = self.sam_checkpoint()
        if path is None:
            return None
        device = self.device()

        def load():
            from engine.segment.sam import SamSegmenter, load_sam

            return SamSegmenter(load_sam(path, model_type=model_type, device=device), device=device)

        return self._cached("sam", (str(path), device), load, on_progress)

    def lama(self, on_progress: ProgressFn | None = None):
        """The loaded LaMa (cached); float32 unless the configuration sets a dtype."""
        path = self.lama_path()
        if path is None:
            raise MissingModelsError([self.config.lama_model],
                                     message="LaMa is not installed: brushedit models import lama FILE")
        device = self.device()
        dtype = self.config.dtype or "float32"  # half only when asked: its CUDA parity is unmeasured here

        def load():
            from engine.fill.lama import load_lama

            return load_lama(path, device=device, dtype=devices.torch_dtype(dtype))

        return self._cached("lama", (str(path), device, dtype), load, on_progress)
