"""What a batch does (:class:`BatchSettings`) and what its caller provides for the files
(:class:`BatchFiles`): the two records :mod:`engine.batch.files` and :mod:`engine.batch.run` share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class BatchFiles(Protocol):
    """The document side of a batch: photos and masks in, results and atomic files out.

    :class:`desktop.document.result_files.DocumentFiles` is the one the CLI and the editor use."""

    def open_photo(self, path: Path, max_pixels: int) -> tuple[Any, np.ndarray, np.ndarray]:
        """``(photo, rgba, rgb)``: a handle for :meth:`write_layers`, its pixels, and RGB over white."""

    def read_mask(self, path: Path, width: int, height: int) -> np.ndarray:
        """A ``height x width`` uint8 mask (255 = repaint); raises ``ValueError`` for a file it cannot use."""

    def write_layers(self, out: Path, photo: Any, rgba: np.ndarray, layers: list, mask: np.ndarray | None
                     ) -> list[Path]:
        """Write :class:`engine.result_layers.ResultLayer` s to ``out`` (a layered .ora or a flattened image)."""

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically."""

    def remove_parts(self, folder: Path) -> None:
        """Remove the temporary files a killed run's atomic writes left under ``folder``."""


@dataclass
class BatchSettings:
    """What a batch does. ``params.seed`` is ignored: each photo's seed derives from ``base_seed``."""

    in_dir: Path
    out_dir: Path
    instruction: str = ""
    mask: Path | None = None
    params: Any = None  # engine.api.EditParams
    base_seed: int | None = None
    instructor: str = "auto"
    prompt: str | None = None
    negative: str | None = None
    recursive: bool = False
    fmt: str | None = None  # ".png", ... or None: the input's
    ora: bool = False
    max_pixels: int = 100_000_000
    resume: bool = False

    def pixel_settings(self) -> dict:
        """The settings a resumed run must share with the first one (they decide the pixels)."""
        p = self.params
        return {"instruction": self.instruction, "mask": str(self.mask) if self.mask else None,
                "instructor": self.instructor, "prompt": self.prompt, "negative": self.negative,
                "format": self.fmt, "ora": self.ora,
                "params": {k: v for k, v in _params_dict(p).items() if k not in ("seed", "negative_prompt")}}


def _params_dict(params: Any) -> dict:
    import dataclasses

    return {f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
