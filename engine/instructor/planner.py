"""``plan(image, instruction)``: the instructor's proposal (category, target, caption, mask).

The backend understands the instruction; GroundingDINO finds the target, SAM cuts it out, and the
category decides the mask (see :mod:`engine.segment.category_masks`). The editor shows the plan
for approval before anything is painted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

import numpy as np

from engine.api import DEFAULT_NEGATIVE_PROMPT, EditPlan, MissingModelsError
from engine.instructor.backends.base import BackendHandle, InstructorBackend
from engine.instructor.captions import caption_for
from engine.instructor.intent import Intent
from engine.segment import category_masks as cm
from masks import mask_ops as mo
from engine.segment.grounding import phrases
from engine.segment.select import Detection, rank_detections

ProgressFn = Callable[[int, int, str], None]
MAX_CANDIDATES = 5
SUBJECT_QUERY = "person. animal. main object."
NEEDED_MODELS = ["grounding-dino-tiny", "sam-vit-h"]
_GROUP_RE = re.compile(r"\b(?:all|every|each|both|any|everyone|everybody|several|many|two|three|"
                       r"four|five|six|seven|eight|nine|ten|\d+)\b", re.I)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"expected an H x W x 3 RGB image, got shape {a.shape}")
    a = a[..., :3]
    if a.dtype != np.uint8:
        a = np.clip(a * (255.0 if np.issubdtype(a.dtype, np.floating) and a.max() <= 1.0 else 1.0),
                    0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def _resolve_backend(backend) -> "InstructorBackend | BackendHandle":
    from engine.instructor.backends import InstructorBackend as Base, OfflineBackend, load_backend

    if backend is None or backend in ("offline", "auto"):  # "auto" is resolved by the engine, which
        return OfflineBackend()                            # knows the card; here it is the parser
    if isinstance(backend, (Base, BackendHandle)):
        return backend
    if isinstance(backend, str):
        return load_backend(backend)
    raise TypeError(f"backend must be None, 'offline', an InstructorBackend or a BackendHandle, "
                    f"not {type(backend).__name__}")


def _understand(b, img: np.ndarray, instruction: str):
    """Ask the backend: a :class:`BackendHandle` is asked for the loaded backend now, and that object
    answers, exactly as it would unstaged (no stand-in whose attributes could differ from it)."""
    real = b.loaded() if isinstance(b, BackendHandle) else b
    return real.understand_steps(img, instruction)


def negative_prompt_for(intent: Intent) -> str:
    """The default negative prompt; for removal also the removed object, so it does not come back."""
    if intent.category == "removal" and intent.target:
        return f"{DEFAULT_NEGATIVE_PROMPT}, {intent.target}"
    return DEFAULT_NEGATIVE_PROMPT


def plan(image: np.ndarray, instruction: str, backend=None, *, detector=None, segmenter=None,
         on_progress: ProgressFn | None = None, removal_dilation: float | None = None,
         protected: tuple[str, ...] = (), painted: np.ndarray | None = None) -> EditPlan:
    """Propose an edit for ``instruction`` on ``image``: one plan per step of the instruction.

    Parameters
    ----------
    image : ndarray
        ``H x W x 3`` uint8 RGB.
    instruction : str
        What the user typed; "A and B" is a chain of two steps.
    backend : None, "offline", "local", "openai", InstructorBackend or BackendHandle
        Who understands the instruction; None means the offline parser. A
        :class:`~engine.instructor.backends.base.BackendHandle` is asked for the loaded backend when
        the model is asked (the engine's staged path).
    detector : engine.segment.grounding.GroundingDetector, optional
        Finds the target's boxes. Needed (with ``segmenter``) for removal, local and background.
    segmenter : engine.segment.sam.SamSegmenter, optional
        Turns boxes into masks.
    on_progress : callable, optional
        ``on_progress(step, total, stage)``; it may raise :class:`engine.api.Cancelled`.
    removal_dilation : float, optional
        How far to grow a removed object's mask: below 1 a fraction of the image diagonal, else
        pixels (default 1.5 % of the diagonal).
    protected : tuple of str
        Objects to keep besides those the instruction names ("don't touch the sky").
    painted : ndarray, optional
        The mask the user painted (255 = repaint). It says where the first step goes: without a
        detector or segmenter that step keeps it (and says so in ``notes``) instead of failing.

    Returns
    -------
    engine.api.EditPlan
        The first step's plan, with ``steps`` holding every step's plan (the first included) and
        ``protected`` the kept objects, already subtracted from the masks where found. ``mask`` is
        never empty for global (the whole image) and addition (a region). For an object that was
        not found the mask is empty and ``notes`` says so, with ``confidence`` 0. An instruction
        that only says what to keep has no steps, an empty mask and confidence 0.

    Raises
    ------
    engine.api.MissingModelsError
        When a step needs an object mask and no detector/segmenter was given.
    """
    img = _as_rgb(image)
    shape = img.shape

    if on_progress is not None:
        on_progress(0, 4, "understanding the instruction")
    b = _resolve_backend(backend)
    understood = _understand(b, img, instruction)
    notes = list(understood.notes)
    keep = tuple(dict.fromkeys(tuple(understood.protected) + tuple(protected or ())))
    intents = [i.with_(protected=keep) for i in understood.steps]
    if not intents:
        empty = np.zeros(shape[:2], np.uint8)
        if not notes:
            notes.append("did not understand the instruction")
        return EditPlan(instruction=str(instruction or ""), category="local", target=None, caption="",
                        negative_prompt=DEFAULT_NEGATIVE_PROMPT, mask=empty, confidence=0.0,
                        backend=understood.backend, notes=tuple(notes), protected=keep)
    painted = _painted_mask(painted, shape)
    for k, intent in enumerate(intents):
        cat = intent.category
        nothing = not intent.confident and not intent.target and cat == "local"  # not understood
        if k == 0 and painted is not None:
            continue  # the user's mask says where: nothing to find
        if cat in ("removal", "local", "background") and not nothing and (detector is None or segmenter is None):
            what = f"'{intent.target}'" if intent.target else "the subject"
            missing = [n for n, have in zip(NEEDED_MODELS, (detector, segmenter)) if have is None]
            raise MissingModelsError(
                missing,
                f"finding {what} for a {cat} edit needs GroundingDINO and SAM, which are not installed",
                hint="run: brushedit models download " + " ".join(missing) + " (or paint the mask yourself)")

    keep_mask, keep_notes = _protected_mask(img, keep, detector, segmenter)
    clauses = _step_texts(instruction, len(intents))
    steps = []
    n = len(intents)
    for k, intent in enumerate(intents):
        def progress(step: int, stage: str, k=k) -> None:
            if on_progress is not None:
                on_progress(k * 4 + step, n * 4, stage if n == 1 else f"step {k + 1} of {n}: {stage}")

        step_notes = notes if n == 1 else []
        if k == 0 and painted is not None and _needs_detectors(intent) and (detector is None or segmenter is None):
            progress(4, "done")
            what = f"'{intent.target}'" if intent.target else "the subject"
            one = _plan(clauses[k] if n > 1 else instruction, intent, painted, (), 1.0 if intent.confident else 0.4,
                        understood.backend, step_notes + [f"kept your painted mask: finding {what} needs "
                                                          "GroundingDINO + SAM, which are not installed"])
            steps.append(one)
            continue
        one = _plan_step(img, intent, understood.backend, b.name, detector, segmenter, progress,
                         removal_dilation, clauses[k] if n > 1 else instruction, step_notes)
        if keep_mask is not None and one.category != "global":
            one = _without(one, keep_mask)
        steps.append(one)
    first = steps[0]
    all_notes = tuple(notes if n > 1 else first.notes) + tuple(keep_notes)
    if n > 1:
        all_notes += tuple(f"step {k + 1}: {note}" for k, st in enumerate(steps) for note in st.notes)
    return replace(first, instruction=str(instruction or ""), notes=all_notes, steps=tuple(steps),
                   protected=keep)


def _needs_detectors(intent: Intent) -> bool:
    """Whether planning ``intent`` needs GroundingDINO + SAM to find its object."""
    nothing = not intent.confident and not intent.target and intent.category == "local"
    return intent.category in ("removal", "local", "background") and not nothing


def _painted_mask(painted, shape) -> np.ndarray | None:
    """The user's painted mask at the image's size (uint8, as painted), or None when there is none
    (or it is empty)."""
    if painted is None:
        return None
    m = mo.as_mask(painted)
    if m.shape != tuple(shape[:2]):
        m = mo.resize(m, shape[1], shape[0], smooth=True)
    return None if mo.is_empty(m) else m


def _step_texts(instruction: str, count: int) -> list[str]:
    """The clause each step came from (for re-planning a step on the previous step's result)."""
    from engine.instructor.steps import clauses, protected_object, read_instruction

    texts = list(read_instruction(instruction or "").texts)  # "add a cat and a dog": "add a cat", "add a dog"
    if len(texts) == count:
        return texts
    texts = [c for c in clauses(instruction or "") if protected_object(c) is None]
    if len(texts) != count:
        return [str(instruction or "")] * count
    return texts


def _protected_mask(img, keep, detector, segmenter):
    """The union of the kept objects' masks (None when none was found), and notes."""
    notes: list[str] = []
    if not keep or detector is None or segmenter is None:
        return None, notes
    found = None
    for name in keep:
        if re.search(r"\b(?:background|backdrop|scene|image|photo|picture|everything)\b", name, re.I):
            notes.append(f"kept '{name}': only the named objects are edited")
            continue
        dets = detector.detect(img, name)
        if not dets:
            notes.append(f"could not find '{name}' to keep it out of the mask")
            continue
        segmenter.set_image(img)
        masks = segmenter.masks_from_boxes([d.box for d in rank_detections(dets, None, img.shape[:2])[:1]])
        m = mo.threshold(masks[0])
        found = m if found is None else mo.union(found, m)
        notes.append(f"kept '{name}' out of the mask")
    return found, notes


def _without(one: EditPlan, keep_mask: np.ndarray) -> EditPlan:
    return replace(one, mask=mo.subtract(one.mask, keep_mask),
                   candidate_masks=tuple(mo.subtract(m, keep_mask) for m in one.candidate_masks))


def _plan_step(img, intent: Intent, answered_by: str, asked: str, detector, segmenter, progress,
               removal_dilation, instruction: str, notes: list) -> EditPlan:
    """One step's plan: its mask found on ``img``."""
    shape = img.shape
    total = 4
    notes = list(notes)
    confidence = 1.0 if intent.confident else 0.4
    if answered_by != asked:
        confidence = min(confidence, 0.7)
    cat = intent.category
    if not intent.confident and not intent.target and cat == "local":
        progress(total, "done")
        return _plan(instruction, intent, np.zeros(shape[:2], np.uint8), (), 0.0, answered_by,
                     notes or ["did not understand the instruction"])
    candidates: list[np.ndarray] = []
    if cat == "global":
        mask = cm.global_mask(shape)
    elif cat == "addition":
        mask, candidates, note = _addition(img, intent, detector, progress)
        notes += note
    else:
        progress(1, "finding the object")
        query = intent.target if cat != "background" else (intent.subject or SUBJECT_QUERY)
        dets = detector.detect(img, query or SUBJECT_QUERY)
        if not dets and cat == "background" and intent.subject:
            dets = detector.detect(img, SUBJECT_QUERY)
        progress(2, "segmenting")
        segmenter.set_image(img)
        if dets:
            ranked = rank_detections(dets, intent.spatial, shape[:2])[:MAX_CANDIDATES]
            object_masks = segmenter.masks_from_boxes([d.box for d in ranked])
            confidence *= min(1.0, 0.5 + ranked[0].score)
        elif cat == "background":
            # No subject found: take what SAM sees at the centre.
            h, w = shape[:2]
            object_masks = [segmenter.predict([(w / 2, h / 2)], [1]).mask]
            ranked = []
            notes.append("no subject detected; kept the object at the centre")
        else:
            progress(total, "done")
            notes.append(f"could not find '{intent.target}' in the image: paint the region or click it")
            return _plan(instruction, intent, np.zeros(shape[:2], np.uint8), (), 0.0, answered_by, notes)
        object_masks = [mo.threshold(m) for m in object_masks]
        if cat != "background" and len(object_masks) > 1 and not intent.spatial and (
                _GROUP_RE.search(instruction or "") or len(phrases(intent.target or "")) > 1):
            # "remove all the people", "the cup and the glasses": every detection together.
            merged = object_masks[0]
            for m in object_masks[1:]:
                merged = mo.union(merged, m)
            object_masks = [merged] + object_masks
        progress(3, "building the mask")
        if cat == "removal":
            candidates = [cm.removal_mask(m, removal_dilation) for m in object_masks]
        elif cat == "local":
            candidates = [cm.local_mask(m) for m in object_masks]
        else:
            candidates = [cm.background_mask(m) for m in object_masks]
        mask = candidates[0]
    progress(total, "done")
    return _plan(instruction, intent, mask, tuple(candidates), confidence, answered_by, notes)


def _plan(instruction, intent, mask, candidates, confidence, backend, notes) -> EditPlan:
    caption, caption_of = caption_for(intent, mask)  # of the region when the painter crops
    return EditPlan(instruction=str(instruction or ""), category=intent.category, target=intent.target,
                    caption=caption, negative_prompt=negative_prompt_for(intent), mask=mask,
                    candidate_masks=tuple(candidates), confidence=float(max(0.0, min(1.0, confidence))),
                    backend=backend, notes=tuple(notes), caption_of=caption_of)


def _addition(img, intent: Intent, detector, progress):
    """The region for a new object: the model's box, else next to the anchor, else a default."""
    shape = img.shape
    notes: list[str] = []
    box = cm.clamp_box(intent.box, shape) if intent.box is not None else None
    if box is None and intent.anchor and detector is not None:
        progress(1, "finding where to add")
        dets = detector.detect(img, intent.anchor)
        if dets:
            anchor: Detection = rank_detections(dets, intent.spatial, shape[:2])[0]
            box = cm.default_addition_box(shape, intent.spatial, anchor.box, intent.relation)
        else:
            notes.append(f"could not find '{intent.anchor}'; placed the new object in a default region")
    if box is None:
        box = cm.default_addition_box(shape, intent.spatial)
    rect = cm.addition_mask(shape, box, "box")  # the reference's mask: the whole box
    around = cm.addition_mask(shape, box, "ellipse")  # a rounder alternative that still holds the box
    return rect, [rect, around], notes
