"""A painted result as layer pixels and provenance, and a layer's provenance as parameters again.

Qt-free helpers of the model (STYLE.md 9): what ``EditController`` kept as private functions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from desktop.engine_client import EditParams, InpaintRequest, mask_ops


def make_provenance(**values: Any) -> Any:
    """A ``desktop.document.Provenance`` from the values it knows (unknown keys go to ``extra``)."""
    from desktop.document import Provenance

    if dataclasses.is_dataclass(Provenance):
        names = {f.name for f in dataclasses.fields(Provenance)}
        unknown = {k: v for k, v in values.items() if k not in names}
        values = {k: v for k, v in values.items() if k in names}
        if "extra" in names and unknown:
            values["extra"] = dict(values.get("extra") or {}) | unknown
    return Provenance(**values)


def edit_provenance(result: Any, seed: int, plan: Any = None) -> Any:
    """What ran: a removal's negative prompt names the removed object, a global edit ran
    image-to-image at ``global_strength`` with BrushNet scaled out; the fill engine reads no
    negative prompt. ``params`` re-make the edit (its negative prompt is the one that ran).
    ``plan``: the plan shown, whose instructor report is recorded when this edit came from it."""
    from desktop.engine_client import layer_provenance_fields

    req, p = result.request, result.request.params
    report = getattr(plan, "instructor", None) if plan is not None and req.instruction and \
        req.instruction in (plan.instruction, *(st.instruction for st in plan.steps)) else None
    fields = layer_provenance_fields(req, result, seed, report.to_json() if report is not None else None)
    extra = fields.pop("extra")
    params = dataclasses.asdict(p) | {"seed": int(seed)}
    if fields["negative_prompt"]:  # a painter that read one: re-make it with the negative that ran
        params["negative_prompt"] = fields["negative_prompt"]
    return make_provenance(
        **fields, **extra, blend=p.blend,  # extra: painter, instructor, harmonize, painted_size
        resolution_mode=p.resolution_mode, working_size=p.working_size,
        params=params,
        worker=worker_record(getattr(result, "worker", None)),
    )


def worker_record(worker: Any) -> dict | None:
    """Which process painted (host, pid, device), for the layer's provenance; ``None`` when unknown."""
    if worker is None:
        return None
    return {"host": str(worker.host), "pid": int(worker.pid), "device": str(worker.device)}


def layer_from_candidate(request: InpaintRequest, cand: Any):
    """The RGBA crop of a candidate that differs from its input, its offset and the mask crop.

    The layer is transparent wherever the candidate equals the image it was painted on, so hiding or
    deleting an earlier edit underneath still shows through.
    """
    h, w = cand.image.shape[:2]
    rect = mask_ops.clamp_rect(cand.bbox, w, h) if cand.bbox else (0, 0, w, h)
    if rect is None:
        return None, None, None
    x, y, bw, bh = rect
    rgb = np.ascontiguousarray(cand.image[y:y + bh, x:x + bw, :3])
    base = request.image[y:y + bh, x:x + bw, :3]
    mask = mask_ops.as_mask(request.mask)[y:y + bh, x:x + bw]
    changed = np.any(rgb != base, axis=2) | (mask > 0)
    alpha = np.where(changed, 255, 0).astype(np.uint8)
    pixels = np.dstack([rgb, alpha])
    return pixels, (x, y), mask.copy()


def layer_full_mask(doc: Any, layer: Any) -> np.ndarray | None:
    """The layer's edit mask placed on the full canvas."""
    mask = getattr(layer, "mask", None)
    if mask is None:
        return None
    mask = mask_ops.as_mask(mask)
    if mask.shape == (doc.height, doc.width):
        return mask.copy()
    full = np.zeros((doc.height, doc.width), np.uint8)
    ox, oy = (int(v) for v in getattr(layer, "offset", (0, 0)))
    rect = mask_ops.clamp_rect((ox, oy, mask.shape[1], mask.shape[0]), doc.width, doc.height)
    if rect is None:
        return None
    x, y, w, h = rect
    full[y:y + h, x:x + w] = mask[y - oy:y - oy + h, x - ox:x - ox + w]
    return full


def params_from_provenance(prov: Any, seed: int) -> EditParams:
    """The parameters that re-make a layer's edit with ``seed`` (one candidate)."""
    stored = getattr(prov, "params", None) or (getattr(prov, "extra", None) or {}).get("params")
    fields = {f.name for f in dataclasses.fields(EditParams)}
    values: dict[str, Any] = {}
    if isinstance(stored, dict):
        values.update({k: v for k, v in stored.items() if k in fields})
    # A global layer recorded with BrushNet scaled out (scale 0) ran image-to-image at its strength:
    # without stored params (a layer the CLI made) it re-runs at that strength, not the default. An
    # older record (masked strength, scale 1: the whole photo repainted) re-runs at the default.
    is_global = getattr(prov, "category", "") == "global"
    if is_global and "global_strength" not in values and getattr(prov, "strength", None) is not None \
            and getattr(prov, "conditioning_scale", None) == 0:
        values["global_strength"] = prov.strength
    for name in ("steps", "guidance", "strength", "conditioning_scale", "blend", "resolution_mode",
                 "working_size", "engine"):
        if is_global and name in ("strength", "conditioning_scale"):
            continue
        if name not in values and getattr(prov, name, None) not in (None, ""):
            values[name] = getattr(prov, name)
    extra = getattr(prov, "extra", None) or {}
    if "harmonize" not in values and isinstance(extra.get("harmonize"), (int, float)):  # a CLI-made layer
        values["harmonize"] = float(extra["harmonize"])
    negative = getattr(prov, "negative_prompt", None) or getattr(prov, "negative", None)
    if negative is not None and "negative_prompt" not in values:
        values["negative_prompt"] = negative
    if values.get("engine") == "klein" and "painter" not in values:  # a layer klein painted (CLI-made)
        values.update(painter="klein", klein_steps=values.pop("steps", 4))
    if values.get("engine") not in ("auto", "brushedit", "fill", "lama"):
        values.pop("engine", None)
    values.update(seed=int(seed), num_candidates=1)
    return EditParams(**values)


def layer_name(request: InpaintRequest, several: bool, index: int) -> str:
    """An edit layer's name: the instruction (or prompt), numbered when several were kept."""
    text = request.instruction or request.prompt or "Edit"
    text = text if len(text) <= 40 else text[:39] + "…"
    return f"{text} ({index + 1})" if several else text
