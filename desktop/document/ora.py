"""OpenRaster (.ora) projects: layers as PNGs + stack.xml, with our provenance and masks inside.

Written so Krita, GIMP and MyPaint open the layers: ``mimetype`` first and stored, ``stack.xml``
(OpenRaster 0.0.5: ``image`` w/h, one ``stack`` of ``layer`` elements with src, x, y, opacity,
visibility, name, composite-op: the blend modes of ``blend_modes.py``), ``data/<id>.png``, ``mergedimage.png`` and a thumbnail of at most
256 px. Our own data sits in ``brushedit/`` (``document.json``: provenance per layer id, the edit
mask and edit-layer masks as PNGs, an edit layer's variations as PNGs) and in ``brushedit:``
attributes, which other programs ignore.

Loading treats the file as hostile: entry names that escape the archive, absurd sizes, too many
entries, zip bombs, XML entities, PNG headers claiming huge images all raise DocumentError.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence
from xml.etree import ElementTree as ET

import numpy as np
from PIL import Image

from .blend_modes import from_ora, to_ora
from .errors import DocumentError
from .image_import import DEFAULT_MAX_PIXELS, decode
from .layers import MAX_VARIANTS, EditLayer, Layer, RasterLayer, Variant
from .png_writer import encode_pngs
from .provenance import Provenance
from .safe_write import atomic_write, remove_stale_parts

MIMETYPE = b"image/openraster"
NS = "https://github.com/brushedit-studio/ns/ora/1"
ET.register_namespace("brushedit", NS)
FORMAT_VERSION = 1
PNG_LEVEL = 5  # measured: within 1.5 % of level 6 in size and about half its time (benchmarks/document.py)
THUMB_MAX = 256

MAX_ENTRIES = 10_000
MAX_XML_BYTES = 8 << 20
MAX_JSON_BYTES = 64 << 20
MAX_ENTRY_BYTES = 2 << 30
MAX_RATIO = 100  # stored PNGs are ~1:1 and XML/JSON ~10:1; 100:1 over 1 MiB is a bomb
MAX_OFFSET = 1 << 20


class OraData:
    """What an .ora holds, independent of the Document class."""

    def __init__(self, width: int, height: int, layers: list[Layer], mask: np.ndarray | None,
                 meta: dict | None = None) -> None:
        self.width, self.height, self.layers, self.mask = width, height, layers, mask
        self.meta = meta or {}


# --------------------------------------------------------------------------------------- save


def _thumbnail(merged: np.ndarray) -> np.ndarray:
    h, w = merged.shape[:2]
    scale = min(1.0, THUMB_MAX / max(w, h))
    img = Image.fromarray(merged)
    if scale < 1.0:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    return np.array(img)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (they would make stack.xml unreadable)."""
    return _XML_BAD.sub("", text)


def save_ora(path: str | Path, width: int, height: int, layers: Sequence[Layer], merged: np.ndarray,
             mask: np.ndarray | None, meta: dict | None = None) -> None:
    """Write an OpenRaster file atomically (see the module docstring)."""
    ids = [layer.id for layer in layers]
    if len(set(ids)) != len(ids):
        raise DocumentError("two layers share an id", path)
    # The merged image of a single full-canvas layer (an opened photo) is that layer: the layer's
    # src points at mergedimage.png, so the picture is stored once, not twice.
    same = next((layer.id for layer in layers if layer.offset == (0, 0)
                 and layer.pixels.shape == merged.shape and np.array_equal(layer.pixels, merged)), None)
    src = {layer.id: "mergedimage.png" if layer.id == same else f"data/{layer.id}.png"
           for layer in layers}
    jobs: dict[str, np.ndarray] = {"mergedimage.png": merged}
    jobs.update((src[layer.id], layer.pixels) for layer in layers if layer.id != same)
    jobs["Thumbnails/thumbnail.png"] = _thumbnail(merged)
    variant_entries: dict[str, list[dict]] = {}
    for layer in layers:
        if isinstance(layer, EditLayer) and layer.mask is not None:
            jobs[f"brushedit/masks/{layer.id}.png"] = layer.mask
        if isinstance(layer, EditLayer) and layer.variants:
            variant_entries[layer.id] = _variant_jobs(layer, jobs, src[layer.id])
    if mask is not None and mask.any():
        jobs["brushedit/mask.png"] = mask
    # zlib releases the GIL: the blocks of all PNGs are deflated together on all cores, and the
    # merged image's blocks that equal the photo's (away from the edits) are deflated once.
    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
        encoded = encode_pngs(jobs, PNG_LEVEL, pool)

    root = ET.Element("image", {"version": "0.0.5", "w": str(width), "h": str(height),
                                "xres": "72", "yres": "72"})
    stack = ET.SubElement(root, "stack")
    doc_json = dict(meta or {})  # the caller's notes first: they cannot overwrite ours
    doc_json.update({"format": "brushedit-ora", "version": FORMAT_VERSION, "layers": {},
                     "mask": "brushedit/mask.png" if "brushedit/mask.png" in encoded else None})
    for layer in reversed(list(layers)):  # OpenRaster lists the top layer first
        x, y = layer.offset
        ET.SubElement(stack, "layer", {
            "name": _xml_text(layer.name), "src": src[layer.id], "x": str(x), "y": str(y),
            "opacity": f"{layer.opacity:.6g}", "visibility": "visible" if layer.visible else "hidden",
            "composite-op": to_ora(layer.blend_mode), f"{{{NS}}}id": layer.id, f"{{{NS}}}kind": layer.kind})
        entry: dict = {"kind": layer.kind, "name": layer.name}
        if isinstance(layer, EditLayer):
            entry["provenance"] = layer.provenance.to_dict()
            entry["mask"] = (f"brushedit/masks/{layer.id}.png" if layer.mask is not None else None)
            if layer.id in variant_entries:
                entry["variants"] = variant_entries[layer.id]
                entry["variant"] = layer.variant
        doc_json["layers"][layer.id] = entry
    xml = ET.tostring(root, encoding="UTF-8", xml_declaration=True)

    with atomic_write(path) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE)  # first, stored: the magic
            zf.writestr("stack.xml", xml, compress_type=zipfile.ZIP_DEFLATED)
            for name in [src[layer.id] for layer in layers if layer.id != same] + [
                    "mergedimage.png", "Thumbnails/thumbnail.png"]:
                zf.writestr(name, encoded[name])  # PNGs are compressed already: store them
            for name in sorted(k for k in encoded if k.startswith("brushedit/")):
                zf.writestr(name, encoded[name])
            zf.writestr("brushedit/document.json", json.dumps(doc_json, indent=1),
                        compress_type=zipfile.ZIP_DEFLATED)


def _variant_jobs(layer: EditLayer, jobs: dict, layer_src: str) -> list[dict]:
    """Queue the PNGs of ``layer``'s variants in ``jobs``; their document.json entries. The
    variant the layer shows shares its pixel array (the document keeps one for both) and points
    at the layer's own PNG rather than storing it twice."""
    entries = []
    for k, v in enumerate(layer.variants):
        if v.pixels is layer.pixels:
            png = layer_src
        else:
            png = f"brushedit/variants/{layer.id}/{k}.png"
            jobs[png] = v.pixels
        mask = None
        if v.mask is not None:
            mask = f"brushedit/variants/{layer.id}/{k}-mask.png"
            jobs[mask] = v.mask
        entries.append({"png": png, "mask": mask, "x": v.offset[0], "y": v.offset[1],
                        "provenance": v.provenance.to_dict()})
    return entries


# --------------------------------------------------------------------------------------- load
def is_ora(path: str | Path) -> bool:
    """Whether ``path`` looks like an OpenRaster file (zip whose first entry is the mimetype)."""
    try:
        with open(path, "rb") as f:
            head = f.read(30 + 8 + len(MIMETYPE))
    except OSError:
        return False
    return head[:4] == b"PK\x03\x04" and head[30:38] == b"mimetype" and head[38:] == MIMETYPE


def _check_name(name: str, path) -> str:
    if "\x00" in name or "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise DocumentError(f"archive entry {name!r} escapes the archive", path)
    norm = posixpath.normpath(name)
    if norm.startswith("../") or norm == ".." or "/../" in f"/{name}/":
        raise DocumentError(f"archive entry {name!r} escapes the archive", path)
    return name


class _Archive:
    def __init__(self, zf: zipfile.ZipFile, path, max_pixels: int) -> None:
        self.zf, self.path, self.max_pixels = zf, path, max_pixels
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise DocumentError(f"the archive has {len(infos)} entries (limit {MAX_ENTRIES})", path)
        self.infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            _check_name(info.filename, path)
            if info.file_size > MAX_ENTRY_BYTES:
                raise DocumentError(f"archive entry {info.filename!r} claims an absurd size "
                                    f"({info.file_size} bytes)", path)
            if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise DocumentError(f"archive entry {info.filename!r} is a zip bomb "
                                    f"({info.file_size} bytes from {info.compress_size})", path)
            total += info.file_size
            self.infos[info.filename] = info
        if total > 4 * MAX_ENTRY_BYTES:
            raise DocumentError(f"the archive unpacks to an absurd size ({total} bytes)", path)

    def read(self, name: str, limit: int = MAX_ENTRY_BYTES) -> bytes:
        name = _check_name(name, self.path)
        info = self.infos.get(name)
        if info is None:
            raise DocumentError(f"the archive has no entry {name!r}", self.path)
        if info.file_size > limit:
            raise DocumentError(f"archive entry {name!r} is too large ({info.file_size} bytes)",
                                self.path)
        with self.zf.open(info) as f:
            data = f.read(limit + 1)  # zipfile also stops at the declared size and checks the CRC
        if len(data) > limit:
            raise DocumentError(f"archive entry {name!r} is too large", self.path)
        return data

    def image(self, name: str, max_pixels: int, data: bytes | None = None) -> np.ndarray:
        """Decode entry ``name`` (or its already read ``data``) to read-only RGBA."""
        data = self.read(name) if data is None else data
        try:
            pixels, _ = decode(io.BytesIO(data), name, max_pixels=max_pixels)
        except DocumentError as e:
            raise DocumentError(str(e), self.path) from None
        pixels.flags.writeable = False  # ours alone: layers keep it without another copy
        return pixels

    def images(self, names: list[str], max_pixels: int) -> list[np.ndarray]:
        """Decode several entries, in parallel threads (Pillow's decoder releases the GIL)."""
        blobs = [self.read(_check_name(n, self.path)) for n in names]  # the zip file is shared
        if len(names) < 2:
            return [self.image(n, max_pixels, b) for n, b in zip(names, blobs)]
        with ThreadPoolExecutor(max(1, min(len(names), os.cpu_count() or 1))) as pool:
            return list(pool.map(lambda nb: self.image(nb[0], max_pixels, nb[1]), zip(names, blobs)))


def _int(elem, attr: str, path, default: int | None = None, lo: int = -MAX_OFFSET,
         hi: int = MAX_OFFSET) -> int:
    raw = elem.get(attr)
    if raw is None:
        if default is None:
            raise DocumentError(f"stack.xml: <{elem.tag}> lacks {attr!r}", path)
        return default
    try:
        value = int(float(raw))
    except (TypeError, ValueError, OverflowError):
        raise DocumentError(f"stack.xml: {attr}={raw!r} is not a number", path) from None
    if not lo <= value <= hi:
        raise DocumentError(f"stack.xml: {attr}={value} is out of range", path)
    return value


def _float(elem, attr: str, default: float) -> float:
    try:
        v = float(elem.get(attr, default))
    except (TypeError, ValueError):
        return default
    return min(1.0, max(0.0, v)) if np.isfinite(v) else default


def _png_size(ar: _Archive, name: str) -> tuple[int, int]:
    """Width and height from an entry's header, without decoding it (0, 0 if it is not a PNG)."""
    info = ar.infos.get(_check_name(name, ar.path))
    if info is None:
        raise DocumentError(f"the archive has no entry {name!r}", ar.path)
    with ar.zf.open(info) as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return 0, 0  # another format: the decoder checks it
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def load_ora(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> OraData:
    """Read an OpenRaster file (ours or another program's); DocumentError on anything wrong."""
    path = Path(path)
    remove_stale_parts(path)  # what a killed save of this file left beside it
    try:
        with zipfile.ZipFile(path) as zf:
            return _load(_Archive(zf, path, max_pixels), path, max_pixels)
    except DocumentError:
        raise
    except FileNotFoundError:
        raise DocumentError("file not found", path) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError,
            RuntimeError, ValueError, KeyError, OSError) as e:
        raise DocumentError(f"not a readable OpenRaster file ({' '.join(str(e).split())[:160]})",
                            path) from None


def _load(ar: _Archive, path: Path, max_pixels: int) -> OraData:
    xml = ar.read("stack.xml", MAX_XML_BYTES)
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise DocumentError("stack.xml declares a DTD or entities (refused)", path)
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise DocumentError(f"stack.xml is not valid XML ({e})", path) from None
    if root.tag != "image":
        raise DocumentError("stack.xml has no <image> root", path)
    w = _int(root, "w", path, lo=1, hi=1 << 20)
    h = _int(root, "h", path, lo=1, hi=1 << 20)
    if w * h > max_pixels:
        raise DocumentError(f"the image is too large: {w} x {h} (limit {max_pixels / 1e6:g} "
                            "megapixels)", path)
    top = root.find("stack")
    if top is None:
        raise DocumentError("stack.xml has no <stack>", path)

    meta: dict = {}
    if "brushedit/document.json" in ar.infos:
        try:
            meta = json.loads(ar.read("brushedit/document.json", MAX_JSON_BYTES))
        except (ValueError, UnicodeDecodeError):
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
    layer_meta = meta.get("layers") if isinstance(meta.get("layers"), dict) else {}

    specs: list[tuple] = []  # top to bottom

    def walk(stack, dx: int, dy: int, visible: bool, opacity: float, depth: int) -> None:
        if depth > 32:
            raise DocumentError("stack.xml nests stacks too deeply", path)
        for elem in stack:
            if elem.tag == "stack":
                walk(elem, dx + _int(elem, "x", path, 0), dy + _int(elem, "y", path, 0),
                     visible and elem.get("visibility", "visible") != "hidden",
                     opacity * _float(elem, "opacity", 1.0), depth + 1)
            elif elem.tag == "layer":
                src = elem.get("src")
                if not src:
                    continue
                specs.append((elem, src, dx + _int(elem, "x", path, 0), dy + _int(elem, "y", path, 0),
                              visible and elem.get("visibility", "visible") != "hidden",
                              opacity * _float(elem, "opacity", 1.0)))
            if len(specs) > 4096:
                raise DocumentError("too many layers", path)

    walk(top, 0, 0, True, 1.0, 0)
    total = 0
    layers: list[Layer] = []
    seen: set[str] = set()
    specs.reverse()  # bottom to top
    # Refuse what would not fit before decoding anything: PNG headers give each layer's size.
    for _, src, *_rest in specs:
        w_, h_ = _png_size(ar, src)
        total += w_ * h_
        if total > 10 * max_pixels:
            raise DocumentError("the layers together are too large", path)
    decoded = ar.images([spec[1] for spec in specs], max_pixels)
    for (elem, src, x, y, visible, opacity), pixels in zip(specs, decoded):
        lid = elem.get(f"{{{NS}}}id") or None
        if lid in seen or (lid and not all(c.isalnum() or c in "-_" for c in lid)):
            lid = None
        info = layer_meta.get(lid, {}) if lid else {}
        info = info if isinstance(info, dict) else {}
        kw = dict(name=elem.get("name", "Layer"), offset=(x, y), visible=visible, opacity=opacity,
                  id=lid, blend_mode=from_ora(elem.get("composite-op")))
        if elem.get(f"{{{NS}}}kind") == "edit" or info.get("kind") == "edit":
            try:
                prov = Provenance.from_dict(info.get("provenance") or {})
            except (TypeError, ValueError):
                prov = Provenance()
            mask = _mask(ar, info.get("mask"), pixels.shape[:2], max_pixels)
            layer = EditLayer(pixels, prov, mask=mask, **kw)
            _load_variants(ar, layer, info, max_pixels, src)
        else:
            layer = RasterLayer(pixels, **kw)
        seen.add(layer.id)
        layers.append(layer)

    mask = _mask(ar, meta.get("mask"), (h, w), max_pixels)
    return OraData(w, h, layers, None if mask is None else np.array(mask), meta)


def _mask(ar: _Archive, name, shape: tuple[int, int], max_pixels: int) -> np.ndarray | None:
    """Entry ``name`` as an ``H x W`` mask (its first channel) when it exists and has ``shape``."""
    if not isinstance(name, str) or name not in ar.infos:
        return None
    m = ar.image(name, max_pixels)[..., 0]
    return m if m.shape == shape else None


def _load_variants(ar: _Archive, layer: EditLayer, info: dict, max_pixels: int, src: str) -> None:
    """Give ``layer`` the variations its document.json entry lists. They are extras: anything
    wrong with them (a missing PNG, a bad offset, too many or too large) drops them, not the file.
    The one stored as the layer's own PNG (``src``) reuses the pixels already decoded."""
    entries = info.get("variants")
    if not isinstance(entries, list) or not 1 < len(entries) <= MAX_VARIANTS:
        return
    try:
        names = []
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("png"), str) or e["png"] not in ar.infos:
                return
            names.append(e["png"])
        sizes = [_png_size(ar, n) for n in names]
        if sum(w * h for w, h in sizes) > 2 * max_pixels:
            return
        others = iter(ar.images([n for n in names if n != src], max_pixels))
        variants = []
        for e in entries:
            pixels = layer.pixels if e["png"] == src else next(others)
            offset = (int(e.get("x", 0)), int(e.get("y", 0)))
            if not all(abs(c) <= MAX_OFFSET for c in offset):
                return
            mask = _mask(ar, e.get("mask"), pixels.shape[:2], max_pixels)
            prov = Provenance.from_dict(e.get("provenance") or {})
            variants.append(Variant(pixels, offset, mask, prov))
    except (DocumentError, TypeError, ValueError, OverflowError):
        return
    index = info.get("variant")
    layer._variants = tuple(variants)
    layer._variant = index if isinstance(index, int) and 0 <= index < len(variants) else None
