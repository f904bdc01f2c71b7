"""Taking a client's frame in: unpack, validate, admit, decode, queue — one path for HTTP and websocket.

Each step refuses with a :class:`Refused` (an HTTP status and one line for the client) before the next,
costlier one runs: the frame is unpacked with depth and size limits (:func:`engine.wire.unpack`), typed
(:mod:`engine.server.schema`), admitted by the board from its *declared* pixels (per request and per
client, :meth:`Board.reserve`), and only then are the images decoded (PNG header first) in a worker
thread. Anything unexpected on the way is a 400 "malformed request": a peer's bytes never reach the
log as a traceback (``--debug`` logs it).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.concurrency import run_in_threadpool

from engine import api, wire
from engine.server import schema
from engine.server.board import Busy, DuplicateJob, Stopping

log = logging.getLogger("brushedit.server")


class Refused(Exception):
    """A frame the server will not take: ``status`` (4xx/503), one line, and for 429 a Retry-After."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None, kind: str = "bad-input") -> None:
        super().__init__(reason)
        self.status, self.reason, self.retry_after, self.kind = status, reason, retry_after, kind

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None


async def unpack(frame: bytes) -> Any:
    """The tree of a client's frame, or :class:`Refused` (422) with the reason."""
    try:
        return await run_in_threadpool(wire.unpack, frame)
    except wire.WireError as exc:
        raise Refused(422, str(exc)) from None
    except Exception:  # noqa: BLE001 - a peer's bytes must never become a 500
        log.debug("unreadable frame", exc_info=True)
        raise Refused(400, "malformed frame") from None


async def take_job(board: Any, settings: Any, client: str, data: Any) -> str:
    """Validate, admit and queue the job request ``data`` (a wire dict) of ``client``; its job id."""
    try:
        model, pixels = schema.check_request(data)
    except wire.WireError as exc:
        raise Refused(422, str(exc)) from None
    except Exception:  # noqa: BLE001
        log.debug("unvalidated request", exc_info=True)
        raise Refused(400, "malformed request") from None
    limit = settings.max_request_pixels
    if limit is not None and pixels > limit:
        raise Refused(413, f"the request's images hold {pixels / 1e6:.1f} MP, over this server's limit of "
                           f"{limit / 1e6:.1f} MP per request")
    try:
        ticket = board.reserve(client, model.job_id, pixels)
    except Busy as exc:
        raise Refused(429, str(exc), exc.retry_after, "busy") from None
    except DuplicateJob as exc:
        raise Refused(409, str(exc)) from None
    except Stopping as exc:
        raise Refused(503, str(exc), 10, "server-stopping") from None
    try:
        request = await run_in_threadpool(api.from_dict, data, max_pixels=settings.max_pixels)
        return board.submit(client, request, ticket)
    except wire.WireError as exc:
        raise Refused(422, str(exc)) from None
    except DuplicateJob as exc:
        raise Refused(409, str(exc)) from None
    except Stopping as exc:
        raise Refused(503, str(exc), 10, "server-stopping") from None
    except Exception:  # noqa: BLE001
        log.debug("undecodable request", exc_info=True)
        raise Refused(400, "malformed request") from None
    finally:
        board.release(client, ticket)  # a no-op once submitted


def query_of(data: Any) -> Any:
    """The api query of a validated wire dict, or :class:`Refused` (422)."""
    try:
        schema.check_query(data)
        return api.from_dict(data)
    except wire.WireError as exc:
        raise Refused(422, str(exc)) from None
    except Exception:  # noqa: BLE001
        log.debug("undecodable query", exc_info=True)
        raise Refused(400, "malformed query") from None
