"""Typed validation of what clients send, before anything is decoded or queued (pydantic).

A frame is first unpacked by :func:`engine.wire.unpack` (msgpack or the first JSON form, depth- and
size-limited); its tree is then validated here against models *derived from the* :mod:`engine.api`
*dataclasses' own type hints* (so a field added there is checked here with no second list to keep):
``params = 5``, a shape holding a string or an unknown painter name answer 422 with one line naming
the field, never an exception from deep inside the engine. Only then are the images decoded (with the
pixel limits, PNG header first), in :func:`engine.api.from_dict`.

Server-side only (pydantic comes with FastAPI): the editor never imports this module.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictBytes, StrictFloat, StrictInt, ValidationError
from pydantic import StringConstraints, create_model

from engine import api, wire

MAX_TEXT = 20_000  # characters of a prompt, an instruction or a path
MAX_ITEMS = 4096  # elements of a tuple field (clicks, model names, alternatives)
JOB_ID = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(strict=True, max_length=MAX_TEXT)]
Number = Union[StrictInt, StrictFloat]


class ArrayForm(BaseModel):
    """An encoded array (:func:`engine.wire.encode_array`): checked before a byte is inflated."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    form: Literal["png", "raw", "jpeg"] = Field(alias="$array")
    data: StrictBytes
    dtype: Literal[wire.RAW_DTYPES]  # type: ignore[valid-type]
    shape: list[Annotated[StrictInt, Field(ge=0, lt=2**31)]] = Field(max_length=4)


def _field_type(hint: Any) -> Any:
    """The pydantic type of one api field's type hint (the wire form of that value)."""
    if hint is np.ndarray:
        return ArrayForm
    if isinstance(hint, type) and issubclass(hint, wire.Record):
        return model_of(hint)
    if hint is str:
        return Text
    if hint is bool:
        return StrictBool
    if hint is int:
        return StrictInt
    if hint is float:
        return Number
    if hint is object or hint is Any:
        return Any
    if hint is type(None):
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return hint
    if origin in (Union, types.UnionType):
        return Union[tuple(_field_type(a) for a in args)]  # type: ignore[return-value]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return Annotated[list[_field_type(args[0])], Field(max_length=MAX_ITEMS)]
        return tuple[tuple(_field_type(a) for a in args)]  # type: ignore[misc]
    if origin is dict or hint is dict:
        return Any  # travels as {"$dict": ...}; decoded and checked by engine.wire
    raise TypeError(f"no wire schema for {hint!r}")


@functools.cache
def model_of(cls: type) -> type[BaseModel]:
    """The pydantic model of an api class's wire dict (``{"type": KIND, field: value, ...}``)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {"type": (Literal[cls.KIND], ...)}  # type: ignore[valid-type]
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        kind = JOB_ID if f.name == "job_id" else _field_type(hints[f.name])
        fields[f.name] = (kind, ... if required else None)
    # Unknown keys are ignored, as from_dict does: a newer client may send a field this server lacks.
    return create_model(cls.__name__, __config__=ConfigDict(extra="ignore"), **fields)


def one_line(exc: ValidationError) -> str:
    """The first problem of a validation error as one line: where, and what (never the value)."""
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in error.get("loc", ()) if not str(p).startswith(("function-", "tagged-")))
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where or 'frame'}: {error.get('msg', 'invalid')}{more}"[:300]


def _typed(data: Any, allowed: tuple[type, ...], what: str) -> BaseModel:
    if not isinstance(data, dict) or data.get("type") not in {cls.KIND for cls in allowed}:
        raise wire.WireError(f"expected {what}")
    cls = next(c for c in allowed if c.KIND == data["type"])
    try:
        return model_of(cls).model_validate(data)
    except ValidationError as exc:
        raise wire.WireError(f"malformed {cls.KIND!r}: {one_line(exc)}") from None


def request_pixels(model: BaseModel) -> int:
    """The pixels a validated request's images declare (what decoding them will hold in memory)."""
    total = 0
    stack: list[Any] = [model]
    while stack:
        node = stack.pop()
        if isinstance(node, ArrayForm):
            total += wire.declared_pixels({"shape": node.shape})
        elif isinstance(node, BaseModel):
            stack.extend(getattr(node, name) for name in type(node).model_fields)
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return total


def check_request(data: Any) -> tuple[BaseModel, int]:
    """Validate a job request's wire dict: ``(model, declared pixels)``; :class:`WireError` otherwise."""
    model = _typed(data, api.JOB_REQUESTS, "a job request (inpaint, plan, segment or download)")
    return model, request_pixels(model)


def check_query(data: Any) -> BaseModel:
    """Validate a query's wire dict; :class:`WireError` otherwise."""
    return _typed(data, api.QUERIES, "a query (model-status, model-path, check-folder or parse)")
