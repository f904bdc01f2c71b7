"""The input checks every painter and fill shares: the photo, the mask, and the one resize.

BrushNet (:mod:`engine.brushnet.runner`), FLUX.2 [klein] (:mod:`engine.painters.klein`), LaMa
(:mod:`engine.fill.lama_remove`) and the classical fill (:mod:`engine.fill.opencv_fill`) refuse the
same bad input in the same words, so they check it here rather than import one another. The
:class:`engine.brushnet.BrushNetPipeline`, a diffusers-style object that also takes PIL and float
images, converts through :func:`rgb_array`, which shares the shape rule with :func:`check_image`.

Numpy, OpenCV and the contract (:mod:`engine.api`) only: importing this never imports torch.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from engine.api import EngineError
from masks import mask_ops

MIN_IMAGE_SIDE = 64  # px on each side at least: BrushNet's latent grid is 8x coarser
MAX_CANDIDATES = 16  # candidates (samples) one request may ask for


def _three_channels(arr: np.ndarray) -> np.ndarray | None:
    """``arr`` as ``H x W x 3`` (grey repeated, alpha dropped), or None when it is no image's shape."""
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        return None
    return arr[..., :3]


def check_image(image) -> np.ndarray:
    """Return ``image`` as ``H x W x 3`` uint8, or raise ``EngineError(kind="bad-input")``.

    Grey is repeated to three channels and alpha dropped; the image must be 8-bit and at least
    :data:`MIN_IMAGE_SIDE` px on each side.
    """
    arr = np.asarray(image)
    rgb = _three_channels(arr)
    if rgb is None:
        raise EngineError(f"the image must be H x W x 3, got shape {arr.shape}", kind="bad-input")
    if rgb.dtype != np.uint8:
        raise EngineError(f"the image must be 8-bit (uint8), got {rgb.dtype}", kind="bad-input")
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_IMAGE_SIDE:
        raise EngineError(f"the image is {w} x {h} px; at least {MIN_IMAGE_SIDE} px on each side is needed",
                          kind="bad-input")
    return np.ascontiguousarray(rgb)


def rgb_array(image) -> np.ndarray:
    """Any image a diffusers pipeline takes (PIL, grey, RGBA, uint8 or float in [0, 1]) as ``H x W x 3``
    uint8; raises ``ValueError`` for another shape. No size limit (unlike :func:`check_image`)."""
    arr = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)
    rgb = _three_channels(arr)
    if rgb is None:
        raise ValueError(f"image must be H x W x 3, got shape {arr.shape}")
    if rgb.dtype != np.uint8:
        if np.issubdtype(rgb.dtype, np.floating) and rgb.max() <= 1.0:
            rgb = rgb * 255.0
        rgb = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(rgb)


def check_mask(mask, shape: tuple[int, ...]) -> np.ndarray:
    """Return a binary (0/255) ``H x W`` mask for an image of ``shape``.

    A mask of another size is resized with a warning; an empty mask raises ``EngineError``.
    """
    try:
        m = mask_ops.as_mask(mask)
    except ValueError as exc:
        raise EngineError(f"bad mask: {exc}", kind="bad-input") from exc
    h, w = int(shape[0]), int(shape[1])
    if m.shape != (h, w):
        # stacklevel 3: the warning names the line that called the painter (run_inpaint, run_fill...).
        warnings.warn(f"mask is {m.shape[1]} x {m.shape[0]} px, image {w} x {h} px: resizing the mask",
                      stacklevel=3)
        m = mask_ops.resize(m, w, h, smooth=True)
    m = np.where(m > 0, np.uint8(255), np.uint8(0))  # uint8 throughout: 24 MP masks stay cheap
    if not m.any():
        raise EngineError("the mask is empty: paint or select the region to change", kind="bad-input")
    return m


def resize_image(image: np.ndarray, width: int, height: int, *, shrink: bool | None = None) -> np.ndarray:
    """``image`` (``H x W [x C]``, any dtype OpenCV resizes) at ``width x height``; itself when already so.

    ``shrink`` picks the filter: area averaging (True: no aliasing on the way down) or bicubic
    (False: sharp on the way up). None decides from the sizes: area unless a side grows.
    """
    if image.shape[1] == width and image.shape[0] == height:
        return image
    if shrink is None:
        shrink = width <= image.shape[1] and height <= image.shape[0]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
