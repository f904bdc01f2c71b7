"""Blend modes against Krita's formulas, pixel by pixel, and through a .ora round trip."""

from __future__ import annotations

import math
import zipfile
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from desktop.document import Document, DocumentError
from desktop.document.blend_modes import BLEND_MODES, ORA_OPS, from_ora
from desktop.document.layers import RasterLayer


# Krita's channel functions (libs/pigment/compositeops/KoCompositeOpFunctions.h), written out
# here one scalar at a time, in 0..1, so the vectorised ones are checked against the text.
def krita_channel(mode: str, s: float, d: float) -> float:
    if mode == "multiply":
        return s * d
    if mode == "screen":
        return s + d - s * d
    if mode == "hard-light":
        return (2 * s - 1) + d - (2 * s - 1) * d if s > 0.5 else 2 * s * d
    if mode == "overlay":
        return krita_channel("hard-light", d, s)
    if mode == "darken":
        return min(s, d)
    if mode == "lighten":
        return max(s, d)
    if mode == "color-dodge":
        if s == 1.0:
            return 1.0
        return min(1.0, d / (1 - s))
    if mode == "color-burn":
        if d == 1.0:
            return 1.0
        if s < 1 - d:
            return 0.0
        return 1 - min(1.0, (1 - d) / s)
    if mode == "soft-light":  # cfSoftLightSvg: what Krita loads svg:soft-light as
        if s > 0.5:
            lift = math.sqrt(d) if d > 0.25 else ((16 * d - 12) * d + 4) * d
            return d + (2 * s - 1) * (lift - d)
        return d - (1 - 2 * s) * d * (1 - d)
    if mode == "difference":
        return abs(s - d)
    if mode == "addition":
        return min(1.0, s + d)
    raise AssertionError(mode)


def krita_pixel(mode: str, src, dst, opacity: float = 1.0):
    """Krita's generic separable composite op on straight-alpha 8-bit pixels."""
    sa, da = src[3] / 255 * opacity, dst[3] / 255
    ao = sa + da - sa * da
    out = []
    for c in range(3):
        cs, cb = src[c] / 255, dst[c] / 255
        mixed = krita_channel(mode, cs, cb)
        co = (cs * sa * (1 - da) + cb * da * (1 - sa) + sa * da * mixed) / ao if ao else 0.0
        out.append(round(co * 255))
    return out + [round(ao * 255)]


SRC = [(200, 30, 128, 255), (255, 0, 64, 255), (90, 180, 250, 128), (10, 120, 255, 200),
       (128, 129, 127, 255), (0, 255, 32, 64)]
DST = [(60, 220, 128, 255), (0, 255, 10, 255), (240, 30, 10, 255), (250, 100, 0, 255),
       (30, 230, 64, 255), (200, 5, 255, 255)]
MODES = [m for m in BLEND_MODES if m != "normal"]


def _two_layer_doc(mode: str, src_rows, dst_rows, opacity: float = 1.0) -> Document:
    dst = np.array([dst_rows], np.uint8)
    src = np.array([src_rows], np.uint8)
    doc = Document.from_array(dst)
    doc.add_layer(RasterLayer(src, name="top", blend_mode=mode, opacity=opacity))
    return doc


@pytest.mark.parametrize("mode", MODES)
def test_blend_over_an_opaque_photo_matches_krita(mode):
    doc = _two_layer_doc(mode, SRC, DST)
    got = doc.flatten()[0]
    for i, (s, d) in enumerate(zip(SRC, DST)):
        want = krita_pixel(mode, s, d)
        assert np.abs(got[i].astype(int) - want).max() <= 1, (mode, s, d, got[i], want)


@pytest.mark.parametrize("mode", ["multiply", "screen", "color-dodge", "soft-light", "addition"])
def test_blend_over_a_transparent_layer_uses_the_general_formula(mode):
    dst = [(60, 220, 128, 100), (0, 255, 10, 0), (240, 30, 10, 255), (250, 100, 0, 30),
           (30, 230, 64, 180), (200, 5, 255, 1)]
    doc = Document(6, 1)
    doc.add_layer(RasterLayer(np.array([dst], np.uint8), name="below"))
    doc.add_layer(RasterLayer(np.array([SRC], np.uint8), name="top", blend_mode=mode, opacity=0.7))
    got = doc.flatten()[0]
    for i, (s, d) in enumerate(zip(SRC, dst)):
        want = krita_pixel(mode, s, d, 0.7)
        assert np.abs(got[i].astype(int) - want).max() <= 1, (mode, s, d, got[i], want)


def test_krita_edge_cases_where_w3c_differs():
    # Colour dodge of white over black is white in Krita (W3C says black).
    doc = _two_layer_doc("color-dodge", [(255, 255, 255, 255)], [(0, 0, 0, 255)])
    assert doc.flatten()[0, 0].tolist() == [255, 255, 255, 255]
    # svg:plus is Krita's clamped Addition, not Porter-Duff plus (alpha does not add past 1).
    doc = _two_layer_doc("addition", [(200, 100, 10, 255)], [(100, 100, 10, 255)])
    assert doc.flatten()[0, 0].tolist() == [255, 200, 20, 255]


def test_a_dirty_rect_equals_the_same_region_of_the_full_composite():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (96, 128, 4), dtype=np.uint8)
    base[..., 3] = 255
    doc = Document.from_array(base)
    top = rng.integers(0, 256, (70, 90, 4), dtype=np.uint8)
    top[:20, :, 3] = 0  # a transparent strip the compositor skips
    doc.add_layer(RasterLayer(top, name="soft", blend_mode="soft-light", offset=(10, 7)))
    doc.add_layer(RasterLayer(top, name="mul", blend_mode="multiply", offset=(30, 20), opacity=0.5))
    full = doc.flatten()
    for rect in [(0, 0, 40, 40), (33, 21, 50, 17), (100, 60, 28, 36)]:
        x, y, w, h = rect
        assert np.array_equal(doc.flatten(rect), full[y:y + h, x:x + w])


def test_blend_mode_change_is_one_undoable_step():
    doc = _two_layer_doc("normal", SRC, DST)
    top = doc.layers[1]
    before = doc.flatten().copy()
    doc.set_layer_props(top, blend_mode="difference")
    assert top.blend_mode == "difference"
    assert doc.history.entries[-1] == "Blend mode"
    assert not np.array_equal(doc.flatten(), before)
    doc.undo()
    assert top.blend_mode == "normal" and np.array_equal(doc.flatten(), before)
    doc.redo()
    assert top.blend_mode == "difference"
    with pytest.raises(DocumentError):
        doc.set_layer_props(top, blend_mode="krita:greater")


def test_blend_modes_round_trip_through_ora(tmp_path):
    rows = len(MODES)
    base = np.zeros((rows, 6, 3), np.uint8)
    base[:] = np.array(DST, np.uint8)[None, :, :3]
    doc = Document.from_array(base)
    for i, mode in enumerate(MODES):
        px = np.zeros((1, 6, 4), np.uint8)
        px[0] = np.array(SRC, np.uint8)
        doc.add_layer(RasterLayer(px, name=mode, blend_mode=mode, offset=(0, i)))
    path = tmp_path / "modes.ora"
    doc.save(path)
    with zipfile.ZipFile(path) as zf:
        stack = ET.fromstring(zf.read("stack.xml"))
        ops = {e.get("name"): e.get("composite-op") for e in stack.iter("layer")}
    assert ops["Background"] == "svg:src-over"
    for mode in MODES:
        assert ops[mode] == ORA_OPS[mode]
    assert ops["addition"] == "svg:plus" and ops["soft-light"] == "svg:soft-light"
    again = Document.open(path)
    assert [layer.blend_mode for layer in again.layers] == ["normal"] + MODES
    assert np.array_equal(again.flatten(), doc.flatten())
    # Each row of the merged picture is one mode over the photo, as Krita draws it.
    merged = again.flatten()
    for i, mode in enumerate(MODES):
        for j, (s, d) in enumerate(zip(SRC, DST)):
            want = krita_pixel(mode, s, d)
            assert np.abs(merged[i, j].astype(int) - want).max() <= 1, (mode, j)


def test_unknown_composite_ops_load_as_normal():
    assert from_ora("svg:hue") == "normal" and from_ora(None) == "normal"
    assert from_ora("svg:plus") == "addition" and from_ora("krita:soft_light_svg") == "soft-light"


def test_merge_down_keeps_the_lower_layers_mode_and_duplicate_keeps_its_own():
    doc = _two_layer_doc("screen", SRC, DST)
    top = doc.layers[1]
    copy = doc.duplicate_layer(top)
    assert copy.blend_mode == "screen"
    doc.set_layer_props(copy, blend_mode="normal")
    merged = doc.merge_down(copy)
    assert merged.blend_mode == "screen"


def test_a_blended_layer_is_mixed_in_bands_with_the_same_result(monkeypatch):
    from desktop.document import compositing

    rng = np.random.default_rng(9)
    base = rng.integers(0, 256, (64, 40, 3), dtype=np.uint8)
    top = rng.integers(0, 256, (64, 40, 4), dtype=np.uint8)
    doc = Document.from_array(base)
    doc.add_layer(RasterLayer(top, name="o", blend_mode="overlay", opacity=0.6))
    whole = doc.flatten().copy()
    monkeypatch.setattr(compositing, "_BLEND_BAND_PIXELS", 100)  # bands of 2 rows
    assert np.array_equal(doc.flatten(), whole)
