"""`WS /v1/push`: the thin websocket adapter around push/ (protocol in
docs/push-protocol.md). It authenticates, then moves frames: a reader loop
hands client frames to the hub, a writer task drains the connection's outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from matcher import accounts
from matcher.tokens import Principal
from push import metrics
from push import protocol as p
from push.connection import LAGGARD, Connection
from push.hub import PushHub

log = logging.getLogger("jotr.push")
router = APIRouter(tags=["push"])

# RFC 6455 close codes we use.
POLICY_VIOLATION = status.WS_1008_POLICY_VIOLATION
TRY_AGAIN_LATER = status.WS_1013_TRY_AGAIN_LATER


def _secret(ws: WebSocket) -> str | None:
    header = ws.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return ws.query_params.get("token")


@router.websocket("/v1/push")
async def push(ws: WebSocket) -> None:
    hub: PushHub = ws.app.state.hub
    secret = _secret(ws)
    seeker_id = None
    if secret:
        async with ws.app.state.sessionmaker() as session:
            found = await accounts.authenticate(session, secret)
        if found is not None and found[0] == Principal.JOBSEEKER:
            seeker_id = found[1].id
    if seeker_id is None:
        # Refused during the handshake: the client sees HTTP 403, nothing more.
        await ws.close(code=POLICY_VIOLATION, reason="a jobseeker token is required")
        return
    await ws.accept()
    conn = hub.open(seeker_id)
    writer = asyncio.create_task(_write(ws, conn))
    try:
        conn.offer(await hub.hello(conn))
        await _read(ws, hub, conn)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the phone went away, or we closed a laggard while reading
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        await hub.close(conn)


async def _write(ws: WebSocket, conn: Connection) -> None:
    while True:
        frame = await conn.outbox.get()
        if frame == LAGGARD:
            await ws.close(code=TRY_AGAIN_LATER, reason="too slow; resume later")
            return
        await ws.send_text(frame.decode())


async def _read(ws: WebSocket, hub: PushHub, conn: Connection) -> None:
    max_radius = ws.app.state.settings.max_radius_m
    while not conn.closed:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        frame = message.get("text") or message.get("bytes") or b""
        try:
            msg = p.parse(frame, max_radius)
        except p.ProtocolError as exc:
            metrics.BAD_FRAMES.labels(exc.code).inc()
            conn.offer(p.error_message(exc.code, exc.message))
            if hub.bad_frame(conn, time.monotonic()):
                await ws.close(code=POLICY_VIOLATION, reason="too many bad messages")
                return
            continue
        try:
            await _dispatch(hub, conn, msg)
        except Exception:  # our bug must not cost the phone its connection
            log.exception("push message failed", extra={"type": type(msg).__name__})
            conn.offer(p.error_message("internal", "that message failed on our side; it is logged"))


async def _dispatch(hub: PushHub, conn: Connection, msg: p.ClientMessage) -> None:
    if isinstance(msg, p.Location):
        await hub.on_location(conn, msg)
    elif isinstance(msg, p.Ack):
        await hub.on_ack(conn, msg)
    elif isinstance(msg, p.Resume):
        await hub.on_resume(conn, msg)
    else:
        conn.offer(await hub.on_settings(conn, msg))
