"""OpenRaster projects: a valid stack.xml, pixel-identical round trips, atomic saves, hostile files."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from desktop.document import Document, DocumentError, EditLayer, Provenance

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(astronaut):
    doc = Document.from_array(astronaut)
    mask = np.zeros(astronaut.shape[:2], np.uint8)
    mask[100:200, 150:260] = 255
    crop = np.zeros((120, 130, 4), np.uint8)
    crop[..., 0] = 250
    crop[..., 3] = np.linspace(0, 255, 130).astype(np.uint8)
    prov = Provenance(instruction="paint it red", category="local", target="helmet", prompt="red",
                      negative_prompt="ugly", seed=1234, steps=30, guidance=7.5, strength=1.0,
                      conditioning_scale=0.8, engine="brushedit", model="brushnet-x",
                      extra={"plan": {"backend": "offline"}})
    doc.add_edit(crop, (140, 90), prov, mask=mask)
    hidden = doc.add_edit(np.full((10, 20, 3), 7, np.uint8), (-5, 500), Provenance(seed=3),
                          name="hidden one")
    doc.set_layer_props(hidden, visible=False)
    doc.set_layer_props(doc.layers[1], opacity=0.75)
    doc.begin_mask_stroke("paint", 25, 0.5)
    doc.mask_stroke_to(30, 30)
    doc.mask_stroke_to(90, 60)
    doc.end_mask_stroke()
    return doc


def test_round_trip_is_pixel_identical_with_provenance(project, tmp_path):
    path = tmp_path / "p.ora"
    events = []
    project.events.connect(events.append)
    assert project.dirty
    project.save(path)
    assert not project.dirty and project.path == path.resolve() and events[-1].kind == "path"
    back = Document.open(path)
    assert back.size == project.size and back.path == path.resolve() and not back.dirty
    assert np.array_equal(back.flatten(), project.flatten())
    assert np.array_equal(back.mask, project.mask) and back.mask.any()
    assert len(back.layers) == len(project.layers)
    for a, b in zip(project.layers, back.layers):
        assert (a.id, a.name, a.visible, a.opacity, a.offset, type(a)) == \
               (b.id, b.name, b.visible, b.opacity, b.offset, type(b))
        assert np.array_equal(a.pixels, b.pixels)
        if isinstance(a, EditLayer):
            assert a.provenance == b.provenance
            assert (a.mask is None and b.mask is None) or np.array_equal(a.mask, b.mask)
    assert back.layers[1].provenance.extra == {"plan": {"backend": "offline"}}


def test_stack_xml_is_valid_openraster(project, tmp_path):
    path = tmp_path / "p.ora"
    project.save(path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[0] == "mimetype" and zf.read("mimetype") == b"image/openraster"
        assert zf.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= set(names)
        root = ET.fromstring(zf.read("stack.xml"))
        assert root.tag == "image" and root.get("version") and root.get("w") == "512"
        stack = root.find("stack")
        layers = stack.findall("layer")
        assert [l.get("name") for l in layers] == [l.name for l in reversed(project.layers)]
        for elem in layers:
            for attr in ("src", "x", "y", "opacity", "visibility", "name", "composite-op"):
                assert elem.get(attr) is not None, attr
            assert elem.get("composite-op") == "svg:src-over"
            assert elem.get("visibility") in ("visible", "hidden")
            src = Image.open(io.BytesIO(zf.read(elem.get("src"))))
            assert src.format == "PNG" and src.mode in ("RGBA", "RGB")  # RGB: an opaque layer
        assert layers[0].get("visibility") == "hidden" and layers[0].get("y") == "500"
        merged = np.asarray(Image.open(io.BytesIO(zf.read("mergedimage.png"))).convert("RGBA"))
        assert np.array_equal(merged, project.flatten())
        thumb = Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png")))
        assert max(thumb.size) == 256
        assert any(n.startswith("brushedit/masks/") for n in names) and "brushedit/mask.png" in names


def test_foreign_ora_with_nested_stacks_opens(tmp_path):
    """An .ora as another program writes it: nested stack, no brushedit data."""
    def png(color, size):
        buf = io.BytesIO()
        Image.new("RGBA", size, color).save(buf, "PNG")
        return buf.getvalue()
    xml = ('<?xml version="1.0"?><image version="0.0.3" w="40" h="30"><stack>'
           '<stack x="5" y="5" opacity="0.5"><layer src="data/a.png" x="1" y="2" name="inner"/></stack>'
           '<layer src="data/b.png" name="bottom" visibility="visible"/></stack></image>')
    path = tmp_path / "krita.ora"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "image/openraster")
        zf.writestr("stack.xml", xml)
        zf.writestr("data/a.png", png((255, 0, 0, 255), (10, 10)))
        zf.writestr("data/b.png", png((0, 0, 255, 255), (40, 30)))
    doc = Document.open(path)
    assert [l.name for l in doc.layers] == ["bottom", "inner"]
    assert doc.layers[1].offset == (6, 7) and doc.layers[1].opacity == 0.5
    assert abs(int(doc.flatten()[10, 10, 0]) - 128) <= 1


def test_save_needs_ora_and_a_path(project, tmp_path):
    with pytest.raises(DocumentError, match="OpenRaster"):
        project.save(tmp_path / "x.png")
    with pytest.raises(DocumentError, match="path"):
        project.save()
    project.save(tmp_path / "x.ora")
    project.mask_op("invert")
    project.save()  # to its own path now
    assert np.array_equal(Document.open(tmp_path / "x.ora").mask, project.mask)


def test_failed_save_leaves_the_old_file(project, tmp_path, monkeypatch):
    path = tmp_path / "p.ora"
    project.save(path)
    old = path.read_bytes()
    project.mask_op("clear")
    real = zipfile.ZipFile.writestr

    def failing(self, name, data, *a, **kw):
        n = name.filename if isinstance(name, zipfile.ZipInfo) else name
        if n == "mergedimage.png":  # the layer PNGs are already out
            raise OSError(28, "No space left on device")
        return real(self, name, data, *a, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(DocumentError, match="No space left") as e:
        project.save(path)
    assert "unchanged" in str(e.value) and "\n" not in str(e.value)
    assert path.read_bytes() == old and project.dirty
    assert [p.name for p in tmp_path.iterdir()] == ["p.ora"]  # no temporary file left


def test_killed_save_leaves_the_old_file(tmp_path):
    """SIGKILL a process in the middle of writing the archive: the old project stays whole."""
    path = tmp_path / "p.ora"
    marker = tmp_path / "writing"
    script = textwrap.dedent(f"""
        import sys, time, zipfile, numpy as np
        sys.path.insert(0, {str(ROOT)!r})
        from desktop.document import Document
        doc = Document.from_array(np.full((300, 400, 3), 10, np.uint8))
        doc.save({str(path)!r})
        print("saved", flush=True)
        sys.stdin.readline()
        doc = Document.from_array(np.full((300, 400, 3), 200, np.uint8))
        real = zipfile.ZipFile.writestr
        def slow(self, name, data, *a, **kw):
            n = name.filename if isinstance(name, zipfile.ZipInfo) else name
            r = real(self, name, data, *a, **kw)
            if n.endswith(".png"):  # the first picture (a one-layer photo's is mergedimage.png)
                self.fp.flush()
                open({str(marker)!r}, "w").close()
                time.sleep(60)
            return r
        zipfile.ZipFile.writestr = slow
        doc.save({str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saved"
        old = path.read_bytes()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        partial = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert partial and partial[0].stat().st_size > 0  # the new file was half written
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert path.read_bytes() == old
    assert (Document.open(path).flatten()[..., 0] == 10).all()


# ---------------------------------------------------------------------------- hostile files
def _ora(path, entries: dict, xml: str | None = None, w=8, h=8):
    def png(size=(4, 4)):
        buf = io.BytesIO()
        Image.new("RGBA", size, (1, 2, 3, 255)).save(buf, "PNG")
        return buf.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "image/openraster")
        zf.writestr("stack.xml", xml or f'<image version="0.0.5" w="{w}" h="{h}"><stack>'
                    '<layer src="data/a.png" name="a"/></stack></image>')
        if "data/a.png" not in entries:
            zf.writestr("data/a.png", png())
        for name, data in entries.items():
            zf.writestr(name, png() if data is None else data)
    return path


def test_layer_path_escaping_the_archive_is_refused(tmp_path):
    xml = '<image w="8" h="8"><stack><layer src="../../evil.png" name="x"/></stack></image>'
    path = _ora(tmp_path / "escape.ora", {"../../evil.png": None}, xml)
    with pytest.raises(DocumentError, match="escapes the archive") as e:
        Document.open(path)
    assert "escape.ora" in str(e.value)
    xml = '<image w="8" h="8"><stack><layer src="/etc/passwd" name="x"/></stack></image>'
    with pytest.raises(DocumentError, match="escapes the archive"):
        Document.open(_ora(tmp_path / "abs.ora", {}, xml))
    assert not (tmp_path.parent / "evil.png").exists()


def test_zip_bomb_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.ora"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("mimetype", "image/openraster")
        zf.writestr("stack.xml", '<image w="8" h="8"><stack><layer src="data/a.png"/></stack></image>')
        zf.writestr("data/a.png", b"\0" * (16 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(DocumentError, match="zip bomb"):
        Document.open(path)


def test_png_bomb_inside_an_ora_is_refused(tmp_path, make):
    path = _ora(tmp_path / "pngbomb.ora", {"data/a.png": make.png_claiming(60000, 60000)})
    with pytest.raises(DocumentError, match="too large"):
        Document.open(path)


@pytest.mark.parametrize("xml,words", [
    ('<image w="1000000000" h="1000000000"><stack/></image>', "out of range"),
    ('<image w="100000" h="100000"><stack/></image>', "too large"),
    ('<image w="-5" h="8"><stack/></image>', "out of range"),
    ('<image w="abc" h="8"><stack/></image>', "not a number"),
    ('<image w="8" h="8"><stack><layer src="data/a.png" x="99999999999"/></stack></image>', "out of range"),
    ('<image w="8" h="8"><stack><layer src="data/missing.png"/></stack></image>', "no entry"),
    ('<image w="8" h="8">', "not valid XML"),
    ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><image w="8" h="8">&b;</image>',
     "DTD"),
    ('<notimage/>', "no <image>"),
])
def test_absurd_or_broken_stack_xml(tmp_path, xml, words):
    with pytest.raises(DocumentError, match=words):
        Document.open(_ora(tmp_path / "bad.ora", {}, xml))


def test_not_a_zip_and_truncated_ora(project, tmp_path):
    (tmp_path / "text.ora").write_text("hello")
    with pytest.raises(DocumentError):
        Document.open(tmp_path / "text.ora")
    project.save(tmp_path / "ok.ora")
    data = (tmp_path / "ok.ora").read_bytes()
    (tmp_path / "cut.ora").write_bytes(data[: len(data) // 2])
    with pytest.raises(DocumentError) as e:
        Document.open(tmp_path / "cut.ora")
    assert "cut.ora" in str(e.value)


def test_corrupt_layer_png_in_ora(tmp_path):
    with pytest.raises(DocumentError, match="bad.ora"):
        Document.open(_ora(tmp_path / "bad.ora", {"data/a.png": b"\x89PNG\r\n\x1a\n garbage"}))


def test_garbled_brushedit_data_is_ignored_not_fatal(tmp_path):
    path = _ora(tmp_path / "g.ora", {"brushedit/document.json": b"{not json"})
    assert Document.open(path).size == (8, 8)


def test_save_copy_keeps_path_and_dirty(project, tmp_path):
    project.save(tmp_path / "main.ora")
    project.mask_op("invert")
    project.save_copy(tmp_path / "autosave.ora")
    assert project.path.name == "main.ora" and project.dirty
    assert np.array_equal(Document.open(tmp_path / "autosave.ora").mask, project.mask)


def test_odd_layer_names_and_symlinked_targets(chelsea, tmp_path):
    doc = Document.from_array(chelsea)
    doc.set_layer_props(doc.layers[0], name="photo\x01 <&> \"é\" \ud83d")
    real = tmp_path / "real.ora"
    doc.save(real)
    link = tmp_path / "link.ora"
    link.symlink_to(real)
    doc.mask_op("fill")
    doc.save(link)
    assert link.is_symlink() and Document.open(real).mask.all()
    assert Document.open(link).layers[0].name == 'photo <&> "é" '


def test_entry_claiming_an_absurd_size_is_refused(tmp_path):
    path = _ora(tmp_path / "huge.ora", {})
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:  # patch the central directory record of data/a.png: 4 GB uncompressed
        name_len = int.from_bytes(data[pos + 28:pos + 30], "little")
        if data[pos + 46:pos + 46 + name_len] == b"data/a.png":
            data[pos + 24:pos + 28] = (0xFFFFFFF0).to_bytes(4, "little")
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))
    with pytest.raises(DocumentError, match="absurd size"):
        Document.open(path)


def test_too_many_entries_are_refused(tmp_path):
    path = tmp_path / "many.ora"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "image/openraster")
        zf.writestr("stack.xml", '<image w="8" h="8"><stack/></image>')
        for i in range(10_001):
            zf.writestr(f"junk/{i}", b"")
    with pytest.raises(DocumentError, match="entries"):
        Document.open(path)


def _with_variants(astronaut):
    doc = Document.from_array(astronaut)
    variants = []
    for i in range(3):
        px = np.zeros((40 + 5 * i, 60, 4), np.uint8)
        px[...] = (80 * i, 30, 200, 255)
        px[0, :, 3] = 128
        variants.append((px, (100 + i, 50), np.full(px.shape[:2], 255 - i, np.uint8),
                         Provenance(prompt="a visor", seed=40 + i)))
    px, off, mask, prov = variants[2]
    layer = doc.add_edit(px, off, prov, mask=mask, variants=variants, variant=2)
    return doc, layer


def test_an_edit_layers_variations_survive_save_and_open(astronaut, tmp_path):
    doc, layer = _with_variants(astronaut)
    doc.use_variant(layer, 1)
    path = tmp_path / "v.ora"
    doc.save(path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    # the variant the layer shows is its own PNG, not stored twice
    assert f"brushedit/variants/{layer.id}/1.png" not in names
    assert {f"brushedit/variants/{layer.id}/0.png", f"brushedit/variants/{layer.id}/2.png"} <= names
    back = Document.open(path).layers[1]
    assert back.variant == 1 and len(back.variants) == 3
    assert back.variants[1].pixels is back.pixels  # the layer's PNG is decoded once, not twice
    for a, b in zip(layer.variants, back.variants):
        assert np.array_equal(a.pixels, b.pixels) and a.offset == b.offset
        assert np.array_equal(a.mask, b.mask) and a.provenance == b.provenance
    reopened = Document.open(path)
    reopened.use_variant(reopened.layers[1], 0)
    assert reopened.layers[1].provenance.seed == 40 and reopened.layers[1].bbox == (100, 50, 60, 40)


@pytest.mark.parametrize("garble", ["missing png", "escaping png", "bad offset", "one variant", "not a list"])
def test_broken_variations_are_dropped_not_the_file(astronaut, tmp_path, garble):
    import json

    doc, layer = _with_variants(astronaut)
    path = tmp_path / "v.ora"
    doc.save(path)
    with zipfile.ZipFile(path) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    meta = json.loads(entries["brushedit/document.json"])
    v = meta["layers"][layer.id]["variants"]
    if garble == "missing png":
        v[0]["png"] = "brushedit/variants/nothing.png"
    elif garble == "escaping png":
        v[0]["png"] = "../../etc/passwd"
    elif garble == "bad offset":
        v[1]["x"] = 10 ** 9
    elif garble == "one variant":
        del v[1:]
    else:
        meta["layers"][layer.id]["variants"] = "a"
    entries["brushedit/document.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    back = Document.open(path).layers[1]
    assert back.variants == () and back.variant is None
    assert np.array_equal(back.pixels, layer.pixels) and back.provenance == layer.provenance


def test_a_one_layer_project_stores_its_picture_once(tmp_path, chelsea):
    from desktop.document.layers import RasterLayer

    doc = Document.from_array(chelsea)
    path = doc.save(tmp_path / "photo.ora")
    with zipfile.ZipFile(path) as zf:
        layer = ET.fromstring(zf.read("stack.xml")).find("stack").find("layer")
        assert layer.get("src") == "mergedimage.png"
        assert not [n for n in zf.namelist() if n.startswith("data/")]
        merged = zf.getinfo("mergedimage.png").file_size
        thumb = zf.getinfo("Thumbnails/thumbnail.png").file_size
        assert path.stat().st_size < merged + thumb + 16 * 1024  # one picture, a thumbnail, the XML
    again = Document.open(path)
    assert np.array_equal(again.flatten(), doc.flatten()) and again.layers[0].id == doc.layers[0].id
    # With a second layer the photo gets its own PNG again, and both load back the same.
    doc.add_layer(RasterLayer(np.full((10, 10, 4), 200, np.uint8), name="dot", offset=(5, 5)))
    doc.save(path)
    with zipfile.ZipFile(path) as zf:
        srcs = [e.get("src") for e in ET.fromstring(zf.read("stack.xml")).iter("layer")]
    assert all(s.startswith("data/") for s in srcs)
    assert np.array_equal(Document.open(path).flatten(), doc.flatten())
