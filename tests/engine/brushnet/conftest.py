"""Fixtures for the BrushNet tests: tiny random components and real photos from scikit-image."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_pipe():
    from tests.builders.brushnet import tiny_pipeline

    return tiny_pipeline(seed=0)


@pytest.fixture(scope="session")
def components():
    from tests.builders.brushnet import tiny_components

    return tiny_components(seed=0)


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    from skimage import data

    return data.chelsea()  # 300 x 451 x 3
