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
    from desktop.document.result_files import open_photo

    return open_photo(path)  # DocumentError (a ValueError) -> exit 2 with its one line


def read_mask(path: str | Path, width: int, height: int, note=None) -> np.ndarray:
    """A ``height x width`` uint8 mask (255 = repaint) from an image file (see
    :func:`desktop.document.result_files.read_mask`); a file it cannot use is a usage error."""
    from desktop.document.result_files import read_mask as read_mask_file

    try:
        return read_mask_file(path, width, height, note)
    except ValueError as exc:  # DocumentError, MaskSizeError
        raise CliError(f"--mask: {exc}", USAGE) from None


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
