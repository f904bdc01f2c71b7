"""One state per model in ``models list``, ``doctor`` and the errors, with the right exit code (issue 25
item 7: a zero-filled SAM checkpoint of the published size was "installed", and using it failed with a
message cut mid-word and exit 2, "bad usage")."""

from __future__ import annotations

import json

from engine.models import MANIFEST


def _zero_sam(isolated_env):
    from pathlib import Path

    spec = MANIFEST["sam-vit-h"]
    path = Path(isolated_env["BRUSHEDIT_MODELS_DIR"]) / spec.name / spec.files[0]
    path.parent.mkdir(parents=True)
    with open(path, "wb") as fh:
        fh.truncate(spec.file_sizes[spec.files[0]])  # sparse: the published size, all zeros
    return path


def test_a_zero_filled_sam_is_corrupt_everywhere(brushedit, isolated_env, photos):
    path = _zero_sam(isolated_env)
    r = brushedit("models", "list", "--json")
    assert r.code == 0, r
    sam = next(m for m in json.loads(r.out)["models"] if m["name"] == "sam-vit-h")
    assert (sam["state"], sam["file"]) == ("corrupt", path.name) and "zero bytes" in sam["problem"]
    r = brushedit("doctor", "--json")
    report = json.loads(r.out)
    assert next(w for w in report["weights"] if w["name"] == "sam-vit-h")["state"] == "corrupt"
    click = next(f for f in report["features"] if f["feature"] == "select by clicking (SAM)")
    assert "sam-vit-h is corrupt: sam_vit_h_4b8939.pth" in click["why"]
    assert "brushedit models download --force sam-vit-h" in click["why"]
    r = brushedit("plan", photos / "cat.png", "remove the cat")
    assert r.code == 3, r
    assert "sam-vit-h is corrupt: sam_vit_h_4b8939.pth: all zero bytes" in r.err
    assert "run: brushedit models download --force grounding-dino-tiny sam-vit-h" in r.err
