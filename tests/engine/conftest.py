"""Fixtures the engine's test folders share."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture()
def box_mask():
    """``make(shape, x, y, w, h)``: an ``H x W`` uint8 mask, 255 inside the box (BrushNet's and klein's tests)."""
    def make(shape, x, y, w, h):
        m = np.zeros(shape[:2], np.uint8)
        m[y:y + h, x:x + w] = 255
        return m

    return make
