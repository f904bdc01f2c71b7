"""The parallel PNG writer used for project files: valid, strict-zlib-clean, lossless PNGs."""

from __future__ import annotations

import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from desktop.document import png_writer
from desktop.document.png_writer import adler32_combine, encode_png


def idat_stream(png: bytes) -> bytes:
    """The concatenated IDAT payloads, checking every chunk's CRC on the way."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out, kinds = 8, [], []
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        kinds.append(kind)
        if kind == b"IDAT":
            out.append(data)
        pos += 12 + n
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    return b"".join(out)


def test_adler32_combine_matches_zlib():
    rng = np.random.default_rng(0)
    for _ in range(100):
        a, b = rng.bytes(int(rng.integers(0, 70000))), rng.bytes(int(rng.integers(0, 70000)))
        assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


@pytest.mark.parametrize("shape", [(1, 1, 4), (1, 1), (3, 5, 3), (257, 3, 4), (600, 900, 4), (900, 700)])
def test_round_trip_with_many_blocks(shape, monkeypatch):
    monkeypatch.setattr(png_writer, "BLOCK_BYTES", 4096)  # force many blocks on small images
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    with ThreadPoolExecutor(3) as pool:
        data = encode_png(pixels, 1, pool)
    assert data == encode_png(pixels, 1)  # threads change nothing
    img = Image.open(io.BytesIO(data))
    assert img.mode == {2: "L", 3: "RGB", 4: "RGBA"}[len(shape) if len(shape) == 2 else shape[2]]
    assert np.array_equal(np.asarray(img), pixels)
    # Strict zlib (checks the combined Adler-32 and the stream's end) like libpng in Krita/GIMP.
    raw = zlib.decompress(idat_stream(data))
    h, w = shape[:2]
    bpp = 1 if len(shape) == 2 else shape[2]
    assert len(raw) == h * (w * bpp + 1)


def test_photo_compresses_like_pillow(coffee):
    rgba = np.dstack([coffee, np.full(coffee.shape[:2], 255, np.uint8)])
    ours = encode_png(rgba, 1)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG", compress_level=1)
    assert len(ours) < 1.15 * len(buf.getvalue())
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(ours))), rgba)


def test_rejects_what_png_cannot_hold():
    for bad in (np.zeros((4, 4), np.uint16), np.zeros((4, 4, 2), np.uint8), np.zeros((0, 4, 4), np.uint8)):
        with pytest.raises(ValueError):
            encode_png(bad)


def test_encode_pngs_reuses_equal_blocks_and_writes_opaque_images_as_rgb(monkeypatch):
    from desktop.document.png_writer import encode_pngs

    monkeypatch.setattr(png_writer, "BLOCK_BYTES", 4096)
    rng = np.random.default_rng(5)
    photo = rng.integers(0, 256, (120, 50, 4), dtype=np.uint8)
    photo[..., 3] = 255
    merged = photo.copy()
    merged[60:70, 10:20, :3] = 0  # an edit in the middle rows only
    calls = []
    real = png_writer._block
    monkeypatch.setattr(png_writer, "_block", lambda *a: calls.append(1) or real(*a))
    with ThreadPoolExecutor(2) as pool:
        both = encode_pngs({"photo": photo, "merged": merged}, 5, pool)
    blocks = len(range(0, 120, max(1, 4096 // (50 * 3 + 1))))
    assert blocks < len(calls) < 2 * blocks  # the merged image's unchanged blocks were reused
    assert both["merged"] == encode_pngs({"m": merged}, 5)["m"]  # and the bytes are the same
    for name, want in (("photo", photo), ("merged", merged)):
        img = Image.open(io.BytesIO(both[name]))
        assert img.mode == "RGB"  # opaque: no alpha channel stored
        assert np.array_equal(np.asarray(img.convert("RGBA")), want)
    soft = photo.copy()
    soft[0, 0, 3] = 7
    assert Image.open(io.BytesIO(encode_pngs({"s": soft})["s"])).mode == "RGBA"
