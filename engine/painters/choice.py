"""Which painter paints a request (``EditParams.painter``), and the engine's hook into the seam.

``brushnet``
    SD1.5 + BrushNet, as before (the engine's own path).
``klein``
    FLUX.2 [klein] 4B; its folder must be found (``EngineConfig.klein_dir`` or the manifest's
    ``flux2-klein-4b``), else :class:`~engine.api.MissingModelsError` naming it.
``auto``
    klein when it is installed, a usable device exists (as for BrushEdit: CUDA, or the CPU when
    asked for by name) and the memory plan fits it on a managed card; else the engine's own choice
    (BrushNet, LaMa, the fill). A removal under ``--engine auto`` with LaMa installed keeps LaMa's
    path. ``--engine fill|lama|brushedit`` are never overridden by ``auto``.
"""

from __future__ import annotations

import logging

from engine.api import MissingModelsError

log = logging.getLogger("brushedit.engine")


def klein_dir(engine):
    """The klein folder the engine would use, or ``None``."""
    config = engine.config
    return engine._locate(getattr(config, "klein_dir", None), getattr(config, "klein_model", "flux2-klein-4b"))


def klein_plan(engine, request):
    """The memory plan with klein painting (``None`` on an unmanaged CPU)."""
    if not engine._managed():
        return None
    from engine.device import cuda_available
    from engine.memory.engine_hook import plan_for_engine

    cuda = engine.config.device != "cpu" and cuda_available()
    p = request.params
    return plan_for_engine(engine.config, cuda, int(p.klein_working_size), max(1, int(p.num_candidates)),
                           painter="klein")


def choose_painter(engine, request) -> tuple[str, str]:
    """``(painter, why)``: ``"klein"`` or ``""`` (the engine's own path decides)."""
    from engine.api import is_removal

    p = request.params
    wanted = getattr(p, "painter", "auto") or "auto"
    if wanted not in ("auto", "brushnet", "klein"):
        raise ValueError(f"unknown painter {wanted!r} (auto, brushnet or klein)")
    if p.engine in ("fill", "lama") or wanted == "brushnet":
        return "", "asked for " + (p.engine if p.engine in ("fill", "lama") else "BrushNet")
    found = klein_dir(engine)
    if wanted == "klein":
        if found is None:
            raise MissingModelsError([getattr(engine.config, "klein_model", "flux2-klein-4b")],
                                     message="FLUX.2 [klein] is not installed: pass --klein DIR or "
                                             "brushedit models download flux2-klein-4b")
        return "klein", "asked for klein"
    if p.engine != "auto":
        return "", "asked for BrushEdit"
    if found is None:
        return "", "klein not installed"
    if not engine.has_usable_device():
        return "", "klein installed, no GPU (set device cpu to use it)"
    if is_removal(request) and engine.lama_path() is not None:
        return "", "removal: LaMa's path"
    plan = klein_plan(engine, request)
    if plan is not None and not plan.fits:
        return "", f"klein does not fit: {plan.summary}"
    return "klein", "klein installed" + ("" if plan is None else f" and fits ({plan.summary})")


def klein_pipes(engine, on_progress=None):
    """The loaded klein pipelines (cached as the engine's ``"klein"`` kind)."""
    folder = klein_dir(engine)
    if folder is None:
        raise MissingModelsError([getattr(engine.config, "klein_model", "flux2-klein-4b")])
    device = engine.device()
    dtype = engine.config.dtype

    def load():
        from engine.device import torch_dtype as _torch_dtype
        from engine.painters.klein import load_klein

        return load_klein(folder, device=device, dtype=_torch_dtype(dtype))

    return engine._cached("klein", (str(folder), device, dtype), load, on_progress)


def paint_if_klein(engine, request, on_progress=None, on_preview=None, is_cancelled=None):
    """Paint ``request`` with klein when :func:`choose_painter` picks it; ``None`` otherwise."""
    painter, why = choose_painter(engine, request)
    log.info("job %s: painter %s (%s)", request.job_id, painter or "from the engine", why)
    if painter != "klein":
        return None
    request = engine.resolve_candidates(request, painter="klein")  # "auto": as many as the card allows
    plan = klein_plan(engine, request)
    if plan is not None:  # the residency follows klein's plan (what stays on the card after each stage)
        if engine._residency is None:
            from engine.memory.residency import Residency

            engine._residency = Residency(plan.after_stage(), engine.device())
        elif engine._residency:
            engine._residency.after.update(plan.after_stage())
    from engine.painters.klein import KleinPainter

    return KleinPainter(klein_pipes(engine, on_progress)).paint_request(
        request, on_progress=on_progress, on_preview=on_preview, is_cancelled=is_cancelled)


def paint_problem(engine, request):
    """What painting ``request`` on ``engine`` would raise at once (missing or damaged weights, no usable
    device), without loading anything; ``None`` when it can be painted. Asked before planning, so that an
    edit that cannot be painted fails before GroundingDINO and SAM run (``brushedit edit`` and the
    editor's Run ask the same question). An engine that cannot tell (no ``choose_engine``: a studio
    server decides on its own side) answers ``None``."""
    from engine.api import EngineError
    from engine.models.states import explain

    choose = getattr(engine, "choose_engine", None)
    if choose is None:
        return None
    try:
        if choose_painter(engine, request)[0]:  # a painter of the seam (klein) paints this step
            return None
        choose(request)
    except MissingModelsError as exc:
        return explain(exc, getattr(getattr(engine, "config", None), "model_dirs", None))
    except EngineError as exc:
        return exc
    return None
