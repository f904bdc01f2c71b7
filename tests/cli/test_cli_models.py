"""``brushedit models list | download | verify | where`` in a subprocess, with temporary folders."""

from __future__ import annotations

import json

import numpy as np


def _mirror_brushnet(root):
    """A local mirror holding ``TencentARC/BrushEdit/brushnetX`` (tiny but well-formed files)."""
    from safetensors.numpy import save_file

    folder = root / "TencentARC" / "BrushEdit" / "brushnetX"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"_class_name": "BrushNetModel"}))
    save_file({"w": np.ones((8, 8), np.float32)}, str(folder / "diffusion_pytorch_model.safetensors"))
    return root


def test_list_with_no_weights(brushedit):
    r = brushedit("models", "list")
    assert r.code == 0, r
    assert "brushnet-x*" in r.out and "missing" in r.out
    assert "brushedit models download brushnet-x sd15-realistic-vision" in r.out
    r = brushedit("models", "list", "--json")
    rows = json.loads(r.out)["models"]
    assert {row["state"] for row in rows} == {"missing"}
    assert {"brushnet-x", "sam-vit-h", "qwen2-vl-2b"} <= {row["name"] for row in rows}


def test_download_from_a_mirror_then_list_verify_where(brushedit, tmp_path, isolated_env):
    mirror = _mirror_brushnet(tmp_path / "mirror")
    r = brushedit("models", "download", "brushnet-x", "--source", mirror)
    assert r.code == 0, r
    installed = tmp_path / "no-models" / "brushnet-x"
    assert str(installed) in r.out
    assert (installed / "diffusion_pytorch_model.safetensors").is_file()
    rows = {row["name"]: row for row in json.loads(brushedit("models", "list", "--json").out)["models"]}
    assert rows["brushnet-x"]["state"] == "installed" and rows["brushnet-x"]["source"] == "app"
    # The manifest pins the Hub's SHA-256 of brushnetX: the mirror's tiny stand-in is not it.
    r = brushedit("models", "verify", "brushnet-x")
    assert r.code == 3, r
    assert "does not match the manifest digest" in r.out + r.err
    r = brushedit("models", "where", "brushnet-x")
    assert r.code == 0 and str(installed) in r.out and "config.json" in r.out
    where = json.loads(brushedit("models", "where", "--json").out)
    assert where["models_dir"] == str(tmp_path / "no-models")

    # Damage it: list says where and which file; verify exits 3 with the command that fixes it.
    (installed / "config.json").write_text("{broken")
    rows = {row["name"]: row for row in json.loads(brushedit("models", "list", "--json").out)["models"]}
    assert rows["brushnet-x"]["state"] == "corrupt" and rows["brushnet-x"]["file"] == "config.json"
    r = brushedit("models", "verify", "brushnet-x")
    assert r.code == 3, r
    assert "brushedit models download --force brushnet-x" in r.err_lines[-1]


def test_download_offline_says_where_to_put_the_files(brushedit, tmp_path):
    r = brushedit("models", "download", "sam-vit-b", "--quiet")
    assert r.code == 3, r
    assert len(r.err_lines) == 1 and "Traceback" not in r.err
    assert "HF_HUB_OFFLINE" in r.err and str(tmp_path / "no-models" / "sam-vit-b") in r.err


def test_unknown_model_is_bad_usage(brushedit):
    for args in (["models", "download", "sam-vit-z"], ["models", "verify", "nope"], ["models", "where", "x"]):
        r = brushedit(*args)
        assert r.code == 2 and len(r.err_lines) == 1 and "sam-vit-h" in r.err, r


def test_verify_with_nothing_installed(brushedit):
    r = brushedit("models", "verify")
    assert r.code == 0 and "no models installed" in r.out
