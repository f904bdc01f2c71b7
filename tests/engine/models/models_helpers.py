"""Helpers for the models tests: small, well-formed copies of manifest entries."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np


def write_fake_file(path: Path, rel: str) -> None:
    """A small but well-formed file of the kind ``rel`` names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if rel.endswith(".index.json"):
        path.write_text(json.dumps({"weight_map": {}}))
    elif rel.endswith(".json"):
        path.write_text(json.dumps({"name": rel}))
    elif rel.endswith(".safetensors"):
        from safetensors.numpy import save_file

        save_file({"w": np.arange(16, dtype=np.float32).reshape(4, 4)}, str(path))
    elif rel.endswith((".pth", ".pt", ".bin", ".ckpt")):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("archive/data.pkl", b"fake")
    else:
        path.write_text(f"content of {rel}\n")


def make_model_folder(folder: Path, spec) -> Path:
    """Write every file of ``spec`` (well-formed, tiny) into ``folder``."""
    for rel in spec.files:
        write_fake_file(folder / rel, rel)
    return folder
