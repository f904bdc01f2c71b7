"""The preferences record: how the engine runs, saved in the window's ``QSettings``.

:class:`Preferences` loads from and saves to the settings (group ``preferences``; the instructor
shares ``instruction/instructor`` with the instruction panel, so the panel's choice and the dialog's
are one setting) and builds the ``EngineConfig`` the engine runs with. The API key of an
OpenAI-compatible endpoint lives in memory only: never saved, never in ``repr`` or the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop.ui.lazy_engine import engine_config, model_names, model_path_status

DEVICES = (("Auto — the GPU when there is one", "auto"), ("GPU (CUDA)", "cuda"),
           ("CPU — slow: minutes per edit", "cpu"))
INSTRUCTORS = (("Auto — the local VLM where it is installed and fits the card, else rules", "auto"),
               ("Offline (rules, no model)", "offline"), ("Local VLM (Qwen2-VL)", "local"),
               ("OpenAI-compatible endpoint", "openai"))
# The local VLM and its precision: label, EngineConfig.instructor_model, EngineConfig.instructor_precision.
# "Auto" lets the engine's memory plan pick the best that fits the GPU (brushedit doctor shows it).
LOCAL_INSTRUCTORS = (("Auto — the best that fits the GPU", "auto", "auto"),
                     ("Qwen2-VL-7B, 16-bit (24 GB cards)", "qwen2-vl-7b", "16bit"),
                     ("Qwen2-VL-7B, 4-bit (12-16 GB; needs bitsandbytes)", "qwen2-vl-7b", "4bit"),
                     ("Qwen2-VL-2B, 16-bit (8 GB cards)", "qwen2-vl-2b", "16bit"))
# kind, label, "folder"/"file", what to choose, EngineConfig field of its manifest name
MODEL_KINDS = (
    ("sd15-base", "Stable Diffusion 1.5", "folder",
     "A diffusers-format SD1.5 folder (model_index.json, unet/, vae/, text_encoder/…)", "base_model"),
    ("brushnet", "BrushNet", "folder",
     "A BrushNet folder (config.json, diffusion_pytorch_model.safetensors)", "brushnet_model"),
    ("sam", "SAM checkpoint", "file", "A Segment Anything checkpoint (sam_vit_h_4b8939.pth, …)", "sam_model"),
    ("grounding", "GroundingDINO", "folder", "A transformers GroundingDINO folder", "grounding_model"),
    ("instructor", "Instructor VLM", "folder", "A Qwen2-VL-Instruct folder (for the local instructor)",
     "instructor_model"),
)
DEFAULT_AUTOSAVE_MINUTES = 3
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o"
KEY_ENV = ("BRUSHEDIT_API_KEY", "OPENAI_API_KEY")
INSTRUCTOR_KEY = "instruction/instructor"  # shared with the instruction panel: one setting


@dataclass
class Preferences:
    """How the engine runs; ``api_key`` lives in memory only (never saved, never in ``repr``)."""

    device: str = "auto"
    cpu_offload: bool = False
    model_paths: dict = field(default_factory=dict)  # kind -> folder or file ("" = automatic)
    instructor: str = "auto"
    base_url: str = ""
    model: str = ""
    autosave_minutes: int = DEFAULT_AUTOSAVE_MINUTES
    api_key: str = field(default="", repr=False, compare=False)
    instructor_model: str = "auto"      # see LOCAL_INSTRUCTORS
    instructor_precision: str = "auto"

    @classmethod
    def load(cls, settings: Any) -> "Preferences":
        """Read the saved preferences (missing or bad values keep the defaults)."""
        d = cls()

        def text(key: str, default: str) -> str:
            value = settings.value(key)
            return default if value is None else str(value)

        device = text("preferences/device", d.device)
        instructor = text(INSTRUCTOR_KEY, d.instructor)
        try:
            minutes = int(settings.value("preferences/autosave_minutes", d.autosave_minutes))
        except (TypeError, ValueError):
            minutes = d.autosave_minutes
        offload = settings.value("preferences/cpu_offload", False)
        local = (text("preferences/instructor_model", d.instructor_model),
                 text("preferences/instructor_precision", d.instructor_precision))
        if local not in [(m, p) for _, m, p in LOCAL_INSTRUCTORS]:
            local = (d.instructor_model, d.instructor_precision)
        return cls(
            device=device if device in dict((v, k) for k, v in DEVICES) else d.device,
            cpu_offload=offload if isinstance(offload, bool) else str(offload).lower() in ("true", "1"),
            model_paths={kind: text(f"preferences/models/{kind}", "") for kind, *_ in MODEL_KINDS
                         if text(f"preferences/models/{kind}", "")},
            instructor=instructor if instructor in dict((v, k) for k, v in INSTRUCTORS) else d.instructor,
            base_url=text("preferences/openai_base_url", ""),
            model=text("preferences/openai_model", ""),
            autosave_minutes=max(1, min(60, minutes)),
            instructor_model=local[0], instructor_precision=local[1],
        )

    def save(self, settings: Any) -> None:
        """Write everything but the API key."""
        settings.setValue("preferences/device", self.device)
        settings.setValue("preferences/cpu_offload", bool(self.cpu_offload))
        for kind, *_ in MODEL_KINDS:
            settings.setValue(f"preferences/models/{kind}", self.model_paths.get(kind, ""))
        settings.setValue(INSTRUCTOR_KEY, self.instructor)
        settings.setValue("preferences/openai_base_url", self.base_url)
        settings.setValue("preferences/openai_model", self.model)
        settings.setValue("preferences/autosave_minutes", int(self.autosave_minutes))
        settings.setValue("preferences/instructor_model", self.instructor_model)
        settings.setValue("preferences/instructor_precision", self.instructor_precision)

    def model_dirs(self) -> dict[str, str]:
        """The chosen paths as ``EngineConfig.model_dirs`` (manifest name -> folder or file).

        A usable path is filed under the model it holds (so a ViT-B checkpoint loads as ViT-B);
        an unusable one under the default of its kind, where the engine skips it and falls back to
        the copy it finds itself."""
        return {name: path for name, path in self._resolved().values()}

    def engine_config(self) -> Any:
        """The ``EngineConfig`` these preferences describe (API key included, in memory)."""
        names: dict[str, str] = {}
        resolved = self._resolved()
        for kind, _label, _pick, _what, config_field in MODEL_KINDS:
            if kind in resolved:
                names[config_field] = resolved[kind][0]
        names.setdefault("instructor_model", self.instructor_model)  # a chosen folder says which model
        settings: dict[str, str] = {}
        if self.base_url.strip():
            settings["base_url"] = self.base_url.strip()
        if self.model.strip():
            settings["model"] = self.model.strip()
        if self.api_key:
            settings["api_key"] = self.api_key
        return engine_config(
            device=self.device, cpu_offload=bool(self.cpu_offload), instructor=self.instructor,
            instructor_settings=settings, model_dirs=self.model_dirs(),
            instructor_precision=self.instructor_precision, **names,
        )

    def _resolved(self) -> dict[str, tuple[str, str]]:
        """kind -> (manifest name, path) for every chosen path."""
        out = {}
        for kind, *_ in MODEL_KINDS:
            path = (self.model_paths.get(kind) or "").strip()
            if not path:
                continue
            status = model_path_status(kind, path)
            out[kind] = (status.name if status.usable and status.name else model_names(kind)[0], path)
        return out


def has_saved_preferences(settings: Any) -> bool:
    """Whether the user ever applied preferences (else a given client keeps its own configuration)."""
    return settings.contains("preferences/device")
