"""Real photos (scikit-image) and generated awkward / hostile files for the document tests."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    from skimage import data
    return data.chelsea()  # 300 x 451 x 3


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data
    return data.astronaut()  # 512 x 512 x 3


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    from skimage import data
    return data.coffee()  # 400 x 600 x 3


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header (IHDR) claiming ``width x height`` RGBA, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def png_rgb16(pixels16: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write these), filter 0 on every row."""
    h, w, _ = pixels16.shape
    raw = b"".join(b"\x00" + pixels16[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def swapped_rgb_profile() -> bytes:
    """An sRGB profile whose red and blue primaries are swapped: converting from it swaps R and B."""
    b = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    n = struct.unpack(">I", b[128:132])[0]
    tags = {bytes(b[132 + 12 * i:136 + 12 * i]): 132 + 12 * i for i in range(n)}
    r, bl = tags[b"rXYZ"], tags[b"bXYZ"]
    b[r + 4:r + 12], b[bl + 4:bl + 12] = b[bl + 4:bl + 12], b[r + 4:r + 12]
    b[84:100] = bytes(16)  # no profile id: it would no longer match
    return bytes(b)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def write(tmp_path):
    """write(name, bytes) -> path in a temporary folder."""
    def _write(name: str, data: bytes):
        p = tmp_path / name
        p.write_bytes(data)
        return p
    return _write


@pytest.fixture(scope="session")
def make():
    """The file makers above, as one namespace (test modules cannot import conftest by name)."""
    from types import SimpleNamespace
    return SimpleNamespace(png_claiming=png_claiming, png_rgb16=png_rgb16, encode=encode,
                           swapped_rgb_profile=swapped_rgb_profile, png_chunk=png_chunk)
