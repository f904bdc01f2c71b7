"""Parameter counts of the default models, from their published configs, on the meta device.

Every figure the memory plan gives is a parameter count of the real diffusers / transformers /
segment-anything class built from the config JSON the model publishes (shipped in
``engine/memory/configs/``), with its parameters on the ``meta`` device: no memory, no weights, no
guess. Building the 7B instructor's module tree takes a few seconds, so counts are cached in
``counts_cache.json`` keyed by the SHA-256 of the config file; a config that changes misses the cache
and is counted afresh (the tests check that the cached numbers equal a fresh count).

Besides the total, each count says how many parameters sit in ``nn.Linear`` weights that
bitsandbytes would quantize to 4 bits (the 4-bit figure), under the skip list the loader uses.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

CONFIG_PACKAGE = "engine.memory.configs"
CACHE_FILE = "counts_cache.json"

# Modules kept in 16 bits when the instructor loads in 4 bits: the output head (transformers never
# quantizes it) and the vision tower (small, and its boxes are what the plan reads).
FOUR_BIT_SKIP = ("lm_head", "visual")


@dataclass(frozen=True)
class ParamCount:
    """Parameters of one model: ``total``, and ``quantizable`` (4-bit-able ``nn.Linear`` weights)."""

    total: int
    quantizable: int = 0


@dataclass(frozen=True)
class Component:
    """One model the plan counts: which config, which class, built how."""

    key: str
    config_file: str
    builder: str  # a key of _BUILDERS


COMPONENTS: dict[str, Component] = {c.key: c for c in (
    Component("sd15-unet", "sd15_unet.json", "diffusers-unet"),
    Component("sd15-vae", "sd15_vae.json", "diffusers-vae"),
    Component("sd15-text-encoder", "sd15_text_encoder.json", "clip-text"),
    Component("brushnet", "brushnet_sd15.json", "brushnet"),
    Component("qwen2-vl-7b", "qwen2_vl_7b_instruct.json", "qwen2-vl"),
    Component("qwen2-vl-2b", "qwen2_vl_2b_instruct.json", "qwen2-vl"),
    Component("grounding-dino-tiny", "grounding_dino_tiny.json", "grounding-dino"),
    Component("grounding-dino-base", "grounding_dino_base.json", "grounding-dino"),
    Component("sam-vit-h", "sam_vit_h.json", "sam"),
    Component("sam-vit-l", "sam_vit_l.json", "sam"),
    Component("sam-vit-b", "sam_vit_b.json", "sam"),
    Component("klein-transformer", "flux2_klein_4b_transformer.json", "flux2-transformer"),
    Component("klein-vae", "flux2_klein_4b_vae.json", "flux2-vae"),
    Component("klein-text-encoder", "flux2_klein_4b_text_encoder.json", "qwen3"),
)}


def config_text(component: str) -> str:
    """The shipped config JSON of ``component`` (package data: works from a wheel or a bundle)."""
    return resources.files(CONFIG_PACKAGE).joinpath(COMPONENTS[component].config_file).read_text("utf-8")


def load_config(component: str) -> dict:
    """The published config of ``component`` as a dict."""
    return json.loads(config_text(component))


def config_digest(component: str) -> str:
    return hashlib.sha256(config_text(component).encode("utf-8")).hexdigest()


# --- building on the meta device ------------------------------------------------------------------

def _diffusers_unet(cfg: dict):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel.from_config(cfg)


def _diffusers_vae(cfg: dict):
    from diffusers import AutoencoderKL

    return AutoencoderKL.from_config(cfg)


def _brushnet(cfg: dict):
    from engine.brushnet.model import BrushNetModel

    return BrushNetModel.from_config(cfg)


def _clip_text(cfg: dict):
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(CLIPTextConfig(**cfg))


def _qwen2_vl(cfg: dict):
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    return Qwen2VLForConditionalGeneration(Qwen2VLConfig(**cfg))


def _grounding_dino(cfg: dict):
    from transformers import GroundingDinoConfig, GroundingDinoForObjectDetection

    return GroundingDinoForObjectDetection(GroundingDinoConfig(**cfg))


def _sam(cfg: dict):
    from engine.segment.sam import build_sam

    return build_sam({k: v for k, v in cfg.items() if not k.startswith("_")})


def _flux2_transformer(cfg: dict):
    from diffusers import Flux2Transformer2DModel

    return Flux2Transformer2DModel.from_config(cfg)


def _flux2_vae(cfg: dict):
    from diffusers import AutoencoderKLFlux2

    return AutoencoderKLFlux2.from_config(cfg)


def _qwen3(cfg: dict):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    return Qwen3ForCausalLM(Qwen3Config(**cfg))


_BUILDERS: dict[str, Callable[[dict], object]] = {
    "diffusers-unet": _diffusers_unet, "diffusers-vae": _diffusers_vae, "brushnet": _brushnet,
    "clip-text": _clip_text, "qwen2-vl": _qwen2_vl, "grounding-dino": _grounding_dino, "sam": _sam,
    "flux2-transformer": _flux2_transformer, "flux2-vae": _flux2_vae, "qwen3": _qwen3,
}


def build_on_meta(component: str):
    """The real model class of ``component`` built from its config with parameters on ``meta``."""
    import logging

    from accelerate import init_empty_weights

    cfg = {k: v for k, v in load_config(component).items() if k != "_source"}
    # transformers and diffusers warn about unused config keys; a count needs no such noise.
    quiet = [logging.getLogger(n) for n in ("transformers", "diffusers")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.ERROR)
    try:
        # Buffers stay real (some constructors compute them with .item()); they are small.
        with init_empty_weights(include_buffers=False):
            model = _BUILDERS[COMPONENTS[component].builder](cfg)
        # A transformers model ties its head as from_pretrained does (outside the context: inside it,
        # the re-registered parameter would be a fresh meta tensor, not the shared one).
        if hasattr(model, "tie_weights"):
            model.tie_weights()
        return model
    finally:
        for q, level in zip(quiet, levels):
            q.setLevel(level)


def count_module(model, skip: tuple[str, ...] = FOUR_BIT_SKIP) -> ParamCount:
    """Unique parameters of ``model`` (tied weights once) and those in quantizable ``nn.Linear``."""
    import torch

    total = sum(p.numel() for p in model.parameters())
    quantizable = 0
    seen: set[int] = set()
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear):
            continue
        if any(part in skip for part in name.split(".")):
            continue
        weight = module.weight
        if id(weight) in seen:
            continue
        seen.add(id(weight))
        quantizable += weight.numel()
    return ParamCount(total=int(total), quantizable=int(quantizable))


def fresh_count(component: str) -> ParamCount:
    """Count ``component`` now, on the meta device (seconds for the 7B instructor)."""
    return count_module(build_on_meta(component))


# --- the cache --------------------------------------------------------------------------------------

def _cache_path() -> Path:
    return Path(str(resources.files("engine.memory").joinpath(CACHE_FILE)))


def read_cache() -> dict:
    """The cached counts (read as package data, so it works from a wheel, a zip or the bundle)."""
    try:
        return json.loads(resources.files("engine.memory").joinpath(CACHE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


_memo: dict[str, ParamCount] = {}


def param_count(component: str) -> ParamCount:
    """The parameter count of ``component``: the cached figure when its config is unchanged, else fresh."""
    if component in _memo:
        return _memo[component]
    entry = read_cache().get(component)
    if entry and entry.get("config_sha256") == config_digest(component):
        count = ParamCount(total=int(entry["total"]), quantizable=int(entry["quantizable"]))
    else:
        count = fresh_count(component)
    _memo[component] = count
    return count


def write_cache(path: str | Path | None = None) -> Path:
    """Count every component afresh and write the cache (``python -m engine.memory.counts``)."""
    path = Path(path) if path else _cache_path()
    data = {}
    for key in COMPONENTS:
        c = fresh_count(key)
        data[key] = {"config_sha256": config_digest(key), "total": c.total, "quantizable": c.quantizable}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    print(write_cache())
