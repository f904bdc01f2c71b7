"""``/v1`` HTTP routes: health (open), jobs and answers (bearer token). Thin: no torch here.

Bodies must be ``application/x-brushedit-frame`` (415 otherwise), are read with a size limit and a
timeout per chunk (a client that stops sending mid-body is dropped), and go through
:mod:`engine.server.intake`: every refusal is a 4xx (or 503 while stopping) with one line in
``detail``; a 429 carries ``Retry-After``. An answer is written in the frame form the question came in.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from engine import api, queries, wire
from engine.version import __version__ as ENGINE_VERSION
from engine.server import codec, confine, intake
from engine.server.security import CLIENT_HEADER, client_id_of, token_allows

log = logging.getLogger("brushedit.server")

router = APIRouter(prefix="/v1")


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _board(request: Request) -> Any:
    return request.app.state.board


def authorized_client(request: Request) -> str:
    """The caller's client id, after its token checked out (401 otherwise)."""
    if not token_allows(_settings(request).token, request.headers.get("authorization")):
        raise HTTPException(401, "a valid bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
    client = client_id_of(request.headers.get(CLIENT_HEADER))
    if client is None:
        raise HTTPException(400, f"send a client id in {CLIENT_HEADER} (8-64 letters, digits, - or _)")
    return client


def _refused(exc: intake.Refused) -> HTTPException:
    return HTTPException(exc.status, exc.reason, headers=exc.headers)


def check_frame_type(request: Request) -> None:
    """415 unless the body is declared a BrushEdit frame."""
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared != codec.FRAME_TYPE:
        raise HTTPException(415, f"send the body as {codec.FRAME_TYPE}, not {declared or 'no content type'}")


async def read_limited(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The body, refused with 413 from its declared length or as soon as it passes ``limit``, and with
    408 when no byte of it arrives for ``timeout`` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPException(413, f"the request is over the server's limit of {limit} bytes")
        except ValueError:
            raise HTTPException(400, "bad Content-Length") from None
    chunks, size = [], 0
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout)
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise HTTPException(408, f"no part of the body arrived for {timeout:g} s") from None
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the request is over the server's limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Open to all (a reverse proxy or the editor's Test connection asks it)."""
    board = _board(request)
    return {"status": "stopping" if board.stopping else "ok", "version": ENGINE_VERSION,
            "device": _settings(request).device, "queue": board.queue_length, "jobs_done": board.jobs_done,
            "held": board.held, "frames": ["BEW1", "BEW2"]}


@router.post("/jobs", status_code=202)
async def submit(request: Request, client: str = Depends(authorized_client)) -> dict[str, str]:
    settings = _settings(request)
    check_frame_type(request)
    body = await read_limited(request, settings.max_request_bytes, settings.body_timeout)
    try:
        tree = await intake.unpack(body)
        data = tree.get("request") if isinstance(tree, dict) else None
        return {"job_id": await intake.take_job(_board(request), settings, client, data)}
    except intake.Refused as exc:
        raise _refused(exc) from None


@router.get("/jobs")
async def list_jobs(request: Request, client: str = Depends(authorized_client)) -> list[dict[str, Any]]:
    return _board(request).jobs_of(client)


@router.delete("/jobs/{job_id}")
async def cancel(job_id: str, request: Request, client: str = Depends(authorized_client)) -> dict[str, bool]:
    if not _board(request).cancel(client, job_id):
        raise HTTPException(404, f"no job {job_id} of yours")
    return {"cancelled": True}


# The model options of ``brushedit serve`` (EngineConfig fields) by the model kinds queries name.
_CONFIG_PATHS = {"sam": "sam_path", "brushnet": "brushnet_dir", "sd15-base": "base_model_dir",
                 "grounding": "grounding_dir"}


def as_this_server_sees_it(query: Any, config: Any) -> Any:
    """``query`` with this server's own model choices where the client left them open: an editor
    asking "is SAM usable?" (an empty path) means with the checkpoint this server's jobs use, and
    a model status without folders means this server's folders."""
    if config is None:
        return query
    if isinstance(query, api.ModelPathRequest) and not query.path:
        path = getattr(config, _CONFIG_PATHS.get(query.model_kind, ""), None)
        return api.ModelPathRequest(query.model_kind, str(path)) if path else query
    if isinstance(query, api.ModelStatusRequest) and not query.model_dirs:
        dirs = tuple((str(k), str(v)) for k, v in dict(getattr(config, "model_dirs", None) or {}).items() if v)
        return api.ModelStatusRequest(dirs, query.names) if dirs else query
    return query


@router.post("/answer")
async def answer(request: Request, client: str = Depends(authorized_client)) -> Response:
    settings = _settings(request)
    check_frame_type(request)
    body = await read_limited(request, 1024 * 1024, settings.body_timeout)
    try:
        tree = await intake.unpack(body)
        query = intake.query_of(tree.get("query") if isinstance(tree, dict) else None)
    except intake.Refused as exc:
        raise _refused(exc) from None
    roots = confine.model_roots(settings.config, settings.model_roots)
    query, reply = confine.confined(as_this_server_sees_it(query, settings.config), roots)
    if reply is None:
        try:
            reply = await run_in_threadpool(queries.answer, query)
        except (ValueError, KeyError, OSError) as exc:
            raise HTTPException(422, f"cannot answer that question ({type(exc).__name__})") from None
    return Response(wire.pack({"answer": api.to_dict(reply)}, wire.form_of(body)), media_type=codec.FRAME_TYPE)
