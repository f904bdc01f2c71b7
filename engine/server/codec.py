"""Frames of the server protocol: ``engine.api`` objects inside :func:`engine.wire.pack` frames.

Client -> server: ``{"op": "submit", "request": {...}}``, ``{"op": "cancel", "job_id": "..."}`` (on
the websocket), ``{"request": {...}}`` (``POST /v1/jobs``), ``{"query": {...}}`` (``POST /v1/answer``).
Server -> client: ``{"message": {...}}`` per engine message, ``{"answer": {...}}``. Previews travel as
JPEG; everything else bit-exact. An :class:`~engine.api.EditResult` travels without its request (the
client has it) to halve what a finished edit sends back.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine import api, wire

FRAME_TYPE = "application/x-brushedit-frame"
FORMS_HEADER = "x-brushedit-frames"  # a client that reads msgpack frames says "msgpack" (older ones: nothing)


def message_frame(message: Any, form: str = "msgpack") -> bytes:
    """The frame of one engine message for a client (``form``: see :func:`engine.wire.pack`)."""
    if isinstance(message, api.Preview):
        d = message.to_dict()
        d["image"] = wire.encode_jpeg(message.image)
        return wire.pack({"message": d}, form)
    if isinstance(message, api.JobFinished) and isinstance(message.result, api.EditResult):
        slim = dataclasses.replace(message.result, request=None)
        return wire.pack({"message": api.JobFinished(message.job_id, slim).to_dict()}, form)
    return wire.pack({"message": api.to_dict(message)}, form)


def decode_message(frame: bytes) -> Any:
    """The engine message of a server frame (an EditResult's ``request`` is ``None``: restore it)."""
    tree = wire.unpack(frame)
    if not isinstance(tree, dict) or not isinstance(tree.get("message"), dict):
        raise wire.WireError("not a message frame")
    return api.from_dict(tree["message"])


def request_of(tree: Any, max_pixels: int | None) -> Any:
    """The job request inside a decoded client frame; ``WireError`` for anything else."""
    data = tree.get("request") if isinstance(tree, dict) else None
    if not isinstance(data, dict) or data.get("type") not in {cls.KIND for cls in api.JOB_REQUESTS}:
        raise wire.WireError("expected a job request (inpaint, plan, segment or download)")
    return api.from_dict(data, max_pixels=max_pixels)


def query_of(tree: Any) -> Any:
    data = tree.get("query") if isinstance(tree, dict) else None
    if not isinstance(data, dict) or data.get("type") not in {cls.KIND for cls in api.QUERIES}:
        raise wire.WireError("expected a query (model-status, model-path, check-folder or parse)")
    return api.from_dict(data)
