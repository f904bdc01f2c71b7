"""What the downloader brings is what the loaders need.

For each manifest model a folder holds EXACTLY the files the manifest lists (tiny random weights,
written in the layout the Hub repositories publish), found where the downloader puts them, and is
loaded through the production loader (the engine's) and asked one small question. The Qwen2-VL test is
the one the issue asked for: with the manifest of before, the processor had no chat template and every
plan fell back to the rule parser.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.models import MANIFEST


def _keep_exactly(spec, full: Path, folder: Path) -> Path:
    """Copy the manifest's files of ``spec`` from ``full`` into ``folder``, nothing else."""
    for rel in spec.files:
        src = full / rel
        assert src.is_file(), f"the published layout of {spec.name} has {rel}, the tiny writer did not write it"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, folder / rel)
    held = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert held == sorted(spec.files)
    return folder


@pytest.fixture(scope="module")
def photo():
    from skimage import data
    return np.ascontiguousarray(data.chelsea())


def _engine(**config):
    from engine.dispatch import Engine, EngineConfig

    return Engine(EngineConfig(device="cpu", **config))


@pytest.mark.parametrize("name", ["qwen2-vl-7b", "qwen2-vl-2b"])
def test_qwen2_vl_from_the_manifest_files_answers_a_plan(name, tmp_path, isolated_model_dirs, photo, monkeypatch):
    import torch

    from tests.builders.segment import save_published_qwen2_vl

    spec = MANIFEST[name]
    shards = sum(1 for f in spec.files if f.startswith("model-") and f.endswith(".safetensors"))
    full = save_published_qwen2_vl(tmp_path / "published", shards=shards)
    models, _ = isolated_model_dirs
    _keep_exactly(spec, full, models / name)

    backend = _engine(instructor="local", instructor_model=name).instructor_backend("local")
    answer = ('{"category": "addition", "target": "moon", "box": [300, 200, 500, 400], '
              '"caption": "a cat under a moon"}')
    ids = backend.processor.tokenizer(answer, return_tensors="pt")["input_ids"]
    monkeypatch.setattr(backend.model, "generate",
                        lambda **inputs: torch.cat([inputs["input_ids"], ids], dim=1))
    understood = backend.understand_steps(photo, "add a moon")
    assert understood.backend == "local", understood.notes
    assert understood.steps[0].caption == "a cat under a moon"
    assert backend.chat_template_source == "folder"  # chat_template.json came with the download


def test_qwen2_vl_without_a_template_takes_the_tokenizers_else_the_shipped_one(tmp_path):
    from engine.instructor.backends import QwenVLBackend
    from engine.instructor.backends.chat_template import QWEN2_VL_CHAT_TEMPLATE
    from tests.builders.segment import QWEN_CHAT_TEMPLATE, save_published_qwen2_vl

    with_tok = save_published_qwen2_vl(tmp_path / "tok", shards=1, template_in_tokenizer=True)
    (with_tok / "chat_template.json").unlink()
    b = QwenVLBackend.from_pretrained(with_tok, device="cpu")
    assert b.chat_template_source == "tokenizer" and b.processor.chat_template == QWEN_CHAT_TEMPLATE

    bare = save_published_qwen2_vl(tmp_path / "bare", shards=1)
    (bare / "chat_template.json").unlink()
    b = QwenVLBackend.from_pretrained(bare, device="cpu")
    assert b.chat_template_source == "package" and b.processor.chat_template == QWEN2_VL_CHAT_TEMPLATE
    messages = [{"role": "system", "content": [{"type": "text", "text": "S"}]},
                {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "U"}]}]
    text = b.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text == ("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n"
                    "<|vision_start|><|image_pad|><|vision_end|>U<|im_end|>\n<|im_start|>assistant\n")


@pytest.mark.parametrize("name", ["grounding-dino-tiny", "grounding-dino-base"])
def test_grounding_dino_from_the_manifest_files_finds_a_box(name, tmp_path, isolated_model_dirs, photo):
    from tests.builders.segment import save_published_grounding_dino

    spec = MANIFEST[name]
    full = save_published_grounding_dino(tmp_path / "published")
    models, _ = isolated_model_dirs
    _keep_exactly(spec, full, models / name)
    detector = _engine(grounding_model=name).detector()
    assert detector is not None
    dets = detector.detect(photo, "cat")
    assert dets and len(dets[0].box) == 4


def _published_sd15(root: Path) -> tuple[Path, Path]:
    """The tiny SD1.5 + BrushNet, the base folder in the published layout (the slow CLIP tokenizer's
    vocab.json, merges.txt, special_tokens_map.json and tokenizer_config.json)."""
    from tests.builders.brushnet import save_tiny_weights

    base, brushnet = save_tiny_weights(root)
    (base / "tokenizer" / "special_tokens_map.json").write_text(json.dumps(
        {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
         "unk_token": "<|endoftext|>"}))
    return base, brushnet


@pytest.mark.parametrize("brushnet_name", ["brushnet-x", "brushnet-segmentation", "brushnet-random"])
def test_brushnet_and_base_from_the_manifest_files_paint_one_step(brushnet_name, tmp_path, isolated_model_dirs):
    from engine.api import EditParams, InpaintRequest

    base, brushnet = _published_sd15(tmp_path / "published")
    models, _ = isolated_model_dirs
    _keep_exactly(MANIFEST["sd15-realistic-vision"], base, models / "sd15-realistic-vision")
    _keep_exactly(MANIFEST[brushnet_name], brushnet, models / brushnet_name)
    engine = _engine(brushnet_model=brushnet_name)
    image = np.full((64, 64, 3), 120, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    result = engine.inpaint(InpaintRequest(image, mask, "a cat", EditParams(
        steps=1, working_size=64, seed=1, engine="brushedit")))
    assert result.engine == "brushedit" and result.candidates[0].image.shape == (64, 64, 3)


def test_lama_from_the_manifest_file_fills(tmp_path, isolated_model_dirs):
    from engine.api import EditParams, InpaintRequest
    from engine.fill.lama import save_lama, tiny_lama

    spec = MANIFEST["lama"]
    models, _ = isolated_model_dirs
    save_lama(tiny_lama(), tmp_path / "published" / spec.files[0])
    _keep_exactly(spec, tmp_path / "published", models / "lama")
    image = np.full((64, 64, 3), 90, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 20:40] = 255
    result = _engine().inpaint(InpaintRequest(image, mask, "", EditParams(engine="lama", seed=1),
                                              category="removal"))
    assert result.engine == "lama" and result.candidates[0].image.shape == (64, 64, 3)


def test_sam_from_the_manifest_file_cuts_a_point(tmp_path, isolated_model_dirs, photo, monkeypatch):
    """The smallest published SAM at its real size (ViT-B, ~94 M random weights): the loader reads the
    model type from the manifest's file name, with no config beside it. The manifest pins Meta's exact
    byte size, which random weights cannot have: only that check is lifted, the file list stays."""
    import dataclasses

    import torch

    from engine.api import SegmentRequest
    from engine.segment.sam import build_sam

    spec = dataclasses.replace(MANIFEST["sam-vit-b"], file_sizes={})
    monkeypatch.setitem(MANIFEST, "sam-vit-b", spec)
    models, _ = isolated_model_dirs
    torch.manual_seed(0)
    full = tmp_path / "published"
    full.mkdir()
    torch.save(build_sam("vit_b").state_dict(), full / spec.files[0])
    _keep_exactly(spec, full, models / "sam-vit-b")
    segmenter = _engine(sam_model="sam-vit-b").segmenter()
    result = segmenter.segment(SegmentRequest(photo, points=((150.0, 100.0),), labels=(1,)))
    assert result.mask.shape == photo.shape[:2]
