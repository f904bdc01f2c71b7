"""``/v1/ws``: one websocket per client. It streams the client's engine messages as frames
(``to_dict(message)``) and takes ``submit`` and ``cancel`` frames."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from engine import api, wire
from engine.server import codec
from engine.server.security import CLIENT_HEADER, client_id_of, token_allows

log = logging.getLogger("brushedit.server")

router = APIRouter(prefix="/v1")

POLICY_VIOLATION = 1008


@router.websocket("/ws")
async def messages(websocket: WebSocket) -> None:
    settings = websocket.app.state.settings
    board = websocket.app.state.board
    client = client_id_of(websocket.headers.get(CLIENT_HEADER))
    if not token_allows(settings.token, websocket.headers.get("authorization")) or client is None:
        await websocket.close(code=POLICY_VIOLATION)  # before accept: the handshake gets a 403
        return
    await websocket.accept()
    queue = board.listen(client)

    async def send_loop() -> None:
        while True:
            message = await queue.get()
            frame = await run_in_threadpool(codec.message_frame, message)
            await websocket.send_bytes(frame)

    async def receive_loop() -> None:
        while True:
            frame = await websocket.receive_bytes()
            tree = None
            try:
                tree = await run_in_threadpool(wire.unpack, frame)
                op = tree.get("op") if isinstance(tree, dict) else None
                if op == "submit":
                    request = await run_in_threadpool(codec.request_of, tree, settings.max_pixels)
                    try:
                        board.submit(client, request)
                    except ValueError as exc:
                        queue.put_nowait(api.JobFailed(request.job_id, str(exc), "", "bad-input"))
                elif op == "cancel":
                    board.cancel(client, str(tree.get("job_id")))
                else:
                    raise wire.WireError(f"unknown op {op!r}")
            except wire.WireError as exc:
                job_id = _job_id_of(tree)
                queue.put_nowait(api.JobFailed(job_id or "", f"the server refused a frame: {exc}",
                                               "check the image size and the client version", "bad-input"))

    tasks = [asyncio.create_task(send_loop()), asyncio.create_task(receive_loop())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, (WebSocketDisconnect, RuntimeError)):
                log.warning("websocket of client %s ended: %s", client, exc)
    finally:
        for task in tasks:
            task.cancel()
        board.unlisten(client, queue)


def _job_id_of(tree: object) -> str | None:
    request = tree.get("request") if isinstance(tree, dict) else None
    return str(request.get("job_id")) if isinstance(request, dict) and request.get("job_id") else None
