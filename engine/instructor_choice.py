"""Which instructor reads an instruction, and the report of who did (``"instructor"`` in every plan).

``auto`` is the default everywhere (CLI, editor, api, server): the local VLM where its weights are
installed and the memory plan fits it on the CUDA card; otherwise the rule parser. With no CUDA card
(and no ``vram_gb`` budget to plan for) ``auto`` stays offline: a VLM on the CPU takes minutes per
instruction, which a user who did not ask for it does not expect (``--instructor local`` asks).
"""

from __future__ import annotations

import logging
import re

from engine.api import InstructorReport

log = logging.getLogger("brushedit.engine")

NAMES = ("auto", "offline", "local", "openai")


def resolve_instructor(engine, requested: str) -> tuple[str, str | None, str | None]:
    """``(name, model, why)``: the backend ``requested`` runs as (``auto`` resolved), the model it
    loads (the manifest name for ``local``, the endpoint's model for ``openai``) and, when ``auto``
    chose the rule parser, why."""
    requested = (requested or "auto").lower()
    if requested not in NAMES:
        raise ValueError(f"unknown instructor {requested!r}; expected one of {', '.join(NAMES)}")
    if requested == "offline":
        return "offline", None, None
    if requested == "openai":
        import os

        settings = engine.config.instructor_settings
        return "openai", settings.get("model") or os.environ.get("BRUSHEDIT_MODEL") or "gpt-4o", None
    if requested == "auto" and not engine._managed():  # first: downloading would not make it run here
        return "offline", None, "auto: no CUDA card (ask for --instructor local to run the VLM on the CPU)"
    model, _precision = engine.instructor_choice()
    if not engine.config.instructor_settings.get("model_dir"):
        path, found = engine._resolve(None, model)  # another installed instructor stands in, as it loads
        if path is not None:
            model = found or model
        elif requested == "auto":
            return "offline", None, f"auto: {model} is not installed (brushedit models download {model})"
    if requested == "local":
        return "local", model, None
    # auto, on a card, with the model installed
    plan = engine.memory_plan()
    if plan is not None and not plan.fits:
        return "offline", None, f"auto: the memory plan does not fit the card ({plan.summary})"
    return "local", model, None


_FAILED = re.compile(r"^(local|openai) failed \((.*)\)$")
_REFUSED = re.compile(r"^(local|openai) answer refused: (.*)$")


def instructor_report(requested: str, name: str, model: str | None, why: str | None, plan) -> InstructorReport:
    """The report for ``plan`` (an :class:`~engine.api.EditPlan`) that backend ``name`` made."""
    used = plan.backend or "offline"
    notes = list(plan.notes)
    ran = False
    reason = why
    if name in ("local", "openai"):
        refused = [m.group(2) for n in notes if (m := _REFUSED.match(n))]
        failed = [m.group(2) for n in notes if (m := _FAILED.match(n))]
        ran = used == name or bool(refused)
        if used != name:
            if refused:
                reason = f"{name} answer refused: {refused[-1]}"
            elif failed:
                reason = f"{name} failed: {failed[-1]}"
            else:
                reason = reason or "the rule parser answered instead"
        elif any(n.startswith("step ") and "offline parser" in n for n in notes):
            reason = "some steps were read by the rule parser (their answers were refused)"
    return InstructorReport(requested=requested or "auto", used=used, model=model, ran=ran, why=reason)


def fallback_line(report: InstructorReport | None) -> str | None:
    """One line for stderr and the editor's Log when a VLM was wanted and the rule parser answered."""
    if report is None or report.used != "offline" or report.requested == "offline":
        return None
    if report.model is None and report.requested == "auto":
        return None  # auto chose the rule parser up front: not a fallback (the why is in the report)
    return f"instructor: {report.model or report.requested} was not used ({report.why}); the rule parser read it"
