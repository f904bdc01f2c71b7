"""BrushNet on stock diffusers: the model, UNet feature injection, the pipeline and the product path.

Names are imported lazily so ``import engine.brushnet`` stays cheap (no torch) until one is used.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BrushNetModel": "engine.brushnet.model",
    "unet_forward_with_brushnet": "engine.brushnet.unet_forward",
    "BrushNetPipeline": "engine.brushnet.pipeline",
    "BrushNetPipelineOutput": "engine.brushnet.pipeline",
    "load_pipeline": "engine.brushnet.loading",
    "run_inpaint": "engine.brushnet.runner",
    "latents_to_rgb": "engine.brushnet.preview",
    "plan_region": "engine.brushnet.resolution",
    "blend": "engine.brushnet.blending",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.brushnet' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
