"""Read a photo into 8-bit straight-alpha sRGB RGBA, refusing anything broken or too big.

Accepted: PNG, JPEG, WebP, TIFF, BMP (first frame). EXIF orientation is applied; palette, gray,
16-bit, float, CMYK and alpha images become 8-bit RGBA; an embedded ICC profile is converted to
sRGB. Every failure is a :class:`DocumentError` with one line naming the file and the problem.
"""

from __future__ import annotations

import io
import os
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import DocumentError

FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP")  # camera MPO files open through JPEG
DEFAULT_MAX_PIXELS = 100_000_000
MAX_FILE_BYTES = 2 << 30  # a 2 GiB photo is not a photo

_SRGB = None


def srgb_profile() -> ImageCms.ImageCmsProfile:
    global _SRGB
    if _SRGB is None:
        _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB


def srgb_icc_bytes() -> bytes:
    """An sRGB ICC profile to embed in exports."""
    return srgb_profile().tobytes()


def open_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, dict]:
    """Read ``path``; returns ``(H x W x 4 uint8 RGBA (read-only), info)``.

    ``info`` has ``format``, ``mode`` (the source mode), ``icc`` (whether a profile was converted)
    and ``orientation`` (the EXIF orientation applied).

    Raises
    ------
    DocumentError
        Missing, empty, not an image, unsupported, corrupt, truncated, or over ``max_pixels``.
    """
    path = Path(path)
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise DocumentError("file not found", path) from None
    except OSError as e:
        raise DocumentError(f"cannot read the file ({e.strerror or e})", path) from None
    if os.path.isdir(path):
        raise DocumentError("is a folder, not an image", path)
    if size == 0:
        raise DocumentError("the file is empty", path)
    if size > MAX_FILE_BYTES:
        raise DocumentError(f"the file is too large ({size / 2**30:.1f} GiB)", path)
    try:
        with open(path, "rb") as f:
            return decode(f, path, max_pixels=max_pixels)
    except DocumentError:
        raise
    except OSError as e:
        raise DocumentError(f"cannot read the file ({e.strerror or e})", path) from None


def decode(fp, path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, dict]:
    """Decode an open binary file (see :func:`open_image`)."""
    with warnings.catch_warnings():
        # Our own pixel limit applies; Pillow's bomb warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(fp, formats=FORMATS)
        except Image.DecompressionBombError:
            raise DocumentError(f"the image is too large (over {max_pixels / 1e6:g} megapixels)",
                                path) from None
        except UnidentifiedImageError:
            raise DocumentError("not an image, or a format other than PNG, JPEG, WebP, TIFF, BMP",
                                path) from None
        except (OSError, SyntaxError, ValueError, EOFError, zlib.error, MemoryError) as e:
            raise DocumentError(f"not a readable image ({_why(e)})", path) from None
        with img:
            w, h = img.size
            if w < 1 or h < 1:
                raise DocumentError(f"the image has no pixels ({w} x {h})", path)
            if w * h > max_pixels:
                raise DocumentError(f"the image is too large: {w} x {h} = {w * h / 1e6:.0f} "
                                    f"megapixels (limit {max_pixels / 1e6:g})", path)
            info = {"format": img.format, "mode": img.mode, "icc": False, "orientation": 1}
            try:
                img.load()
                return _to_rgba(img, info), info
            except DocumentError:
                raise
            except MemoryError:
                raise DocumentError("not enough memory to open the image", path) from None
            except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
                    zlib.error, ImageCms.PyCMSError) as e:
                raise DocumentError(f"the image is corrupt or truncated ({_why(e)})", path) from None


def _why(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:160]


def _to_rgba(img: Image.Image, info: dict) -> np.ndarray:
    try:
        info["orientation"] = int(img.getexif().get(0x0112, 1) or 1)
    except Exception:  # unreadable EXIF: keep the pixels as stored
        info["orientation"] = 1
    if info["orientation"] != 1:
        img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    img = _to_8bit(img)
    if icc:
        img = _to_srgb(img, icc, info)
    if img.mode != "RGBA":
        img = img.convert("RGBA")
    return np.asarray(img)  # one copy (Pillow's bytes), read-only: callers keep it as is


def _to_8bit(img: Image.Image) -> Image.Image:
    """High-bit-depth and float modes scaled (not clipped) to 8 bits; the rest left to convert()."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img)
        if mode == "I" and a.max(initial=0) <= 255 and img.format not in ("PNG",):
            a8 = np.clip(a, 0, 255).astype(np.uint8)
        else:
            a8 = np.clip((a.astype(np.float64) / 257.0).round(), 0, 255).astype(np.uint8)
        return Image.fromarray(a8)
    if mode == "F":
        a = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        scale = 255.0 if a.max(initial=0.0) <= 1.0 else 1.0
        return Image.fromarray(np.clip(np.rint(a * scale), 0, 255).astype(np.uint8))
    if mode == "P":
        return img.convert("RGBA")
    if mode in ("1", "L", "LA", "La", "RGB", "RGBA", "RGBa", "CMYK", "YCbCr", "LAB", "HSV", "PA", "RGBX"):
        return img
    return img.convert("RGBA")


def _to_srgb(img: Image.Image, icc: bytes, info: dict) -> Image.Image:
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        return img  # a broken profile: keep the numbers as they are (what browsers do)
    alpha = None
    if img.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        alpha = img.getchannel("A")
        img = img.convert("RGB" if img.mode != "LA" else "L")
    if img.mode not in ("RGB", "L", "CMYK"):
        img = img.convert("RGB")
    try:
        out = ImageCms.profileToProfile(img, src, srgb_profile(), outputMode="RGB",
                                        renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except ImageCms.PyCMSError:
        # The profile does not match the pixels' colour space (e.g. an RGB profile on CMYK).
        out = img.convert("RGB")
    else:
        info["icc"] = True
    if alpha is not None:
        out = out.convert("RGBA")
        out.putalpha(alpha)
    return out
