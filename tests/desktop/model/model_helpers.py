"""Small helpers of the model tests."""

from __future__ import annotations

import numpy as np


def submitted(service, kind: str) -> list:
    """The requests of one type (``"PlanRequest"``, ``"InpaintRequest"``...) the fake was sent."""
    return [r for r in service.submitted if type(r).__name__ == kind]


def parses(service) -> list:
    return [q for q in service.answered if type(q).__name__ == "ParseRequest"]


def paint_a_box(doc, box=(10, 10, 40, 40)) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[y0:y1, x0:x1] = 255
    doc.set_mask(mask, label="Brush")
    return mask
