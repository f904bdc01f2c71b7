"""Tiny random SAM, GroundingDINO and Qwen2-VL / Qwen2.5-VL models, built in-process with no network.

For tests (diffusers' ``get_dummy_components`` habit): each builds in well under a second on a CPU
and runs the same code paths as the published weights. The ``save_*`` functions write them in the
on-disk layout the loaders expect (:func:`engine.segment.sam.load_sam`,
:func:`engine.segment.grounding.load_grounding_dino`,
:meth:`engine.instructor.backends.QwenVLBackend.from_pretrained`), so the CLI, the editor and the
engine service can be tested end to end.

The outputs of these models are random: a tiny SAM gives some blob, a tiny GroundingDINO some
boxes, a tiny Qwen2-VL gibberish (which the instructor must survive by falling back to its offline
parser).
"""

from __future__ import annotations

from pathlib import Path

# Words for the tiny BERT vocabulary of GroundingDINO; others become [UNK].
_BERT_WORDS = ("[PAD] [UNK] [CLS] [SEP] [MASK] . , a an the of on in left right man woman person "
               "cat dog car red blue sky tree hat house bird flower table chair cup face shirt "
               "boy girl horse bench road building water grass background").split()

QWEN_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                       "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")

# Qwen2-VL's chat layout, reduced to what the instructor sends (system/user text and images).
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
    "{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _seed(seed: int) -> None:
    import torch
    torch.manual_seed(seed)


# --- SAM ----------------------------------------------------------------------------------------


def tiny_sam(seed: int = 0):
    """A random ``segment_anything`` ``Sam`` with a 128 px input and 32-wide layers (~100 k weights)."""
    from engine.segment.sam import build_sam

    _seed(seed)
    return build_sam("tiny")


def save_tiny_sam(path: str | Path, seed: int = 0) -> Path:
    """Write a tiny SAM checkpoint and return its file path.

    ``path`` is a file (``.pth`` for a torch state dict, ``.safetensors``) or a folder, in which
    ``sam_tiny.pth`` is written. The config goes beside it as ``<name>.json``, so
    ``load_sam(returned_path)`` needs no ``model_type``.
    """
    from engine.segment.sam import save_sam

    path = Path(path)
    if path.suffix not in (".pth", ".pt", ".safetensors"):
        path = path / "sam_tiny.pth"
    return save_sam(tiny_sam(seed), path)


# --- GroundingDINO ------------------------------------------------------------------------------


def tiny_grounding_dino(seed: int = 0):
    """A random ``GroundingDinoForObjectDetection`` and its ``GroundingDinoProcessor``.

    Returns
    -------
    (model, processor)
        A Swin backbone of width 8, a one-layer BERT with a 40-word vocabulary, d_model 32,
        20 queries; the image processor works at 64-96 px.
    """
    import tempfile

    from transformers import (BertConfig, BertTokenizer, GroundingDinoConfig,
                              GroundingDinoForObjectDetection, GroundingDinoImageProcessor,
                              GroundingDinoProcessor, SwinConfig)

    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(_BERT_WORDS) + "\n")
        tokenizer = BertTokenizer(str(vocab))
    backbone = SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1, 1, 1, 1],
                          num_heads=[1, 1, 1, 1], window_size=4,
                          out_features=["stage2", "stage3", "stage4"])
    text = BertConfig(vocab_size=len(_BERT_WORDS), hidden_size=16, num_hidden_layers=1,
                      num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    # d_model must be a multiple of 32 (GroupNorm(32)); two decoder layers (weight tying needs them).
    config = GroundingDinoConfig(backbone_config=backbone, text_config=text, d_model=32,
                                 encoder_layers=1, decoder_layers=2, encoder_ffn_dim=32,
                                 decoder_ffn_dim=32, encoder_attention_heads=2,
                                 decoder_attention_heads=2, num_queries=20, encoder_n_points=2,
                                 decoder_n_points=2, max_text_len=32)
    _seed(seed)
    model = GroundingDinoForObjectDetection(config).eval()
    processor = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}),
        tokenizer=tokenizer)
    return model, processor


def _save_pretrained(directory: str | Path, model, processor) -> Path:
    """Save ``model`` and ``processor`` to ``directory`` in the Hugging Face layout; return it."""
    directory = Path(directory)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def save_tiny_grounding_dino(directory: str | Path, seed: int = 0) -> Path:
    """Write a tiny GroundingDINO (model + processor, Hugging Face layout) to ``directory``."""
    return _save_pretrained(directory, *tiny_grounding_dino(seed))


# --- Qwen2-VL -----------------------------------------------------------------------------------


def tiny_qwen2_vl_processor():
    """A ``Qwen2VLProcessor`` with a byte-level tokenizer (256 bytes + Qwen's special tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (Qwen2TokenizerFast, Qwen2VLImageProcessor, Qwen2VLProcessor,
                              Qwen2VLVideoProcessor)

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    backend = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = Qwen2TokenizerFast(tokenizer_object=backend, unk_token=None, bos_token=None,
                                   eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIAL_TOKENS)})
    # Few pixels: 4 to 16 merged 28 px patches per image.
    image_processor = Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16)
    return Qwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                            video_processor=Qwen2VLVideoProcessor(), chat_template=QWEN_CHAT_TEMPLATE)


def _tiny_qwen_text_config(tok) -> tuple[dict, dict]:
    ids = {s: tok.convert_tokens_to_ids(s) for s in QWEN_SPECIAL_TOKENS}
    text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                # mrope sections sum to head_dim / 2 (16 / 2).
                rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3],
                                 "rope_theta": 10000.0},
                bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                pad_token_id=ids["<|endoftext|>"])
    return text, ids


def _finish_qwen(model, ids):
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    return model.eval()


def _token_ids(ids: dict) -> dict:
    return dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])


def tiny_qwen2_vl(seed: int = 0):
    """A random ``Qwen2VLForConditionalGeneration`` (one 32-wide layer each side) and its processor.

    Returns
    -------
    (model, processor)
    """
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    processor = tiny_qwen2_vl_processor()
    text, ids = _tiny_qwen_text_config(processor.tokenizer)
    vision = dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2)
    config = Qwen2VLConfig(text_config=text, vision_config=vision, **_token_ids(ids))
    _seed(seed)
    return _finish_qwen(Qwen2VLForConditionalGeneration(config), ids), processor


def tiny_qwen2_5_vl(seed: int = 0):
    """A random ``Qwen2_5_VLForConditionalGeneration`` (the 3B/7B family's layout) and its processor."""
    from transformers import (Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor,
                              Qwen2VLVideoProcessor)

    base = tiny_qwen2_vl_processor()
    processor = Qwen2_5_VLProcessor(image_processor=base.image_processor, tokenizer=base.tokenizer,
                                    video_processor=Qwen2VLVideoProcessor(), chat_template=QWEN_CHAT_TEMPLATE)
    text, ids = _tiny_qwen_text_config(processor.tokenizer)
    # Window attention needs a window of whole merged patches (56 px) and one full-attention block.
    vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32,
                  patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                  fullatt_block_indexes=[1])
    config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, **_token_ids(ids))
    _seed(seed)
    return _finish_qwen(Qwen2_5_VLForConditionalGeneration(config), ids), processor


def save_tiny_qwen2_5_vl(directory: str | Path, seed: int = 0) -> Path:
    """Write a tiny Qwen2.5-VL (model + processor, Hugging Face layout) to ``directory``."""
    return _save_pretrained(directory, *tiny_qwen2_5_vl(seed))


def save_tiny_qwen2_vl(directory: str | Path, seed: int = 0) -> Path:
    """Write a tiny Qwen2-VL (model + processor, Hugging Face layout) to ``directory``."""
    return _save_pretrained(directory, *tiny_qwen2_vl(seed))


# --- the published file layouts -----------------------------------------------------------------
# `save_pretrained` of today's transformers writes its own layout (processor_config.json,
# chat_template.jinja, one model.safetensors). The Hub repositories the manifest downloads from were
# written by older versions, in another one. These writers produce the published layout, so a test
# can keep exactly the files the manifest lists and load them through the production loader.


def save_sharded_safetensors(model, directory: str | Path, shards: int) -> tuple[str, ...]:
    """Write ``model``'s weights as ``model-0000i-of-0000N.safetensors`` plus
    ``model.safetensors.index.json`` (the sharded layout of the Qwen2-VL repositories)."""
    import json
    import tempfile

    from safetensors.torch import load_file, save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)  # drops tied duplicates the way transformers expects them
        tensors = load_file(str(Path(tmp) / "model.safetensors"))
        (directory / "config.json").write_text((Path(tmp) / "config.json").read_text())
        if (Path(tmp) / "generation_config.json").is_file():
            (directory / "generation_config.json").write_text((Path(tmp) / "generation_config.json").read_text())
    names = tuple(f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1))
    keys = sorted(tensors)
    weight_map = {}
    for i, name in enumerate(names):
        part = {k: tensors[k].contiguous() for k in keys[i::shards]}
        save_file(part, str(directory / name), metadata={"format": "pt"})
        weight_map.update({k: name for k in part})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return names + ("model.safetensors.index.json", "config.json")


def save_published_qwen2_vl(directory: str | Path, shards: int = 2, seed: int = 0, family: str = "qwen2_vl",
                            template_in_tokenizer: bool = False) -> Path:
    """A tiny random Qwen2-VL (or Qwen2.5-VL) in the file layout of ``Qwen/Qwen2-VL-*-Instruct``:
    ``config.json``, ``generation_config.json``, sharded safetensors and their index,
    ``preprocessor_config.json``, ``chat_template.json``, ``tokenizer.json``, ``tokenizer_config.json``,
    ``vocab.json`` and ``merges.txt`` (the repositories' file lists, see docs/design/agent.md).

    ``template_in_tokenizer`` also writes the chat template into ``tokenizer_config.json``.
    """
    import json

    directory = Path(directory)
    model, processor = (tiny_qwen2_vl if family == "qwen2_vl" else tiny_qwen2_5_vl)(seed)
    save_sharded_safetensors(model, directory, shards)
    processor.image_processor.save_pretrained(directory)  # preprocessor_config.json
    tokenizer = processor.tokenizer
    tokenizer.save_pretrained(directory)  # tokenizer.json, tokenizer_config.json
    tokenizer.backend_tokenizer.model.save(str(directory))  # vocab.json, merges.txt
    if template_in_tokenizer:  # the older layout: the template as a key of tokenizer_config.json
        cfg = json.loads((directory / "tokenizer_config.json").read_text())
        cfg["chat_template"] = QWEN_CHAT_TEMPLATE
        (directory / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2))
    (directory / "chat_template.json").write_text(json.dumps({"chat_template": QWEN_CHAT_TEMPLATE}, indent=2))
    for extra in ("chat_template.jinja", "processor_config.json"):  # not in the published repositories
        (directory / extra).unlink(missing_ok=True)
    return directory


def save_published_grounding_dino(directory: str | Path, seed: int = 0) -> Path:
    """A tiny random GroundingDINO in the layout of ``IDEA-Research/grounding-dino-*``: ``config.json``,
    ``model.safetensors``, ``preprocessor_config.json``, ``special_tokens_map.json``,
    ``tokenizer.json``, ``tokenizer_config.json`` and ``vocab.txt``."""
    import json

    directory = Path(directory)
    model, processor = tiny_grounding_dino(seed)
    model.save_pretrained(directory)
    processor.image_processor.save_pretrained(directory)  # preprocessor_config.json
    processor.tokenizer.save_pretrained(directory)  # tokenizer.json, tokenizer_config.json
    (directory / "vocab.txt").write_text("\n".join(_BERT_WORDS) + "\n")
    (directory / "special_tokens_map.json").write_text(json.dumps(
        {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]",
         "unk_token": "[UNK]"}, indent=2))
    (directory / "processor_config.json").unlink(missing_ok=True)  # not in the published repositories
    return directory
