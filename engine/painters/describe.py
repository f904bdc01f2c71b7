"""What an engine ran, from its request, for results painted before the painter seam said so."""

from __future__ import annotations

from engine.painters.base import WhatRan

_PAINTER_OF_ENGINE = {"brushedit": "brushnet", "lama+brushedit": "lama+brushnet", "lama": "lama", "fill": "fill"}


def describe(result) -> WhatRan:
    """:class:`WhatRan` of an :class:`~engine.api.EditResult` painted by BrushNet, LaMa or the fill."""
    request = result.request
    p = request.params
    seeds = tuple(int(c.seed) for c in result.candidates)
    painter = _PAINTER_OF_ENGINE.get(result.engine, result.engine)
    if result.engine in ("lama", "fill"):
        return WhatRan(painter=painter, model=result.model, seeds=seeds, samples=len(seeds))
    strength, _ = request.effective_sampling()
    if result.engine == "lama+brushedit":
        strength = float(p.removal_strength)
    size = None
    try:
        from engine.brushnet.resolution import plan_region

        region = plan_region(request.image.shape, request.mask, p.resolution_mode, p.working_size)
        size = tuple(region.work_size)
    except ValueError:
        pass
    return WhatRan(painter=painter, model=result.model, steps=int(p.steps), guidance=float(p.guidance),
                   strength=float(strength), working_size=size, seeds=seeds, samples=len(seeds),
                   prompt=request.prompt)
