"""Text -> boxes with GroundingDINO through transformers (``GroundingDinoForObjectDetection``).

Like BrushEdit, the box threshold is lowered step by step (0.3 down to 0.05) until something is
found: one model run, the thresholds only change the post-processing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.api import MissingModelsError
from engine.segment.select import Detection

DEFAULT_THRESHOLDS = (0.3, 0.25, 0.2, 0.15, 0.1, 0.05)


def load_grounding_dino(directory: str | Path, device: str | None = None) -> "GroundingDetector":
    """Load a GroundingDINO folder in Hugging Face layout (``IDEA-Research/grounding-dino-tiny``).

    Raises
    ------
    engine.api.MissingModelsError
        When the folder or its ``config.json`` is missing.
    """
    directory = Path(directory)
    if not (directory / "config.json").is_file():
        name = "grounding-dino-base" if "base" in directory.name.lower() else "grounding-dino-tiny"
        raise MissingModelsError([name], f"GroundingDINO weights not found in {directory}")
    import torch
    from transformers import AutoProcessor, GroundingDinoForObjectDetection

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = GroundingDinoForObjectDetection.from_pretrained(str(directory), use_safetensors=True).to(device).eval()
    processor = AutoProcessor.from_pretrained(str(directory))
    return GroundingDetector(model, processor, device=device)


# "and" starts a second object only when a new noun phrase begins after it ("the cup and the
# glasses"); otherwise it is part of one name ("salt and pepper shaker", "black and white cat").
_DETERMINERS = r"(?:the|a|an|my|his|her|its|our|their|your|this|that|these|those|some|every|each)"
_SECOND_OBJECT = re.compile(rf"\s+and\s+(?={_DETERMINERS}\s)", re.I)


def phrases(text: str) -> list[str]:
    """The object phrases in a detection query, lower case.

    GroundingDINO separates phrases with "."; we also split on ";" and on an "and" that starts a
    new determined noun phrase. An object whose name holds "and" stays one phrase.
    """
    parts: list[str] = []
    for chunk in re.split(r"\s*[.;]\s*", str(text).lower()):
        parts += _SECOND_OBJECT.split(chunk)
    parts = [p.strip(" .,;") for p in parts]
    return [p for p in parts if p]


def prompt_text(text: str) -> str:
    """GroundingDINO wants lower-case phrases each ended by a dot: "red car. dog."."""
    return " ".join(p + "." for p in phrases(text)) or "object."


def _nms(dets: list[Detection], iou: float = 0.7) -> list[Detection]:
    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(_iou(d.box, k.box) < iou for k in kept):
            kept.append(d)
    return kept


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class GroundingDetector:
    """Open-vocabulary detection: ``detect(image, "red car")`` -> boxes, best first.

    Parameters
    ----------
    model : transformers.GroundingDinoForObjectDetection
    processor : transformers.GroundingDinoProcessor
    device : str, optional
    """

    def __init__(self, model, processor, device: str | None = None) -> None:
        self.model = model.eval()
        self.processor = processor
        if device is not None:
            self.model.to(device)
        self.device = next(self.model.parameters()).device

    def detect(self, image: np.ndarray, text: str,
               thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> list[Detection]:
        """Boxes of ``text`` in ``image``, lowering the threshold until something is found.

        Parameters
        ----------
        image : ndarray
            ``H x W x 3`` uint8 RGB.
        text : str
            The object phrase ("red car"); several objects may be joined with "." or with "and"
            before a new determined phrase ("the cup and the glasses"); see :func:`phrases`.
        thresholds : sequence of float
            Box-score thresholds tried in order.

        Returns
        -------
        list of Detection
            Boxes ``(x0, y0, x1, y1)`` clipped to the image, highest score first, overlapping
            duplicates removed; empty when nothing passed the lowest threshold.
        """
        import torch

        image = np.asarray(image)
        h, w = image.shape[:2]
        inputs = self.processor(images=image, text=prompt_text(text), return_tensors="pt")
        inputs = {k: (v.to(self.device) if hasattr(v, "to") else v) for k, v in inputs.items()}
        with torch.inference_mode():
            outputs = self.model(**inputs)
        for thr in thresholds:
            results = self.processor.post_process_grounded_object_detection(
                outputs, inputs["input_ids"], threshold=float(thr), text_threshold=min(float(thr), 0.25),
                target_sizes=[(h, w)])[0]
            labels = results["text_labels"] if "text_labels" in results else results["labels"]
            dets = []
            for box, score, label in zip(results["boxes"].tolist(), results["scores"].tolist(), labels):
                x0, y0, x1, y1 = (min(max(box[0], 0.0), w), min(max(box[1], 0.0), h),
                                  min(max(box[2], 0.0), w), min(max(box[3], 0.0), h))
                if x1 - x0 >= 1 and y1 - y0 >= 1:
                    dets.append(Detection((x0, y0, x1, y1), float(score), str(label)))
            if dets:
                return _nms(dets)
        return []
