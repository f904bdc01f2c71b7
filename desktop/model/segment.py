"""SAM clicks: the object under the clicks becomes the mask, only the latest click counts."""

from __future__ import annotations

from typing import Any

from desktop.engine_client import SegmentRequest, SegmentResult, mask_ops
from desktop.model.jobs import Job


class SegmentClicks:
    """The model's SAM clicks: each a background job (not the model's busy state, no progress line);
    a newer click cancels the one before; the mask lands as one "SAM select" step when the document
    is still the one clicked, at the same size."""

    def __init__(self, model: Any):
        self.model = model
        self._seq = 0
        self._size: tuple[int, int] | None = None  # the canvas the latest click was on
        self._job: Job | None = None

    def click(self, doc: Any, points, labels, box=None) -> None:
        if self._job is not None and self._job.id is not None:
            self.model.client.cancel(self._job.id)  # only the latest click counts
        self._seq += 1
        seq = self._seq
        self._size = (doc.height, doc.width)
        points = tuple((float(x), float(y)) for x, y in points)
        labels = tuple(int(v) for v in labels)
        box = None if box is None else tuple(float(v) for v in box)
        key = self.model.jobs.snapshots.key(doc)
        job = Job("segment", background=True)
        job.on_done = lambda result: self._done(job, doc, result)
        job.on_failed = job.on_cancelled = lambda *_: self._forget(job)
        self._job = job

        def make(image):
            if seq != self._seq:
                return None  # a newer click came while the image was composited
            return SegmentRequest(image=image, points=points, labels=labels, box=box, image_key=key)

        self.model.jobs.prepare(doc, None, job, make)

    def _forget(self, job: Job) -> None:
        if job is self._job:
            self._job = None

    def _done(self, job: Job, doc: Any, result: SegmentResult) -> None:
        if job is not self._job:
            return
        self._job = None
        if not self.model._still_current(doc) or self._size != (doc.height, doc.width):
            return  # another document, or the canvas was cropped or expanded since the click
        mask = mask_ops.as_mask(result.mask)
        if mask.shape != (doc.height, doc.width):
            mask = mask_ops.resize(mask, doc.width, doc.height)
        doc.set_mask(mask, label="SAM select")
        self.model.segment_ready.emit(result)
