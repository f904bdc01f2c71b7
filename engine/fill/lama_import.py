"""Convert a released LaMa checkpoint once into the safetensors file :func:`engine.fill.lama.load_lama` reads.

Two formats are out there:

- the original release, ``big-lama/models/best.ckpt`` (in ``big-lama.zip``): a PyTorch Lightning
  checkpoint, i.e. a pickle. It is read with ``torch.load(weights_only=True)``, which builds only
  tensors and plain containers; the few non-tensor classes such a checkpoint names (OmegaConf's
  config nodes in ``hyper_parameters``, Lightning's callback state) are allow-listed as inert
  stand-ins (:class:`_Inert`) that run no code and are thrown away. A checkpoint naming any other
  class is refused with that class's name.
- IOPaint's ``big-lama.pt``: a TorchScript trace of ``bin/to_jit.py``'s wrapper. TorchScript can only
  be read by ``torch.jit.load``, which runs the file's code; it is done here and only here, when the
  user asked for this import by name (``brushedit models import lama FILE``).

Either way only the ``generator.`` tensors are kept (the discriminator and loss networks are
dropped), the layout is checked against the architecture read from the shapes, and the result is
written as safetensors with the released names.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.fill.lama import PREFIX, LamaConfig, LamaLayoutError, is_safetensors, lama_from_state_dict

# Non-tensor classes a Lightning checkpoint of the LaMa release may name outside its weights.
ALLOWED_GLOBALS = (
    "omegaconf.dictconfig.DictConfig",
    "omegaconf.listconfig.ListConfig",
    "omegaconf.base.ContainerMetadata",
    "omegaconf.base.Metadata",
    "omegaconf.nodes.AnyNode",
    "omegaconf.nodes.StringNode",
    "omegaconf.nodes.IntegerNode",
    "omegaconf.nodes.FloatNode",
    "omegaconf.nodes.BooleanNode",
    "typing.Any",
    "pathlib.PosixPath",
    "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
    "pytorch_lightning.utilities.parsing.AttributeDict",
)


class _Inert:
    """Stands in for an allow-listed class while unpickling: keeps nothing, runs nothing."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        pass

    def __call__(self, *args, **kwargs):
        return self


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_lama` did."""

    source: Path
    source_format: str  # "lightning" or "torchscript" (or "safetensors": re-checked and copied)
    output: Path
    kept: int  # generator tensors written
    dropped: int  # other tensors left out (discriminator, losses, optimiser)
    config: LamaConfig
    parameters: int

    def describe(self) -> str:
        c = self.config
        return (f"read {self.source} ({self.source_format}); kept {self.kept} generator tensors "
                f"({self.parameters:,} parameters: width {c.ngf}, {c.n_blocks} FFC blocks), dropped "
                f"{self.dropped} others; wrote {self.output}")


def _tensors(obj, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor in nested dicts, by dotted path."""
    found: dict[str, torch.Tensor] = {}
    if isinstance(obj, torch.Tensor):
        found[prefix.rstrip(".")] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str):
                found.update(_tensors(v, f"{prefix}{k}."))
    return found


def generator_state(tensors: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
    """``(generator tensors under the released names, number of other tensors)``.

    A Lightning checkpoint has ``state_dict.generator.model...``; IOPaint's trace has
    ``model.generator.model...``: whatever precedes ``generator.`` is dropped.
    """
    kept: dict[str, torch.Tensor] = {}
    for name, t in tensors.items():
        at = name.find(PREFIX + "model.")
        if at == 0 or (at > 0 and name[at - 1] == "."):
            kept[name[at:]] = t
    return kept, len(tensors) - len(kept)


def read_lightning(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a Lightning checkpoint, read with ``weights_only=True``."""
    allowed = [(_Inert, name) for name in ALLOWED_GLOBALS]
    try:
        with torch.serialization.safe_globals(allowed):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError names the global that is not allowed
        named = re.search(r"GLOBAL ([\w.]+)", str(exc))
        why = f"it needs {named.group(1)}, which is not allow-listed" if named else str(exc).splitlines()[0]
        raise LamaLayoutError(f"{path}: refused to read this checkpoint safely: {why}") from None
    return _tensors(obj)


def read_torchscript(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a TorchScript file (``torch.jit.load``: only in an explicit import)."""
    module = torch.jit.load(str(path), map_location="cpu")
    return dict(module.state_dict())


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("/constants.pkl") or n.startswith("code/") or "/code/" in n
                       for n in z.namelist())
    except zipfile.BadZipFile:
        return False


def import_lama(source: str | Path, output: str | Path) -> ImportReport:
    """Convert ``source`` (``best.ckpt``, ``big-lama.pt`` or a safetensors file) to ``output``.

    Raises
    ------
    LamaLayoutError
        No generator in the file, a key missing or misshapen (named), or a pickle that needs a
        class that is not allow-listed.
    """
    from safetensors.torch import load_file, save_file

    source, output = Path(source), Path(output)
    if is_safetensors(source):
        fmt, tensors = "safetensors", load_file(str(source))
    elif _is_torchscript(source):
        fmt, tensors = "torchscript", read_torchscript(source)
    else:
        fmt, tensors = "lightning", read_lightning(source)
    state, dropped = generator_state(tensors)
    if not state:
        raise LamaLayoutError(f"{source}: no LaMa generator inside (no {PREFIX}model.* tensors)")
    model = lama_from_state_dict(state)  # checks names and shapes against the architecture
    state = {k: v.detach().to(torch.float32 if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    save_file(state, str(tmp), metadata={"format": "pt", "model": "big-lama generator",
                                         "converted_from": fmt})
    tmp.replace(output)
    return ImportReport(source=source, source_format=fmt, output=output, kept=len(state),
                        dropped=dropped, config=model.config,
                        parameters=sum(p.numel() for p in model.parameters()))
