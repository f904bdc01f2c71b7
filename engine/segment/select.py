"""Choose among several detections with the instruction's spatial words ("left", "largest")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Detection:
    """One detected object: ``box`` ``(x0, y0, x1, y1)`` in image pixels, ``score`` 0..1, ``label``."""

    box: tuple[float, float, float, float]
    score: float
    label: str = ""

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0


def _key(word: str, image_size: tuple[int, int] | None):
    """A sort key (smaller = better) for one spatial word, or None if the word is unknown."""
    h, w = image_size if image_size else (1.0, 1.0)
    cx, cy = (w / 2.0, h / 2.0)
    keys = {
        "left": lambda d: d.center[0],
        "right": lambda d: -d.center[0],
        "top": lambda d: d.center[1],
        "bottom": lambda d: -d.center[1],
        "center": lambda d: (d.center[0] - cx) ** 2 + (d.center[1] - cy) ** 2,
        "largest": lambda d: -d.area,
        "smallest": lambda d: d.area,
        # Nearer objects are lower in the frame and bigger; farther ones higher and smaller.
        "front": lambda d: -(d.box[3] + 0.5 * d.area ** 0.5),
        "back": lambda d: d.box[3] + 0.5 * d.area ** 0.5,
    }
    return keys.get(word)


def rank_detections(detections: Sequence[Detection], spatial: str | None = None,
                    image_size: tuple[int, int] | None = None) -> list[Detection]:
    """Order detections best first: by the spatial qualifier if any, else by score.

    Parameters
    ----------
    detections : sequence of Detection
    spatial : str, optional
        "left", "right", "top", "bottom", "center", "front", "back", "largest", "smallest", or two
        words ("top left"): the first-named position wins, the second breaks near-ties.
    image_size : (H, W), optional
        Needed for "center".
    """
    dets = list(detections)
    words = [w for w in (spatial or "").lower().replace("-", " ").split() if _key(w, image_size)]
    if not dets or not words:
        return sorted(dets, key=lambda d: -d.score)
    keys = [_key(w, image_size) for w in words]
    return sorted(dets, key=lambda d: tuple(k(d) for k in keys) + (-d.score,)
                  if len(keys) == 1 else (sum(k(d) for k in keys), -d.score))


def choose_detection(detections: Sequence[Detection], spatial: str | None = None,
                     image_size: tuple[int, int] | None = None) -> Detection | None:
    """The detection the instruction means, or None when there are none."""
    ranked = rank_detections(detections, spatial, image_size)
    return ranked[0] if ranked else None
