"""A tiny random FLUX.2 [klein] folder in the published diffusers layout, built with no network.

The stock classes (``Flux2Transformer2DModel``, ``AutoencoderKLFlux2``, ``Qwen3ForCausalLM``,
``Qwen2TokenizerFast``, ``FlowMatchEulerDiscreteScheduler``) with tiny configs, saved with their own
``save_pretrained`` and then reduced to exactly the files the manifest lists (so a test folder is what
a download gives, no more). The text encoder is sharded in two, as published.
"""

from __future__ import annotations

import json
from pathlib import Path

_HIDDEN = 16
_LAYERS = 28  # the pipelines read hidden states 9, 18 and 27 of the text encoder
_CHAT_TEMPLATE = (
    "{%- for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n"
    "{%- if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{%- endif %}"
    "{%- endif %}"
)
_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import Qwen2TokenizerFast

    from tests.builders.brushnet import _bytes_to_unicode

    chars = sorted(set(_bytes_to_unicode().values()))
    vocab = {c: i for i, c in enumerate(chars)}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    tok = Qwen2TokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                             unk_token=None, bos_token=None)
    tok.add_special_tokens({"additional_special_tokens": _SPECIAL[1:]})
    tok.chat_template = _CHAT_TEMPLATE
    return tok


def tiny_klein_components(seed: int = 0) -> dict:
    """The five components of a tiny klein pipeline (random weights, seeded)."""
    import torch
    from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2Transformer2DModel
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = _tokenizer()
    torch.manual_seed(seed)
    text_encoder = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=_HIDDEN, intermediate_size=32, num_hidden_layers=_LAYERS,
        num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=1024,
        tie_word_embeddings=True, torch_dtype="float32",
    ))
    torch.manual_seed(seed + 1)
    vae = AutoencoderKLFlux2(
        block_out_channels=(8, 8, 8, 8), layers_per_block=1, latent_channels=4, norm_num_groups=4,
        sample_size=64,
    )
    torch.manual_seed(seed + 2)
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=3 * _HIDDEN, axes_dims_rope=(4, 4, 4, 4),
        timestep_guidance_channels=32, mlp_ratio=2.0,
    )
    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
        base_image_seq_len=256, max_image_seq_len=4096, time_shift_type="exponential",
    )
    return {"scheduler": scheduler, "text_encoder": text_encoder, "tokenizer": tokenizer,
            "transformer": transformer, "vae": vae}


def write_tiny_klein(folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny klein folder with exactly the manifest's files (``flux2-klein-4b``)."""
    from diffusers import Flux2KleinPipeline

    from engine.models.manifest import get_spec

    folder = Path(folder)
    pipe = Flux2KleinPipeline(is_distilled=True, **tiny_klein_components(seed))
    pipe.save_pretrained(folder, safe_serialization=True)
    # The published text encoder is sharded in two: re-save it that way (a few KB per shard).
    pipe.text_encoder.save_pretrained(folder / "text_encoder", max_shard_size="20KB", safe_serialization=True)
    _reshard_in_two(folder / "text_encoder")
    tok_cfg = folder / "tokenizer" / "tokenizer_config.json"
    cfg = json.loads(tok_cfg.read_text("utf-8"))
    cfg["chat_template"] = _CHAT_TEMPLATE  # inline, so the folder needs no chat_template.jinja
    tok_cfg.write_text(json.dumps(cfg, indent=2), "utf-8")
    # A transformers 5 save writes tokenizer.json only; the published folder also has the slow
    # tokenizer's vocab.json and merges.txt (this BPE has no merges).
    vocab = {t: i for t, i in pipe.tokenizer.get_vocab().items() if t not in _SPECIAL}
    (folder / "tokenizer" / "vocab.json").write_text(json.dumps(vocab), "utf-8")
    (folder / "tokenizer" / "merges.txt").write_text("#version: 0.2\n", "utf-8")
    wanted = set(get_spec("flux2-klein-4b").files)
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    missing = [f for f in wanted if not (folder / f).is_file()]
    if missing:
        raise RuntimeError(f"tiny klein folder lacks {missing}")
    return folder


def _reshard_in_two(folder: Path) -> None:
    """Rewrite a safetensors checkpoint as ``model-0000{1,2}-of-00002.safetensors`` plus its index."""
    from safetensors.torch import load_file, save_file

    tensors = {}
    for shard in sorted(folder.glob("*.safetensors")):
        tensors.update(load_file(shard))
        shard.unlink()
    (folder / "model.safetensors.index.json").unlink(missing_ok=True)
    names = sorted(tensors)
    halves = (names[: len(names) // 2], names[len(names) // 2:])
    weight_map = {}
    for i, part in enumerate(halves, start=1):
        file = f"model-{i:05d}-of-00002.safetensors"
        save_file({n: tensors[n].contiguous() for n in part}, str(folder / file), metadata={"format": "pt"})
        weight_map.update({n: file for n in part})
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": size}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2), "utf-8")
