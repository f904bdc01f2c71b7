"""The wire form of :mod:`engine.api` objects: plain dicts, arrays as PNG bytes, one binary frame.

The standard library and numpy (PNG is written with :mod:`zlib`), so :mod:`engine.api` can use it
and stay cheap to import; msgpack is imported when a frame is packed or unpacked. Nothing here
unpickles: an array is rebuilt from a PNG or from raw bytes of a whitelisted numeric dtype.

Frame layouts (:func:`pack` / :func:`unpack` read both; :func:`pack` writes ``BEW2`` unless asked)::

    b"BEW2" | msgpack of the tree (bytes are msgpack bin: images never go through base64)
    b"BEW1" | uint32 header length (big-endian) | header (UTF-8 JSON) | blob 0 | blob 1 | ...

``BEW1`` is the first form (a hand-written JSON header whose ``bytes`` values are
``{"$blob": [offset, length]}`` into the bytes after it); it stays readable for older clients, and a
server answers a client in the form it speaks. Both readers refuse, as :class:`WireError`, anything
nested deeper than :data:`MAX_DEPTH` and any malformed part: a peer's frame never raises anything else.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import fields
from pathlib import PurePath
from typing import Any, ClassVar

import numpy as np

MAGIC = b"BEW1"  # the JSON-header frame (still read; written for clients that speak only it)
MAGIC2 = b"BEW2"  # the msgpack frame
FORMS = {"json": MAGIC, "msgpack": MAGIC2}
MAX_DEPTH = 48  # nesting of a frame's tree (an EditResult is about 8 deep)
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


def png_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from a PNG's IHDR (the first chunk), read before anything is decoded."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33 or data[12:16] != b"IHDR":
        raise WireError("not a PNG")
    return struct.unpack(">II", data[16:24])


def png_decode(data: bytes, max_pixels: int | None = None) -> np.ndarray:
    """Decode an 8-bit PNG into ``H x W`` (grey) or ``H x W x C``; refuses more than ``max_pixels``."""
    w, h = png_size(data)
    if max_pixels is not None and w * h > max_pixels:
        raise WireError(f"image of {w}x{h} pixels is over the limit of {max_pixels}")
    pos, idat, ihdr = len(PNG_SIGNATURE), [], None
    while pos + 8 <= len(data):
        length, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise WireError("truncated PNG")
        if tag == b"IHDR":
            if length != 13:
                raise WireError("malformed PNG header")
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


def _png_decode_other(data: bytes, max_pixels: int | None, fmt: str = "PNG") -> np.ndarray:
    """Pillow's decoding (filtered or interlaced PNGs, JPEG previews), with the same pixel limit.

    A PNG's size was read from its IHDR before this is called; Pillow's own decompression-bomb
    check and any decoder error become a :class:`WireError` too."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                if max_pixels is not None and im.width * im.height > max_pixels:
                    raise WireError(f"image of {im.width}x{im.height} pixels is over the limit of {max_pixels}")
                return np.asarray(im.convert({"L": "L", "LA": "LA", "RGBA": "RGBA"}.get(im.mode, "RGB")))
    except WireError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise WireError("image is over Pillow's decompression-bomb limit") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, struct.error) as exc:
        raise WireError(f"undecodable {fmt} ({type(exc).__name__})") from None


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


def _shape_of(value: dict[str, Any]) -> tuple[int, ...]:
    shape = value.get("shape", ())
    if not isinstance(shape, (list, tuple)) or len(shape) > 4 or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**31 for s in shape):
        raise WireError("malformed array shape")
    return tuple(shape)


def declared_pixels(value: dict[str, Any]) -> int:
    """The pixels an encoded array says it holds (height x width; all elements for 1-D)."""
    shape = _shape_of(value)
    if not shape:
        return 1
    return int(shape[0]) * (int(shape[1]) if len(shape) > 1 else 1)


def decode_array(value: dict[str, Any], max_pixels: int | None = None) -> np.ndarray:
    """The array :func:`encode_array` encoded; :class:`WireError` when any part disagrees.

    Sizes are checked from the declared shape and from the PNG's header before a byte is inflated."""
    dtype, shape, data, form = value.get("dtype"), _shape_of(value), value.get("data"), value.get("$array")
    if dtype not in RAW_DTYPES or not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError("malformed array")
    if max_pixels is not None and len(shape) >= 2 and shape[0] * shape[1] > max_pixels:
        raise WireError(f"image of {shape[1]}x{shape[0]} pixels is over the limit of {max_pixels}")
    if form in ("png", "jpeg"):
        channels = shape[2] if len(shape) == 3 else 1
        if dtype not in ("uint8", "bool") or len(shape) not in (2, 3) or channels not in _PNG_COLOUR:
            raise WireError(f"a {form} array is uint8 H x W (x 1..4), not {dtype} {list(shape)}")
    if form == "png":
        if png_size(bytes(data[:33])) != (shape[1], shape[0]):
            raise WireError(f"PNG size does not match its shape {list(shape)}")
        a = png_decode(bytes(data), max_pixels)
        if a.size != int(np.prod(shape, dtype=np.int64)):
            raise WireError(f"PNG channels do not match its shape {list(shape)}")
        if dtype == "bool":
            a = a != 0
        return a.reshape(shape)
    if form == "jpeg":
        a = _png_decode_other(bytes(data), max_pixels, "JPEG")  # Pillow reads JPEG the same way
        if a.shape != shape:
            raise WireError("JPEG does not match its shape")
        return a
    if form == "raw":
        dt = np.dtype(dtype).newbyteorder("<")
        if len(data) != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise WireError("array data does not match its shape")
        return np.frombuffer(bytes(data), dt).astype(np.dtype(dtype), copy=True).reshape(shape)
    raise WireError(f"unknown array encoding {form!r}")


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
        if not isinstance(value["$bytes"], (bytes, bytearray)):
            raise WireError("malformed $bytes")
        return bytes(value["$bytes"])
    if "$path" in value:
        from pathlib import Path

        if not isinstance(value["$path"], str):
            raise WireError("malformed $path")
        return Path(value["$path"])
    if "$dict" in value:
        pairs = value["$dict"]
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise WireError("malformed $dict: expected a list of [key, value] pairs")
        out = {}
        for k, v in pairs:
            key = decode_value(k, registry, max_pixels)
            if not isinstance(key, (str, int, float, bool, type(None), tuple)):
                raise WireError("malformed $dict: a key must be a plain value")
            try:
                out[key] = decode_value(v, registry, max_pixels)
            except TypeError:  # a tuple key holding something unhashable
                raise WireError("malformed $dict: a key must be a plain value") from None
        return out
    name = value.get("type")
    cls = registry.get(name) if isinstance(name, str) else None
    if cls is None:
        raise WireError(f"unknown type {name!r}")
    return cls.from_dict(value, max_pixels=max_pixels)


# --- records: the api classes that travel ----------------------------------------------------

_REGISTRY: dict[str, type] = {}  # KIND -> class, filled as each Record subclass is defined


class Record:
    """The wire form of every :mod:`engine.api` / :mod:`engine.protocol` dataclass, keyed by ``KIND``.

    A subclass that sets ``KIND`` registers itself when it is defined (no hand-kept list), so
    :func:`from_dict` can rebuild it; two classes with one ``KIND`` are refused. The constant is
    ``KIND``, not ``kind``: ``JobQueued``, ``JobStarted`` and ``JobFailed`` have a ``kind`` field.
    """

    KIND: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("KIND", "")
        if not kind:
            return
        held = _REGISTRY.get(kind)
        if held is not None and (held.__module__, held.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(f"{cls.__qualname__} and {held.__qualname__} share the KIND {kind!r}")
        _REGISTRY[kind] = cls  # (the same class again: its module was reloaded)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``bytes`` for array data): ``{"type": KIND, field: value, ...}``."""
        out: dict[str, Any] = {"type": self.KIND}
        for f in fields(self):  # type: ignore[arg-type]
            out[f.name] = encode_value(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, max_pixels: int | None = None) -> Any:
        """Rebuild from :meth:`to_dict`'s dict; unknown keys are ignored (newer peers may add fields).

        ``max_pixels`` refuses images larger than that (a :class:`WireError`).
        """
        if data.get("type") != cls.KIND:
            raise WireError(f"expected a {cls.KIND!r}, got {data.get('type')!r}")
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: decode_value(v, _REGISTRY, max_pixels) for k, v in data.items() if k in names}
        try:
            return cls(**values)
        except TypeError as exc:
            raise WireError(f"malformed {cls.KIND!r}: {exc}") from None


def record_classes() -> tuple[type, ...]:
    """Every registered :class:`Record` class, in the order they were defined."""
    return tuple(_REGISTRY.values())


def to_dict(obj: Any) -> dict[str, Any]:
    """The wire dict of any registered record (see :class:`Record`)."""
    if _REGISTRY.get(getattr(type(obj), "KIND", None)) is not type(obj):
        raise WireError(f"{type(obj).__name__} is not an engine.api object")
    return obj.to_dict()


def from_dict(data: Any, *, max_pixels: int | None = None) -> Any:
    """The record of a wire dict, chosen by its ``"type"``; :class:`WireError` if unknown."""
    if not isinstance(data, dict):
        raise WireError("expected a dict")
    cls = _REGISTRY.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise WireError(f"unknown type {data.get('type')!r}")
    return cls.from_dict(data, max_pixels=max_pixels)


# --- frames ---------------------------------------------------------------------------------


def pack(tree: Any, form: str = "msgpack") -> bytes:
    """One binary frame of a tree from :func:`encode_value`: ``form`` ``"msgpack"`` (``BEW2``, the
    default) or ``"json"`` (``BEW1``, for peers that read only the first form)."""
    if form == "msgpack":
        import msgpack

        try:
            return MAGIC2 + msgpack.packb(tree, use_bin_type=True)
        except (TypeError, ValueError, OverflowError) as exc:
            raise WireError(f"cannot pack: {exc}") from None
    if form != "json":
        raise WireError(f"unknown frame form {form!r}")
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


def form_of(frame: bytes) -> str:
    """``"msgpack"`` or ``"json"``: the form a peer's frame was written in (to answer in kind)."""
    return "json" if bytes(frame[:4]) == MAGIC else "msgpack"


def unpack(frame: bytes) -> Any:
    """The tree of :func:`pack` (either form); raises :class:`WireError` when malformed."""
    frame = bytes(frame)
    if frame[:4] == MAGIC2:
        tree = _unpack_msgpack(frame)
    elif len(frame) >= 8 and frame[:4] == MAGIC:
        tree = _unpack_json(frame)
    else:
        raise WireError("not a BrushEdit frame")
    _check_depth(tree)
    return tree


def _unpack_msgpack(frame: bytes) -> Any:
    try:
        import msgpack
    except ImportError:  # pragma: no cover - the [studio] extra is missing
        raise WireError("a msgpack frame, and msgpack is not installed: pip install msgpack") from None

    def no_ext(code: int, data: bytes) -> Any:
        raise WireError("msgpack extension types do not travel")

    try:
        # strict_map_key: keys are str or bytes; msgpack's own stack limits nesting (StackError).
        return msgpack.unpackb(memoryview(frame)[4:], raw=False, strict_map_key=True, ext_hook=no_ext,
                               timestamp=0)  # max_*_len default to the frame's length
    except WireError:
        raise
    except (msgpack.StackError, RecursionError):
        raise WireError("frame nested too deep") from None
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise WireError(f"malformed frame ({type(exc).__name__})") from None


def _unpack_json(frame: bytes) -> Any:
    (length,) = struct.unpack(">I", frame[4:8])
    if 8 + length > len(frame):
        raise WireError("truncated frame")
    try:
        header = json.loads(frame[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"malformed frame header: {exc}") from None
    except RecursionError:
        raise WireError(f"frame nested deeper than {MAX_DEPTH}") from None
    _check_depth(header)
    body = memoryview(frame)[8 + length:]

    def drop(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"$blob"}:
                ref = node["$blob"]
                if not (isinstance(ref, list) and len(ref) == 2
                        and all(isinstance(v, int) and not isinstance(v, bool) for v in ref)):
                    raise WireError("malformed blob reference")
                start, size = ref
                if start < 0 or size < 0 or start + size > len(body):
                    raise WireError("blob out of the frame")
                return bytes(body[start:start + size])
            return {k: drop(v) for k, v in node.items()}
        if isinstance(node, list):
            return [drop(v) for v in node]
        return node

    return drop(header)


def _check_depth(tree: Any) -> None:
    """Refuse trees nested deeper than :data:`MAX_DEPTH` (iteratively: no recursion to exhaust)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise WireError(f"frame nested deeper than {MAX_DEPTH}")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
