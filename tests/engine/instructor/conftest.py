import numpy as np
import pytest

from engine.api import SegmentResult
from masks import mask_ops as mo
from engine.segment.select import Detection


@pytest.fixture(scope="session")
def chelsea():
    from skimage import data
    return np.ascontiguousarray(data.chelsea())


class FakeDetector:
    """Scripted boxes per query word; records the queries."""

    def __init__(self, boxes=None):
        self.boxes = boxes or {}
        self.queries = []

    def detect(self, image, text, thresholds=None):
        self.queries.append(text)
        for word, dets in self.boxes.items():
            if word in text:
                return [Detection(tuple(map(float, b)), s, word) for b, s in dets]
        return []


class BoxSegmenter:
    """A SAM stand-in whose mask is exactly the box, so mask geometry can be checked."""

    def __init__(self):
        self.shape = None
        self.images = 0

    def set_image(self, image, key=None):
        self.shape = image.shape[:2]
        self.images += 1
        return True

    def masks_from_boxes(self, boxes):
        out = []
        for x0, y0, x1, y1 in boxes:
            out.append(mo.box_mask(self.shape, (int(x0), int(y0), int(x1 - x0), int(y1 - y0))))
        return out

    def predict(self, points=(), labels=(), box=None, multimask=True):
        h, w = self.shape
        x, y = points[0]
        return SegmentResult(mo.box_mask(self.shape, (int(x) - 20, int(y) - 20, 40, 40)), 1.0)


@pytest.fixture
def fake_detector():
    return FakeDetector({
        "cat": [((100, 50, 300, 250), 0.9), ((320, 60, 440, 200), 0.5)],
        "dog": [((10, 10, 60, 60), 0.8)],
        "person": [((150, 40, 330, 290), 0.7)],
    })


@pytest.fixture
def box_segmenter():
    return BoxSegmenter()
