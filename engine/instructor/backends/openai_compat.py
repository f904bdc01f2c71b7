"""Any OpenAI-compatible chat-completions endpoint: a hosted GPT-4o-class model, or a local server
(Ollama, vLLM, LM Studio). Standard library only (urllib).

The API key comes from the argument or the environment (``BRUSHEDIT_API_KEY``, then
``OPENAI_API_KEY``); it is sent only in the ``Authorization`` header and never logged, repr'd or
put in an error message.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from typing import Callable

import numpy as np

from engine.api import EngineError
from engine.instructor.backends.base import InstructorBackend
from engine.instructor.backends.qwen_vl import downscale
from engine.instructor.prompts import RETRY_PROMPT, system_prompt, user_prompt

MAX_RESPONSE_BYTES = 1_000_000

# (url, headers, body, timeout) -> decoded JSON response
Transport = Callable[[str, dict, dict, float], dict]


def _urllib_transport(url: str, headers: dict, body: dict, timeout: float) -> dict:
    data = json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 -- user-set URL
            raw = resp.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = json.loads(exc.read(4096) or b"{}").get("error", {}).get("message", "")
        except (ValueError, AttributeError):
            pass
        raise EngineError(f"the instructor server answered HTTP {exc.code}"
                          + (f": {str(detail)[:160]}" if detail else ""),
                          hint="check the instructor URL, model and API key in settings") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EngineError(f"cannot reach the instructor server: {str(reason)[:160]}",
                          hint="check the instructor URL in settings, or use the offline instructor") from None
    if len(raw) > MAX_RESPONSE_BYTES:
        raise EngineError("the instructor server's answer is too large")
    try:
        return json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        raise EngineError("the instructor server did not answer JSON") from None


def encode_image(image: np.ndarray, max_side: int = 768) -> str:
    """A ``data:image/jpeg;base64,...`` URL of the image, long side at most ``max_side``."""
    import cv2

    small = downscale(np.asarray(image), max_side)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise EngineError("could not encode the image for the instructor")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


class OpenAICompatBackend(InstructorBackend):
    """Chat completions with the image as a data URL.

    Parameters
    ----------
    base_url : str
        For example ``https://api.openai.com/v1`` or ``http://127.0.0.1:11434/v1`` (Ollama).
    model : str
        Model name on that server ("gpt-4o", "qwen2.5vl:7b", ...).
    api_key : str, optional
        Default: ``BRUSHEDIT_API_KEY`` or ``OPENAI_API_KEY`` from the environment; none for local
        servers that need none.
    timeout : float
        Seconds to wait for an answer.
    transport : callable, optional
        ``(url, headers, body, timeout) -> dict``, for tests; default urllib.
    """

    name = "openai"
    # A 0..1000 grid of the image: it survives whatever resizing the server does before its model
    # sees the picture (hosted APIs rescale images by their own rules), which pixels would not.
    box_frame = "1000"
    box_scale = "1000"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
                 transport: Transport | None = None, max_side: int = 768, json_mode: bool = False) -> None:
        if not base_url:
            raise ValueError("the OpenAI-compatible backend needs a base URL")
        self.base_url = str(base_url).rstrip("/")
        self.model = str(model)
        self._api_key = api_key or os.environ.get("BRUSHEDIT_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self.timeout = float(timeout)
        self._transport = transport or _urllib_transport
        self.max_side = int(max_side)
        self.json_mode = bool(json_mode)
        self._seen: tuple[int, int] | None = None

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    def __repr__(self) -> str:  # never shows the key
        return (f"OpenAICompatBackend(base_url={self.base_url!r}, model={self.model!r}, "
                f"api_key={'set' if self._api_key else 'none'})")

    __str__ = __repr__

    def __getstate__(self):  # a pickled backend carries no key
        state = dict(self.__dict__)
        state["_api_key"] = None
        return state

    def ask(self, image: np.ndarray, instruction: str, problem: str | None = None) -> dict | str:
        image = np.asarray(image)
        h, w = image.shape[:2]  # only for the prompt's wording: the 0..1000 frame needs no size
        text = user_prompt(instruction)
        if problem:
            text += "\n" + RETRY_PROMPT.format(problem=problem[:200])
        body = {
            "model": self.model,
            "temperature": 0,
            "max_tokens": 300,
            "messages": [
                {"role": "system", "content": system_prompt(w, h, self.box_frame)},
                {"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": encode_image(image, self.max_side)}},
                    {"type": "text", "text": text}]},
            ],
        }
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = "Bearer " + self._api_key
        response = self._transport(self.base_url + "/chat/completions", headers, body, self.timeout)
        try:
            content = response["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise EngineError("the instructor server's answer has no message") from None
        if isinstance(content, list):  # some servers answer content parts
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return content if isinstance(content, (str, dict)) else str(content)
