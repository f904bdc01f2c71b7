"""Which caption paints a plan: one of the region when the painter crops, or of the whole frame.

BrushNet was trained with one caption of the whole picture, whatever the mask (``agent.md``), and the
BrushEdit demo always paints the whole photo, so its VLM writes the picture after the edit. We paint
a crop around the mask (the rest of a 24 MP photo stays bit for bit): there the whole picture's
caption names objects that are not in the crop, and the model paints them into the hole, worst for a
removal, where the caption lists the scene around what was removed. So the caption fits what is
painted: when the painter's default policy (:func:`engine.brushnet.resolution.plan_region`, crop
mode) crops, the plan carries the caption of the region (for a removal, the background that is left
there); when it paints the whole frame (a global edit, a new background, a mask over most of the
photo), the caption of the whole image, where there is one.
"""

from __future__ import annotations

import numpy as np

from engine.instructor.intent import Intent


def paints_whole_frame(mask: np.ndarray) -> bool:
    """Does the default (crop) policy paint the whole frame for ``mask``? (An empty mask: no.)"""
    from engine.brushnet.resolution import DEFAULT_WORKING_SIZE, plan_region

    if mask is None or not np.asarray(mask).any():
        return False
    h, w = mask.shape[:2]
    return plan_region(mask.shape, mask, "crop", DEFAULT_WORKING_SIZE).rect == (0, 0, w, h)


def caption_for(intent: Intent, mask: np.ndarray) -> tuple[str, str]:
    """``(caption, caption_of)`` to paint ``mask`` for ``intent``: ``"image"`` when the frame is whole
    and the intent has a caption of the whole image, else ``"region"`` (the region's caption)."""
    if intent.category == "global":  # the region is the whole image
        return intent.caption, "image"
    if intent.caption_of == "image":
        if paints_whole_frame(mask):
            return intent.caption, "image"
        return intent.region_caption or intent.caption, "region"
    return intent.caption, "region"
