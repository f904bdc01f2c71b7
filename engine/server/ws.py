"""``/v1/ws``: one websocket per client. It streams the client's engine messages as frames
(``to_dict(message)``) and takes ``submit`` and ``cancel`` frames.

A frame it cannot take is answered with a ``JobFailed`` (kind ``bad-input``, ``busy`` or
``server-stopping``: the same one-line reasons as the HTTP statuses) and the socket stays open for the
next frame. The failure carries the frame's job id unless the client already has a job of that id
running or queued (a duplicate): then it carries no job id, so the running job is left untouched.
Frames go out in the form the client announced (``X-BrushEdit-Frames: msgpack``), else in the first
JSON form, which older clients read.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from engine import api
from engine.server import codec, intake
from engine.server.board import ServerStopping
from engine.server.security import CLIENT_HEADER, client_id_of, token_allows

log = logging.getLogger("brushedit.server")

router = APIRouter(prefix="/v1")

POLICY_VIOLATION = 1008
GOING_AWAY = 1001


@router.websocket("/ws")
async def messages(websocket: WebSocket) -> None:
    settings = websocket.app.state.settings
    board = websocket.app.state.board
    client = client_id_of(websocket.headers.get(CLIENT_HEADER))
    if not token_allows(settings.token, websocket.headers.get("authorization")) or client is None:
        await websocket.close(code=POLICY_VIOLATION)  # before accept: the handshake gets a 403
        return
    form = "msgpack" if websocket.headers.get(codec.FORMS_HEADER, "").strip().lower() == "msgpack" else "json"
    await websocket.accept()
    queue = board.listen(client)

    async def send_loop() -> None:
        while True:
            message = await queue.get()
            if isinstance(message, ServerStopping):  # everything before it was sent: say why we close
                await websocket.close(GOING_AWAY, message.reason[:120])
                return
            frame = await run_in_threadpool(codec.message_frame, message, form)
            await websocket.send_bytes(frame)

    def refuse(job_id: str, exc: intake.Refused) -> None:
        hint = (f"try again in {exc.retry_after} s" if exc.kind == "busy"
                else "run it again when the server is back" if exc.kind == "server-stopping"
                else "check the image size and the client version")
        queue.put_nowait(api.JobFailed(job_id, f"the server refused a frame: {exc.reason}", hint, exc.kind))

    async def take(frame: bytes) -> None:
        tree = await intake.unpack(frame)
        op = tree.get("op") if isinstance(tree, dict) else None
        if op == "submit":
            data = tree.get("request")
            try:
                await intake.take_job(board, settings, client, data)
            except intake.Refused as exc:
                job_id = _job_id_of(data)
                live = job_id and any(j["job_id"] == job_id for j in board.jobs_of(client))
                refuse("" if live else job_id, exc)
        elif op == "cancel":
            job_id = tree.get("job_id")
            if not isinstance(job_id, str):
                raise intake.Refused(422, "a cancel frame names a job_id (a string)")
            board.cancel(client, job_id)
        else:
            raise intake.Refused(422, f"unknown op {str(op)[:40]!r} (expected submit or cancel)")

    async def receive_loop() -> None:
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                return
            frame = event.get("bytes")
            try:
                if frame is None:
                    raise intake.Refused(415, "send binary BrushEdit frames, not text")
                await take(frame)
            except intake.Refused as exc:
                refuse("", exc)
            except Exception:  # noqa: BLE001 - one bad frame must not close the socket
                log.debug("websocket frame failed", exc_info=True)
                refuse("", intake.Refused(400, "malformed frame"))

    tasks = [asyncio.create_task(send_loop()), asyncio.create_task(receive_loop())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, (WebSocketDisconnect, RuntimeError)):
                log.warning("a client's websocket ended: %s", type(exc).__name__)
                log.debug("websocket ended", exc_info=exc)
    finally:
        for task in tasks:
            task.cancel()
        board.unlisten(client, queue)


def _job_id_of(request: object) -> str:
    job_id = request.get("job_id") if isinstance(request, dict) else None
    return job_id[:128] if isinstance(job_id, str) else ""
