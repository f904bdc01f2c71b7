"""``/v1`` HTTP routes: health (open), jobs and answers (bearer token). Thin: no torch here."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from engine import api, wire
from engine.server import codec
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


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 from its declared length or as soon as it passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPException(413, f"the request is over the server's limit of {limit} bytes")
        except ValueError:
            raise HTTPException(400, "bad Content-Length") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the request is over the server's limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Open to all (a reverse proxy or the editor's Test connection asks it)."""
    board = _board(request)
    return {"status": "ok", "version": api.engine_version(), "device": _settings(request).device,
            "queue": board.queue_length, "jobs_done": board.jobs_done}


@router.post("/jobs", status_code=202)
async def submit(request: Request, client: str = Depends(authorized_client)) -> dict[str, str]:
    settings = _settings(request)
    body = await read_limited(request, settings.max_request_bytes)
    try:
        job = await run_in_threadpool(lambda: codec.request_of(wire.unpack(body), settings.max_pixels))
    except wire.WireError as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        return {"job_id": _board(request).submit(client, job)}
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None


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
    body = await read_limited(request, 1024 * 1024)
    try:
        query = codec.query_of(wire.unpack(body))
    except wire.WireError as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        reply = await run_in_threadpool(api.answer_locally, as_this_server_sees_it(query, _settings(request).config))
    except (ValueError, KeyError) as exc:
        raise HTTPException(422, str(exc)) from None
    return Response(wire.pack({"answer": api.to_dict(reply)}), media_type=codec.FRAME_TYPE)
