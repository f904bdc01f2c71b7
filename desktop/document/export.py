"""Export the flattened image as PNG, JPEG or WebP, in sRGB, with the edit history as metadata.

PNG gets iTXt chunks (``Software``, ``Description``: the edit summary, ``brushedit:history``: JSON);
JPEG and WebP get EXIF ``ImageDescription``/``Software`` and the summary as ``UserComment``. All
embed an sRGB ICC profile (imports were converted to sRGB). JPEG has no alpha: transparent pixels
are composited on white. Writes are atomic.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from .errors import DocumentError
from .image_import import srgb_icc_bytes
from .safe_write import atomic_write

SOFTWARE = "BrushEdit Studio"
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
EXIF_IFD = 0x8769
TAG_DESCRIPTION, TAG_SOFTWARE, TAG_USER_COMMENT = 0x010E, 0x0131, 0x9286


def edit_summary(layers) -> tuple[str, list[dict]]:
    """The export's description of the visible edit layers among ``layers``: one line, and the
    history (each edit's provenance and layer name) for the metadata."""
    edits = [layer for layer in layers if getattr(layer, "provenance", None) is not None and layer.visible]
    summary = "Edited with BrushEdit Studio"
    if edits:
        summary += f" ({len(edits)} edit{'s' if len(edits) > 1 else ''}): " + "; ".join(
            f"{i + 1}) {layer.provenance.summary()}" for i, layer in enumerate(edits))
    return summary, [dict(layer.provenance.to_dict(), layer=layer.name) for layer in edits]


def user_comment(text: str) -> bytes:
    """EXIF UserComment bytes: the 8-byte character-code prefix, then the text."""
    try:
        return b"ASCII\x00\x00\x00" + text.encode("ascii")
    except UnicodeEncodeError:
        return b"UNICODE\x00" + text.encode("utf-16-be")


def read_user_comment(raw) -> str:
    """Decode an EXIF UserComment (for tests and the 'image info' panel)."""
    if isinstance(raw, str):
        return raw
    raw = bytes(raw)
    head, body = raw[:8], raw[8:]
    if head.startswith(b"UNICODE"):
        return body.decode("utf-16-be", "replace")
    return body.decode("ascii" if head.startswith(b"ASCII") else "utf-8", "replace").rstrip("\x00")


def export_image(path: str | Path, rgba: np.ndarray, *, summary: str = "", history: list | None = None,
                 quality: int = 92, lossless: bool = False) -> None:
    """Write ``rgba`` (H x W x 4 uint8) to ``path``, the format chosen by its extension."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(f"cannot export {path.suffix or 'without an extension'!s}: "
                            "use .png, .jpg, .jpeg or .webp", path)
    if not 1 <= int(quality) <= 100:
        raise DocumentError(f"quality must be 1..100, got {quality}", path)
    img = Image.fromarray(np.ascontiguousarray(rgba))
    icc = srgb_icc_bytes()
    description = summary or "Edited with BrushEdit Studio"
    buf = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("Software", SOFTWARE)
        info.add_itxt("Description", description)
        if history:
            info.add_itxt("brushedit:history", json.dumps(history, ensure_ascii=False))
        if rgba[..., 3].min() == 255:
            img = img.convert("RGB")  # smaller, and what viewers expect of an opaque photo
        # Level 4 gives level 6's size on photos at about a third of the time (measured).
        img.save(buf, "PNG", pnginfo=info, icc_profile=icc, compress_level=4)
    else:
        exif = Image.Exif()
        exif[TAG_DESCRIPTION] = description.encode("ascii", "replace").decode("ascii")
        exif[TAG_SOFTWARE] = SOFTWARE
        exif.get_ifd(EXIF_IFD)[TAG_USER_COMMENT] = user_comment(description)
        if fmt == "JPEG":
            if rgba[..., 3].min() < 255:
                white = Image.new("RGBA", img.size, (255, 255, 255, 255))
                img = Image.alpha_composite(white, img)
            img.convert("RGB").save(buf, "JPEG", quality=int(quality), icc_profile=icc,
                                    exif=exif.tobytes(), optimize=True)
        else:
            if rgba[..., 3].min() == 255:
                img = img.convert("RGB")
            img.save(buf, "WEBP", quality=int(quality), lossless=bool(lossless), icc_profile=icc,
                     exif=exif.tobytes(), method=4)
    with atomic_write(path) as f:
        f.write(buf.getbuffer())
