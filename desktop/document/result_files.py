"""Photos in, edit results out, through the document: the file side of ``brushedit edit`` and of a batch.

The CLI (``edit``, ``batch``) and the editor's File ▸ Batch… read photos and masks and write results
here, so the same checks, errors and files come out of both. What a result layer records is decided
by the caller (:mod:`engine.result_layers` builds the layers); this module only places them: one
layered ``.ora``, or one flattened image per layer. Every write is atomic
(:func:`~desktop.document.safe_write.atomic_write`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from masks import mask_ops

from .document import Document
from .image_import import DEFAULT_MAX_PIXELS, open_image
from .provenance import Provenance
from .safe_write import atomic_write

_PART = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.part")  # atomic_write's temporary files


class MaskSizeError(ValueError):
    """A mask whose shape cannot be resized to the photo's (another aspect ratio)."""


def open_photo(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[Document, np.ndarray, np.ndarray]:
    """``(document, rgba, rgb)``: the opened document, its flattened pixels and an opaque RGB copy.

    Transparent pixels are composited over white for the engine (what they show in viewers).
    Raises :class:`~desktop.document.errors.DocumentError` (one line) for a file it cannot use.
    """
    doc = Document.open(path, max_pixels=max_pixels)
    rgba = np.asarray(doc.flatten())
    if rgba.shape[2] == 3:
        return doc, rgba, np.ascontiguousarray(rgba)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return doc, rgba, np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def read_mask(path: str | Path, width: int, height: int, note=None) -> np.ndarray:
    """A ``height x width`` uint8 mask (255 = repaint) from an image file.

    White (bright) pixels are repainted; transparent pixels are kept. A mask of another size but the
    same aspect ratio is resized (``note`` is told); any other size raises :class:`MaskSizeError`, an
    unreadable file :class:`~desktop.document.errors.DocumentError`.
    """
    rgba, _ = open_image(path)
    gray = rgba[..., :3].max(axis=2).astype(np.uint16) * rgba[..., 3].astype(np.uint16) // 255
    mask = mask_ops.threshold(gray.astype(np.uint8), 127)
    h, w = mask.shape
    if (w, h) != (width, height):
        if abs(w / h - width / height) > 0.01 * (width / height):
            raise MaskSizeError(f"the mask is {w}x{h} and the image {width}x{height}: "
                                "different shapes, cannot resize")
        if note:
            note(f"resizing the mask from {w}x{h} to {width}x{height}")
        mask = mask_ops.threshold(mask_ops.resize(mask, width, height, smooth=True), 127)
    return mask


def numbered(out: Path, count: int) -> list[Path]:
    """``out`` itself for one result, else ``name-1.ext``, ``name-2.ext``, ..."""
    if count <= 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]


def write_layers(out: Path, doc: Document, rgba: np.ndarray, layers: Sequence[Any],
                 mask: np.ndarray | None) -> list[Path]:
    """Write result ``layers`` (:class:`engine.result_layers.ResultLayer`: pixels, offset, provenance
    fields, name): all of them as edit layers of ``doc`` saved to ``out`` when it ends in ``.ora``, else
    one flattened image each over ``rgba`` (numbered when there are several)."""
    out = Path(out)
    if out.suffix.lower() == ".ora":
        for layer in layers:
            doc.add_edit(layer.pixels, offset=layer.offset, provenance=Provenance(**layer.provenance),
                         name=layer.name, mask=mask)
        return [doc.save(out)]
    paths = numbered(out, len(layers))
    for layer, path in zip(layers, paths):
        single = Document.from_array(rgba)
        single.add_edit(layer.pixels, offset=layer.offset, provenance=Provenance(**layer.provenance), mask=mask)
        single.export(path)
    return paths


class DocumentFiles:
    """The files of a batch (:class:`engine.batch.BatchFiles`) through the document: what the CLI and
    the editor hand to :func:`engine.batch.run_batch`."""

    def open_photo(self, path: Path, max_pixels: int) -> tuple[Document, np.ndarray, np.ndarray]:
        return open_photo(path, max_pixels)

    def read_mask(self, path: Path, width: int, height: int) -> np.ndarray:
        return read_mask(path, width, height)

    def write_layers(self, out: Path, photo: Document, rgba: np.ndarray, layers: Sequence[Any],
                     mask: np.ndarray | None) -> list[Path]:
        return write_layers(out, photo, rgba, layers, mask)

    def write_bytes(self, path: Path, data: bytes) -> None:
        with atomic_write(path) as f:
            f.write(data)

    def remove_parts(self, folder: Path) -> None:
        """Remove every temporary file a killed run's atomic writes left under ``folder`` (any age: the
        batch owns its output folder)."""
        for path in Path(folder).rglob("*.part"):
            if _PART.fullmatch(path.name):
                path.unlink(missing_ok=True)
