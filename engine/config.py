"""The engine's configuration: where the weights are, where to run, which instructor.

:class:`EngineConfig` is a frozen record that the editor's Preferences, the CLI's options and the
studio server build (through :func:`engine.connect.engine_config`) and the engine's owner
(:class:`engine.dispatch.Engine`) reads. Plain Python: importing it loads no model code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE = "sd15-realistic-vision"
DEFAULT_BRUSHNET = "brushnet-x"
DEFAULT_SAM = "sam-vit-h"
DEFAULT_GROUNDING = "grounding-dino-tiny"
DEFAULT_INSTRUCTOR_MODEL = "qwen2-vl-7b"
DEFAULT_LAMA = "lama"


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine needs to know to find and load its models.

    Parameters
    ----------
    base_model_dir, brushnet_dir, sam_path, grounding_dir : str or Path or None
        Explicit weights (a diffusers SD1.5 folder, a BrushNet folder, a SAM ``.pth``/``.safetensors``
        file, a transformers GroundingDINO folder). ``None`` finds them with :mod:`engine.models`
        (user folder, app models folder, Hugging Face cache).
    instructor : {"auto", "offline", "local", "openai"}
        Default instructor backend (a :class:`~engine.api.PlanRequest` names its own); ``auto`` is the
        local VLM where it is installed and fits the CUDA card, else the rule parser
        (:mod:`engine.instructor_choice`).
    instructor_settings : dict
        Keyword settings for the instructor backend (model folder, endpoint, ...). Never logged.
    device : {"auto", "cuda", "cpu"}
        Where torch work runs; ``"auto"`` means CUDA when available.
    cpu_offload : bool
        Keep model parts on the CPU until needed (less GPU memory, slower).
    dtype : {"float16", "bfloat16", "float32"} or None
        Weights dtype; ``None`` lets the loader choose (half on CUDA, float32 on CPU).
    base_model, brushnet_model, sam_model, grounding_model, instructor_model : str
        Manifest names used when the matching path is ``None``.
    model_dirs : dict
        Per-model user folders (manifest name -> folder), as saved in the settings.
    download_source : str or Path or None
        A local mirror (``<repo_id>/<subfolder>/`` layout) that downloads copy from instead of the
        Hub: for air-gapped sites.
    instructor_precision : {"auto", "16bit", "4bit"}
        The local instructor's weights; ``auto`` (and ``instructor_model="auto"``) lets the memory
        plan (:mod:`engine.memory`) pick the best instructor that fits the card.
    vram_gb : float or None
        The GPU memory to plan for; ``None`` reads the card (no plan on the CPU unless set).
    """

    base_model_dir: str | Path | None = None
    brushnet_dir: str | Path | None = None
    sam_path: str | Path | None = None
    grounding_dir: str | Path | None = None
    instructor: str = "auto"
    instructor_settings: dict = field(default_factory=dict, hash=False, repr=False)
    device: str = "auto"
    cpu_offload: bool = False
    dtype: str | None = None
    base_model: str = DEFAULT_BASE
    brushnet_model: str = DEFAULT_BRUSHNET
    sam_model: str = DEFAULT_SAM
    grounding_model: str = DEFAULT_GROUNDING
    instructor_model: str = "auto"
    model_dirs: dict = field(default_factory=dict, hash=False)
    download_source: str | Path | None = None
    instructor_precision: str = "auto"
    vram_gb: float | None = None
    lama_path: str | Path | None = None
    lama_model: str = DEFAULT_LAMA
    klein_dir: str | Path | None = None  # FLUX.2 [klein] folder (diffusers layout); None: found
    klein_model: str = "flux2-klein-4b"

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cuda", "cpu"):
            raise ValueError(f"device must be auto, cuda or cpu, not {self.device!r}")
        if self.instructor not in ("auto", "offline", "local", "openai"):
            raise ValueError(f"instructor must be auto, offline, local or openai, not {self.instructor!r}")
        if self.instructor_precision not in ("auto", "16bit", "4bit"):
            raise ValueError(f"instructor_precision must be auto, 16bit or 4bit, not {self.instructor_precision!r}")
