"""Export: PNG/JPEG/WebP by extension, quality, sRGB profile, edit history in the metadata."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageCms

from desktop.document import Document, DocumentError, Provenance
from desktop.document.export import read_user_comment


@pytest.fixture
def edited(coffee):
    doc = Document.from_array(coffee)
    doc.add_edit(np.full((50, 60, 3), 20, np.uint8), (10, 10),
                 Provenance(instruction="remove the cup", category="removal", seed=42,
                            engine="brushedit", model="brushnet-x"))
    return doc


def _profile_name(img) -> str:
    icc = img.info.get("icc_profile")
    assert icc, "no ICC profile embedded"
    import io
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))


def test_png_export_is_lossless_with_text_metadata(edited, tmp_path):
    path = edited.export(tmp_path / "out.png")
    img = Image.open(path)
    assert img.format == "PNG"
    assert np.array_equal(np.asarray(img.convert("RGBA")), edited.flatten())
    assert "remove the cup" in img.text["Description"] and "seed 42" in img.text["Description"]
    assert img.text["Software"] == "BrushEdit Studio"
    assert '"seed": 42' in img.text["brushedit:history"]
    assert "sRGB" in _profile_name(img)


def test_png_export_keeps_transparency(tmp_path):
    doc = Document.new(30, 20, background=(10, 20, 30, 100))
    img = Image.open(doc.export(tmp_path / "t.png"))
    assert img.mode == "RGBA" and tuple(img.getpixel((0, 0))) == (10, 20, 30, 100)


def test_jpeg_export_quality_and_exif_user_comment(edited, tmp_path):
    hi = edited.export(tmp_path / "hi.jpg", quality=95)
    lo = edited.export(tmp_path / "lo.jpeg", quality=30)
    assert hi.stat().st_size > lo.stat().st_size * 1.5
    img = Image.open(hi)
    assert img.format == "JPEG" and img.mode == "RGB"
    exif = img.getexif()
    comment = read_user_comment(exif.get_ifd(0x8769)[0x9286])
    assert "remove the cup" in comment and "seed 42" in comment
    assert "remove the cup" in exif[0x010E] and exif[0x0131] == "BrushEdit Studio"
    assert "sRGB" in _profile_name(img)
    err = np.abs(np.asarray(img).astype(int) - edited.flatten()[..., :3]).mean()
    assert err < 3


def test_jpeg_of_a_transparent_canvas_is_on_white(tmp_path):
    doc = Document.new(16, 16, background=(0, 0, 0, 0))
    img = Image.open(doc.export(tmp_path / "t.jpg"))
    assert np.asarray(img).min() > 245


def test_webp_lossless_and_lossy(edited, tmp_path):
    loss = Image.open(edited.export(tmp_path / "a.webp", lossless=True))
    assert loss.format == "WEBP"
    assert np.array_equal(np.asarray(loss.convert("RGB")), edited.flatten()[..., :3])
    assert "remove the cup" in read_user_comment(loss.getexif().get_ifd(0x8769)[0x9286])
    assert "sRGB" in _profile_name(loss)
    lossy = edited.export(tmp_path / "b.webp", quality=40)
    assert lossy.stat().st_size < (tmp_path / "a.webp").stat().st_size


def test_unicode_history_uses_a_unicode_user_comment(tmp_path, chelsea):
    doc = Document.from_array(chelsea)
    doc.add_edit(np.zeros((4, 4, 3), np.uint8), (0, 0), Provenance(instruction="ajoute un chapeau rouge é"))
    img = Image.open(doc.export(tmp_path / "u.jpg"))
    assert "chapeau rouge é" in read_user_comment(img.getexif().get_ifd(0x8769)[0x9286])


def test_export_refuses_unknown_extensions_and_keeps_clean_state(edited, tmp_path):
    with pytest.raises(DocumentError, match="gif"):
        edited.export(tmp_path / "x.gif")
    with pytest.raises(DocumentError, match="quality"):
        edited.export(tmp_path / "x.jpg", quality=0)
    edited.save(tmp_path / "p.ora")
    edited.export(tmp_path / "x.png")
    assert not edited.dirty  # exporting is not saving, and changes nothing
