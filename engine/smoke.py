"""``brushedit doctor --smoke``: load each installed model and ask it one tiny question.

Where ``doctor`` says what is on disk, the smoke test says what *runs*: a folder that is complete on
paper but lacks what its loader reads (the Qwen2-VL chat template of issue 19) fails here, not at the
first edit. Each check goes through the engine's own loaders (:class:`engine.dispatch.Engine`), on the
staged path a card runs (``Engine.staged``):

- a VLM: one token from the planning chat template with a small image;
- GroundingDINO: one box for "object";
- SAM: the mask under one point;
- BrushNet (with the installed SD1.5 base): one denoising step at 64 px;
- LaMa: one 64 px fill.

Each result is ``{"model", "kind", "ok", "answer", "error", "seconds"}``; a failing model never stops the
others.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

SIZE = 64


def _photo(size: int = 128) -> np.ndarray:
    """A small picture with something in it: a disc on a gradient (no file needed)."""
    y, x = np.mgrid[0:size, 0:size * 3 // 2]
    image = np.dstack([x * 255 // x.max(), y * 255 // y.max(), np.full_like(x, 128)]).astype(np.uint8)
    image[(x - size * 3 // 4) ** 2 + (y - size // 2) ** 2 < (size // 4) ** 2] = (220, 40, 40)
    return image


def _mask(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 255
    return m


def _vlm(engine, name: str) -> str:
    import torch

    from engine.dispatch import Engine

    eng = Engine(_with(engine.config, instructor="local", instructor_model=name))
    backend = eng.instructor_backend("local")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "One word: what is this?"}]}]
    prompt = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = backend.processor(text=[prompt], images=[_photo()], return_tensors="pt")
    device = next(backend.model.parameters()).device
    inputs = {k: (v.to(device) if hasattr(v, "to") else v) for k, v in inputs.items()}
    with torch.inference_mode():
        out = backend.model.generate(**inputs, max_new_tokens=1, do_sample=False)
    token = backend.processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=False)[0]
    return f"one token: {token!r} (chat template from the {backend.chat_template_source})"


def _grounding(engine, name: str) -> str:
    from engine.dispatch import Engine

    detector = Engine(_with(engine.config, grounding_model=name)).detector()
    boxes = detector.detect(_photo(), "object")
    if not boxes:
        raise RuntimeError("no box at any threshold")
    return f"{len(boxes)} box(es), best {[round(v) for v in boxes[0].box]} score {boxes[0].score:.2f}"


def _sam(engine, name: str) -> str:
    from engine.api import SegmentRequest
    from engine.dispatch import Engine

    photo = _photo()
    result = Engine(_with(engine.config, sam_model=name)).segment(
        SegmentRequest(photo, points=((photo.shape[1] / 2, photo.shape[0] / 2),), labels=(1,)))
    return f"mask of {int((np.asarray(result.mask) > 0).sum())} px, score {float(result.score):.2f}"


def _brushnet(engine, name: str) -> str:
    from engine.api import EditParams, InpaintRequest
    from engine.dispatch import Engine

    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    result = Engine(_with(engine.config, brushnet_model=name)).inpaint(InpaintRequest(
        image, _mask(SIZE, SIZE), "a small test", EditParams(steps=1, working_size=SIZE, seed=0,
                                                             engine="brushedit")))
    return f"one step at {SIZE} px ({result.engine}, {result.model or 'model'})"


def _lama(engine, name: str) -> str:
    from engine.api import EditParams, InpaintRequest
    from engine.dispatch import Engine

    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    result = Engine(_with(engine.config, lama_model=name)).inpaint(InpaintRequest(
        image, _mask(SIZE, SIZE), "", EditParams(engine="lama", seed=0), category="removal"))
    return f"one {SIZE} px fill ({result.engine})"


def _with(config, **changes):
    from dataclasses import replace

    return replace(config, **changes)


CHECKS: dict[str, Callable] = {"instructor": _vlm, "grounding": _grounding, "sam": _sam,
                               "brushnet": _brushnet, "lama": _lama}


def smoke_test(config=None, statuses=None) -> list[dict]:
    """Run one tiny question per installed model (manifest order); see the module docstring."""
    from engine.dispatch import Engine, EngineConfig
    from engine.models import MANIFEST, all_status

    engine = Engine(config or EngineConfig())
    statuses = {s.name: s for s in (statuses or all_status(engine.config.model_dirs))}
    out = []
    for name, spec in MANIFEST.items():
        check = CHECKS.get(spec.kind)
        if check is None or not statuses[name].installed:
            continue  # the SD1.5 base is checked with each BrushNet
        if spec.kind == "brushnet" and not any(statuses[n].installed for n, s in MANIFEST.items()
                                               if s.kind == "sd15-base"):
            out.append({"model": name, "kind": spec.kind, "ok": False, "answer": None, "seconds": 0.0,
                        "error": "no SD1.5 base installed: brushedit models download sd15-realistic-vision"})
            continue
        started = time.monotonic()
        try:
            answer, error = check(engine, name), None
        except Exception as exc:  # noqa: BLE001 -- a failing model is the report, not a crash
            answer, error = None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        out.append({"model": name, "kind": spec.kind, "ok": error is None, "answer": answer, "error": error,
                    "seconds": round(time.monotonic() - started, 2)})
    return out
