"""The wire form of :mod:`engine.api` objects: plain dicts, arrays as PNG bytes, one binary frame.

Only the standard library and numpy (PNG is written with :mod:`zlib`), so :mod:`engine.api` can use
it and stay cheap to import. Nothing here unpickles: a frame is a JSON header plus raw byte blobs,
and an array is rebuilt from a PNG or from raw bytes of a whitelisted numeric dtype.

Frame layout (:func:`pack` / :func:`unpack`)::

    b"BEW1" | uint32 header length (big-endian) | header (UTF-8 JSON) | blob 0 | blob 1 | ...

In the header every ``bytes`` value of the dict is replaced by ``{"$blob": [offset, length]}`` into
the bytes after the header, so images travel as binary, never as base64.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import PurePath
from typing import Any

import numpy as np

MAGIC = b"BEW1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_LEVEL = 1  # zlib level: speed matters more than size on a studio network
# Raw (non-PNG) arrays: numeric dtypes only, so a frame can never smuggle objects in.
RAW_DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "float16",
              "float32", "float64")
_PNG_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_PNG_CHANNELS = {v: k for k, v in _PNG_COLOUR.items()}


class WireError(ValueError):
    """A frame or an encoded value is malformed."""


# --- PNG ------------------------------------------------------------------------------------


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_encode(array: np.ndarray) -> bytes:
    """Encode an ``H x W`` or ``H x W x C`` (C in 1..4) ``uint8`` array as an 8-bit PNG."""
    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in _PNG_COLOUR):
        raise WireError(f"PNG holds uint8 H x W (x 1..4) arrays, not {a.dtype} {a.shape}")
    h, w = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    rows = np.zeros((h, 1 + w * channels), np.uint8)  # filter byte 0 ("None") before each row
    rows[:, 1:] = a.reshape(h, w * channels)
    header = struct.pack(">IIBBBBB", w, h, 8, _PNG_COLOUR[channels], 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)) + _chunk(b"IEND", b""))


def png_decode(data: bytes, max_pixels: int | None = None) -> np.ndarray:
    """Decode an 8-bit PNG into ``H x W`` (grey) or ``H x W x C``; refuses more than ``max_pixels``."""
    if not data.startswith(PNG_SIGNATURE):
        raise WireError("not a PNG")
    pos, idat, ihdr = len(PNG_SIGNATURE), [], None
    while pos + 8 <= len(data):
        length, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise WireError("truncated PNG")
        if tag == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat.append(body)
        elif tag == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        raise WireError("PNG without IHDR")
    w, h, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour not in _PNG_CHANNELS or interlace:
        return _png_decode_other(data, max_pixels)
    if max_pixels is not None and w * h > max_pixels:
        raise WireError(f"image of {w}x{h} pixels is over the limit of {max_pixels}")
    channels = _PNG_CHANNELS[colour]
    expected = h * (1 + w * channels)
    inflate = zlib.decompressobj()
    raw = inflate.decompress(b"".join(idat), expected + 1)  # never inflate past the declared size
    if len(raw) != expected:
        raise WireError("PNG data does not match its size")
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + w * channels)
    if rows[:, 0].any():  # a filtered PNG (not ours): let Pillow undo the filters
        return _png_decode_other(data, max_pixels)
    out = rows[:, 1:].reshape((h, w) if channels == 1 else (h, w, channels))
    return out.copy()


def _png_decode_other(data: bytes, max_pixels: int | None) -> np.ndarray:
    """Pillow's decoding (filtered PNGs, JPEG previews), with the same pixel limit."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        if max_pixels is not None and im.width * im.height > max_pixels:
            raise WireError(f"image of {im.width}x{im.height} pixels is over the limit of {max_pixels}")
        return np.asarray(im.convert({"L": "L", "LA": "LA", "RGBA": "RGBA"}.get(im.mode, "RGB")))


# --- arrays ---------------------------------------------------------------------------------


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """``{"$array": "png" | "raw", "data": bytes, "dtype", "shape"}``: bit-exact for any numeric array."""
    a = np.asarray(array)
    shape = list(a.shape)
    pngable = a.ndim == 2 or (a.ndim == 3 and a.shape[2] in _PNG_COLOUR)
    if a.dtype == np.bool_ and a.ndim == 2:
        return {"$array": "png", "data": png_encode(a.astype(np.uint8) * 255), "dtype": "bool", "shape": shape}
    if a.dtype == np.uint8 and pngable and a.size:
        return {"$array": "png", "data": png_encode(a), "dtype": "uint8", "shape": shape}
    if a.dtype.name not in RAW_DTYPES:
        raise WireError(f"arrays of dtype {a.dtype} do not travel")
    little = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return {"$array": "raw", "data": np.ascontiguousarray(little).tobytes(), "dtype": a.dtype.name,
            "shape": shape}


def encode_jpeg(array: np.ndarray, quality: int = 85) -> dict[str, Any]:
    """A lossy JPEG form of an ``H x W x 3`` uint8 image, for live previews only (needs Pillow)."""
    import io

    from PIL import Image

    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        return encode_array(a)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=quality)
    return {"$array": "jpeg", "data": buf.getvalue(), "dtype": "uint8", "shape": list(a.shape)}


def decode_array(value: dict[str, Any], max_pixels: int | None = None) -> np.ndarray:
    """The array :func:`encode_array` encoded."""
    dtype, shape, data = value.get("dtype"), tuple(int(s) for s in value.get("shape", ())), value.get("data")
    if dtype not in RAW_DTYPES or not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError("malformed array")
    if max_pixels is not None and len(shape) >= 2 and shape[0] * shape[1] > max_pixels:
        raise WireError(f"image of {shape[1]}x{shape[0]} pixels is over the limit of {max_pixels}")
    if value["$array"] == "png":
        a = png_decode(bytes(data), max_pixels)
        if dtype == "bool":
            a = a != 0
        return a.reshape(shape)
    if value["$array"] == "jpeg":
        a = _png_decode_other(bytes(data), max_pixels)  # Pillow reads JPEG the same way
        if a.shape != shape:
            raise WireError("JPEG does not match its shape")
        return a
    if value["$array"] == "raw":
        dt = np.dtype(dtype).newbyteorder("<")
        if len(data) != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise WireError("array data does not match its shape")
        return np.frombuffer(bytes(data), dt).astype(np.dtype(dtype), copy=True).reshape(shape)
    raise WireError(f"unknown array encoding {value['$array']!r}")


# --- values ---------------------------------------------------------------------------------


def encode_value(value: Any) -> Any:
    """A JSON-able tree (plus ``bytes``) of ``value``: dataclasses with a ``KIND`` become dicts."""
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None and hasattr(type(value), "KIND"):
        return to_dict()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return encode_array(value)
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": bytes(value)}
    if isinstance(value, PurePath):
        return {"$path": str(value)}
    if isinstance(value, (tuple, list)):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    raise WireError(f"{type(value).__name__} does not travel")


def decode_value(value: Any, registry: dict[str, type], max_pixels: int | None = None) -> Any:
    """Undo :func:`encode_value`; lists come back as tuples, dicts with ``"type"`` as registered classes."""
    if isinstance(value, list):
        return tuple(decode_value(v, registry, max_pixels) for v in value)
    if not isinstance(value, dict):
        return value
    if "$array" in value:
        return decode_array(value, max_pixels)
    if "$bytes" in value:
        return bytes(value["$bytes"])
    if "$path" in value:
        from pathlib import Path

        return Path(value["$path"])
    if "$dict" in value:
        return {decode_value(k, registry, max_pixels): decode_value(v, registry, max_pixels)
                for k, v in value["$dict"]}
    name = value.get("type")
    cls = registry.get(name) if isinstance(name, str) else None
    if cls is None:
        raise WireError(f"unknown type {name!r}")
    return cls.from_dict(value, max_pixels=max_pixels)


# --- frames ---------------------------------------------------------------------------------


def pack(tree: Any) -> bytes:
    """One binary frame of a tree from :func:`encode_value` (``bytes`` leaves go after the header)."""
    blobs: list[bytes] = []
    offset = 0

    def lift(node: Any) -> Any:
        nonlocal offset
        if isinstance(node, (bytes, bytearray, memoryview)):
            blob = bytes(node)
            blobs.append(blob)
            ref = {"$blob": [offset, len(blob)]}
            offset += len(blob)
            return ref
        if isinstance(node, dict):
            return {k: lift(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [lift(v) for v in node]
        return node

    header = json.dumps(lift(tree), separators=(",", ":"), allow_nan=True).encode("utf-8")
    return MAGIC + struct.pack(">I", len(header)) + header + b"".join(blobs)


def unpack(frame: bytes) -> Any:
    """The tree of :func:`pack` (``bytes`` leaves restored); raises :class:`WireError` when malformed."""
    frame = bytes(frame)
    if len(frame) < 8 or frame[:4] != MAGIC:
        raise WireError("not a BrushEdit frame")
    (length,) = struct.unpack(">I", frame[4:8])
    if 8 + length > len(frame):
        raise WireError("truncated frame")
    try:
        header = json.loads(frame[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"malformed frame header: {exc}") from None
    body = memoryview(frame)[8 + length:]

    def drop(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"$blob"}:
                start, size = (int(v) for v in node["$blob"])
                if start < 0 or size < 0 or start + size > len(body):
                    raise WireError("blob out of the frame")
                return bytes(body[start:start + size])
            return {k: drop(v) for k, v in node.items()}
        if isinstance(node, list):
            return [drop(v) for v in node]
        return node

    return drop(header)
