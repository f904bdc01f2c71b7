"""Load a :class:`BrushNetPipeline` from a diffusers SD1.5 folder and a BrushNet folder.

The folders are checked before any weights are read, so a wrong path gives one clear line naming
the missing file instead of a stack trace from deep inside diffusers. Weights load from safetensors
only.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.api import EngineError

_WEIGHT_NAMES = {
    "unet": ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"),
    "vae": ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"),
    "text_encoder": ("model.safetensors", "model.fp16.safetensors"),
}


def _missing(path: Path, what: str = "") -> EngineError:
    msg = f"{path} is missing" + (f" ({what})" if what else "")
    return EngineError(msg, hint="install the models with: brushedit models download", kind="missing-models")


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise _missing(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EngineError(f"{path} is not valid JSON: {exc}", kind="bad-input") from exc


def _weights(folder: Path, names: tuple[str, ...]) -> tuple[Path, str | None]:
    for name in names:
        if (folder / name).is_file():
            return folder / name, ("fp16" if ".fp16." in name else None)
    sharded = sorted(folder.glob("*.safetensors.index.json"))
    if sharded:
        return sharded[0], None
    if any(folder.glob("*.bin")):
        raise EngineError(f"{folder} holds only pickle (.bin) weights; a safetensors file is required",
                          hint="convert the folder to safetensors", kind="bad-input")
    raise _missing(folder / names[0])


def check_base_folder(base_dir: Path) -> dict:
    """Validate a diffusers SD1.5 folder; return ``{component: variant}``. Raises :class:`EngineError`."""
    base_dir = Path(base_dir)
    if not base_dir.is_dir():
        raise _missing(base_dir, "Stable Diffusion 1.5 base model folder")
    variants: dict[str, str | None] = {}
    for comp, cfg_name in (("unet", "config.json"), ("vae", "config.json"), ("text_encoder", "config.json")):
        _read_json(base_dir / comp / cfg_name)
        variants[comp] = _weights(base_dir / comp, _WEIGHT_NAMES[comp])[1]
    tok = base_dir / "tokenizer"
    if not (tok / "tokenizer.json").is_file() and not (tok / "vocab.json").is_file():
        raise _missing(tok / "vocab.json")
    if (tok / "vocab.json").is_file() and not (tok / "merges.txt").is_file() and not (tok / "tokenizer.json").is_file():
        raise _missing(tok / "merges.txt")
    _read_json(base_dir / "scheduler" / "scheduler_config.json")
    unet_cfg = _read_json(base_dir / "unet" / "config.json")
    if unet_cfg.get("in_channels", 4) != 4:
        raise EngineError(
            f"{base_dir / 'unet'} has {unet_cfg.get('in_channels')} input channels; BrushNet needs a plain "
            "4-channel SD1.5 UNet, not an inpainting UNet", kind="bad-input")
    return variants


def check_brushnet_folder(brushnet_dir: Path, unet_config: dict | None = None) -> dict:
    """Validate a BrushNet folder (and its fit to ``unet_config``); return its config."""
    brushnet_dir = Path(brushnet_dir)
    if not brushnet_dir.is_dir():
        raise _missing(brushnet_dir, "BrushNet model folder")
    cfg = _read_json(brushnet_dir / "config.json")
    _weights(brushnet_dir, ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"))
    if cfg.get("_class_name", "BrushNetModel") != "BrushNetModel":
        raise EngineError(f"{brushnet_dir / 'config.json'} describes a {cfg.get('_class_name')}, not a BrushNetModel",
                          kind="bad-input")
    if unet_config is not None:
        for key in ("block_out_channels", "layers_per_block", "in_channels"):
            a, b = cfg.get(key), unet_config.get(key)
            if a is not None and b is not None and (list(a) if isinstance(a, (list, tuple)) else a) != (
                    list(b) if isinstance(b, (list, tuple)) else b):
                raise EngineError(f"BrushNet in {brushnet_dir} does not fit the base UNet: {key} {a} vs {b}",
                                  hint="use an SD1.5 base model with an SD1.5 BrushNet", kind="bad-input")
    return cfg


def default_device_dtype(device=None, dtype=None):
    """``device`` None = cuda if available else cpu; ``dtype`` None = bf16/fp16 on CUDA, fp32 elsewhere."""
    import torch

    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise EngineError("a CUDA device was asked for, but none is available", hint="use the CPU or the fill engine",
                          kind="bad-input")
    if dtype is None:
        if dev.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dtype = torch.float32
    return dev, dtype


def compile_pipeline(pipe) -> None:
    """``torch.compile`` the blocks that run every step (UNet blocks are called one by one)."""
    import torch

    from diffusers.models.resnet import Downsample2D, ResnetBlock2D, Upsample2D
    from diffusers.models.transformers.transformer_2d import Transformer2DModel

    kinds = (ResnetBlock2D, Transformer2DModel, Downsample2D, Upsample2D)
    for model in (pipe.unet, pipe.brushnet):
        for module in model.modules():
            if isinstance(module, kinds):
                module.compile(dynamic=False)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def load_pipeline(base_dir, brushnet_dir, *, device=None, dtype=None, cpu_offload: bool = False,
                  compile: bool = False):
    """Load SD1.5 + BrushNet into a ready :class:`engine.brushnet.BrushNetPipeline`.

    Parameters
    ----------
    base_dir : path
        A diffusers-format SD1.5 folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/,
        scheduler/), e.g. Realistic Vision.
    brushnet_dir : path
        A BrushNet folder (config.json + diffusion_pytorch_model.safetensors), e.g. ``brushnetX``.
    device : str or torch.device, optional
        Default: cuda if available, else cpu.
    dtype : torch.dtype, optional
        Default: bf16 (fp16 where bf16 is unsupported) on CUDA, fp32 on CPU.
    cpu_offload : bool
        ``enable_model_cpu_offload`` (8 GB cards); BrushNet stays on the GPU.
    compile : bool
        ``torch.compile`` the per-step blocks (CUDA; the first edit is slow while it compiles).

    Raises
    ------
    engine.api.EngineError
        ``kind="missing-models"`` naming the missing file or folder; ``kind="bad-input"`` for
        incompatible or unreadable folders.
    """
    import torch

    base_dir, brushnet_dir = Path(base_dir), Path(brushnet_dir)
    variants = check_base_folder(base_dir)
    unet_cfg = _read_json(base_dir / "unet" / "config.json")
    check_brushnet_folder(brushnet_dir, unet_cfg)
    dev, dtype = default_device_dtype(device, dtype)

    from diffusers import AutoencoderKL, UNet2DConditionModel, UniPCMultistepScheduler
    from transformers import CLIPTextModel, CLIPTokenizer

    from engine.brushnet.model import BrushNetModel
    from engine.brushnet.pipeline import BrushNetPipeline

    def load(cls, folder, variant):
        try:
            return cls.from_pretrained(folder, torch_dtype=dtype, use_safetensors=True, variant=variant)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise EngineError(f"cannot load {folder}: {str(exc).splitlines()[0] if str(exc) else exc}",
                              hint="the folder may be incomplete or for another model", kind="bad-input") from exc

    unet = load(UNet2DConditionModel, base_dir / "unet", variants["unet"])
    vae = load(AutoencoderKL, base_dir / "vae", variants["vae"])
    text_encoder = load(CLIPTextModel, base_dir / "text_encoder", variants["text_encoder"])
    bn_variant = "fp16" if not (brushnet_dir / "diffusion_pytorch_model.safetensors").is_file() and (
        brushnet_dir / "diffusion_pytorch_model.fp16.safetensors").is_file() else None
    brushnet = load(BrushNetModel, brushnet_dir, bn_variant)
    try:
        tokenizer = CLIPTokenizer.from_pretrained(base_dir / "tokenizer")
    except (OSError, ValueError) as exc:
        raise EngineError(f"cannot load {base_dir / 'tokenizer'}: {exc}", kind="bad-input") from exc
    # The paper's sampler, whatever the folder ships (UniPC reads any SD scheduler config).
    scheduler = UniPCMultistepScheduler.from_config(_read_json(base_dir / "scheduler" / "scheduler_config.json"))

    pipe = BrushNetPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                            brushnet=brushnet, scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    pipe.model_name = f"{brushnet_dir.name} on {base_dir.name}"
    for model in (unet, vae, text_encoder, brushnet):
        model.eval().requires_grad_(False)
    if dev.type == "cuda":
        # cuDNN's fastest convolutions want NHWC; SDPA attention is diffusers' default processor.
        unet.to(memory_format=torch.channels_last)
        brushnet.to(memory_format=torch.channels_last)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if dev.type == "cuda" and cpu_offload:
        pipe.enable_model_cpu_offload(device=dev)
    else:
        pipe.to(dev)
    if compile:
        compile_pipeline(pipe)
    return pipe
