"""The instructions we give a vision-language model, and the answer format we expect back.

Box frames (how a model family writes coordinates; see ``docs/design/agent.md``):

``"1000"``
    A 0..1000 grid over the image, x then y, whatever its size: Qwen2-VL's grounding convention
    (``<|box_start|>(x1,y1),(x2,y2)<|box_end|>``), and ours for OpenAI-compatible servers, whose
    own resizing of the image we cannot see.
``"pixels"``
    Absolute pixels of the image exactly as the model saw it: Qwen2.5-VL, told that image's size
    (its processor's resize to multiples of 28), never the photo's.
"""

from __future__ import annotations

from engine.api import CATEGORIES

BOX_FRAMES = ("1000", "pixels")

_BOX_IN = {
    "1000": ("as [x0, y0, x1, y1] on a 0-1000 grid of this image (0,0 is the top-left corner, "
             "1000,1000 the bottom-right corner, whatever the image's size)"),
    "pixels": ("as [x0, y0, x1, y1] absolute pixel coordinates in this image, which is {width} x "
               "{height} pixels (0,0 is the top-left corner, {width},{height} the bottom-right corner)"),
}

SYSTEM_PROMPT = """You are the planning step of an image editor. The user gives an image and an \
editing instruction. Work in five steps and answer with ONE JSON object, nothing else:
1. "category": exactly one of: "addition" (put a new object in), "removal" (take an object out), \
"local" (change an existing object's colour, material or kind, or swap it for another), \
"global" (change the whole image: style, season, time of day, lighting), "background" (replace \
the scene behind the main subject).
2. "target": the short noun phrase of the object to edit as it appears in the image (for addition: \
the object to add; for global and background: null).
3. "box": only for addition, where the new object should go, {box_in}; otherwise null.
4. "caption": one sentence describing the WHOLE image as it should look after the edit (the \
scene, its main objects and their look), as a photo caption. Mention only what remains in the \
image: for removal never name the removed object (for example "a grandmother in a garden" after \
"remove her mask").
5. "region": a short phrase of only what the edited region shows after the edit, as a photo caption \
of that part: for addition the new object ("a straw hat"); for removal the background that is \
left where the object was, never the object ("a wooden floor", "a clear blue sky"); for local the \
changed object ("a red sports car"); for background the new scene ("a sandy beach at sunset"); for \
global the same as caption.
Example: {{"category": "local", "target": "car", "box": null, "caption": "a red sports car parked on a \
city street", "region": "a red sports car"}}"""

# Several edits in one instruction: a list of the objects above, plus what the user said to keep.
STEPS_PROMPT = """
If the instruction asks for more than one edit ("remove the cat and make the sky pink"), answer with \
ONE JSON object {{"steps": [...], "keep": [...]}} instead: "steps" holds one object as above per edit, \
in the order the user gave them; "keep" lists the objects the user said not to change ("don't touch \
the sky", "keep the dog", "not the pear"), which are never steps. An object whose name holds "and" \
("salt and pepper shakers") is one target. A single edit may be answered as one object."""

USER_PROMPT = "Instruction: {instruction}"

RETRY_PROMPT = ("Your previous answer could not be used ({problem}). Answer again with only the "
                "JSON object: category (one of " + ", ".join(CATEGORIES) + "), target, box, caption, region.")


RETRY_STEPS_PROMPT = ' For several edits: {{"steps": [...], "keep": [...]}}.'
RETRY_PROMPT += RETRY_STEPS_PROMPT  # a str.format template, like RETRY_PROMPT


def system_prompt(width: int, height: int, frame: str = "pixels") -> str:
    """The planning prompt; ``frame`` ("pixels" or "1000") says how the box is to be written, and
    ``width`` x ``height`` is the size of the image exactly as the model sees it (pixels frame)."""
    if frame not in BOX_FRAMES:
        raise ValueError(f"unknown box frame {frame!r}; expected one of {BOX_FRAMES}")
    box_in = _BOX_IN[frame].format(width=int(width), height=int(height))
    return SYSTEM_PROMPT.format(box_in=box_in) + STEPS_PROMPT.format()


def user_prompt(instruction: str) -> str:
    return USER_PROMPT.format(instruction=str(instruction)[:1000])
