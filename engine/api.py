"""Frozen request, result and message dataclasses: everything ``desktop`` imports from ``engine``.

A request is a *snapshot* (krita-ai-diffusion's ``backend/api.py`` habit): numpy pixels, a mask and
parameters, never live document objects, so the engine thread can work on it while the user keeps
editing. Results come back as messages that the editor applies on the GUI thread.

This module imports only the standard library and numpy; it must stay cheap to import.

Every class has a ``KIND`` class constant and one wire form, ``to_dict()`` / ``Class.from_dict(d)``
(module-level :func:`to_dict` / :func:`from_dict` dispatch on it): arrays become PNG bytes (bit-exact,
bool masks included), never pickles; :mod:`engine.wire` packs such a dict into one binary frame.
The constant is ``KIND``, not ``kind``: ``JobQueued``, ``JobStarted`` and ``JobFailed`` already
have a ``kind`` field. :class:`EngineBackend` is the one interface the editor and the CLI drive: the
in-process service, the studio server's client and the tests' fake all implement it.

Conventions
-----------
- Images are ``H x W x 3`` ``uint8`` RGB arrays (sRGB).
- Masks given by the user are ``H x W`` ``uint8`` arrays in which **255 (white) = repaint** and
  0 = keep; any non-zero value counts as repaint unless a function says otherwise.
- Rectangles are ``(x, y, width, height)`` in image pixels.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar, Literal, Protocol, Union, runtime_checkable

import numpy as np

from engine import wire

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


class _Wire:
    """The wire form shared by every api class: ``to_dict`` / ``from_dict`` keyed by ``KIND``."""

    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``bytes`` for array data): ``{"type": KIND, field: value, ...}``."""
        out: dict[str, Any] = {"type": self.KIND}
        for f in fields(self):  # type: ignore[arg-type]
            out[f.name] = wire.encode_value(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, max_pixels: int | None = None) -> Any:
        """Rebuild from :meth:`to_dict`'s dict; unknown keys are ignored (newer peers may add fields).

        ``max_pixels`` refuses images larger than that (a :class:`engine.wire.WireError`).
        """
        if data.get("type") != cls.KIND:
            raise wire.WireError(f"expected a {cls.KIND!r}, got {data.get('type')!r}")
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: wire.decode_value(v, _REGISTRY, max_pixels) for k, v in data.items() if k in names}
        try:
            return cls(**values)
        except TypeError as exc:
            raise wire.WireError(f"malformed {cls.KIND!r}: {exc}") from None


@dataclass(frozen=True)
class EditParams(_Wire):
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
class InpaintRequest(_Wire):
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
class PlanRequest(_Wire):
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
class SegmentRequest(_Wire):
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
class DownloadRequest(_Wire):
    """Download the named models of the weights manifest."""

    KIND: ClassVar[str] = "download"

    names: tuple[str, ...]
    job_id: str = field(default_factory=new_job_id)


Request = Union[InpaintRequest, PlanRequest, SegmentRequest, DownloadRequest]


@dataclass(frozen=True, eq=False)
class Candidate(_Wire):
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
class EditResult(_Wire):
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
class InstructorReport(_Wire):
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
class EditPlan(_Wire):
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
class SegmentResult(_Wire):
    """SAM's answer: the best mask (uint8, 255 = object), its score, and alternatives."""

    KIND: ClassVar[str] = "segment-result"

    mask: np.ndarray
    score: float
    alternatives: tuple[np.ndarray, ...] = ()



# --- queries: cheap questions the engine answers at once (no job, no torch) -----------------


@dataclass(frozen=True)
class ModelStatusRequest(_Wire):
    """Ask for the weights manifest with each entry's install status, on the engine's disk.

    ``model_dirs`` are per-model user folders ``((manifest name, folder), ...)``; ``names`` limits
    the answer to those entries (empty: all).
    """

    KIND: ClassVar[str] = "model-status"

    model_dirs: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelEntry(_Wire):
    """What the Models dialog shows about one manifest entry."""

    KIND: ClassVar[str] = "model-entry"

    name: str
    size_bytes: int | None
    installed: bool
    status: str
    enables: str
    description: str
    default: bool = False
    model_kind: str = ""  # "sd15-base", "brushnet", "sam", "grounding", "instructor", ...


@dataclass(frozen=True)
class ModelStatusReport(_Wire):
    """The answer to a :class:`ModelStatusRequest`, in manifest order."""

    KIND: ClassVar[str] = "model-status-report"

    entries: tuple[ModelEntry, ...] = ()

    def names(self, model_kind: str) -> list[str]:
        """Manifest names of one kind, the default first."""
        specs = [e for e in self.entries if e.model_kind == model_kind]
        return [e.name for e in sorted(specs, key=lambda e: not e.default)]


@dataclass(frozen=True)
class ModelPathRequest(_Wire):
    """Does ``path`` (a folder or checkpoint file; empty: the automatic search) hold a ``model_kind`` model?"""

    KIND: ClassVar[str] = "model-path"

    model_kind: str
    path: str = ""


@dataclass(frozen=True)
class ModelPathStatus(_Wire):
    """Whether a model path (or the automatic search, for an empty path) gives a usable model.

    ``name`` is the manifest name the path holds (or the automatic copy found); empty when none.
    """

    KIND: ClassVar[str] = "model-path-status"

    usable: bool
    text: str
    name: str = ""


@dataclass(frozen=True)
class FolderCheckRequest(_Wire):
    """Check ``folder`` as a copy of manifest model ``name``."""

    KIND: ClassVar[str] = "check-folder"

    name: str
    folder: str


@dataclass(frozen=True)
class FolderCheck(_Wire):
    """The first problem of a folder (``ok`` when complete): which file, and why."""

    KIND: ClassVar[str] = "folder-check"

    ok: bool
    file: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ParseRequest(_Wire):
    """The offline (rule-based, no model) reading of an instruction."""

    KIND: ClassVar[str] = "parse"

    instruction: str


@dataclass(frozen=True)
class ParsedInstruction(_Wire):
    """The offline parser's reading (the fields of ``engine.instructor.Intent``)."""

    KIND: ClassVar[str] = "parsed-instruction"

    category: str
    target: str | None
    replacement: str | None = None
    caption: str = ""
    confident: bool = True
    spatial: str | None = None
    subject: str | None = None
    anchor: str | None = None
    relation: str | None = None
    box: tuple[float, float, float, float] | None = None
    instruction: str = ""
    step_count: int = 1  # how many edits the whole instruction reads as (a compound one: more than 1)


Query = Union[ModelStatusRequest, ModelPathRequest, FolderCheckRequest, ParseRequest]


@dataclass(frozen=True)
class WorkerInfo(_Wire):
    """The process that painted a result: recorded in provenance and ``edit --json``."""

    KIND: ClassVar[str] = "worker"

    host: str
    pid: int
    device: str = ""


# --- messages: engine thread -> listeners -------------------------------------------------


@dataclass(frozen=True)
class JobQueued(_Wire):
    KIND: ClassVar[str] = "queued"

    job_id: str
    kind: str
    position: int


@dataclass(frozen=True)
class JobStarted(_Wire):
    KIND: ClassVar[str] = "started"

    job_id: str
    kind: str


@dataclass(frozen=True)
class Progress(_Wire):
    """Progress of a job. ``stage`` names what is happening ("loading models", "denoising", ...)."""

    KIND: ClassVar[str] = "progress"

    job_id: str
    step: int
    total: int
    stage: str = ""


@dataclass(frozen=True, eq=False)
class Preview(_Wire):
    """A cheap live preview (``H x W x 3`` uint8, any size) of the image being painted.

    ``rect`` ``(x, y, w, h)`` is the region of the full image the preview shows (the worked crop,
    upscaled to it); ``None`` means the whole image.
    """

    KIND: ClassVar[str] = "preview"

    job_id: str
    image: np.ndarray
    step: int = 0
    rect: tuple[int, int, int, int] | None = None


@dataclass(frozen=True, eq=False)
class JobFinished(_Wire):
    """A job ended well; ``result`` is an :class:`EditResult`, :class:`EditPlan`,
    :class:`SegmentResult` or, for downloads, a tuple of installed folders."""

    KIND: ClassVar[str] = "finished"

    job_id: str
    result: object


@dataclass(frozen=True)
class JobFailed(_Wire):
    """A job failed. ``error`` is one clear line; ``hint`` says what the user can do about it."""

    KIND: ClassVar[str] = "failed"

    job_id: str
    error: str
    hint: str = ""
    kind: str = "error"  # "missing-models", "out-of-memory", "bad-input", "error"


@dataclass(frozen=True)
class JobCancelled(_Wire):
    KIND: ClassVar[str] = "cancelled"

    job_id: str


@dataclass(frozen=True)
class EngineStatus(_Wire):
    """Where the engine runs and how much GPU memory it holds, sent after each job ends.

    ``device`` is ``"cuda"`` or ``"cpu"``; ``gpu_name`` the CUDA device's name (empty on CPU);
    ``gpu_used_bytes`` the memory torch has allocated on it and ``gpu_total_bytes`` the device's
    capacity (``None`` when unknown or on CPU).
    """

    KIND: ClassVar[str] = "status"

    device: str
    gpu_name: str = ""
    gpu_used_bytes: int | None = None
    gpu_total_bytes: int | None = None


Message = Union[JobQueued, JobStarted, Progress, Preview, JobFinished, JobFailed, JobCancelled, EngineStatus]


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


_WIRE_CLASSES: tuple[type, ...] = (
    EditParams, InpaintRequest, PlanRequest, SegmentRequest, DownloadRequest, Candidate, EditResult,
    EditPlan, InstructorReport, SegmentResult, ModelStatusRequest, ModelEntry, ModelStatusReport, ModelPathRequest,
    ModelPathStatus, FolderCheckRequest, FolderCheck, ParseRequest, ParsedInstruction, WorkerInfo,
    JobQueued, JobStarted, Progress, Preview, JobFinished, JobFailed, JobCancelled, EngineStatus,
)
_REGISTRY: dict[str, type] = {cls.KIND: cls for cls in _WIRE_CLASSES}
assert len(_REGISTRY) == len(_WIRE_CLASSES), "two api classes share a KIND"
JOB_REQUESTS: tuple[type, ...] = (InpaintRequest, PlanRequest, SegmentRequest, DownloadRequest)
QUERIES: tuple[type, ...] = (ModelStatusRequest, ModelPathRequest, FolderCheckRequest, ParseRequest)


def to_dict(obj: Any) -> dict[str, Any]:
    """The wire dict of any api object (see :class:`_Wire`)."""
    if type(obj) not in _WIRE_CLASSES:
        raise wire.WireError(f"{type(obj).__name__} is not an engine.api object")
    return obj.to_dict()


def from_dict(data: Any, *, max_pixels: int | None = None) -> Any:
    """The api object of a wire dict, chosen by its ``"type"``; :class:`engine.wire.WireError` if unknown."""
    if not isinstance(data, dict):
        raise wire.WireError("expected a dict")
    cls = _REGISTRY.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise wire.WireError(f"unknown type {data.get('type')!r}")
    return cls.from_dict(data, max_pixels=max_pixels)


def request_kind(request: Any) -> str:
    """The job kind of a request ("inpaint", "plan", "segment", "download"), as JobQueued reports it."""
    return getattr(type(request), "KIND", "") or type(request).__name__.lower()


# --- the one interface to an engine ----------------------------------------------------------

MessageSink = Callable[[Any], None]


@runtime_checkable
class EngineBackend(Protocol):
    """What the editor and the CLI drive: ``engine.service.EngineService`` (in process),
    ``engine.server.client.RemoteEngine`` (a studio server) and the tests' fake implement it.

    Messages go to the ``on_message`` callable given at construction, on a thread of the backend's.
    """

    def start(self) -> None:
        """Start working (idempotent)."""

    def submit(self, request: Any) -> str:
        """Queue a job request; return its id at once (a :class:`JobQueued` follows)."""

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; False when unknown."""

    def set_config(self, config: Any) -> None:
        """The configuration of the next jobs (a remote engine keeps the server's)."""

    def answer(self, query: Any) -> Any:
        """Answer a :data:`Query` at once (model status, path checks, the offline parse)."""

    def pending(self) -> list[str]:
        """Ids of the running and the queued jobs."""

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel everything and stop; True when stopped."""


def engine_config(**kwargs: Any) -> Any:
    """An ``engine.dispatch.EngineConfig`` (imported lazily: it is not cheap)."""
    from engine.dispatch import EngineConfig

    return EngineConfig(**kwargs)


def local_engine(on_message: MessageSink, config: Any = None) -> EngineBackend:
    """The in-process engine: an ``engine.service.EngineService`` (its module is imported lazily)."""
    from engine.service import EngineService

    return EngineService(on_message, config=config)


def remote_engine(on_message: MessageSink, url: str, token: str | None = None, **kwargs: Any) -> EngineBackend:
    """A studio server's engine: an ``engine.server.client.RemoteEngine`` (imported lazily)."""
    from engine.server.client import RemoteEngine

    return RemoteEngine(on_message, url, token=token, **kwargs)


def check_server(url: str, token: str | None = None, timeout: float = 5.0) -> tuple[bool, str]:
    """Whether a studio server answers at ``url`` and takes ``token``: ``(ok, one line for the user)``."""
    from engine.server.client import test_connection

    return test_connection(url, token, timeout)


def answer_locally(query: Any) -> Any:
    """Answer a :data:`Query` in this process (``engine.queries``, imported lazily; no torch)."""
    from engine.queries import answer

    return answer(query)


def engine_version() -> str:
    """The version of the engine in this process."""
    from engine.version import __version__

    return __version__
