"""Helpers shared by the CLI tests (a uniquely named module: several folders have a conftest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def read_rgb(path) -> np.ndarray:
    """An image file as ``H x W x 3`` uint8."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
