"""An edit result as the layers a file records: each candidate's box of pixels, where it goes, its
provenance fields and its name. Plain numpy over :mod:`engine.api` results and :mod:`engine.provenance`.

``brushedit edit``, its chains and ``brushedit batch`` (CLI and editor) all write results through
these, so a layer records the same fields wherever it was made; the document side
(:mod:`desktop.document.result_files`) turns them into a layered ``.ora`` or flattened images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOOL = "brushedit edit"  # the "tool" a result layer written by the CLI's edit and batch records


@dataclass(frozen=True, eq=False)
class ResultLayer:
    """One candidate as an edit layer: ``pixels`` (h x w x 3 or 4 uint8) placed at ``offset`` (x, y),
    ``provenance`` (the keyword fields of ``desktop.document.Provenance``) and ``name``."""

    pixels: np.ndarray
    offset: tuple[int, int]
    provenance: dict
    name: str


def candidate_pixels(candidate: Any, rgba: np.ndarray | None = None,
                     mask: np.ndarray | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """The edit layer of ``candidate``: its box of pixels and where it goes.

    Where the photo is not opaque, only the mask is painted: the engine saw those pixels over white,
    and an opaque layer there would put that white over the photo's transparency (outside the mask
    the photo's alpha stays exactly as it was)."""
    x, y, w, h = candidate.bbox
    crop = candidate.image[y:y + h, x:x + w]
    if rgba is None or mask is None or rgba.shape[2] < 4 or bool((rgba[y:y + h, x:x + w, 3] == 255).all()):
        return crop, (x, y)
    alpha = np.where((mask[y:y + h, x:x + w] > 0) | (rgba[y:y + h, x:x + w, 3] == 255), 255, 0)
    return np.dstack([crop[..., :3], alpha.astype(np.uint8)]), (x, y)


def candidate_fields(request: Any, result: Any, candidate: Any, index: int, count: int, source_name: str,
                     instructor: dict | None = None) -> dict:
    """The provenance fields of candidate ``index`` of ``count`` (:func:`engine.provenance.layer_provenance_fields`,
    the builder the editor and the server use too, plus where it came from and how it was painted)."""
    from engine.provenance import layer_provenance_fields

    p = request.params
    fields = layer_provenance_fields(request, result, candidate.seed, instructor)
    fields["extra"].update({"source": source_name, "candidate": index + 1, "candidates": count,
                            "working_size": p.working_size, "resolution_mode": p.resolution_mode,
                            "blend": p.blend, "bbox": list(candidate.bbox), "tool": TOOL,
                            "painter_ran": dict(getattr(result, "ran", None) or {})})
    return fields


def result_layers(request: Any, result: Any, rgba: np.ndarray | None, source_name: str,
                  instructor: dict | None = None) -> list[ResultLayer]:
    """One :class:`ResultLayer` per candidate of ``result`` (the request's instruction, prompt or
    "Fill"/"Edit" names it; ``#i (seed s)`` added when there are several)."""
    cands = result.candidates
    text = request.instruction or request.prompt or ("Fill" if result.engine == "fill" else "Edit")
    layers = []
    for i, cand in enumerate(cands):
        pixels, offset = candidate_pixels(cand, rgba, request.mask)
        name = text if len(cands) == 1 else f"{text} #{i + 1} (seed {cand.seed})"
        fields = candidate_fields(request, result, cand, i, len(cands), source_name, instructor)
        layers.append(ResultLayer(pixels, offset, fields, name[:64]))
    return layers
