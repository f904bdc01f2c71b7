"""What ran for one edit, in one place: the CLI (``edit --json``, .ora layers), the editor's layers and
the server read it from here, so they never disagree on which painters diffuse.

Only a diffusing painter (BrushNet; BrushNet over LaMa's fill) has steps, guidance, a strength and a
negative prompt; LaMa and the classical fill read none of them, and their records say None / "".
Pure Python over :mod:`engine.api` (the bridge re-exports it to the editor).
"""

from __future__ import annotations

from typing import Any

NOT_DIFFUSING = ("fill", "lama")  # read no steps, guidance, strength or negative prompt
NO_NEGATIVE = ("klein",)  # diffusing painters that take no negative prompt (FLUX.2 klein: distilled)


def what_ran(request, result) -> dict[str, Any]:
    """``painter``, ``steps``, ``guidance``, ``strength``, ``conditioning_scale``, ``negative_prompt``,
    ``samples``, ``working_size`` and ``harmonize`` of ``result`` (None where they did not apply).

    Steps, guidance and strength are what the painter recorded itself (``result.ran``,
    :class:`engine.painters.WhatRan`: klein's 4 steps and no guidance), or for a result without a
    record (BrushNet over LaMa's fill, an older server) what :func:`engine.painters.what_ran` describes
    from its request. ``working_size`` is ``[w, h]`` as painted, else None.
    """
    from engine.painters import what_ran as painter_record

    recorded = painter_record(result)
    painter = recorded.get("painter") or result.engine
    diffused = painter not in NOT_DIFFUSING
    _strength, conditioning_scale = request.effective_sampling()
    negative = request.effective_negative_prompt() if diffused else ""
    if painter in NO_NEGATIVE:  # step-distilled, guidance-free: no negative prompt ran, no BrushNet scale
        negative, conditioning_scale = "", None
    working = getattr(result, "work_size", None) or recorded.get("working_size")
    return {
        "painter": painter,
        "steps": recorded.get("steps") if diffused else None,
        "guidance": recorded.get("guidance") if diffused else None,
        "strength": recorded.get("strength") if diffused else None,
        "conditioning_scale": float(conditioning_scale) if diffused and conditioning_scale is not None else None,
        "negative_prompt": negative,
        "samples": len(result.candidates),
        "working_size": [int(v) for v in working] if working else None,
        "harmonize": float(getattr(request.params, "harmonize", 1.0)),  # every painter's paste-back matches colours
    }


def layer_provenance_fields(request, result, seed: int, instructor: dict | None = None) -> dict[str, Any]:
    """The keyword fields of a layer's ``Provenance`` (``desktop.document.Provenance``) for the
    candidate of ``seed``; ``extra`` holds the painter, the instructor's report, the colour-match strength
    and the frame painted (``painted_size`` [w, h], None where no diffusion ran)."""
    ran = what_ran(request, result)
    return {
        "instruction": request.instruction, "category": request.category, "target": request.target,
        "prompt": request.prompt, "negative_prompt": ran["negative_prompt"], "seed": int(seed),
        "steps": ran["steps"], "guidance": ran["guidance"], "strength": ran["strength"],
        "conditioning_scale": ran["conditioning_scale"], "engine": result.engine, "model": result.model,
        "extra": {"painter": ran["painter"], "instructor": instructor, "harmonize": ran["harmonize"],
                  "painted_size": ran["working_size"]},  # [w, h] as painted; "working_size" is the setting
    }
