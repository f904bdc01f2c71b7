"""Read a model's answer strictly: JSON first, then tolerant ``key: value`` text; validate it.

A model answer is untrusted text: it is never evaluated, its size is capped, its category must be
one of the five, its box must lie inside the image, and a removal caption may not name the object
being removed. Whatever fails is reported as a problem so the caller can retry or fall back.
"""

from __future__ import annotations

import json
import re

import numpy as np

from engine.api import CATEGORIES
from engine.instructor.intent import Intent
from engine.instructor.phrases import removal_caption, strip_determiners, tidy

MAX_ANSWER_CHARS = 20_000
MAX_FIELD_CHARS = 300

_SYNONYMS = {
    "add": "addition", "adding": "addition", "insert": "addition", "insertion": "addition",
    "object addition": "addition", "remove": "removal", "delete": "removal", "deletion": "removal",
    "erase": "removal", "object removal": "removal", "local": "local", "replace": "local",
    "replacement": "local", "edit": "local", "change": "local", "local editing": "local",
    "attribute": "local", "attribute change": "local", "object replacement": "local",
    "swap": "local", "style": "global", "global editing": "global", "style transfer": "global",
    "whole image": "global", "background change": "background", "background replacement": "background",
    "background editing": "background",
}


class AnswerError(ValueError):
    """The answer cannot be used; the message says why (sent back to the model on retry)."""


def _json_objects(text: str):
    """Yield the decoded ``{...}`` objects found in ``text`` (balanced braces, strings respected)."""
    decoder = json.JSONDecoder()
    i = text.find("{")
    tries = 0
    while i != -1 and tries < 50:
        tries += 1
        try:
            obj, _ = decoder.raw_decode(text, i)
            if isinstance(obj, dict):
                yield obj
        except ValueError:
            pass
        i = text.find("{", i + 1)


_KV_RE = re.compile(r"^\s*[\"'*_-]*\s*(category|type|edit[ _]type|target|object|caption|prompt|"
                    r"box|bbox|target[ _]caption|region[ _]caption|region)\s*[\"'*_]*\s*[:=]\s*(.+?)\s*,?\s*$",
                    re.I | re.M)


def _text_fields(text: str) -> dict:
    out: dict = {}
    for key, value in _KV_RE.findall(text):
        k = key.lower().replace(" ", "_")
        k = {"type": "category", "edit_type": "category", "object": "target", "prompt": "caption",
             "bbox": "box", "target_caption": "caption", "region_caption": "region"}.get(k, k)
        out.setdefault(k, value.strip().strip("\"'`"))
    return out


def extract_fields(raw) -> dict:
    """The answer as a dict: a dict as is, else the first JSON object in the text, else ``key: value``
    lines. Raises :class:`AnswerError` when nothing usable is there."""
    if isinstance(raw, dict):
        return raw
    if raw is None:
        raise AnswerError("empty answer")
    text = str(raw)[:MAX_ANSWER_CHARS]
    if not text.strip():
        raise AnswerError("empty answer")
    text = re.sub(r"```(?:json)?", " ", text)
    for obj in _json_objects(text):
        if any(k in obj for k in ("category", "type", "edit_type")):
            return obj
    fields = _text_fields(text)
    if "category" in fields:
        return fields
    raise AnswerError("no JSON object with a category")


def box_numbers(value) -> list[float] | None:
    """The four numbers of a box as a model wrote it: a list, a ``{"x0": ...}`` dict, or text such as
    ``"[10, 20, 30, 40]"`` or Qwen2-VL's ``"(10,20),(30,40)"``. None for no box; raises
    :class:`AnswerError` when it is not four finite numbers."""
    if value is None or value == "" or (isinstance(value, str) and value.strip().lower() in ("null", "none")):
        return None
    if isinstance(value, str):
        nums = re.findall(r"-?\d+(?:\.\d+)?", value)[:5]
        value = [float(n) for n in nums]
    if isinstance(value, dict):
        value = [value.get(k) for k in ("x0", "y0", "x1", "y1")]
    try:
        vals = [float(v) for v in value][:5]
    except (TypeError, ValueError):
        raise AnswerError("box is not four numbers") from None
    if len(vals) != 4 or not all(np.isfinite(vals)):
        raise AnswerError("box is not four numbers")
    return vals


def rescale_box_field(raw, seen: tuple[int, int], full: tuple[int, int]):
    """The answer with its pixel box moved from the frame of the image the model saw (``seen``,
    ``(height, width)``) to the full photo's (``full``). The answer as given when it holds no
    readable box (the validator then reports the problem). An answer in steps has each step's box
    moved."""
    try:
        steps, keep = extract_steps(raw)
    except AnswerError:
        return raw
    if len(steps) != 1 or keep:
        return {"steps": [rescale_box_field(step, seen, full) if isinstance(step, dict) else step
                          for step in steps], "keep": keep}
    try:
        fields = dict(extract_fields(raw))
    except AnswerError:
        return raw
    key = "box" if "box" in fields else "bbox"
    try:
        vals = box_numbers(fields.get(key))
    except AnswerError:
        return fields
    if vals is None:
        return fields
    sy, sx = full[0] / float(seen[0]), full[1] / float(seen[1])
    fields[key] = [vals[0] * sx, vals[1] * sy, vals[2] * sx, vals[3] * sy]
    return fields


def parse_box(value, shape, scale: str = "auto"):
    """A box ``(x0, y0, x1, y1)`` in pixels of an image of ``shape``, or None.

    ``scale`` says how the model writes coordinates: "pixels", "unit" (0..1), "1000" (0..1000, as
    Qwen2-VL) or "auto" (0..1 when all values are at most 1, else pixels). Raises
    :class:`AnswerError` when the box lies outside the image or is not four numbers.
    """
    vals = box_numbers(value)
    if vals is None:
        return None
    h, w = shape[:2]
    if scale == "unit" or (scale == "auto" and max(abs(v) for v in vals) <= 1.0):
        vals = [vals[0] * w, vals[1] * h, vals[2] * w, vals[3] * h]
    elif scale == "1000":
        vals = [vals[0] * w / 1000, vals[1] * h / 1000, vals[2] * w / 1000, vals[3] * h / 1000]
    x0, x1 = sorted((vals[0], vals[2]))
    y0, y1 = sorted((vals[1], vals[3]))
    # Inside the image (a little slack for rounding), and not degenerate.
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h or x0 < -0.05 * w or y0 < -0.05 * h \
            or x1 > 1.05 * w or y1 > 1.05 * h:
        raise AnswerError(f"box {vals} is outside the {w}x{h} image")
    x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise AnswerError("box is empty")
    return (x0, y0, x1, y1)


def _field(fields: dict, key: str) -> str | None:
    v = fields.get(key)
    if v is None or isinstance(v, (dict, list)):
        return None
    v = tidy(str(v))[:MAX_FIELD_CHARS]
    return None if v.lower() in ("", "null", "none", "n/a", "na", "nothing", "-") else v


def interpret_answer(raw, instruction: str, shape, fallback: Intent, box_scale: str = "auto") -> Intent:
    """Turn a raw model answer into a validated :class:`Intent`.

    Missing pieces are filled from ``fallback`` (the offline parser's intent) when its category
    agrees. Raises :class:`AnswerError` when the answer cannot be used.
    """
    fields = extract_fields(raw)
    cat = fields.get("category", fields.get("type", fields.get("edit_type")))
    cat = tidy(str(cat)).lower() if cat is not None else ""
    cat = _SYNONYMS.get(cat, cat)
    if cat not in CATEGORIES:
        raise AnswerError(f"category {cat[:40]!r} is not one of {', '.join(CATEGORIES)}")
    same = fallback.category == cat
    target = _field(fields, "target")
    if target and len(target.split()) > 12:
        target = None
    if target:
        target = strip_determiners(target) or None
    caption = _field(fields, "caption")
    box = None
    if cat == "addition":
        box = parse_box(fields.get("box", fields.get("bbox")), shape, box_scale)
    if cat in ("global", "background"):
        target = None
    elif not target:
        if same and fallback.target:
            target = fallback.target
        else:
            raise AnswerError(f"a {cat} edit needs a target object")
    region = _field(fields, "region") or _field(fields, "region_caption")
    if cat == "removal":
        noun = (target or "").lower().split()[-1:] if target else []

        def names_it(text):
            return bool(noun and re.search(rf"\b{re.escape(noun[0])}", text.lower()))

        if not caption or names_it(caption):
            caption = fallback.caption if same else removal_caption(None)
        if region and names_it(region):
            region = None
    if not caption:
        caption = fallback.caption if same and fallback.caption else (target or "")
    if not region:  # a model that gave no region caption: the parser's phrase of the region, if it agrees
        region = (fallback.caption if same and fallback.caption else removal_caption(None) if cat == "removal"
                  else target if cat == "addition" and target else caption)
    return Intent(cat, target, replacement=fallback.replacement if same else None, caption=caption,
                  confident=True, spatial=fallback.spatial,
                  subject=fallback.subject if same else None,
                  anchor=fallback.anchor if same else None,
                  relation=fallback.relation if same else None, box=box, instruction=instruction,
                  region_caption=region, caption_of="image")


# --- several steps ---------------------------------------------------------------------------------

MAX_STEPS = 8
_STEP_KEYS = ("steps", "edits", "actions", "plan")
_KEEP_KEYS = ("keep", "protect", "protected", "constraints", "preserve")


def _json_values(text: str):
    """Yield the decoded JSON objects and arrays found in ``text``, outermost first."""
    decoder = json.JSONDecoder()
    starts = [i for i, ch in enumerate(text) if ch in "[{"][:200]
    seen_end = -1
    for i in starts:
        if i < seen_end:
            continue
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            continue
        seen_end = end
        yield obj


def extract_steps(raw) -> tuple[list, list[str]]:
    """The answer as ``(step answers, kept objects)``.

    Accepts ``{"steps": [...], "keep": [...]}``, a JSON list of step objects, or one step object
    (one step). Raises :class:`AnswerError` when nothing usable is there.
    """
    found = raw if isinstance(raw, (dict, list)) else None
    if found is None:
        if raw is None or not str(raw).strip():
            raise AnswerError("empty answer")
        text = re.sub(r"```(?:json)?", " ", str(raw)[:MAX_ANSWER_CHARS])
        for value in _json_values(text):
            if isinstance(value, list) or (isinstance(value, dict) and (
                    any(k in value for k in _STEP_KEYS) or any(k in value for k in ("category", "type", "edit_type")))):
                found = value
                break
        if found is None:
            return [extract_fields(text)], []
    keep: list = []
    if isinstance(found, dict):
        steps = next((found[k] for k in _STEP_KEYS if isinstance(found.get(k), list)), None)
        keep = next((found[k] for k in _KEEP_KEYS if isinstance(found.get(k), list)), [])
        if steps is None:
            steps = [found]
    else:
        steps = found
    steps = [s for s in steps if isinstance(s, (dict, str))][:MAX_STEPS]
    if not steps and not keep:
        raise AnswerError("the steps list is empty")
    kept = []
    for k in keep[:MAX_STEPS]:
        name = k.get("object", k.get("target")) if isinstance(k, dict) else k
        name = strip_determiners(tidy(str(name or "")))[:MAX_FIELD_CHARS]
        if name and len(name.split()) <= 6:
            kept.append(name)
    return steps, kept


def echoes(caption: str, instruction: str, words: int = 4) -> bool:
    """Does ``caption`` repeat ``words`` consecutive words of ``instruction`` (an injection carried over)?"""
    c = " ".join(re.findall(r"\w+", (caption or "").lower()))
    tokens = re.findall(r"\w+", (instruction or "").lower())
    return any(" ".join(tokens[i:i + words]) in c for i in range(0, max(0, len(tokens) - words + 1)))
