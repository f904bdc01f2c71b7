"""``brushedit edit --engine lama``, ``models import lama`` and ``doctor`` with a tiny LaMa saved
as safetensors (same code as big-lama, narrow and shallow, so the tests are quick)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cli_helpers import read_rgb

FEATHER = 21


@pytest.fixture(scope="module")
def tiny_lama_file(tmp_path_factory):
    from engine.fill.lama import save_lama, tiny_lama

    return save_lama(tiny_lama(seed=0, ngf=4, n_blocks=1), tmp_path_factory.mktemp("lama") / "tiny.safetensors")


def _far(mask):
    from masks import mask_ops

    return mask_ops.dilate(mask, FEATHER) == 0


def _save(path, array):
    from PIL import Image

    Image.fromarray(array).save(path)
    return path


def test_edit_engine_lama_keeps_far_pixels_on_an_odd_size(brushedit, tmp_path, tiny_lama_file):
    from skimage import data

    image = np.ascontiguousarray(data.coffee()[:397, :583])  # odd both ways
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[101:258, 203:371] = 255
    photo, mpath = _save(tmp_path / "in.png", image), _save(tmp_path / "m.png", mask)
    out = tmp_path / "out.png"
    r = brushedit("edit", photo, "--mask", mpath, "--engine", "lama", "--lama", tiny_lama_file,
                  "-o", out, "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["engine"] == "lama"
    after = read_rgb(out)
    far = _far(mask)
    assert after.shape == image.shape
    assert np.array_equal(after[far], image[far])
    assert not np.array_equal(after[mask > 0], image[mask > 0])


def test_edit_engine_lama_on_a_6000x4000_photo(brushedit, tmp_path, tiny_lama_file):
    """A big hole on a 24 MP photo: coarse-to-fine inside, every far pixel bit-exact."""
    from skimage import data

    tile = data.astronaut()
    image = np.ascontiguousarray(np.tile(tile, (8, 12, 1))[:4000, :6000])
    image[..., 0] = (image[..., 0].astype(np.uint16) + np.arange(6000)[None, :] % 7).astype(np.uint8)
    mask = np.zeros((4000, 6000), np.uint8)
    mask[1500:2700, 2000:3600] = 255
    photo, mpath = _save(tmp_path / "big.png", image), _save(tmp_path / "big_mask.png", mask)
    out = tmp_path / "big_out.png"
    r = brushedit("edit", photo, "--mask", mpath, "--engine", "lama", "--lama", tiny_lama_file, "-o", out,
                  timeout=600)
    assert r.code == 0, r
    after = read_rgb(out)
    far = _far(mask)
    assert after.shape == image.shape
    assert np.array_equal(after[far], image[far])


def test_engine_lama_without_weights_exits_3_naming_the_import(brushedit, photos, tmp_path):
    r = brushedit("edit", photos / "cat.png", "--mask", photos / "cat_mask.png", "--engine", "lama",
                  "-o", tmp_path / "x.png")
    assert r.code == 3, r
    assert "models import lama" in r.err


def _fake_release(tmp_path):
    from engine.fill.lama import tiny_lama

    state = dict(tiny_lama(seed=4).state_dict())
    state["discriminator.model0.0.weight"] = torch.zeros(1)
    path = tmp_path / "best.ckpt"
    torch.save({"epoch": 1, "state_dict": state}, path)
    return path


def test_models_import_then_auto_removal_uses_lama(brushedit, photos, tmp_path, isolated_env):
    ckpt = _fake_release(tmp_path)
    r = brushedit("models", "import", "lama", ckpt, "--json")
    assert r.code == 0, r
    report = json.loads(r.out)
    assert report["format"] == "lightning" and report["dropped"] == 1 and report["config"]["ngf"] == 4
    assert report["output"].endswith("lama/big-lama.safetensors")
    r = brushedit("edit", photos / "cat.png", "remove the cat", "--mask", photos / "cat_mask.png",
                  "-o", tmp_path / "removed.png", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["engine"] == "lama"
    r = brushedit("doctor", "--json")
    assert r.code == 0, r
    doctor = json.loads(r.out)
    lama = [f for f in doctor["features"] if f["feature"] == "remove with LaMa"]
    assert lama and lama[0]["can_run"] == "yes"
    assert any(w["name"] == "lama" and w["state"] == "installed" for w in doctor["weights"])


def test_models_import_prints_what_it_did(brushedit, tmp_path):
    ckpt = _fake_release(tmp_path)
    out = tmp_path / "converted.safetensors"
    r = brushedit("models", "import", "lama", ckpt, "--output", out)
    assert r.code == 0, r
    assert "kept" in r.out and "dropped 1" in r.out and str(out) in r.out
    assert out.is_file()


def test_doctor_without_lama_says_how_to_get_it(brushedit):
    r = brushedit("doctor", "--json")
    assert r.code == 0, r
    lama = [f for f in json.loads(r.out)["features"] if f["feature"] == "remove with LaMa"][0]
    assert lama["can_run"] == "no" and "models import lama" in lama["why"]


def test_pickle_given_as_lama_weights_is_refused(brushedit, photos, tmp_path):
    ckpt = _fake_release(tmp_path)
    r = brushedit("edit", photos / "cat.png", "--mask", photos / "cat_mask.png", "--engine", "lama",
                  "--lama", ckpt, "-o", tmp_path / "x.png")
    assert r.code != 0
    assert "models import lama" in r.err
