"""Tiny random BrushNet components for tests and demos (diffusers' ``get_dummy_components`` habit).

Everything is built in-process without network: a small UNet (cross-attention in the first level),
VAE with SD1.5's 8x downsampling, CLIP text encoder and a CLIP tokenizer written from a byte-level
vocabulary to a temporary folder. A few denoising steps at 64-128 px take well under a second on a CPU.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

_CROSS_DIM = 32


def _bytes_to_unicode() -> dict[int, str]:
    # GPT-2/CLIP's reversible byte -> printable character table.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def write_tiny_tokenizer_files(folder: Path) -> Path:
    """Write ``vocab.json`` and ``merges.txt`` of a byte-level CLIP tokenizer (no merges) to ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return folder


def tiny_tokenizer():
    """A CLIPTokenizer over a byte-level vocabulary (514 tokens), built without network."""
    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        write_tiny_tokenizer_files(Path(tmp))
        return CLIPTokenizer.from_pretrained(tmp, model_max_length=77)


def tiny_unet(seed: int = 0):
    """A small SD1.5-style UNet: a cross-attention level and a plain level, 4 latent channels."""
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    return UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(16, 32), norm_num_groups=8, attention_head_dim=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=_CROSS_DIM,
    ).eval()


def tiny_vae(seed: int = 0):
    """A small AutoencoderKL with SD1.5's 8x spatial downsampling and 4 latent channels."""
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=4,
        block_out_channels=(8, 8, 8, 8), sample_size=64,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    ).eval()


def tiny_text_encoder(seed: int = 0):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    cfg = CLIPTextConfig(bos_token_id=512, eos_token_id=513, pad_token_id=513, hidden_size=_CROSS_DIM,
                         intermediate_size=37, layer_norm_eps=1e-5, num_attention_heads=4, num_hidden_layers=2,
                         vocab_size=520, max_position_embeddings=77)
    return CLIPTextModel(cfg).eval()


def tiny_brushnet(unet, seed: int = 0, randomize: bool = True):
    """``BrushNetModel.from_unet(unet)`` with the zero convs filled with small random values.

    Randomising the zero convs makes the branch actually steer the UNet, so tests can see its effect.
    """
    import torch

    from engine.brushnet.model import BrushNetModel

    bn = BrushNetModel.from_unet(unet).eval()
    if randomize:
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for name, p in bn.named_parameters():
                if name.startswith("brushnet_"):
                    p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return bn


def tiny_scheduler():
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                   num_train_timesteps=1000, prediction_type="epsilon")


def tiny_components(seed: int = 0) -> dict:
    """Return ``{"unet", "vae", "text_encoder", "tokenizer", "scheduler", "brushnet"}`` (tiny, random, CPU, fp32)."""
    unet = tiny_unet(seed)
    return {
        "unet": unet,
        "vae": tiny_vae(seed),
        "text_encoder": tiny_text_encoder(seed),
        "tokenizer": tiny_tokenizer(),
        "scheduler": tiny_scheduler(),
        "brushnet": tiny_brushnet(unet, seed),
    }


def tiny_pipeline(seed: int = 0):
    """A :class:`engine.brushnet.BrushNetPipeline` over :func:`tiny_components` (CPU, fp32)."""
    from engine.brushnet.pipeline import BrushNetPipeline

    pipe = BrushNetPipeline(**tiny_components(seed))
    pipe.set_progress_bar_config(disable=True)
    pipe.model_name = "tiny-brushnet"
    return pipe


def save_tiny_weights(root: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write a diffusers-format SD1.5-style base folder and a BrushNet folder under ``root``.

    Returns
    -------
    (base_dir, brushnet_dir)
        ``root/sd15-tiny`` (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/,
        safetensors weights) and ``root/brushnet-tiny`` (config.json +
        diffusion_pytorch_model.safetensors), both loadable by :func:`engine.brushnet.load_pipeline`.
    """
    root = Path(root)
    base, bn_dir = root / "sd15-tiny", root / "brushnet-tiny"
    c = tiny_components(seed)
    for name in ("unet", "vae", "text_encoder"):
        c[name].save_pretrained(base / name, safe_serialization=True)
    c["tokenizer"].save_pretrained(base / "tokenizer")
    write_tiny_tokenizer_files(base / "tokenizer")  # SD1.5 folders ship vocab.json + merges.txt
    c["scheduler"].save_pretrained(base / "scheduler")
    index = {
        "_class_name": "StableDiffusionPipeline",
        "_diffusers_version": "0.42.1",
        "feature_extractor": [None, None],
        "requires_safety_checker": False,
        "safety_checker": [None, None],
        "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    (base / "model_index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    c["brushnet"].save_pretrained(bn_dir, safe_serialization=True)
    return base, bn_dir
