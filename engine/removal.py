"""Removal as LaMa's structure with BrushNet's detail.

Diffusion asked to fill a hole from noise tends to paint *something* there (the complaint users of
every inpainting tool make about "remove"). LaMa fills with what surrounds the hole, but its fill
is smooth at large scales. So, for a removal with both installed: LaMa fills first
(:func:`engine.fill.lama_remove.run_lama`), and BrushNet then repaints the hole *from that fill*
at a partial strength (SDEdit-style: the fill is noised to ``removal_strength`` and denoised), with a
caption of the background and the removed object in the negative prompt. The low frequencies, i.e.
the layout LaMa chose, survive a partial re-noising; the texture is diffusion's.

Default strength :data:`DEFAULT_REMOVAL_STRENGTH` = 0.5: at 50 UniPC steps that is the last 25, the
steps in which an SD1.5 sample's layout is already fixed and only texture and detail change, so
the object LaMa removed cannot come back; at 0.7 and above the early, layout-forming steps run again
and diffusion may paint a new object. It was chosen from that reasoning and from the tiny models'
plumbing only: real weights could not be downloaded where this was written (see docs/design/lama.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from engine.api import EditResult, InpaintRequest

DEFAULT_REMOVAL_STRENGTH = 0.5
BACKGROUND_CAPTION = "background, empty scene, seamless natural continuation of the surroundings"


def removal_prompts(request: InpaintRequest) -> tuple[str, str]:
    """``(prompt, negative)`` for BrushNet on top of LaMa: the background, the object as negative."""
    prompt = request.prompt.strip() or BACKGROUND_CAPTION
    negative = request.params.negative_prompt
    target = (request.target or "").strip()
    if target and target.lower() not in negative.lower():
        negative = f"{target}, {negative}" if negative else target
    return prompt, negative


def _union(a, b):
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def run_lama_then_brushnet(
    lama,
    pipe,
    request: InpaintRequest,
    *,
    on_progress: Callable | None = None,
    on_preview: Callable | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> EditResult:
    """LaMa's fill of ``request``, then BrushNet from that fill at ``params.removal_strength``.

    Returns
    -------
    EditResult
        ``engine="lama+brushedit"``; candidate ``i`` is BrushNet's seed ``seed + i`` on the same LaMa
        fill; every pixel outside each ``bbox`` equals the input's.
    """
    from engine.brushnet import run_inpaint
    from engine.fill.lama_remove import run_lama

    p = request.params
    first = run_lama(lama, replace(request, params=replace(p, num_candidates=1)), is_cancelled=is_cancelled)
    fill = first.candidates[0]
    prompt, negative = removal_prompts(request)
    strength = float(p.removal_strength)
    if strength <= 0.0:  # nothing for BrushNet to do: LaMa's fill as it is
        return replace(first, request=request)
    second = replace(request, image=fill.image, prompt=prompt,
                     params=replace(p, strength=min(1.0, strength), negative_prompt=negative))
    painted = run_inpaint(pipe, second, on_progress=on_progress, on_preview=on_preview,
                          is_cancelled=is_cancelled)
    candidates = tuple(replace(c, bbox=_union(c.bbox, fill.bbox)) for c in painted.candidates)
    return EditResult(request=request, candidates=candidates, engine="lama+brushedit",
                      model=f"big-lama + {painted.model}", seconds=first.seconds + painted.seconds,
                      work_size=painted.work_size)
