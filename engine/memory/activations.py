"""Estimates of the GPU memory each stage needs besides its weights (activations, caches).

These are **estimates**, not measurements: each is a short formula in the working size, the batch
and the model's published config, with the few empirical constants named below.
``benchmarks/agent_memory.py`` measures the real peaks on a CUDA card beside these figures.
All figures are GiB (2**30 bytes), as ``torch.cuda`` reports a card's memory.
"""

from __future__ import annotations

import math

GIB = float(2**30)

# CUDA context, cuBLAS/cuDNN workspaces and the caching allocator's slack: memory the card loses
# whatever runs. Not seen by torch.cuda.max_memory_allocated; seen by an out-of-memory error.
RESERVED_GB = 0.8

# --- plan: Qwen2-VL ----------------------------------------------------------------------------------
INSTRUCTOR_MAX_SIDE = 768   # the long side of the photo as the local backend sends it
PROMPT_TOKENS = 400         # system prompt + instruction, in tokens (ours is about 300)
NEW_TOKENS = 200            # the backend's max_new_tokens
TEMPORARIES = 1.5           # a margin over the tensors named below, for the kernels' own temporaries


def instructor_gb(cfg: dict, four_bit: bool, photo_aspect: float = 4 / 3) -> float:
    """Qwen2-VL: the vision tower on the photo, the prompt's prefill and the KV cache of the answer."""
    vision = cfg["vision_config"]
    patch, merge = vision["patch_size"], vision["spatial_merge_size"]
    long_side = INSTRUCTOR_MAX_SIDE
    short_side = long_side / photo_aspect
    patches = math.ceil(long_side / (patch * merge)) * math.ceil(short_side / (patch * merge)) * merge * merge
    embed = vision["embed_dim"]
    # Vision blocks: q, k, v, the MLP's hidden layer and (eager/SDPA math path) one attention matrix.
    vision_bytes = 2 * patches * (3 * embed + vision["mlp_ratio"] * embed) + 2 * vision["num_heads"] * patches**2
    seq = patches // (merge * merge) + PROMPT_TOKENS + NEW_TOKENS
    hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
    head_dim = hidden // cfg["num_attention_heads"]
    kv_cache = 2 * cfg["num_hidden_layers"] * cfg["num_key_value_heads"] * head_dim * seq * 2
    prefill = 2 * seq * (2 * inter + 4 * hidden)
    logits = 4 * cfg["vocab_size"] * 2  # the last position only (logits_to_keep), in fp32, twice
    dequant = 2 * inter * hidden if four_bit else 0  # one layer's weight dequantized for its matmul
    return TEMPORARIES * (vision_bytes + kv_cache + prefill + logits + dequant) / GIB


# --- detect: GroundingDINO ---------------------------------------------------------------------------
DETECT_SHORT, DETECT_LONG = 800, 1333  # the processor's resize


def grounding_gb(cfg: dict) -> float:
    """GroundingDINO in fp32: the Swin maps at stride 4, the deformable encoder's tokens and fusion."""
    pixels = DETECT_SHORT * DETECT_LONG
    backbone = cfg.get("backbone_config") or {}
    embed = backbone.get("embed_dim", 96)
    stride4_tokens = pixels / 16
    swin = 4 * stride4_tokens * embed * 12  # a dozen maps alive at the first stage's resolution
    tokens = sum(pixels / (s * s) for s in (64, 256, 1024, 4096))  # strides 8, 16, 32, 64
    text = cfg.get("max_text_len", 256)
    fusion = 4 * tokens * (cfg["encoder_ffn_dim"] + cfg["encoder_attention_heads"] * text) * 2
    queries = 4 * cfg["num_queries"] * (cfg["decoder_ffn_dim"] + text) * 2
    return TEMPORARIES * (swin + fusion + queries) / GIB


# --- segment: SAM --------------------------------------------------------------------------------------

def sam_gb(cfg: dict, bytes_per_value: int = 4) -> float:
    """SAM's image encoder: a global-attention block holds three ``heads x N x N`` matrices at once,
    N = (1024 / 16)^2 tokens: the scores, the scores plus the row term and that plus the column term
    of the relative positions (segment-anything's ``add_decomposed_rel_pos`` adds them in one
    expression). Measured on a CPU for ViT-B: 2.81 GiB above baseline beside 0.35 + 2.42 estimated."""
    tokens = (cfg["image_size"] // cfg["patch_size"]) ** 2
    heads, embed = cfg["encoder_num_heads"], cfg["encoder_embed_dim"]
    attention = 3 * heads * tokens**2 * bytes_per_value
    maps = 8 * tokens * embed * bytes_per_value
    return (attention + TEMPORARIES * maps) / GIB


# --- paint: SD1.5 UNet + BrushNet + VAE ----------------------------------------------------------------
# Per image of the classifier-free-guidance batch at 512x512, 16-bit weights, SDPA attention: the
# UNet's skips, BrushNet's 25 residuals and one transformer block's feed-forward (empirical figure
# from diffusers' SD1.5 memory notes, BrushNet's extra pass added).
UNET_BRUSHNET_GB_PER_IMAGE_512 = 0.25
# VAE decode per candidate at 512x512 in 16 bits: the last up block's 128/256-channel full-size maps.
VAE_DECODE_GB_PER_IMAGE_512 = 0.5


def paint_gb(working_size: int, candidates: int, bytes_per_value: int = 2) -> float:
    """Denoising (2 x candidates with guidance, one batch) or decoding, whichever is larger.

    ``working_size`` is the short side painted; the frame budgeted is the largest it gives (a 1.6:1
    crop at the long-side cap: 1024 x 640 at the default, see
    :func:`engine.brushnet.resolution.largest_work_pixels`). On a card the pipeline decodes the
    candidates one at a time, so the decode holds one image's maps whatever the count.
    """
    from engine.brushnet.resolution import largest_work_pixels

    scale = largest_work_pixels(working_size) / 512**2 * (bytes_per_value / 2)
    denoise = UNET_BRUSHNET_GB_PER_IMAGE_512 * 2 * candidates * scale
    decode = VAE_DECODE_GB_PER_IMAGE_512 * scale
    return max(denoise, decode)


# FLUX.2 [klein] 4B per candidate at 1024 x 1024 in 16 bits. Denoising: 4096 image tokens, as many
# reference tokens (the photo) and 512 text tokens through 3072-wide blocks with a 3x MLP, about 20
# live hidden-size tensors with memory-efficient attention (no guidance pass: step-distilled).
# Decoding: the FLUX.2 VAE has SD's decoder widths, so SD's 512 px figure scaled by area.
KLEIN_DENOISE_GB_PER_IMAGE_1024 = 20 * (4096 * 2 + 512) * 3072 * 2 / GIB
KLEIN_ENCODE_GB = 0.3  # Qwen3-4B over 512 tokens with every hidden state kept (37 x 512 x 2560)


def klein_gb(working_size: int, candidates: int, bytes_per_value: int = 2) -> float:
    """klein's paint stage: denoising, decoding or encoding the prompt, whichever is larger."""
    scale = (working_size / 1024) ** 2 * (bytes_per_value / 2)
    denoise = KLEIN_DENOISE_GB_PER_IMAGE_1024 * candidates * scale
    decode = VAE_DECODE_GB_PER_IMAGE_512 * 4 * candidates * scale
    return max(denoise, decode, KLEIN_ENCODE_GB)
