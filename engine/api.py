"""Frozen request and result dataclasses and the engine's errors: the contract at the bottom of the engine.

A request is a *snapshot* (krita-ai-diffusion's ``backend/api.py`` habit): numpy pixels, a mask and
parameters, never live document objects, so the engine thread can work on it while the user keeps
editing. Results come back as messages that the editor applies on the GUI thread.

This module imports only the standard library, numpy, :mod:`engine.wire` and :mod:`engine.protocol`
(the backend interface, its queries and its messages, re-exported here so ``from engine.api import
JobQueued`` keeps working); it must stay cheap to import.

Every class has a ``KIND`` class constant and one wire form, ``to_dict()`` / ``Class.from_dict(d)``
(module-level :func:`to_dict` / :func:`from_dict` dispatch on it): arrays become PNG bytes (bit-exact,
bool masks included), never pickles; :mod:`engine.wire` packs such a dict into one binary frame.
Each class registers itself by subclassing :class:`engine.wire.Record`.

What creates an engine (``local_engine``, ``remote_engine``, ``engine_config``, ``check_server``,
``answer_locally``, ``engine_version``) lives on top of the house, in :mod:`engine.connect`. The old
path ``engine.api.local_engine`` and its siblings still works (the compatibility path): this module's
``__getattr__`` looks them up in :mod:`engine.connect` at first use, so nothing at the bottom of the
engine imports its top.

Conventions
-----------
- Images are ``H x W x 3`` ``uint8`` RGB arrays (sRGB).
- Masks given by the user are ``H x W`` ``uint8`` arrays in which **255 (white) = repaint** and
  0 = keep; any non-zero value counts as repaint unless a function says otherwise.
- Rectangles are ``(x, y, width, height)`` in image pixels.
"""

from __future__ import annotations

import importlib
import itertools
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

import numpy as np

from engine.protocol import (  # noqa: F401  (re-exported: the old import path of the protocol's names)
    QUERIES,
    EngineBackend,
    EngineStatus,
    FolderCheck,
    FolderCheckRequest,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobQueued,
    JobStarted,
    Message,
    MessageSink,
    ModelEntry,
    ModelPathRequest,
    ModelPathStatus,
    ModelStatusReport,
    ModelStatusRequest,
    ParsedInstruction,
    ParseRequest,
    Preview,
    Progress,
    Query,
)
from engine.wire import Record, from_dict, to_dict  # noqa: F401  (to_dict / from_dict: any api object)

Category = Literal["addition", "removal", "local", "global", "background"]
CATEGORIES: tuple[str, ...] = ("addition", "removal", "local", "global", "background")

EngineName = Literal["auto", "brushedit", "fill", "lama"]
ResolutionMode = Literal["crop", "whole"]
InstructorName = Literal["auto", "offline", "local", "openai"]

DEFAULT_NEGATIVE_PROMPT = "ugly, low quality"
#: ``EditParams.num_candidates`` meaning "as many as the card allows": 4 (the reference's) where the
#: memory plan fits them, else 2 or 1; 1 on the CPU. The engine replaces it with the count it paints.
AUTO_CANDIDATES = 0

_job_ids = itertools.count(1)
_JOB_PREFIX = os.urandom(4).hex()  # ids stay unique across the processes that talk to one server


def new_job_id() -> str:
    """Return a unique job id: this process's random prefix and an increasing, zero-padded count
    (so ids of one process sort in submission order)."""
    return f"{_JOB_PREFIX}-{next(_job_ids):07d}"


@dataclass(frozen=True)
class EditParams(Record):
    """Parameters of one inpainting edit (defaults as the BrushNet paper).

    Parameters
    ----------
    steps : int
        Denoising steps (UniPC).
    guidance : float
        Classifier-free guidance scale.
    strength : float
        How much of the masked region is re-noised (1.0 = paint from pure noise).
    conditioning_scale : float
        BrushNet conditioning scale.
    seed : int or None
        Seed of the first candidate; candidate ``i`` uses ``seed + i``. ``None`` picks one at random
        (the chosen seeds are reported in the result, so any candidate can be re-made alone).
    num_candidates : int
        How many candidates to paint, in one batched call; ``AUTO_CANDIDATES`` (0, the default): 4
        where the memory plan fits them, else fewer (1 on the CPU). The result's request holds the
        count that was painted.
    negative_prompt : str
        The negative prompt.
    blend : bool
        Paste the result back with the mask feathered outward only (Gaussian 21 px).
    resolution_mode : {"crop", "whole"}
        ``"crop"`` works on the mask's bounding box plus context at SD1.5's native size;
        ``"whole"`` resizes the whole image to the working size.
    working_size : int
        Short side, in pixels, of the frame the model paints (640: the BrushEdit demo's size; SD1.5
        was trained at 512). The long side is capped near 1024 px; both are multiples of 8
        (``engine.brushnet.resolution.fit_work_size``; a 4:3 crop is painted at 856 x 640).
    engine : {"auto", "brushedit", "fill", "lama"}
        Which engine paints: ``auto`` picks BrushEdit when its weights and a device exist, else fill;
        a removal under ``auto`` uses LaMa when it is installed (then BrushNet on top when BrushEdit is
        ready, see ``removal_strength``).
    painter : {"auto", "brushnet", "klein"}
        Which diffusion painter paints when the engine is ``auto`` or ``brushedit``: ``auto`` takes
        FLUX.2 [klein] when it is installed and the memory plan fits it, else BrushNet
        (:mod:`engine.painters.choice`).
    klein_steps, klein_working_size : int
        klein's own defaults (it is step-distilled to 4 steps and trained at about 1024 px):
        ``steps`` and ``working_size`` are BrushNet's.
    removal_strength : float
        For a removal with LaMa and BrushNet: how much of LaMa's fill BrushNet repaints (0 = keep
        LaMa's fill as it is; 1 = paint from noise, as a plain BrushNet edit).
    global_strength : float
        For a ``category="global"`` request (style, season, time of day): how far the whole photo is
        re-noised before SD1.5 image-to-image repaints it, BrushNet scaled out (0 returns the photo;
        ``strength`` and ``conditioning_scale`` are for masked edits). 0.7: the layout survives,
        colour, light and texture change (see ``docs/design/agent.md``).
    harmonize : float
        0..1: how much of the painter's colour/tone cast at the edge of the hole is removed before the
        blend (:func:`engine.harmonize.harmonize`); 0 pastes the painting as it came.
    """

    KIND: ClassVar[str] = "edit-params"

    steps: int = 50
    guidance: float = 7.5
    strength: float = 1.0
    conditioning_scale: float = 1.0
    control_guidance_start: float = 0.0
    control_guidance_end: float = 1.0
    seed: int | None = None
    num_candidates: int = AUTO_CANDIDATES
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    blend: bool = True
    resolution_mode: ResolutionMode = "crop"
    working_size: int = 640
    engine: EngineName = "auto"
    global_strength: float = 0.7
    removal_strength: float = 0.5
    harmonize: float = 1.0
    painter: str = "auto"
    klein_steps: int = 4
    klein_working_size: int = 1024


@dataclass(frozen=True, eq=False)
class InpaintRequest(Record):
    """Paint ``mask`` of ``image`` following ``prompt``.

    ``instruction``, ``category`` and ``target`` are carried for provenance only.
    """

    KIND: ClassVar[str] = "inpaint"

    image: np.ndarray
    mask: np.ndarray
    prompt: str = ""
    params: EditParams = field(default_factory=EditParams)
    instruction: str = ""
    category: str = ""
    target: str | None = None
    job_id: str = field(default_factory=new_job_id)

    def effective_negative_prompt(self) -> str:
        """The negative prompt BrushNet paints this request with: a removal also names the removed
        object (``target``), so it does not grow back, whoever built the request (planner, CLI with
        ``--mask``, the editor) and never twice. Provenance records this, not the one given."""
        negative = self.params.negative_prompt or ""
        target = (self.target or "").strip()
        if self.category == "removal" and target and target.lower() not in negative.lower():
            negative = f"{negative}, {target}" if negative.strip() else target
        return negative

    def effective_sampling(self) -> tuple[float, float]:
        """``(strength, conditioning_scale)`` BrushNet paints this request with: a ``"global"``
        request is image-to-image at ``params.global_strength`` (clamped to 0..1) with BrushNet
        scaled out (0); every other category uses ``params.strength`` and ``conditioning_scale``."""
        p = self.params
        if self.category == "global":
            return float(min(max(p.global_strength, 0.0), 1.0)), 0.0
        return float(p.strength), float(p.conditioning_scale)


@dataclass(frozen=True, eq=False)
class PlanRequest(Record):
    """Ask the instructor for an :class:`EditPlan` of ``instruction`` on ``image``."""

    KIND: ClassVar[str] = "plan"

    image: np.ndarray
    instruction: str
    backend: InstructorName = "auto"
    job_id: str = field(default_factory=new_job_id)
    #: Objects to keep out of the mask (a later step of a chain re-planned on the previous result).
    protected: tuple[str, ...] = ()
    #: The mask the user painted (255 = repaint), or None: it says where step 1 goes, so that step
    #: needs no GroundingDINO/SAM when they are not installed (the editor and ``plan --mask``).
    mask: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class SegmentRequest(Record):
    """Ask SAM for the mask of the object under the clicks.

    ``points`` are ``(x, y)`` pixels, ``labels`` 1 (add) or 0 (subtract), ``box`` ``(x0, y0, x1, y1)``.
    ``image_key`` identifies the image so the engine can reuse its cached embedding.
    """

    KIND: ClassVar[str] = "segment"

    image: np.ndarray
    points: tuple[tuple[float, float], ...] = ()
    labels: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None
    image_key: str = ""
    job_id: str = field(default_factory=new_job_id)


@dataclass(frozen=True, eq=False)
class DownloadRequest(Record):
    """Download the named models of the weights manifest."""

    KIND: ClassVar[str] = "download"

    names: tuple[str, ...]
    job_id: str = field(default_factory=new_job_id)


Request = Union[InpaintRequest, PlanRequest, SegmentRequest, DownloadRequest]


@dataclass(frozen=True, eq=False)
class Candidate(Record):
    """One painted result.

    ``image`` is the full-size ``H x W x 3`` uint8 result; ``bbox`` ``(x, y, w, h)`` is the region
    that may differ from the input (the mask's bounding box grown by the feather), so a caller can
    keep only that region as a layer.
    """

    KIND: ClassVar[str] = "candidate"

    image: np.ndarray
    seed: int
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class EditResult(Record):
    """The candidates of one :class:`InpaintRequest` and how they were made."""

    KIND: ClassVar[str] = "edit-result"

    request: InpaintRequest
    candidates: tuple[Candidate, ...]
    engine: str
    model: str = ""
    seconds: float = 0.0
    worker: "WorkerInfo | None" = None  # the process that painted it (host, pid, device)
    ran: dict = field(default_factory=dict)  # what the painter did (engine.painters.WhatRan.to_dict())
    #: ``(width, height)`` of the frame the diffusion model painted; None where none ran (fill, LaMa).
    work_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class InstructorReport(Record):
    """Who read an instruction, never silently: ``requested`` (auto, offline, local, openai), ``used``
    (who answered the plan), ``model`` (the VLM's name, or None), ``ran`` (a VLM produced an answer,
    even one that was refused), ``why`` (None, or why the VLM's answer was not used)."""

    KIND: ClassVar[str] = "instructor-report"

    requested: str
    used: str
    model: str | None = None
    ran: bool = False
    why: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``"instructor"`` object of ``plan --json``, ``edit --json`` and provenance."""
        return {"requested": self.requested, "used": self.used, "model": self.model, "ran": bool(self.ran),
                "why": self.why}


@dataclass(frozen=True, eq=False)
class EditPlan(Record):
    """What the instructor proposes for an instruction, shown to the user before painting.

    ``mask`` is ``H x W`` uint8 (255 = repaint); ``candidate_masks`` are the alternatives (for
    example one per detection) that the UI can offer; ``backend`` says which backend answered.

    A compound instruction ("remove the cat and make the sky pink") is a chain: ``steps`` holds one
    plan per edit, in order, each with its own ``instruction`` (the clause it came from), mask and
    caption; the top-level fields are the first step's. ``protected`` lists the objects the user said
    to keep; they are already taken out of every step's mask where they were found.
    """

    KIND: ClassVar[str] = "edit-plan"

    instruction: str
    category: str
    target: str | None
    caption: str
    negative_prompt: str
    mask: np.ndarray
    candidate_masks: tuple[np.ndarray, ...] = ()
    confidence: float = 1.0
    backend: str = "offline"
    notes: tuple[str, ...] = ()
    steps: tuple["EditPlan", ...] = ()
    protected: tuple[str, ...] = ()
    instructor: InstructorReport | None = None  # set by the engine: who read the instruction
    #: What ``caption`` describes: "region" (what the mask shows after the edit: the painter crops)
    #: or "image" (the whole picture: the painter paints the whole frame). See docs/design/agent.md.
    caption_of: str = "region"


@dataclass(frozen=True, eq=False)
class SegmentResult(Record):
    """SAM's answer: the best mask (uint8, 255 = object), its score, and alternatives."""

    KIND: ClassVar[str] = "segment-result"

    mask: np.ndarray
    score: float
    alternatives: tuple[np.ndarray, ...] = ()


@dataclass(frozen=True)
class WorkerInfo(Record):
    """The process that painted a result: recorded in provenance and ``edit --json``."""

    KIND: ClassVar[str] = "worker"

    host: str
    pid: int
    device: str = ""



class EngineError(RuntimeError):
    """An engine failure that carries a user-facing hint and a kind (see :class:`JobFailed`)."""

    def __init__(self, message: str, hint: str = "", kind: str = "error") -> None:
        super().__init__(message)
        self.hint = hint
        self.kind = kind


class MissingModelsError(EngineError):
    """Weights needed for a feature are not installed; ``names`` lists the manifest entries."""

    def __init__(self, names: list[str] | tuple[str, ...], message: str = "", hint: str = "") -> None:
        names = tuple(names)
        message = message or "missing model weights: " + ", ".join(names)
        hint = hint or "run: brushedit models download " + " ".join(names)
        super().__init__(message, hint, kind="missing-models")
        self.names = names


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it."""


JOB_REQUESTS: tuple[type, ...] = (InpaintRequest, PlanRequest, SegmentRequest, DownloadRequest)


def paint_probe(instruction: str, params: EditParams, category: str) -> InpaintRequest:
    """A stand-in job for asking an engine whether a step of ``instruction`` (its ``category``) can be
    painted before anything is planned (``check_paint``; ``brushedit edit``'s preflight): 8 x 8 px, all
    repainted. Nothing reads its pixels: the answer depends on the parameters, the category and the disk."""
    return InpaintRequest(np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 255, np.uint8), prompt=instruction,
                          params=params, instruction=instruction, category=category)


def is_removal(request: InpaintRequest) -> bool:
    """True when the request erases (the fill engine can do it): a removal, or a bare painted mask."""
    if request.category:
        return request.category == "removal"
    return not request.prompt.strip()


def request_kind(request: Any) -> str:
    """The job kind of a request ("inpaint", "plan", "segment", "download"), as JobQueued reports it."""
    return getattr(type(request), "KIND", "") or type(request).__name__.lower()


# --- the compatibility path: the factory's old names -------------------------------------------

_CONNECT_NAMES = frozenset(
    {"local_engine", "remote_engine", "engine_config", "check_server", "answer_locally", "engine_version"})


def __getattr__(name: str) -> Any:
    """``engine.api.local_engine`` and its siblings: :mod:`engine.connect`'s, looked up at first use.

    Outside code (and older callers) reach the factory through ``engine.api``; new code imports
    :mod:`engine.connect`. Resolved through :mod:`importlib` so the contract at the bottom of the
    house never imports its top (import-linter's layers contract checks it).
    """
    if name in _CONNECT_NAMES:
        value = getattr(importlib.import_module("engine.connect"), name)
        globals()[name] = value  # the next look-up is a plain attribute
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
