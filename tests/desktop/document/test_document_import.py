"""Importing photos: formats, orientation, modes, colour profiles, and hostile files."""

from __future__ import annotations

import resource
import time

import numpy as np
import pytest
from PIL import Image

from desktop.document import Document, DocumentError


@pytest.mark.parametrize("fmt,ext,exact", [("PNG", "png", True), ("BMP", "bmp", True),
                                           ("TIFF", "tif", True), ("WEBP", "webp", False),
                                           ("JPEG", "jpg", False)])
def test_formats_open_as_rgba(chelsea, write, make, fmt, ext, exact):
    kw = {"lossless": True} if fmt == "WEBP" else {}
    path = write(f"cat.{ext}", make.encode(Image.fromarray(chelsea), fmt, **kw))
    doc = Document.open(path)
    flat = doc.flatten()
    assert flat.shape == chelsea.shape[:2] + (4,) and flat.dtype == np.uint8
    assert (flat[..., 3] == 255).all()
    diff = np.abs(flat[..., :3].astype(int) - chelsea).mean()
    assert diff == 0 if exact or fmt == "WEBP" else diff < 4
    assert doc.path is None and doc.source_path.name == f"cat.{ext}"
    assert not doc.dirty and doc.history.entries == []


def test_exif_rotation_is_applied(write, make):
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = (255, 0, 0)   # left half red
    img[:, 20:] = (0, 0, 255)   # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = write("rotated.jpg", make.encode(Image.fromarray(img), "JPEG", exif=exif.tobytes(),
                                             quality=95))
    doc = Document.open(path)
    assert doc.size == (20, 40)
    flat = doc.flatten().astype(int)
    assert flat[5, 10, 0] > 200 and flat[5, 10, 2] < 60      # the left (red) side is on top now
    assert flat[35, 10, 2] > 200 and flat[35, 10, 0] < 60
    assert doc.source_info["orientation"] == 6


def test_cmyk_jpeg_and_tiff_become_rgb(coffee, write, make):
    cmyk = Image.fromarray(coffee).convert("CMYK")
    for name, fmt in (("c.jpg", "JPEG"), ("c.tif", "TIFF")):
        doc = Document.open(write(name, make.encode(cmyk, fmt)))
        flat = doc.flatten()
        assert doc.source_info["mode"] == "CMYK"
        # Pillow's naive CMYK<->RGB round-trips; JPEG adds its loss.
        assert np.abs(flat[..., :3].astype(int) - coffee).mean() < 6


def test_sixteen_bit_images_are_scaled_not_clipped(write, make):
    ramp = np.linspace(0, 65535, 64 * 32).reshape(32, 64).astype(np.uint16)
    gray = Document.open(write("g16.png", make.encode(Image.fromarray(ramp), "PNG"))).flatten()
    expected = np.rint(ramp / 257.0).astype(np.uint8)
    assert np.abs(gray[..., 0].astype(int) - expected).max() <= 1
    assert gray[..., 0].max() == 255 and (gray[..., 0] == gray[..., 2]).all()
    rgb16 = np.stack([ramp, ramp[::-1], np.full_like(ramp, 40000)], axis=2)
    rgb = Document.open(write("rgb16.png", make.png_rgb16(rgb16))).flatten()
    assert np.abs(rgb[..., 0].astype(int) - expected).max() <= 1
    assert abs(int(rgb[0, 0, 2]) - round(40000 / 257)) <= 1


def test_palette_gray_and_alpha_modes(astronaut, write, make):
    img = Image.fromarray(astronaut)
    pal = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    pal.info["transparency"] = 0
    doc = Document.open(write("p.png", make.encode(pal, "PNG", transparency=0)))
    flat = doc.flatten()
    idx = np.asarray(pal)
    assert (flat[..., 3][idx == 0] == 0).all() and (flat[..., 3][idx != 0] == 255).all()
    la = Image.fromarray(astronaut[..., 0]).convert("LA")
    la.putalpha(128)
    flat = Document.open(write("la.png", make.encode(la, "PNG"))).flatten()
    assert (flat[..., 3] == 128).all() and (flat[..., 0] == astronaut[..., 0]).all()
    one = Image.fromarray(astronaut[..., 1] > 128)
    flat = Document.open(write("bw.bmp", make.encode(one, "BMP"))).flatten()
    assert set(np.unique(flat[..., 0])) <= {0, 255}


def test_embedded_icc_profile_is_converted_to_srgb(write, make):
    img = np.zeros((8, 8, 3), np.uint8)
    img[...] = (200, 100, 50)
    icc = make.swapped_rgb_profile()
    doc = Document.open(write("icc.png", make.encode(Image.fromarray(img), "PNG", icc_profile=icc)))
    px = doc.flatten()[0, 0, :3].astype(int)
    assert abs(px[0] - 50) <= 2 and abs(px[2] - 200) <= 2  # red and blue swapped by the profile
    assert doc.source_info["icc"] is True


def test_broken_icc_profile_keeps_the_pixels(chelsea, write, make):
    path = write("badicc.jpg", make.encode(Image.fromarray(chelsea), "JPEG", icc_profile=b"nonsense" * 20))
    flat = Document.open(path).flatten()
    assert flat.shape[:2] == chelsea.shape[:2]


@pytest.mark.parametrize("name,data,words", [
    ("empty.png", b"", "empty"),
    ("text.png", b"hello, I am not an image\n" * 10, "not an image"),
    ("bytes.jpg", bytes(range(256)) * 8, "not an image"),
])
def test_non_images_raise_one_line(write, name, data, words):
    path = write(name, data)
    with pytest.raises(DocumentError) as e:
        Document.open(path)
    msg = str(e.value)
    assert name in msg and words in msg and "\n" not in msg
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("TIFF", "tif")])
def test_truncated_files_raise(chelsea, write, make, fmt, ext):
    data = make.encode(Image.fromarray(chelsea), fmt)
    path = write(f"cut.{ext}", data[:len(data) // 2])
    with pytest.raises(DocumentError) as e:
        Document.open(path)
    assert f"cut.{ext}" in str(e.value) and "\n" not in str(e.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DocumentError, match="not found"):
        Document.open(tmp_path / "nope.png")
    with pytest.raises(DocumentError, match="folder"):
        Document.open(tmp_path)


@pytest.mark.timeout(30)
def test_png_claiming_60000_square_is_refused_fast(write, make):
    path = write("bomb.png", make.png_claiming(60000, 60000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(DocumentError) as e:
        Document.open(path)
    assert time.perf_counter() - t0 < 10  # a generous bound against a hang, not a timing test
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200_000  # no 14 GB (or even 200 MB) allocation
    assert "bomb.png" in str(e.value) and "too large" in str(e.value)


def test_pixel_limit_is_configurable(chelsea, write, make):
    path = write("cat.png", make.encode(Image.fromarray(chelsea), "PNG"))
    with pytest.raises(DocumentError, match="too large"):
        Document.open(path, max_pixels=100_000)
    assert Document.open(path, max_pixels=200_000).size == (451, 300)


def test_camera_mpo_jpeg_opens_its_first_frame(chelsea, write, make):
    main = Image.fromarray(chelsea)
    data = make.encode(main, "MPO", save_all=True, append_images=[main.resize((64, 43))])
    assert Image.open(__import__("io").BytesIO(data)).format == "MPO"
    doc = Document.open(write("camera.jpg", data))
    assert doc.size == (451, 300)
    assert np.abs(doc.flatten()[..., :3].astype(int) - chelsea).mean() < 4
