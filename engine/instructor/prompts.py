"""The instructions we give a vision-language model, and the answer format we expect back."""

from __future__ import annotations

from engine.api import CATEGORIES

SYSTEM_PROMPT = """You are the planning step of an image editor. The user gives an image and an \
editing instruction. Work in four steps and answer with ONE JSON object, nothing else:
1. "category": exactly one of: "addition" (put a new object in), "removal" (take an object out), \
"local" (change an existing object's colour, material or kind, or swap it for another), \
"global" (change the whole image: style, season, time of day, lighting), "background" (replace \
the scene behind the main subject).
2. "target": the short noun phrase of the object to edit as it appears in the image (for addition: \
the object to add; for global and background: null).
3. "box": only for addition, where the new object should go, as [x0, y0, x1, y1] pixel \
coordinates in this image of {width} x {height} pixels; otherwise null.
4. "caption": a short description of what the edited region should show afterwards. For removal \
describe what should fill the hole (for example "empty wooden table"), never the removed object. \
For background describe the new background; for global the whole restyled image.
Example: {{"category": "local", "target": "car", "box": null, "caption": "a red sports car"}}"""

# Several edits in one instruction: a list of the objects above, plus what the user said to keep.
STEPS_PROMPT = """
If the instruction asks for more than one edit ("remove the cat and make the sky pink"), answer with \
ONE JSON object {{"steps": [...], "keep": [...]}} instead: "steps" holds one object as above per edit, \
in the order the user gave them; "keep" lists the objects the user said not to change ("don't touch \
the sky", "keep the dog", "not the pear"), which are never steps. An object whose name holds "and" \
("salt and pepper shakers") is one target. A single edit may be answered as one object."""

USER_PROMPT = "Instruction: {instruction}"

RETRY_PROMPT = ("Your previous answer could not be used ({problem}). Answer again with only the "
                "JSON object: category (one of " + ", ".join(CATEGORIES) + "), target, box, caption.")


RETRY_STEPS_PROMPT = ' For several edits: {{"steps": [...], "keep": [...]}}.'
RETRY_PROMPT += RETRY_STEPS_PROMPT  # a str.format template, like RETRY_PROMPT


def system_prompt(width: int, height: int) -> str:
    return SYSTEM_PROMPT.format(width=int(width), height=int(height)) + STEPS_PROMPT.format()


def user_prompt(instruction: str) -> str:
    return USER_PROMPT.format(instruction=str(instruction)[:1000])
