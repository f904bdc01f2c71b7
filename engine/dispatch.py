"""The engine dispatcher: turns one request into one result, owning the loaded models.

:class:`Engine` is what the worker thread of :mod:`engine.service` drives, and what the headless CLI
calls directly. It loads models lazily on first use and keeps them (one of each kind) until the
configuration changes. Nothing here imports torch at module import time.

Choosing the painter (``EditParams.engine``)
--------------------------------------------
``"brushedit"``
    BrushNet on SD1.5. Needs the base and BrushNet weights; runs on CUDA when there is a GPU, else on
    the CPU (slowly: the user asked for it by name).
``"fill"``
    The classical fill (exemplar PatchMatch, or OpenCV Telea/NS): no weights, only sensible for removals.
``"lama"``
    LaMa (big-lama, :mod:`engine.fill.lama`): removal in seconds on any machine; needs its weights.
``"auto"``
    For a removal, LaMa when its weights are found, with BrushNet repainting LaMa's fill at
    ``params.removal_strength`` when BrushEdit is ready too (:mod:`engine.removal`). Otherwise
    BrushEdit when its weights are found *and* a usable device exists. A usable device is a CUDA
    GPU, or the CPU when the configuration says ``device="cpu"`` explicitly: with ``device="auto"``
    and no GPU, fifty SD1.5 steps on a CPU take minutes per candidate, which is not what a user who
    did not ask for it expects. Otherwise the fill engine for removals (a request whose category is
    ``"removal"``, or a plain painted mask with no prompt and no category), else
    :class:`~engine.api.MissingModelsError` naming the weights to download (or an
    :class:`~engine.api.EngineError` saying there is no usable device).

CPU threads in the editor
-------------------------
The editor's engine (``Engine(..., leave_core_for_gui=True)``, as :mod:`engine.service` builds it)
sets ``torch.set_num_threads(cores - 1)`` once, the first time a model loads on the CPU, so the
window keeps a core and stays responsive while the CPU paints. ``BRUSHEDIT_THREADS=N`` sets the
count instead; with ``OMP_NUM_THREADS`` set, torch's own choice is left alone. The CLI uses every
core.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from engine.api import (
    DownloadRequest,
    EngineError,
    InpaintRequest,
    MissingModelsError,
    PlanRequest,
    SegmentRequest,
)
from engine.config import (  # noqa: F401  (EngineConfig stays importable from engine.dispatch)
    DEFAULT_BASE,
    DEFAULT_BRUSHNET,
    DEFAULT_GROUNDING,
    DEFAULT_INSTRUCTOR_MODEL,
    DEFAULT_LAMA,
    DEFAULT_SAM,
    EngineConfig,
)
from engine.models.states import explaining_models  # errors that say missing / incomplete / corrupt

log = logging.getLogger("brushedit.engine")

ProgressFn = Callable[..., None]
PreviewFn = Callable[..., None]
CancelledFn = Callable[[], bool]

def is_removal(request: InpaintRequest) -> bool:
    """True when the request erases (the fill engine can do it): a removal, or a bare painted mask."""
    if request.category:
        return request.category == "removal"
    return not request.prompt.strip()


def _no_nvidia_driver() -> bool:
    """True on Linux when no NVIDIA kernel driver is loaded (nor WSL's GPU bridge): CUDA cannot run."""
    return sys.platform.startswith("linux") and not any(
        os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/nvidia0", "/dev/dxg"))


def cuda_available() -> bool:
    """Whether torch sees a CUDA device. Imports torch, unless torch is not loaded yet and the machine
    has no NVIDIA driver at all: then the answer is no, and a fill edit or an ``auto`` plan on a CPU
    machine does not pay torch's start-up to learn it."""
    if "torch" not in sys.modules and _no_nvidia_driver():
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


THREADS_ENV = "BRUSHEDIT_THREADS"
STAGED_ENV = "BRUSHEDIT_STAGED"  # "1": the staged model path on any device (see Engine.staged)
_threads_set = False


def cpu_thread_count(cpu_count: int | None = None, environ: Any = None) -> int | None:
    """The torch thread count for an engine that shares the machine with the editor, or ``None``.

    ``BRUSHEDIT_THREADS`` (a positive integer) wins; when ``OMP_NUM_THREADS`` is set the user (or
    their launcher) chose already, so torch is left alone (``None``); otherwise every core but one,
    so the window keeps a core to repaint and stays responsive while the CPU paints.
    """
    environ = os.environ if environ is None else environ
    wanted = str(environ.get(THREADS_ENV, "")).strip()
    if wanted:
        try:
            return max(1, int(wanted))
        except ValueError:
            log.warning("%s=%r is not a number; ignored", THREADS_ENV, wanted)
    if str(environ.get("OMP_NUM_THREADS", "")).strip():
        return None
    count = os.cpu_count() if cpu_count is None else cpu_count
    return max(1, (count or 2) - 1)


def limit_cpu_threads() -> int | None:
    """Apply :func:`cpu_thread_count` to torch, once per process; returns the count set (or ``None``).

    Called by an engine that runs on the CPU inside the editor (not by the CLI, which may take every
    core). Imports torch: only call it when torch work is about to run anyway.
    """
    global _threads_set
    if _threads_set:
        return None
    _threads_set = True
    threads = cpu_thread_count()
    if threads is None:
        return None
    import torch

    torch.set_num_threads(threads)
    log.info("CPU engine: %d torch threads (one core left to the editor)", threads)
    return threads


class Engine:
    """Dispatch requests to the painters, the instructor and SAM; own the loaded models.

    Parameters
    ----------
    config : EngineConfig, optional
        Where the weights are and where to run.
    leave_core_for_gui : bool
        Running inside the editor: when the device is the CPU, use one torch thread fewer than the
        cores (see :func:`cpu_thread_count`; ``BRUSHEDIT_THREADS`` or ``OMP_NUM_THREADS`` override it).

    Notes
    -----
    Not thread-safe: one thread (the service's worker, or the CLI's main thread) drives it.
    """

    def __init__(self, config: EngineConfig | None = None, *, leave_core_for_gui: bool = False) -> None:
        self.config = config or EngineConfig()
        self.leave_core_for_gui = leave_core_for_gui
        self._cache: dict[str, tuple[Any, Any]] = {}  # kind -> (key, loaded object)
        self._residency: Any = None  # engine.memory.residency.Residency, False when no card is managed
        self._paint_size = (640, 1)  # (working size, candidates) of the last paint, for the plan

    # --- configuration --------------------------------------------------------------------

    def set_config(self, config: EngineConfig) -> None:
        """Use ``config`` from the next request on; loaded models whose key changed are dropped."""
        old, self.config = self.config, config
        # Cache keys include paths and device, so stale entries would simply miss; a device or
        # dtype change drops them now to free memory instead of at the next load of each kind.
        if (old.device, old.dtype, old.cpu_offload) != (config.device, config.dtype, config.cpu_offload):
            self.unload()
        self._residency = None  # re-planned at the next stage, for the new configuration

    def unload(self) -> None:
        """Forget every loaded model (and free GPU memory when torch is loaded)."""
        self._cache.clear()
        self._residency = None
        empty_cuda_cache()

    # --- memory plan ------------------------------------------------------------------------

    def memory_plan(self):
        """The :class:`engine.memory.MemoryPlan` for this card and configuration, or ``None`` on the
        CPU (unless ``vram_gb`` is set): which instructor runs, and what leaves the card after its stage."""
        from engine.memory.engine_hook import plan_for_engine

        cuda = self.config.device != "cpu" and cuda_available()
        return plan_for_engine(self.config, cuda, *self._paint_size)

    def _enter_stage(self, kind: str) -> None:
        """A model of ``kind`` is about to be used: apply the plan to the other loaded models."""
        import sys

        if self._residency is None and "torch" not in sys.modules:
            return  # no torch, so no model on a card yet: plan when the first one loads
        if self._residency is None:
            plan = self.memory_plan()
            from engine.memory.residency import Residency

            self._residency = Residency(plan.after_stage(), self.device()) if plan is not None else False
        if self._residency:
            self._residency.enter(kind, self._cache)

    def _plan_paint(self, params) -> None:
        """Re-plan when a paint's working size or candidates change what fits beside the painter."""
        size = (int(params.working_size), int(params.num_candidates))
        if size != self._paint_size:
            self._paint_size = size
            if self._residency:
                self._residency.after = self.memory_plan().after_stage()

    # --- locating weights -----------------------------------------------------------------

    def _resolve(self, explicit: str | Path | None, name: str) -> tuple[Path | None, str]:
        """``(path, manifest name)``: the explicit path, else ``name``, else another installed model
        of the same kind (defaults first), so a user with only ``sam-vit-b`` still gets SAM."""
        if explicit:
            return Path(explicit).expanduser(), ""
        from engine.models import MANIFEST, find_model

        found = find_model(name, self.config.model_dirs)
        if found is not None:
            return found.path, name
        spec = MANIFEST.get(name)
        if spec is None:
            return None, name
        others = sorted((s for s in MANIFEST.values() if s.kind == spec.kind and s.name != name),
                        key=lambda s: not s.default)
        for other in others:
            found = find_model(other.name, self.config.model_dirs)
            if found is not None:
                log.info("%s not found, using %s", name, other.name)
                return found.path, other.name
        return None, name

    def _locate(self, explicit: str | Path | None, name: str) -> Path | None:
        return self._resolve(explicit, name)[0]

    def base_model_dir(self) -> Path | None:
        """The SD1.5 base folder to use, or ``None`` when not found."""
        return self._locate(self.config.base_model_dir, self.config.base_model)

    def brushnet_dir(self) -> Path | None:
        """The BrushNet folder to use, or ``None`` when not found."""
        return self._locate(self.config.brushnet_dir, self.config.brushnet_model)

    def sam_checkpoint(self) -> tuple[Path | None, str | None]:
        """``(checkpoint, segment_anything model type or None)`` of the SAM to use."""
        path, name = self._resolve(self.config.sam_path, self.config.sam_model)
        from engine.models import MANIFEST

        spec = MANIFEST.get(name) if name else None
        if path is not None and path.is_dir() and spec is not None:
            path = path / spec.files[0]
        return path, (spec.sam_type or None) if spec is not None else None

    def sam_path(self) -> Path | None:
        """The SAM checkpoint to use, or ``None`` when not found."""
        return self.sam_checkpoint()[0]

    def grounding_dir(self) -> Path | None:
        """The GroundingDINO folder to use, or ``None`` when not found."""
        return self._locate(self.config.grounding_dir, self.config.grounding_model)

    def lama_path(self) -> Path | None:
        """The LaMa safetensors file to use, or ``None`` when not installed."""
        path = self._locate(self.config.lama_path, self.config.lama_model)
        if path is not None and path.is_dir():
            from engine.models import MANIFEST

            path = path / MANIFEST[self.config.lama_model].files[0]
        return path

    def lama(self, on_progress: ProgressFn | None = None):
        """The loaded LaMa (cached); float32 unless the configuration sets a dtype."""
        path = self.lama_path()
        if path is None:
            raise MissingModelsError([self.config.lama_model],
                                     message="LaMa is not installed: brushedit models import lama FILE")
        device = self.device()
        dtype = self.config.dtype or "float32"  # half only when asked: its CUDA parity is unmeasured here

        def load():
            from engine.fill.lama import load_lama

            return load_lama(path, device=device, dtype=_torch_dtype(dtype))

        return self._cached("lama", (str(path), device, dtype), load, on_progress)

    def device(self) -> str:
        """The torch device requests run on: ``"cuda"`` or ``"cpu"`` (imports torch unless ``cpu``).

        Raises
        ------
        EngineError
            ``device="cuda"`` and no CUDA device (kind ``"no-device"``).
        """
        if self.config.device == "auto":
            device = "cuda" if cuda_available() else "cpu"
        elif self.config.device == "cuda" and not cuda_available():
            raise EngineError("device cuda was asked for, but no CUDA GPU is available",
                              hint="use device cpu (slow), or check the NVIDIA driver with: brushedit doctor",
                              kind="no-device")
        else:
            device = self.config.device
        if device == "cpu" and self.leave_core_for_gui:
            # Every model loader asks for the device first: the one place torch work on CPU begins.
            limit_cpu_threads()
        return device

    def has_usable_device(self) -> bool:
        """Whether ``auto`` may pick BrushEdit: a CUDA GPU, or the CPU when set explicitly."""
        if self.config.device == "cpu":
            return True
        return cuda_available()

    def brushedit_missing(self) -> list[str]:
        """Manifest names of the BrushEdit weights that are not found (empty when ready)."""
        missing = []
        if self.brushnet_dir() is None:
            missing.append(self.config.brushnet_model)
        if self.base_model_dir() is None:
            missing.append(self.config.base_model)
        return missing

    def choose_engine(self, request: InpaintRequest) -> tuple[str, str]:
        """Return ``(engine, reason)`` for ``request``; raise when nothing can paint it.

        Raises
        ------
        MissingModelsError
            BrushEdit is needed (not a removal, or asked by name) and its weights are missing.
        EngineError
            BrushEdit is needed and there is no usable device (kind ``"no-device"``).
        """
        wanted = request.params.engine
        if wanted == "fill":
            return "fill", "asked for the fill engine"
        if wanted == "lama":
            if self.lama_path() is None:
                raise MissingModelsError([self.config.lama_model],
                                         message="LaMa is not installed: brushedit models import lama FILE")
            return "lama", "asked for LaMa"
        missing = self.brushedit_missing()
        if wanted == "brushedit":
            if missing:
                raise MissingModelsError(missing)
            return "brushedit", "asked for BrushEdit"
        if wanted != "auto":
            raise ValueError(f"unknown engine {wanted!r} (auto, brushedit, fill or lama)")
        if is_removal(request) and self.lama_path() is not None:
            if not missing and self.has_usable_device():
                return "lama+brushedit", "removal: LaMa fills, BrushNet repaints from its fill"
            return "lama", "removal with LaMa"
        if not missing and self.has_usable_device():
            return "brushedit", "BrushEdit weights found and a usable device"
        if is_removal(request):
            why = "BrushEdit weights missing" if missing else "no GPU (set device cpu to use it)"
            return "fill", f"removal with the fill engine ({why})"
        if missing:
            raise MissingModelsError(
                missing,
                message="this edit needs BrushEdit and its weights are missing: " + ", ".join(missing),
            )
        raise EngineError(
            "this edit needs BrushEdit and there is no CUDA GPU",
            hint="pass --device cpu (slow) or use a removal with the fill engine",
            kind="no-device",
        )

    # --- handling requests -------------------------------------------------------------------

    def handle(
        self,
        request: object,
        on_progress: ProgressFn | None = None,
        on_preview: PreviewFn | None = None,
        is_cancelled: CancelledFn | None = None,
    ) -> object:
        """Run one request and return its result.

        Parameters
        ----------
        request : InpaintRequest, PlanRequest, SegmentRequest or DownloadRequest
            What to do.
        on_progress : callable, optional
            ``on_progress(step, total, stage="")``.
        on_preview : callable, optional
            ``on_preview(image, step, rect)`` with an ``H x W x 3`` uint8 preview of the image region
            ``rect`` ``(x, y, w, h)`` (``None``: the whole image).
        is_cancelled : callable, optional
            Polled between steps; when it returns True the job raises :class:`~engine.api.Cancelled`.

        Returns
        -------
        EditResult, EditPlan, SegmentResult or tuple of Path
            The result (downloads return the installed folders).
        """
        on_progress = on_progress or _ignore
        on_preview = on_preview or _ignore
        is_cancelled = is_cancelled or _never
        if isinstance(request, InpaintRequest):
            return self.inpaint(request, on_progress, on_preview, is_cancelled)
        if isinstance(request, PlanRequest):
            return self.plan(request, on_progress, is_cancelled)
        if isinstance(request, SegmentRequest):
            return self.segment(request, on_progress)
        if isinstance(request, DownloadRequest):
            return self.download(request, on_progress)
        raise ValueError(f"unknown request type {type(request).__name__}")

    @explaining_models
    def inpaint(self, request, on_progress=None, on_preview=None, is_cancelled=None):
        """Paint an :class:`~engine.api.InpaintRequest` with the engine :meth:`choose_engine` picks."""
        on_progress = on_progress or _ignore
        on_preview = on_preview or _ignore
        is_cancelled = is_cancelled or _never
        _check_inpaint_request(request)
        from engine.painters.choice import paint_if_klein  # the painter seam: klein when chosen

        painted = paint_if_klein(self, request, on_progress, on_preview, is_cancelled)
        if painted is not None:
            return painted
        engine, reason = self.choose_engine(request)
        log.info("job %s: %s", request.job_id, reason)
        request = self.resolve_candidates(request, diffusion=engine not in ("fill", "lama"))
        if engine in ("fill", "lama"):  # the seam's painters (engine.painters): their result says what ran
            from engine.painters import PaintJob
            from engine.painters.fill import FillPainter
            from engine.painters.lama import LamaPainter

            painter = FillPainter() if engine == "fill" else LamaPainter(self.lama(on_progress))
            return painter.paint(PaintJob.from_request(request), on_progress=on_progress,
                                 is_cancelled=is_cancelled).result
        self._plan_paint(request.params)
        if engine == "lama+brushedit":
            from engine.removal import run_lama_then_brushnet

            lama = self.lama(on_progress)
            return run_lama_then_brushnet(lama, self.pipeline(on_progress), request, on_progress=on_progress,
                                          on_preview=on_preview, is_cancelled=is_cancelled)
        pipe = self.pipeline(on_progress)
        from engine.painters.brushnet import BrushNetPainter  # run_inpaint, saying what ran

        return BrushNetPainter(pipe).paint_request(
            request, on_progress=on_progress, on_preview=on_preview, is_cancelled=is_cancelled
        )

    def resolve_candidates(self, request: InpaintRequest, diffusion: bool = True,
                           painter: str = "brushnet") -> InpaintRequest:
        """``request`` with ``num_candidates=AUTO_CANDIDATES`` replaced by the count to paint: 4 where
        the memory plan fits them, else fewer (:func:`engine.memory.candidates.auto_candidates`); 1
        for the fill engine and LaMa alone."""
        from engine.api import AUTO_CANDIDATES

        p = request.params
        if p.num_candidates != AUTO_CANDIDATES:
            return request
        n, why = 1, "a fill paints one candidate unless asked for more"
        if diffusion:
            from engine.memory.candidates import auto_candidates
            from engine.memory.engine_hook import plan_for_engine

            cuda = self.config.device != "cpu" and cuda_available()
            size = int(p.klein_working_size if painter == "klein" else p.working_size)
            n, why = auto_candidates(lambda k: plan_for_engine(self.config, cuda, size, k, painter=painter,
                                                               quiet=True))
        log.info("job %s: %d candidate(s): %s", request.job_id, n, why)
        return replace(request, params=replace(p, num_candidates=n))

    def pipeline(self, on_progress: ProgressFn | None = None):
        """The BrushNet pipeline for the current configuration (loaded once, then cached)."""
        missing = self.brushedit_missing()
        if missing:
            raise MissingModelsError(missing)
        base, brushnet = self.base_model_dir(), self.brushnet_dir()
        device = self.device()
        plan = self.memory_plan() if self._managed() else None
        cpu_offload = self.config.cpu_offload or bool(plan is not None and plan.paint_offload)
        key = (str(base), str(brushnet), device, self.config.dtype, cpu_offload)

        def load():
            from engine.brushnet import load_pipeline

            return load_pipeline(
                base, brushnet, device=device, dtype=_torch_dtype(self.config.dtype),
                cpu_offload=cpu_offload,
            )

        return self._cached("brushnet", key, load, on_progress)

    @explaining_models
    def plan(self, request: PlanRequest, on_progress=None, is_cancelled=None):
        """Ask the instructor for an :class:`~engine.api.EditPlan` (segmentation models if found)."""
        on_progress = on_progress or _ignore
        from engine import instructor

        from engine.instructor_choice import instructor_report, resolve_instructor

        requested = request.backend or self.config.instructor
        name, model, why = resolve_instructor(self, requested)  # "auto": the VLM where it fits, else offline
        backend = self.instructor_backend(name, on_progress)
        needs_card = name == "local" or self.grounding_dir() is not None or self.sam_path() is not None
        if needs_card and self.staged():  # (no torch import for an offline plan without detectors)
            # Each stage's model comes onto the card at its first use, not all at once up front.
            from engine.instructor.backends.base import BackendHandle
            from engine.memory.residency import StagedModel

            if name == "local":
                backend = BackendHandle(lambda: self.instructor_backend(name), backend.name)
            detector = StagedModel(lambda: self.detector(on_progress)) if self.grounding_dir() else None
            segmenter = StagedModel(lambda: self.segmenter(on_progress)) if self.sam_path() else None
        else:
            detector, segmenter = self.detector(on_progress), self.segmenter(on_progress)
        result = instructor.plan(
            request.image, request.instruction, backend,
            detector=detector, segmenter=segmenter, on_progress=on_progress,
            protected=tuple(getattr(request, "protected", ()) or ()),
            painted=getattr(request, "mask", None),
        )
        from dataclasses import replace

        if name == "local" and self._managed():  # say which instructor the card got, and why
            result = replace(result, notes=tuple(result.notes) + (f"memory plan: {self.memory_plan().summary}",))
        report = instructor_report(requested, name, model, why, result)
        if report.why and report.used == "offline" and name != "offline":
            log.warning("instructor %s not used: %s", model or name, report.why)
        return replace(result, instructor=report)

    def instructor_backend(self, name: str, on_progress=None):
        """The loaded instructor backend ``name`` (``offline`` needs no weights)."""
        settings = dict(self.config.instructor_settings)
        model_name, precision = self.instructor_choice() if name == "local" else ("", "")
        if name == "local" and not settings.get("model_dir"):
            found = self._locate(None, model_name)
            if found is None:
                raise MissingModelsError([model_name])
            settings["model_dir"] = str(found)
        if name == "local":
            settings.setdefault("device", self.device())
            if precision == "4bit":
                settings["quantization"] = "nf4"
        key = (name, repr(sorted((k, str(v)) for k, v in settings.items())))

        def load():
            if settings.pop("quantization", None) == "nf4":
                from engine.memory.quantize import load_instructor_4bit

                extra = {k: settings[k] for k in ("max_new_tokens", "max_side") if k in settings}
                return load_instructor_4bit(settings["model_dir"], settings["device"], **extra)
            from engine.instructor.backends import load_backend

            return load_backend(name, **settings)

        return self._cached("instructor", key, load, on_progress)

    def instructor_choice(self) -> tuple[str, str]:
        """``(manifest name, "16bit" | "4bit")`` of the local instructor: the memory plan's pick on a
        managed card, else the configured model (the 7B for ``auto``) in 16 bits."""
        from engine.memory.engine_hook import instructor_for

        plan = self.memory_plan() if self._managed() else None
        return instructor_for(self.config, plan)

    def staged(self) -> bool:
        """Whether the planner gets its models through stand-ins fetched at first use (the path every
        managed card runs); ``BRUSHEDIT_STAGED=1`` selects it anywhere, the CPU included (tests, doctor)."""
        return self._managed() or os.environ.get(STAGED_ENV, "").strip().lower() in ("1", "true", "yes")

    def _managed(self) -> bool:
        """Whether a memory plan manages this engine's card (CUDA, or a ``vram_gb`` budget)."""
        if self.config.vram_gb is not None:
            return True
        return self.config.device != "cpu" and cuda_available()

    def detector(self, on_progress=None):
        """The GroundingDINO detector, or ``None`` when its weights are not found."""
        path = self.grounding_dir()
        if path is None:
            return None
        device = self.device()

        def load():
            from engine.segment.grounding import load_grounding_dino

            return load_grounding_dino(path, device=device)

        return self._cached("grounding", (str(path), device), load, on_progress)

    def segmenter(self, on_progress=None):
        """The SAM segmenter, or ``None`` when its checkpoint is not found."""
        path, model_type = self.sam_checkpoint()
        if path is None:
            return None
        device = self.device()

        def load():
            from engine.segment.sam import SamSegmenter, load_sam

            return SamSegmenter(load_sam(path, model_type=model_type, device=device), device=device)

        return self._cached("sam", (str(path), device), load, on_progress)

    @explaining_models
    def segment(self, request: SegmentRequest, on_progress=None):
        """SAM's mask of the clicked object (:class:`~engine.api.SegmentResult`)."""
        segmenter = self.segmenter(on_progress)
        if segmenter is None:
            raise MissingModelsError([self.config.sam_model])
        return segmenter.segment(request)

    def download(self, request: DownloadRequest, on_progress=None):
        """Download manifest models; returns the installed folders."""
        from engine.models import download

        return tuple(download(list(request.names), progress=on_progress, settings=self.config.model_dirs,
                              source=self.config.download_source))

    # --- helpers -----------------------------------------------------------------------------

    def _cached(self, kind: str, key: Any, load: Callable[[], Any], on_progress=None) -> Any:
        if kind != "instructor" or key[0] == "local":  # the offline/OpenAI instructors hold no GPU memory
            self._enter_stage(kind)  # the memory plan moves the other stages' models off the card first
        held = self._cache.get(kind)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:  # a different model of this kind: free it before loading the next
            del self._cache[kind]
            held = None
            if self._residency:
                self._residency.forget(kind)
            empty_cuda_cache()
        if on_progress is not None:
            on_progress(0, 1, f"loading {kind}")
        obj = load()
        self._cache[kind] = (key, obj)
        if on_progress is not None:
            on_progress(1, 1, f"loading {kind}")
        return obj


def _check_inpaint_request(request: InpaintRequest) -> None:
    import numpy as np

    image, mask = np.asarray(request.image), np.asarray(request.mask)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"the image must be H x W x 3 uint8, got {image.shape} {image.dtype}")
    if mask.shape[:2] != image.shape[:2]:
        raise ValueError(f"the mask is {mask.shape[1]}x{mask.shape[0]}, the image "
                         f"{image.shape[1]}x{image.shape[0]}")
    if not mask.any():
        raise ValueError("the mask is empty: paint or select the region to edit")


def _torch_dtype(name: str | None):
    if name is None:
        return None
    import torch

    return {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[name]


def empty_cuda_cache() -> None:
    """Return cached CUDA memory to the driver when torch is loaded (never imports torch)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # pragma: no cover - best effort
            pass


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


def _never() -> bool:
    return False

