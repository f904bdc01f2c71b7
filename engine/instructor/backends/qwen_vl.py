"""A local vision-language model through transformers: the Qwen2-VL / Qwen2.5-VL family.

BrushEdit uses Qwen2-VL-7B-Instruct; the 2B/3B models fit smaller GPUs. The image is sent
downscaled (long side ``max_side``) to bound the number of vision tokens. Each family is asked for
boxes in its own grounding frame (Qwen2-VL: a 0..1000 grid; Qwen2.5-VL: pixels of the image as its
processor resized it, whose size the prompt states) and the box is read back in that frame.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.api import MissingModelsError
from engine.instructor.answer import rescale_box_field
from engine.instructor.backends.base import InstructorBackend
from engine.instructor.prompts import RETRY_PROMPT, system_prompt, user_prompt


def downscale(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` with its long side at most ``max_side`` pixels (area interpolation)."""
    import cv2

    h, w = image.shape[:2]
    s = max_side / float(max(h, w))
    if s >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


class QwenVLBackend(InstructorBackend):
    """Qwen2-VL / Qwen2.5-VL answering the planning prompt (greedy decoding).

    Parameters
    ----------
    model : transformers model
        ``Qwen2VLForConditionalGeneration`` or ``Qwen2_5_VLForConditionalGeneration``.
    processor : transformers processor
        Its ``AutoProcessor`` (tokenizer, image processor, chat template).
    max_new_tokens : int
    max_side : int
        Long side in pixels of the image given to the model.
    """

    name = "local"

    def __init__(self, model, processor, max_new_tokens: int = 400, max_side: int = 768) -> None:
        self.model = model.eval()
        self.processor = processor
        self.max_new_tokens = int(max_new_tokens)
        self.max_side = int(max_side)
        model_type = getattr(getattr(model, "config", None), "model_type", "") or ""
        # Qwen2-VL grounds on a 0..1000 grid of the image; Qwen2.5-VL in absolute pixels of the
        # image as its processor resized it (see docs/design/agent.md for the sources).
        self.box_frame = "pixels" if "2_5" in model_type else "1000"
        self.box_scale = "pixels" if self.box_frame == "pixels" else "1000"
        self.name = "local"
        self.chat_template_source = "folder"  # from_pretrained says where the template came from

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str | None = None, dtype=None,
                        **kwargs) -> "QwenVLBackend":
        """Load a Qwen2-VL or Qwen2.5-VL folder (Hugging Face layout).

        Raises
        ------
        engine.api.MissingModelsError
            When the folder has no ``config.json``.
        """
        directory = Path(directory)
        cfg_path = directory / "config.json"
        if not cfg_path.is_file():
            name = "qwen2-vl-2b" if "2b" in directory.name.lower() else "qwen2-vl-7b"
            raise MissingModelsError([name], f"Qwen2-VL weights not found in {directory}")
        import torch
        from transformers import AutoProcessor

        model_type = json.loads(cfg_path.read_text()).get("model_type", "qwen2_vl")
        if model_type == "qwen2_5_vl":
            from transformers import Qwen2_5_VLForConditionalGeneration as Model
        else:
            from transformers import Qwen2VLForConditionalGeneration as Model
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype is None:
            dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        elif isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        model = Model.from_pretrained(str(directory), dtype=dtype, use_safetensors=True).to(device)
        processor = AutoProcessor.from_pretrained(str(directory))
        from engine.instructor.backends.chat_template import ensure_chat_template

        backend = cls(model, processor, **kwargs)
        backend.chat_template_source = ensure_chat_template(processor, model_type)
        return backend

    def seen_size(self, image: np.ndarray) -> tuple[int, int]:
        """``(height, width)`` of ``image`` as the model sees it: after the processor's resize
        (Qwen's ``smart_resize`` to whole 28 px merged patches, within its pixel budget), read from
        the patch grid the image processor makes, so it follows any processor setting."""
        ip = self.processor.image_processor
        grid = ip(images=[image], return_tensors="pt")["image_grid_thw"][0]
        patch = int(getattr(ip, "patch_size", 14))
        return int(grid[1]) * patch, int(grid[2]) * patch

    def ask(self, image: np.ndarray, instruction: str, problem: str | None = None) -> str | dict:
        import torch

        small = downscale(np.asarray(image), self.max_side)
        seen = self.seen_size(small) if self.box_frame == "pixels" else small.shape[:2]
        text = user_prompt(instruction)
        if problem:
            text += "\n" + RETRY_PROMPT.format(problem=problem[:200])
        messages = [
            {"role": "system", "content": [{"type": "text",
                                            "text": system_prompt(seen[1], seen[0], self.box_frame)}]},
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]},
        ]
        prompt = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = self.processor(text=[prompt], images=[small], return_tensors="pt")
        device = next(self.model.parameters()).device
        inputs = {k: (v.to(device) if hasattr(v, "to") else v) for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new = out[:, inputs["input_ids"].shape[1]:]
        answer = self.processor.batch_decode(new, skip_special_tokens=True)[0]
        if self.box_frame == "pixels":
            # Pixels of the resized image the model saw -> pixels of the full photo.
            return rescale_box_field(answer, seen, np.asarray(image).shape[:2])
        return answer  # a 0..1000 grid is the same on the photo: the validator scales it
