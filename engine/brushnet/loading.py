"""Load a :class:`BrushNetPipeline` from a diffusers SD1.5 folder and a BrushNet folder.

The folders are checked before any weights are read, so a wrong path gives one clear line naming
the missing file instead of a stack trace from deep inside diffusers. Weights load from safetensors;
a component folder with no safetensors but a pickle ``.bin`` (older SD1.5 conversions) loads it
through ``torch.load(weights_only=True)`` only, which refuses anything but tensors and plain data.
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
# Pickle weights, used only when a folder has no safetensors (loaded with weights_only=True).
_BIN_NAMES = {
    "unet": ("diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"),
    "vae": ("diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"),
    "text_encoder": ("pytorch_model.bin", "pytorch_model.fp16.bin"),
    "brushnet": ("diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"),
}
BIN = "bin"  # the variant marker of a folder whose weights are a pickle .bin


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


def _weights(folder: Path, names: tuple[str, ...], bin_names: tuple[str, ...] = ()) -> tuple[Path, str | None]:
    """The weights file of a component folder and its variant: None, "fp16" or :data:`BIN`."""
    for name in names:
        if (folder / name).is_file():
            return folder / name, ("fp16" if ".fp16." in name else None)
    sharded = sorted(folder.glob("*.safetensors.index.json"))
    if sharded:
        return sharded[0], None
    for name in bin_names:
        if (folder / name).is_file():
            return folder / name, BIN
    if any(folder.glob("*.bin")):
        raise EngineError(f"{folder} holds pickle (.bin) weights under names we do not read "
                          f"(expected {' or '.join(names + bin_names)})",
                          hint="convert the folder to safetensors", kind="bad-input")
    raise _missing(folder / names[0])


def load_pickle_weights(cls, folder: Path, weights: Path, dtype):
    """A diffusers or transformers model built from ``folder``'s config with the state dict of the
    pickle ``weights`` (``torch.load(weights_only=True)``: tensors and plain data only).

    Raises
    ------
    engine.api.EngineError
        ``kind="bad-input"`` when the file is not a weights-only pickle or does not fit the config.
    """
    import pickle

    import torch

    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError) as exc:
        raise EngineError(f"cannot load {weights}: not a weights-only checkpoint "
                          f"({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__})",
                          hint="convert the folder to safetensors", kind="bad-input") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EngineError(f"{weights} does not hold a state dict of tensors", kind="bad-input")
    if hasattr(cls, "load_config"):  # diffusers
        model = cls.from_config(cls.load_config(folder))
    else:  # transformers
        from transformers import AutoConfig

        model = cls(AutoConfig.from_pretrained(folder))
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Older CLIP checkpoints carry position_ids, a buffer newer transformers rebuilds itself.
    unexpected = [k for k in unexpected if not k.endswith("position_ids")]
    if missing or unexpected:
        what = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise EngineError(f"{weights} does not fit {folder / 'config.json'}: {what}", kind="bad-input")
    return model.to(dtype=dtype)


def check_base_folder(base_dir: Path) -> dict:
    """Validate a diffusers SD1.5 folder; return ``{component: variant}``. Raises :class:`EngineError`."""
    base_dir = Path(base_dir)
    if not base_dir.is_dir():
        raise _missing(base_dir, "Stable Diffusion 1.5 base model folder")
    variants: dict[str, str | None] = {}
    for comp, cfg_name in (("unet", "config.json"), ("vae", "config.json"), ("text_encoder", "config.json")):
        _read_json(base_dir / comp / cfg_name)
        variants[comp] = _weights(base_dir / comp, _WEIGHT_NAMES[comp], _BIN_NAMES[comp])[1]
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
    _weights(brushnet_dir, ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"),
             _BIN_NAMES["brushnet"])
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
    """``device`` None = cuda if available else cpu; ``dtype`` None = fp16 on CUDA (the reference's
    precision; bf16 on request), fp32 elsewhere. The sampler keeps its own math in fp32."""
    import torch

    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise EngineError("a CUDA device was asked for, but none is available", hint="use the CPU or the fill engine",
                          kind="bad-input")
    if dtype is None:
        if dev.type == "cuda":
            # SD1.5 and BrushNet were trained and released in fp16; bf16's 8-bit mantissa costs detail.
            dtype = torch.float16
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
        Default: fp16 on CUDA (``torch.bfloat16`` is the option), fp32 on CPU. Latents and the
        scheduler stay in fp32 either way.
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

    def load(cls, folder, variant, kind):
        try:
            if variant == BIN:
                return load_pickle_weights(cls, folder, _weights(folder, (), _BIN_NAMES[kind])[0], dtype)
            # transformers >= 4.56 names it dtype; diffusers keeps torch_dtype.
            key = "dtype" if cls is CLIPTextModel else "torch_dtype"
            return cls.from_pretrained(folder, use_safetensors=True, variant=variant, **{key: dtype})
        except EngineError:
            raise
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise EngineError(f"cannot load {folder}: {str(exc).splitlines()[0] if str(exc) else exc}",
                              hint="the folder may be incomplete or for another model", kind="bad-input") from exc

    unet = load(UNet2DConditionModel, base_dir / "unet", variants["unet"], "unet")
    vae = load(AutoencoderKL, base_dir / "vae", variants["vae"], "vae")
    text_encoder = load(CLIPTextModel, base_dir / "text_encoder", variants["text_encoder"], "text_encoder")
    bn_variant = _weights(brushnet_dir, ("diffusion_pytorch_model.safetensors",
                                         "diffusion_pytorch_model.fp16.safetensors"), _BIN_NAMES["brushnet"])[1]
    brushnet = load(BrushNetModel, brushnet_dir, bn_variant, "brushnet")
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
