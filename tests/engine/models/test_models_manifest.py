"""The manifest's entries are consistent: ids, sources, revisions, sizes, checksums, defaults."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from engine.models import FEATURES, KINDS, MANIFEST, defaults, get_spec, models_for

REQUIRED = {
    "brushnet-x", "brushnet-segmentation", "brushnet-random", "sd15-realistic-vision",
    "qwen2-vl-7b", "qwen2-vl-2b", "grounding-dino-tiny", "grounding-dino-base",
    "sam-vit-h", "sam-vit-l", "sam-vit-b",
}
# Entries whose Hub commit could not be confirmed: they track "main". Pinning one must update this.
UNPINNED = {
    "brushnet-x", "brushnet-segmentation", "brushnet-random", "sd15-realistic-vision",
    "qwen2-vl-7b", "qwen2-vl-2b", "grounding-dino-tiny", "grounding-dino-base",
    "sam-vit-h", "sam-vit-l", "sam-vit-b", "lama", "flux2-klein-4b",
}


def test_every_required_model_is_listed_under_its_own_name():
    assert REQUIRED <= set(MANIFEST)
    for name, spec in MANIFEST.items():
        assert spec.name == name
        assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*", name)


def test_sources_are_well_formed():
    for spec in MANIFEST.values():
        assert spec.kind in KINDS, spec.name
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", spec.repo_id), spec.name
        assert spec.title and spec.license, spec.name
        assert not spec.subfolder.startswith("/") and ".." not in spec.subfolder.split("/")
        assert spec.files and len(set(spec.files)) == len(spec.files), spec.name
        for rel in spec.files:
            p = PurePosixPath(rel)
            assert not p.is_absolute() and ".." not in p.parts, (spec.name, rel)
        assert spec.repo_type in ("model", "space", "dataset"), spec.name
        if spec.manual_steps:  # no Hub copy: a page to download from by hand
            assert spec.url == spec.download_url and spec.url.startswith("https://"), spec.name
        else:
            kind = {"model": "", "space": "spaces/", "dataset": "datasets/"}[spec.repo_type]
            assert spec.url.startswith("https://huggingface.co/" + kind + spec.repo_id), spec.name


def test_revisions_are_pinned_commits_or_flagged_unpinned():
    for spec in MANIFEST.values():
        if spec.pinned:
            assert re.fullmatch(r"[0-9a-f]{40}", spec.revision), spec.name
        else:
            assert spec.revision == "main", spec.name
    assert {s.name for s in MANIFEST.values() if not s.pinned} == UNPINNED


def test_sizes_checksums_and_needs_are_present():
    for spec in MANIFEST.values():
        assert spec.size_bytes > 10_000_000, spec.name
        assert 0 < spec.vram_gb < 80, spec.name
        assert spec.features and set(spec.features) <= set(FEATURES), spec.name
        for rel, digest in spec.sha256.items():
            assert rel in spec.files and re.fullmatch(r"[0-9a-f]{64}", digest), spec.name
        for rel, size in spec.file_sizes.items():
            assert rel in spec.files and size > 0
        if spec.file_sizes and set(spec.file_sizes) == set(spec.files):
            assert sum(spec.file_sizes.values()) == spec.size_bytes, spec.name
        if spec.kind == "sam":
            assert spec.sam_type in ("vit_h", "vit_l", "vit_b") and len(spec.files) == 1
            assert spec.sha256, "Meta publishes SAM checksums"
            # Meta names each checkpoint after the start of its MD5; keep name and type together.
            assert spec.sam_type in spec.files[0]


def test_one_default_per_kind_and_the_defaults_the_issue_names():
    for kind in KINDS:
        assert sum(1 for s in MANIFEST.values() if s.kind == kind and s.default) == 1, kind
    d = defaults()
    assert d["brushnet"].name == "brushnet-x"
    assert d["sd15-base"].name == "sd15-realistic-vision"
    assert d["instructor"].name == "qwen2-vl-7b"
    assert d["grounding"].name == "grounding-dino-tiny"
    assert d["sam"].name == "sam-vit-h"
    assert {s.name for s in models_for("inpaint")} == {"brushnet-x", "sd15-realistic-vision"}
    assert {s.name for s in models_for("auto-mask")} == {"grounding-dino-tiny", "sam-vit-h"}


def test_unknown_names_say_which_exist():
    try:
        get_spec("sam-vit-x")
    except ValueError as exc:
        assert "sam-vit-h" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("no error")


def test_brushnet_checkpoints_point_where_they_are_published():
    # BrushEdit's model repository holds brushnetX; the BrushNet demo *Space* holds the
    # segmentation checkpoint under data/ckpt/; the random-mask one is on Google Drive only.
    x, seg, rnd = MANIFEST["brushnet-x"], MANIFEST["brushnet-segmentation"], MANIFEST["brushnet-random"]
    assert (x.repo_id, x.repo_type, x.subfolder) == ("TencentARC/BrushEdit", "model", "brushnetX")
    assert (seg.repo_id, seg.repo_type) == ("TencentARC/BrushNet", "space")
    assert seg.subfolder == "data/ckpt/segmentation_mask_brushnet_ckpt" and not seg.manual_steps
    assert seg.url.startswith("https://huggingface.co/spaces/TencentARC/BrushNet/tree/")
    assert seg.cache_folder == "spaces--TencentARC--BrushNet"
    assert rnd.manual_steps and "random_mask_brushnet_ckpt" in rnd.manual_steps


def test_lama_entry_is_an_import_of_the_release_not_a_download():
    spec = get_spec("lama")
    assert spec.kind == "lama" and spec.default and "remove" in spec.features
    assert spec.repo_id == "smartywu/big-lama"  # the Hub copy the advimman/lama README downloads
    assert spec.files == ("big-lama.safetensors",) and spec.import_from == ("big-lama.zip",)
    assert "models import lama" in spec.notes


def test_downloading_lama_says_to_import_it(tmp_path, monkeypatch):
    from engine.api import EngineError
    from engine.models import download

    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import pytest

    with pytest.raises(EngineError) as info:
        download(["lama"])
    assert "models import lama" in info.value.hint
