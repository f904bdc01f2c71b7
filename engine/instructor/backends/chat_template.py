"""The chat template of the Qwen2-VL family, for a processor whose folder brought none.

transformers' ``AutoProcessor`` reads a processor's chat template from the model folder
(``chat_template.json`` in the published Qwen2-VL repositories, ``chat_template.jinja`` or
``processor_config.json`` in folders written by newer versions). A folder copied by hand, or
downloaded by an older manifest, may lack it; ``apply_chat_template`` then raises and every plan
would fall back to the rule parser. :func:`ensure_chat_template` gives such a processor the
tokenizer's template, else this module's copy.

The copy is ours, written to produce the layout Qwen2-VL was trained on (ChatML turns; an image as
``<|vision_start|><|image_pad|><|vision_end|>``): the only parts of the template the planner uses are
a system turn, a user turn with one image and text, and the assistant's opening.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

QWEN2_VL_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}"
    "{% if c['type'] == 'image' or 'image' in c or 'image_url' in c %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'video' or 'video' in c %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in c %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def ensure_chat_template(processor, model_type: str = "qwen2_vl") -> str:
    """Give ``processor`` a chat template when its folder had none; return where it came from.

    Returns
    -------
    {"folder", "tokenizer", "package"}
        ``folder``: the processor had one; ``tokenizer``: its tokenizer's (``tokenizer_config.json``);
        ``package``: :data:`QWEN2_VL_CHAT_TEMPLATE` (Qwen2-VL and Qwen2.5-VL share the layout).
    """
    if getattr(processor, "chat_template", None):
        return "folder"
    tokenizer = getattr(processor, "tokenizer", None)
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, str) and template.strip():
        processor.chat_template = template
        log.info("the instructor's folder has no chat_template.json: using its tokenizer's template")
        return "tokenizer"
    processor.chat_template = QWEN2_VL_CHAT_TEMPLATE
    log.warning("the instructor's folder (%s) has no chat template: using the copy shipped with BrushEdit "
                "Studio", model_type)
    return "package"
