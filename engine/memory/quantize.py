"""The instructor in 4 bits: bitsandbytes nf4, an optional dependency looked up only when asked for."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.memory.counts import FOUR_BIT_SKIP


def bitsandbytes_available() -> bool:
    """bitsandbytes is installed and a CUDA device exists (found without importing either)."""
    if importlib.util.find_spec("bitsandbytes") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def four_bit_config():
    """The ``BitsAndBytesConfig`` the plan's nf4 figures assume (double quantization, bf16 compute,
    the output head and the vision tower kept in 16 bits)."""
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16, llm_int8_skip_modules=list(FOUR_BIT_SKIP))


def load_instructor_4bit(model_dir: str | Path, device: str = "cuda", **backend_kwargs):
    """A :class:`~engine.instructor.backends.QwenVLBackend` over a Qwen2-VL folder loaded in nf4.

    Raises
    ------
    engine.api.EngineError
        bitsandbytes is not installed or there is no CUDA device (``kind="bad-input"``), with the fix.
    """
    from engine.api import EngineError

    if not bitsandbytes_available():
        raise EngineError("the 4-bit instructor needs bitsandbytes and a CUDA GPU",
                          hint="pip install bitsandbytes, or choose the 16-bit or the 2B instructor "
                               "(--instructor-precision 16bit / --instructor-model qwen2-vl-2b)",
                          kind="bad-input")
    import json

    import torch
    from transformers import AutoProcessor

    from engine.instructor.backends import QwenVLBackend

    directory = Path(model_dir)
    model_type = json.loads((directory / "config.json").read_text()).get("model_type", "qwen2_vl")
    if model_type == "qwen2_5_vl":
        from transformers import Qwen2_5_VLForConditionalGeneration as Model
    else:
        from transformers import Qwen2VLForConditionalGeneration as Model
    model = Model.from_pretrained(str(directory), quantization_config=four_bit_config(),
                                  dtype=torch.bfloat16, device_map={"": device}, use_safetensors=True)
    return QwenVLBackend(model, AutoProcessor.from_pretrained(str(directory)), **backend_kwargs)
