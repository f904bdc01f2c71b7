"""Reading photos and masks for the CLI through the editor's document (same checks, same errors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cli.errors import USAGE, CliError

IMAGE_OUTPUTS = (".png", ".jpg", ".jpeg", ".webp")


def read_image(path: str | Path):
    """``(document, rgba, rgb)``: the opened document, its flattened RGBA and an opaque RGB copy.

    Transparent pixels are composited over white for the engine (what they show in viewers).
    """
    from desktop.document import Document

    doc = Document.open(path)  # DocumentError (a ValueError) -> exit 2 with its one line
    rgba = np.asarray(doc.flatten())
    if rgba.shape[2] == 3:
        return doc, rgba, np.ascontiguousarray(rgba)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return doc, rgba, np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def read_mask(path: str | Path, width: int, height: int, note=None) -> np.ndarray:
    """A ``height x width`` uint8 mask (255 = repaint) from an image file.

    White (bright) pixels are repainted; transparent pixels are kept. A mask of another size but the
    same aspect ratio is resized (``note`` is told); any other size is an error.
    """
    from desktop.document.errors import DocumentError
    from desktop.document.image_import import open_image
    from masks import mask_ops

    try:
        rgba, _ = open_image(path)
    except DocumentError as exc:
        raise CliError(f"--mask: {exc}", USAGE) from None
    gray = rgba[..., :3].max(axis=2).astype(np.uint16) * rgba[..., 3].astype(np.uint16) // 255
    mask = mask_ops.threshold(gray.astype(np.uint8), 127)
    h, w = mask.shape
    if (w, h) != (width, height):
        if abs(w / h - width / height) > 0.01 * (width / height):
            raise CliError(f"--mask: the mask is {w}x{h} and the image {width}x{height}: "
                           "different shapes, cannot resize", USAGE)
        if note:
            note(f"resizing the mask from {w}x{h} to {width}x{height}")
        mask = mask_ops.threshold(mask_ops.resize(mask, width, height, smooth=True), 127)
    return mask


def save_mask(mask: np.ndarray, path: str | Path) -> Path:
    """Write ``mask`` as an 8-bit grey PNG."""
    from PIL import Image

    path = Path(path)
    Image.fromarray(np.ascontiguousarray(mask, np.uint8)).save(path, format="PNG")
    return path


def check_output(path: str) -> Path:
    """Validate ``-o`` before any work: a known extension in an existing folder."""
    out = Path(path).expanduser()
    ext = out.suffix.lower()
    if ext not in IMAGE_OUTPUTS + (".ora",):
        raise CliError(f"-o {path}: unknown output type {ext or '(none)'!r}; use .png, .jpg, .webp "
                       "(flattened) or .ora (layered project)", USAGE)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise CliError(f"-o {path}: folder {parent} does not exist", USAGE)
    return out


def numbered(out: Path, count: int) -> list[Path]:
    """``out`` itself for one result, else ``name-1.ext``, ``name-2.ext``, ..."""
    if count <= 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]
