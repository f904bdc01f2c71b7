"""What a typed text runs, decided once, from one reading of it.

Run in the Instruction panel (or the Generate bar) means one of four things:

- ``"steps"``: a plan of several steps is shown: paint its ticked steps in order (a chain);
- ``"plan"``: a plan of one edit is shown: paint its (edited) caption on the mask;
- ``"chain"``: no plan, and the text reads as several edits: plan the whole, then paint each step;
- ``"paint"``: no plan, one edit: paint the mask with the text, or with the caption the offline
  reading gives an instruction ("remove the man" paints "empty background").

The text is read once (``parse``: the engine's own offline reading, through the bridge, so a studio
server reads it with the parser of the engine that paints it); the step count and the caption come
from that one answer. The planner reads it again only when a plan is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class RunDecision:
    """What Run does with ``text``: ``action`` (see the module), and for ``"paint"`` the
    ``prompt``/``category``/``target`` to paint. ``drops_plan``: the text is not the shown plan's
    any more (typed after planning), so the plan is forgotten."""

    action: str
    text: str
    prompt: str = ""
    category: str = ""
    target: str | None = None
    drops_plan: bool = False
    parsed: Any = None

    @property
    def read_as_instruction(self) -> bool:
        """The text was read as an instruction: its caption is painted, not its words."""
        return self.action == "paint" and self.prompt != self.text


def decide(text: str, plan: Any = None, parse: Callable[[str], Any] | None = None) -> RunDecision:
    """What Run does with ``text`` while ``plan`` (or None) is shown; ``parse`` reads the text
    (at most once, and only when no plan decides)."""
    text = (text or "").strip()
    drops = plan is not None and bool(text) and text != plan.instruction
    if drops:
        plan = None  # a new text typed after planning: it is the prompt now
    if plan is not None:
        return RunDecision("steps" if len(getattr(plan, "steps", ()) or ()) > 1 else "plan", text)
    if not text:
        return RunDecision("paint", text, drops_plan=drops)
    parsed = (parse or _offline_parse)(text)
    if int(getattr(parsed, "step_count", 1) or 1) > 1:
        return RunDecision("chain", text, drops_plan=drops, parsed=parsed)
    prompt, category, target = _prompt_of(text, parsed)
    return RunDecision("paint", text, prompt, category, target, drops_plan=drops, parsed=parsed)


def _prompt_of(text: str, intent: Any) -> tuple[str, str, str | None]:
    caption = (intent.caption or "").strip()
    if intent.confident and intent.category != "global" and caption and caption.lower() != text.lower():
        return caption, intent.category, intent.target
    return text, "", None


def _offline_parse(text: str) -> Any:
    from desktop.engine_client import parse_instruction

    return parse_instruction(text)


def prompt_from_text(text: str, parse: Callable[[str], Any] | None = None) -> tuple[str, str, str | None]:
    """What to paint when Run is pressed without a plan: ``(prompt, category, target)``.

    A plain prompt ("a wooden bench") is painted as typed. An instruction ("remove the man",
    "turn the cat into a tiger") is read by the offline parser, so its caption ("empty background",
    "a tiger") is painted rather than the words of the instruction. Global edits keep the text:
    over a painted mask the user's words are the better prompt.
    """
    if not text:
        return "", "", None
    return _prompt_of(text, (parse or _offline_parse)(text))


def is_compound(text: str, parse: Callable[[str], Any] | None = None) -> bool:
    """Whether the offline parser reads ``text`` as several edits ("remove the cat and make the sky pink")."""
    return int(getattr((parse or _offline_parse)(text), "step_count", 1) or 1) > 1


def painter_problem(client: Any, params: Any, instruction: str, categories: list[str]) -> Any:
    """What painting would raise for each of ``categories`` (the steps the reading is sure of),
    asked of the engine before any planning (``cli/preflight.py``'s check, for the editor); None
    when every step can be painted or the engine cannot tell beforehand."""
    from desktop.engine_client import paint_probe

    check = getattr(client, "check_paint", None)
    if check is None:
        return None
    for category in dict.fromkeys(c for c in categories if c):
        problem = check(paint_probe(instruction, params, category))
        if problem is not None:
            return problem
    return None


def ignored_prompt_note(result: Any) -> str | None:
    """What to say when an eraser (the fill engine, LaMa) ran for a prompt it cannot paint; None when
    the painter painted what was asked (or it was a removal)."""
    engine = getattr(result, "engine", "")
    request = getattr(result, "request", None)
    prompt, category = getattr(request, "prompt", ""), getattr(request, "category", "")
    if engine not in ("fill", "lama") or not prompt or category == "removal":
        return None
    who = "fill engine" if engine == "fill" else "LaMa remover"
    return f"The {who} only erases the region; it does not paint “{prompt}”. That needs BrushEdit (Engine ▸ Models…)."


AUTO_MASK_MODELS = ("grounding-dino-tiny", "sam-vit-h")  # what finds the object an instruction names


def auto_mask_missing(client: Any = None) -> list[str]:
    """The GroundingDINO / SAM weights to download before an instruction can find its object
    (empty when one of each is installed, or when that cannot be told). A studio server's
    ``client`` is asked about the server's models: they are the ones that would run."""
    from desktop.engine_client import model_entries

    try:
        entries = client.model_entries() if getattr(client, "remote", False) is True else model_entries()
    except Exception:  # an unreadable models folder: say nothing about it here
        return []
    installed = {e.name for e in entries if e.installed}
    missing = []
    for family, default in (("grounding-dino-", AUTO_MASK_MODELS[0]), ("sam-", AUTO_MASK_MODELS[1])):
        if not any(name.startswith(family) for name in installed):
            missing.append(default)
    return missing


def empty_mask_error(text: str, target: str | None, client: Any = None) -> tuple[str, str]:
    """``(message, hint)`` for Run with nothing masked: what is missing, not what the user did
    (``text``: the instruction typed, if any; ``target``: the object it names)."""
    text = (text or "").strip()
    if not text and not target:
        return ("Nothing to repaint: the mask is empty",
                "Paint a mask (B), click an object with the SAM tool (S), or type an instruction and press Plan")
    what = f"“{target}”" if target else "what to change"
    missing = auto_mask_missing(client)
    if missing:
        return (f"Nothing is masked, and finding {what} needs GroundingDINO + SAM, which are not installed",
                "run: brushedit models download " + " ".join(missing) + " — or paint the mask (B)")
    return (f"Nothing is masked yet: press Plan to find {what}, or paint the mask (B)", "")
