"""BrushNet on stock diffusers: the model, UNet feature injection, the pipeline and the product path.

- :class:`BrushNetModel` (``model.py``): the published SD1.5 BrushNet layout; ``from_pretrained``
  loads TencentARC's checkpoints unchanged, ``from_unet`` builds one from a UNet.
- :func:`unet_forward_with_brushnet` (``unet_forward.py``): a stock UNet with the features added.
- :class:`BrushNetPipeline` (``pipeline.py``): image + mask (white = repaint) + prompt -> images.
- :func:`load_pipeline` (``loading.py``): checked loading from an SD1.5 folder + a BrushNet folder.
- :func:`run_inpaint` (``runner.py``): InpaintRequest -> EditResult (crop-to-mask, candidates,
  outward-feathered blending, progress/preview/cancel).
- Tiny random components and folders for tests: ``tests/builders/brushnet.py`` (test code, not product).

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
