"""``brushedit edit`` on real photos: fill engine, tiny BrushNet, .ora provenance, hostile inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_helpers import read_rgb

FEATHER = 21  # BrushNet's blending kernel: pixels further than this from the mask must not change


def far_from(mask_path, shape):
    from masks import mask_ops

    mask = read_rgb(mask_path)[..., 0]
    assert mask.shape == shape
    return mask_ops.dilate(mask, FEATHER) == 0, mask > 0


def test_fill_engine_keeps_every_far_pixel(brushedit, photos, tmp_path):
    out = tmp_path / "filled.png"
    r = brushedit("edit", photos / "cat.png", "--mask", photos / "cat_mask.png", "--engine", "fill", "-o", out)
    assert r.code == 0, r
    before, after = read_rgb(photos / "cat.png"), read_rgb(out)
    far, inside = far_from(photos / "cat_mask.png", before.shape[:2])
    assert after.shape == before.shape
    assert np.array_equal(after[far], before[far])
    assert not np.array_equal(after[inside], before[inside])  # it did paint the hole


def test_auto_removal_without_weights_uses_the_fill_engine(brushedit, photos, tmp_path):
    out = tmp_path / "removed.ora"
    r = brushedit("edit", photos / "cat.png", "remove the cat", "--mask", photos / "cat_mask_half.png",
                  "-o", out, "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert summary["engine"] == "fill" and summary["category"] == "removal"
    assert summary["working_size"] is None  # no diffusion ran
    assert len(summary["seeds"]) == 1  # --samples auto: the fill engine paints one
    assert "resizing the mask" in r.err  # same aspect ratio, half size: resized, and said so
    from desktop.document import Document

    doc = Document.open(out)
    assert len(doc.layers) == 2
    prov = doc.layers[-1].provenance
    assert (prov.instruction, prov.category, prov.engine) == ("remove the cat", "removal", "fill")


def test_auto_non_removal_without_weights_exits_3_naming_the_download(brushedit, photos, tmp_path):
    r = brushedit("edit", photos / "cat.png", "make the cat a tiger", "--mask", photos / "cat_mask.png",
                  "-o", tmp_path / "x.png")
    assert r.code == 3, r
    assert len(r.err_lines) == 1 and "Traceback" not in r.err
    assert "brushedit models download brushnet-x sd15-realistic-vision" in r.err
    assert not (tmp_path / "x.png").exists()


def test_instruction_without_mask_or_segmentation_weights_exits_3(brushedit, photos, tmp_path):
    r = brushedit("edit", photos / "cat.png", "remove the cat", "-o", tmp_path / "x.png")
    assert r.code == 3, r
    assert len(r.err_lines) == 1
    assert "grounding-dino-tiny" in r.err and "sam-vit-h" in r.err
    assert "brushedit models download" in r.err


def test_tiny_brushnet_png_samples_keep_far_pixels(brushedit, photos, tmp_path, tiny_weights):
    base, brushnet = tiny_weights
    out = tmp_path / "dog.png"
    r = brushedit("edit", photos / "cat.png", "replace the cat with a dog", "--mask", photos / "cat_mask.png",
                  "--base-model", base, "--brushnet", brushnet, "--engine", "brushedit", "--device", "cpu",
                  "--steps", "2", "--samples", "2", "--seed", "11", "--working-size", "256", "-o", out,
                  "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert summary["engine"] == "brushedit" and summary["seeds"] == [11, 12]
    # The frame painted: the 451 x 300 photo (the crop would cover most of it) with its SHORT side at 256.
    assert summary["working_size"] == [384, 256]
    paths = [tmp_path / "dog-1.png", tmp_path / "dog-2.png"]
    assert summary["outputs"] == [str(p) for p in paths]
    before = read_rgb(photos / "cat.png")
    far, inside = far_from(photos / "cat_mask.png", before.shape[:2])
    results = [read_rgb(p) for p in paths]
    for after in results:
        assert np.array_equal(after[far], before[far])
        assert not np.array_equal(after[inside], before[inside])
    assert not np.array_equal(results[0][inside], results[1][inside])  # two seeds, two results


def test_tiny_brushnet_ora_keeps_the_provenance(brushedit, photos, tmp_path, tiny_weights):
    from desktop.document import Document, EditLayer

    base, brushnet = tiny_weights
    out = tmp_path / "project.ora"
    r = brushedit("edit", photos / "cat.png", "--mask", photos / "cat_mask.png", "--prompt", "a red ball",
                  "--negative", "blurry", "--base-model", base, "--brushnet", brushnet, "--device", "cpu",
                  "--steps", "2", "--seed", "5", "--guidance", "6.5", "--working-size", "256", "--quiet",
                  "-o", out)
    assert r.code == 0, r
    assert r.err == ""  # --quiet
    doc = Document.open(out)
    assert [type(layer) for layer in doc.layers] == [type(doc.layers[0]), EditLayer]
    prov = doc.layers[-1].provenance
    assert prov.prompt == "a red ball" and prov.negative_prompt == "blurry"
    assert (prov.seed, prov.steps, prov.guidance, prov.engine) == (5, 2, 6.5, "brushedit")
    assert prov.model
    assert doc.layers[-1].mask is not None
    before = read_rgb(photos / "cat.png")
    flat = np.asarray(doc.flatten())[..., :3]
    far, _ = far_from(photos / "cat_mask.png", before.shape[:2])
    assert np.array_equal(flat[far], before[far])


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00"])
def test_hostile_image_files_exit_2_with_one_line(brushedit, photos, tmp_path, content):
    bad = tmp_path / "photo.png"
    bad.write_bytes(content)
    r = brushedit("edit", bad, "--mask", photos / "cat_mask.png", "--engine", "fill", "-o", tmp_path / "o.png")
    assert r.code == 2, r
    assert len(r.err_lines) == 1 and "Traceback" not in r.err and "photo.png" in r.err


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG header that claims a huge canvas (a decompression bomb) and holds no real data."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name, content", [
    ("bomb.png", _png_claiming(60_000, 60_000)),
    ("project.ora", b"PK\x03\x04 not really a zip"),
    ("project2.ora", b""),
])
def test_hostile_files_by_name(brushedit, photos, tmp_path, name, content):
    bad = tmp_path / name
    bad.write_bytes(content)
    r = brushedit("edit", bad, "--mask", photos / "cat_mask.png", "--engine", "fill", "-o", tmp_path / "o.png")
    assert r.code == 2, r
    assert len(r.err_lines) == 1 and "Traceback" not in r.err and name in r.err
    r = brushedit("plan", bad, "make it look like winter")
    assert r.code == 2 and len(r.err_lines) == 1, r


def test_truncated_real_photo_and_missing_file(brushedit, photos, tmp_path):
    data = (photos / "coffee.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 3])
    for image in (cut, tmp_path / "does-not-exist.png", tmp_path):
        r = brushedit("edit", image, "--mask", photos / "cat_mask.png", "--engine", "fill",
                      "-o", tmp_path / "o.png")
        assert r.code == 2, r
        assert len(r.err_lines) == 1 and "Traceback" not in r.err


@pytest.mark.parametrize("mask, words", [
    ("square_mask.png", "cannot resize"),
    ("empty_mask.png", "empty"),
    ("missing.png", "mask"),
])
def test_bad_masks_exit_2(brushedit, photos, tmp_path, mask, words):
    r = brushedit("edit", photos / "cat.png", "--mask", photos / mask, "--engine", "fill", "-o", tmp_path / "o.png")
    assert r.code == 2, r
    assert len(r.err_lines) == 1 and words in r.err


@pytest.mark.parametrize("extra", [
    ["-o", "{tmp}/o.gif"],
    ["-o", "{tmp}/no/such/folder/o.png"],
    ["-o", "{tmp}/o.png", "--base-model", "{tmp}/nowhere"],
    ["-o", "{tmp}/o.png", "--samples", "0"],
    ["-o", "{tmp}/o.png", "--strength", "1.5"],
])
def test_bad_options_exit_2_before_any_work(brushedit, photos, tmp_path, extra):
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    r = brushedit("edit", photos / "cat.png", "--mask", photos / "cat_mask.png", *args)
    assert r.code == 2, r
    assert len(r.err_lines) == 1 and "Traceback" not in r.err


def test_nothing_to_do(brushedit, photos, tmp_path):
    r = brushedit("edit", photos / "cat.png", "-o", tmp_path / "o.png")
    assert r.code == 2 and "INSTRUCTION" in r.err


def test_global_edit_keeps_the_photo_at_global_strength_zero(brushedit, photos, tmp_path, tiny_weights):
    base, brushnet = tiny_weights
    out = tmp_path / "winter.png"
    r = brushedit("edit", photos / "cat.png", "make it look like winter", "--base-model", base,
                  "--brushnet", brushnet, "--engine", "brushedit", "--device", "cpu", "--steps", "4",
                  "--global-strength", "0", "--seed", "1", "--working-size", "128", "-o", out, "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["category"] == "global"
    assert np.array_equal(read_rgb(out), read_rgb(photos / "cat.png"))


def test_global_edit_provenance_records_the_strength_it_ran_at(brushedit, photos, tmp_path, tiny_weights):
    from desktop.document import Document

    base, brushnet = tiny_weights
    out = tmp_path / "night.ora"
    r = brushedit("edit", photos / "cat.png", "make it night", "--base-model", base, "--brushnet", brushnet,
                  "--engine", "brushedit", "--device", "cpu", "--steps", "4", "--global-strength", "0.5",
                  "--seed", "1", "--working-size", "128", "--quiet", "-o", out)
    assert r.code == 0, r
    prov = Document.open(out).layers[-1].provenance
    assert prov.category == "global" and (prov.strength, prov.conditioning_scale) == (0.5, 0.0)


def test_removal_provenance_records_the_negative_prompt_that_ran(brushedit, photos, tmp_path, tiny_weights):
    # The runner adds the removed object to the negative prompt; the layer and --json say so.
    from desktop.document import Document

    base, brushnet = tiny_weights
    out = tmp_path / "gone.ora"
    r = brushedit("edit", photos / "cat.png", "remove the cat", "--mask", photos / "cat_mask.png",
                  "--base-model", base, "--brushnet", brushnet, "--engine", "brushedit", "--device", "cpu",
                  "--steps", "1", "--seed", "3", "--working-size", "128", "--negative", "blurry", "-o", out,
                  "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert (summary["category"], summary["target"]) == ("removal", "cat")
    assert summary["negative_prompt"] == "blurry, cat"
    prov = Document.open(out).layers[-1].provenance
    assert prov.negative_prompt == "blurry, cat"


def test_fill_provenance_records_no_negative_prompt(brushedit, photos, tmp_path):
    from desktop.document import Document

    out = tmp_path / "filled.ora"
    r = brushedit("edit", photos / "cat.png", "remove the cat", "--mask", photos / "cat_mask.png",
                  "--engine", "fill", "--negative", "blurry", "-o", out, "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["negative_prompt"] == ""  # the fill engine reads no prompt at all
    assert Document.open(out).layers[-1].provenance.negative_prompt == ""
