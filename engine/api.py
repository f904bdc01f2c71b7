"""Frozen request, result and message dataclasses: everything ``desktop`` imports from ``engine``.

A request is a *snapshot* (krita-ai-diffusion's ``backend/api.py`` habit): numpy pixels, a mask and
parameters, never live document objects, so the engine thread can work on it while the user keeps
editing. Results come back as messages that the editor applies on the GUI thread.

This module imports only the standard library and numpy; it must stay cheap to import.

Conventions
-----------
- Images are ``H x W x 3`` ``uint8`` RGB arrays (sRGB).
- Masks given by the user are ``H x W`` ``uint8`` arrays in which **255 (white) = repaint** and
  0 = keep; any non-zero value counts as repaint unless a function says otherwise.
- Rectangles are ``(x, y, width, height)`` in image pixels.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal, Union

import numpy as np

Category = Literal["addition", "removal", "local", "global", "background"]
CATEGORIES: tuple[str, ...] = ("addition", "removal", "local", "global", "background")

EngineName = Literal["auto", "brushedit", "fill", "lama"]
ResolutionMode = Literal["crop", "whole"]
InstructorName = Literal["offline", "local", "openai"]

DEFAULT_NEGATIVE_PROMPT = "ugly, low quality"

_job_ids = itertools.count(1)


def new_job_id() -> int:
    """Return a process-unique, increasing job id."""
    return next(_job_ids)


@dataclass(frozen=True)
class EditParams:
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
        How many candidates to paint (batched).
    negative_prompt : str
        The negative prompt.
    blend : bool
        Paste the result back with the mask feathered outward only (Gaussian 21 px).
    resolution_mode : {"crop", "whole"}
        ``"crop"`` works on the mask's bounding box plus context at SD1.5's native size;
        ``"whole"`` resizes the whole image to the working size.
    working_size : int
        Long side, in pixels, at which the model works (rounded to a multiple of 8).
    engine : {"auto", "brushedit", "fill", "lama"}
        Which engine paints: ``auto`` picks BrushEdit when its weights and a device exist, else fill;
        a removal under ``auto`` uses LaMa when it is installed (then BrushNet on top when BrushEdit is
        ready, see ``removal_strength``).
    removal_strength : float
        For a removal with LaMa and BrushNet: how much of LaMa's fill BrushNet repaints (0 = keep
        LaMa's fill as it is; 1 = paint from noise, as a plain BrushNet edit).
    """

    steps: int = 50
    guidance: float = 7.5
    strength: float = 1.0
    conditioning_scale: float = 1.0
    control_guidance_start: float = 0.0
    control_guidance_end: float = 1.0
    seed: int | None = None
    num_candidates: int = 1
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    blend: bool = True
    resolution_mode: ResolutionMode = "crop"
    working_size: int = 640
    engine: EngineName = "auto"
    removal_strength: float = 0.5


@dataclass(frozen=True, eq=False)
class InpaintRequest:
    """Paint ``mask`` of ``image`` following ``prompt``.

    ``instruction``, ``category`` and ``target`` are carried for provenance only.
    """

    image: np.ndarray
    mask: np.ndarray
    prompt: str = ""
    params: EditParams = field(default_factory=EditParams)
    instruction: str = ""
    category: str = ""
    target: str | None = None
    job_id: int = field(default_factory=new_job_id)


@dataclass(frozen=True, eq=False)
class PlanRequest:
    """Ask the instructor for an :class:`EditPlan` of ``instruction`` on ``image``."""

    image: np.ndarray
    instruction: str
    backend: InstructorName = "offline"
    job_id: int = field(default_factory=new_job_id)


@dataclass(frozen=True, eq=False)
class SegmentRequest:
    """Ask SAM for the mask of the object under the clicks.

    ``points`` are ``(x, y)`` pixels, ``labels`` 1 (add) or 0 (subtract), ``box`` ``(x0, y0, x1, y1)``.
    ``image_key`` identifies the image so the engine can reuse its cached embedding.
    """

    image: np.ndarray
    points: tuple[tuple[float, float], ...] = ()
    labels: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None
    image_key: str = ""
    job_id: int = field(default_factory=new_job_id)


@dataclass(frozen=True, eq=False)
class DownloadRequest:
    """Download the named models of the weights manifest."""

    names: tuple[str, ...]
    job_id: int = field(default_factory=new_job_id)


Request = Union[InpaintRequest, PlanRequest, SegmentRequest, DownloadRequest]


@dataclass(frozen=True, eq=False)
class Candidate:
    """One painted result.

    ``image`` is the full-size ``H x W x 3`` uint8 result; ``bbox`` ``(x, y, w, h)`` is the region
    that may differ from the input (the mask's bounding box grown by the feather), so a caller can
    keep only that region as a layer.
    """

    image: np.ndarray
    seed: int
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class EditResult:
    """The candidates of one :class:`InpaintRequest` and how they were made."""

    request: InpaintRequest
    candidates: tuple[Candidate, ...]
    engine: str
    model: str = ""
    seconds: float = 0.0


@dataclass(frozen=True, eq=False)
class EditPlan:
    """What the instructor proposes for an instruction, shown to the user before painting.

    ``mask`` is ``H x W`` uint8 (255 = repaint); ``candidate_masks`` are the alternatives (for
    example one per detection) that the UI can offer; ``backend`` says which backend answered.
    """

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


@dataclass(frozen=True, eq=False)
class SegmentResult:
    """SAM's answer: the best mask (uint8, 255 = object), its score, and alternatives."""

    mask: np.ndarray
    score: float
    alternatives: tuple[np.ndarray, ...] = ()


# --- messages: engine thread -> listeners -------------------------------------------------


@dataclass(frozen=True)
class JobQueued:
    job_id: int
    kind: str
    position: int


@dataclass(frozen=True)
class JobStarted:
    job_id: int
    kind: str


@dataclass(frozen=True)
class Progress:
    """Progress of a job. ``stage`` names what is happening ("loading models", "denoising", ...)."""

    job_id: int
    step: int
    total: int
    stage: str = ""


@dataclass(frozen=True, eq=False)
class Preview:
    """A cheap live preview (``H x W x 3`` uint8, any size) of the image being painted.

    ``rect`` ``(x, y, w, h)`` is the region of the full image the preview shows (the worked crop,
    upscaled to it); ``None`` means the whole image.
    """

    job_id: int
    image: np.ndarray
    step: int = 0
    rect: tuple[int, int, int, int] | None = None


@dataclass(frozen=True, eq=False)
class JobFinished:
    """A job ended well; ``result`` is an :class:`EditResult`, :class:`EditPlan`,
    :class:`SegmentResult` or, for downloads, a tuple of installed folders."""

    job_id: int
    result: object


@dataclass(frozen=True)
class JobFailed:
    """A job failed. ``error`` is one clear line; ``hint`` says what the user can do about it."""

    job_id: int
    error: str
    hint: str = ""
    kind: str = "error"  # "missing-models", "out-of-memory", "bad-input", "error"


@dataclass(frozen=True)
class JobCancelled:
    job_id: int


@dataclass(frozen=True)
class EngineStatus:
    """Where the engine runs and how much GPU memory it holds, sent after each job ends.

    ``device`` is ``"cuda"`` or ``"cpu"``; ``gpu_name`` the CUDA device's name (empty on CPU);
    ``gpu_used_bytes`` the memory torch has allocated on it and ``gpu_total_bytes`` the device's
    capacity (``None`` when unknown or on CPU).
    """

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
