"""The protocol between an engine and whoever drives it: the backend interface, its queries and its messages.

krita-ai-diffusion's ``client.py`` habit: one interface (:class:`EngineBackend`) that the in-process
service (``engine.service.EngineService``), the studio server's client
(``engine.server.client.RemoteEngine``) and the tests' fake implement, the cheap questions it answers
at once (:data:`Query`) and the messages it sends about jobs (:data:`Message`). The requests and
results themselves are :mod:`engine.api`'s, which re-exports everything here (``from engine.api import
JobQueued`` keeps working). What *creates* an engine is :mod:`engine.connect`, on top of the house.

Like :mod:`engine.api`, this module imports only the standard library, numpy and :mod:`engine.wire`;
every dataclass here travels (:class:`engine.wire.Record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Protocol, Union, runtime_checkable

import numpy as np

from engine.wire import Record

# --- queries: cheap questions the engine answers at once (no job, no torch) -----------------


@dataclass(frozen=True)
class ModelStatusRequest(Record):
    """Ask for the weights manifest with each entry's install status, on the engine's disk.

    ``model_dirs`` are per-model user folders ``((manifest name, folder), ...)``; ``names`` limits
    the answer to those entries (empty: all).
    """

    KIND: ClassVar[str] = "model-status"

    model_dirs: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelEntry(Record):
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
class ModelStatusReport(Record):
    """The answer to a :class:`ModelStatusRequest`, in manifest order."""

    KIND: ClassVar[str] = "model-status-report"

    entries: tuple[ModelEntry, ...] = ()

    def names(self, model_kind: str) -> list[str]:
        """Manifest names of one kind, the default first."""
        specs = [e for e in self.entries if e.model_kind == model_kind]
        return [e.name for e in sorted(specs, key=lambda e: not e.default)]


@dataclass(frozen=True)
class ModelPathRequest(Record):
    """Does ``path`` (a folder or checkpoint file; empty: the automatic search) hold a ``model_kind`` model?"""

    KIND: ClassVar[str] = "model-path"

    model_kind: str
    path: str = ""


@dataclass(frozen=True)
class ModelPathStatus(Record):
    """Whether a model path (or the automatic search, for an empty path) gives a usable model.

    ``name`` is the manifest name the path holds (or the automatic copy found); empty when none.
    """

    KIND: ClassVar[str] = "model-path-status"

    usable: bool
    text: str
    name: str = ""


@dataclass(frozen=True)
class FolderCheckRequest(Record):
    """Check ``folder`` as a copy of manifest model ``name``."""

    KIND: ClassVar[str] = "check-folder"

    name: str
    folder: str


@dataclass(frozen=True)
class FolderCheck(Record):
    """The first problem of a folder (``ok`` when complete): which file, and why."""

    KIND: ClassVar[str] = "folder-check"

    ok: bool
    file: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ParseRequest(Record):
    """The offline (rule-based, no model) reading of an instruction."""

    KIND: ClassVar[str] = "parse"

    instruction: str


@dataclass(frozen=True)
class ParsedInstruction(Record):
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


QUERIES: tuple[type, ...] = (ModelStatusRequest, ModelPathRequest, FolderCheckRequest, ParseRequest)


# --- messages: engine thread -> listeners -------------------------------------------------


@dataclass(frozen=True)
class JobQueued(Record):
    KIND: ClassVar[str] = "queued"

    job_id: str
    kind: str
    position: int


@dataclass(frozen=True)
class JobStarted(Record):
    KIND: ClassVar[str] = "started"

    job_id: str
    kind: str


@dataclass(frozen=True)
class Progress(Record):
    """Progress of a job. ``stage`` names what is happening ("loading models", "denoising", ...)."""

    KIND: ClassVar[str] = "progress"

    job_id: str
    step: int
    total: int
    stage: str = ""


@dataclass(frozen=True, eq=False)
class Preview(Record):
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
class JobFinished(Record):
    """A job ended well; ``result`` is an :class:`EditResult`, :class:`EditPlan`,
    :class:`SegmentResult` or, for downloads, a tuple of installed folders."""

    KIND: ClassVar[str] = "finished"

    job_id: str
    result: object


@dataclass(frozen=True)
class JobFailed(Record):
    """A job failed. ``error`` is one clear line; ``hint`` says what the user can do about it."""

    KIND: ClassVar[str] = "failed"

    job_id: str
    error: str
    hint: str = ""
    kind: str = "error"  # "missing-models", "out-of-memory", "bad-input", "error"


@dataclass(frozen=True)
class JobCancelled(Record):
    KIND: ClassVar[str] = "cancelled"

    job_id: str


@dataclass(frozen=True)
class EngineStatus(Record):
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
