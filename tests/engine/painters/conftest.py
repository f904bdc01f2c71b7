"""Fixtures for the painter tests: a tiny klein folder in the published layout, real photos."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def klein_dir(tmp_path_factory) -> Path:
    from tiny_klein import write_tiny_klein

    return write_tiny_klein(tmp_path_factory.mktemp("klein") / "FLUX.2-klein-4B")


@pytest.fixture(scope="session")
def klein_pipes(klein_dir):
    from engine.painters.klein import load_klein

    return load_klein(klein_dir, device="cpu")


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    from skimage import data

    return data.chelsea()[:200, :280].copy()  # 280 x 200
