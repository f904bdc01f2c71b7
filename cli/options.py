"""Options shared by ``edit`` and ``plan``: where the weights are and where to run."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.errors import USAGE, CliError
from cli.memory_options import add_instructor_choice


def add_engine_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("models and device")
    g.add_argument("--base-model", metavar="DIR", help="SD1.5 base in diffusers format (default: found)")
    g.add_argument("--brushnet", metavar="DIR", help="BrushNet weights folder (default: found)")
    g.add_argument("--sam", metavar="FILE", help="SAM checkpoint (default: found)")
    g.add_argument("--grounding", metavar="DIR", help="GroundingDINO folder, transformers format")
    g.add_argument("--lama", metavar="FILE", help="LaMa weights, .safetensors (default: found; "
                                                  "convert a release with: brushedit models import lama FILE)")
    g.add_argument("--klein", metavar="DIR", help="FLUX.2 [klein] 4B folder, diffusers layout (default: found)")
    g.add_argument("--instructor", choices=("auto", "offline", "local", "openai"), default="auto",
                   help="who reads the instruction (default: auto = the local VLM when it is installed and "
                        "fits the CUDA card, else offline, the rule-based parser)")
    g.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto",
                   help="where models run (default: auto = CUDA when available)")
    g.add_argument("--cpu-offload", action="store_true", help="less GPU memory, slower")
    add_instructor_choice(g)


def _existing(path: str | None, what: str, option: str) -> Path | None:
    if not path:
        return None
    p = Path(path).expanduser()
    if not p.exists():
        raise CliError(f"{option}: {what} {p} not found", USAGE)
    return p


def engine_config(args: argparse.Namespace):
    """An :class:`engine.service.EngineConfig` from the parsed options (checks given paths)."""
    from engine.config import EngineConfig

    base = _existing(args.base_model, "folder", "--base-model")
    brushnet = _existing(args.brushnet, "folder", "--brushnet")
    for path, option in ((base, "--base-model"), (brushnet, "--brushnet")):
        if path is not None and not path.is_dir():
            raise CliError(f"{option}: {path} is not a folder (diffusers format expected)", USAGE)
    if base is not None and not (base / "model_index.json").is_file() and not (base / "unet").is_dir():
        raise CliError(f"--base-model: {base} is not a diffusers SD1.5 folder (no model_index.json)", USAGE)
    if brushnet is not None and not (brushnet / "config.json").is_file():
        raise CliError(f"--brushnet: {brushnet} has no config.json (a BrushNet folder expected)", USAGE)
    return EngineConfig(
        base_model_dir=base, brushnet_dir=brushnet,
        sam_path=_existing(args.sam, "file", "--sam"),
        grounding_dir=_existing(args.grounding, "folder", "--grounding"),
        **_lama_option(args), **_klein_option(args),
        instructor=args.instructor, device=args.device, cpu_offload=args.cpu_offload,
        instructor_model=getattr(args, "instructor_model", "auto"),
        instructor_precision=getattr(args, "instructor_precision", "auto"),
    )


def _klein_option(args: argparse.Namespace) -> dict:
    path = _existing(getattr(args, "klein", None), "folder", "--klein")
    if path is not None and not (path / "model_index.json").is_file():
        raise CliError(f"--klein: {path} has no model_index.json (a FLUX.2 [klein] diffusers folder expected)", USAGE)
    return {} if path is None else {"klein_dir": path}


def _lama_option(args: argparse.Namespace) -> dict:
    path = _existing(getattr(args, "lama", None), "file", "--lama")
    return {} if path is None else {"lama_path": path}
