"""`WS /v1/push`: the thin websocket adapter around push/ (protocol in
docs/push-protocol.md). It authenticates, then moves frames: a reader loop
hands client frames to the hub, a writer task drains the connection's outbox.

Authentication never puts the secret in the URL (URLs end up in logs, proxies
and browser history):
- `Authorization: Bearer <token>` and `Jotr-Device: <device id>` headers, for
  clients that can set headers (apps, the benchmark, tests);
- otherwise (browsers) the first frame, `{"type": "auth", "token", "device"}`,
  within `JOTR_PUSH_AUTH_TIMEOUT_S`.
A `?token=` in the URL is refused outright (HTTP 400), whatever else is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse

from api import ratelimit
from api.ratelimit import RateLimited
from matcher.people import devices, rights
from push import metrics
from push import protocol as p
from push.connection import LAGGARD, REVOKED, Connection
from push.hub import PushHub

log = logging.getLogger("jotr.push")
router = APIRouter(tags=["push"])

# RFC 6455 close codes we use.
POLICY_VIOLATION = status.WS_1008_POLICY_VIOLATION
TRY_AGAIN_LATER = status.WS_1013_TRY_AGAIN_LATER
DEVICE_HEADER = "jotr-device"


async def _refuse(
    ws: WebSocket, status_code: int, code: str, message: str, retry_after: int | None = None
) -> None:
    """Refuse during the handshake with an HTTP error and our usual JSON body
    (a client that cannot read it sees the status; browsers see a failed connect)."""
    metrics.REFUSED.labels(code).inc()
    body = {"error": {"code": code, "message": message, "details": []}}
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    try:
        await ws.send_denial_response(JSONResponse(body, status_code=status_code, headers=headers))
    except RuntimeError:  # a server without the denial extension: a bare 403
        await ws.close(code=POLICY_VIOLATION, reason=message)


async def _close(ws: WebSocket, code: str, reason: str) -> None:
    metrics.REFUSED.labels(code).inc()
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.close(code=POLICY_VIOLATION, reason=reason)


async def _seeker(ws: WebSocket, secret: str) -> tuple[uuid.UUID, bytes] | None:
    """The jobseeker and the token hash `secret` authenticates, or None (counted
    against the address's lockout, as for HTTP: api/ratelimit.py)."""
    async with ws.app.state.sessionmaker() as session:
        found = await devices.authenticate(session, secret)
        if found is not None:
            seeker, device = found
            # A connect is a use of the service (the inactive sweep; matcher/people/rights.py)
            # and of this device; the socket remembers the device's token hash.
            touched = await rights.touch_active(session, seeker)
            label = devices.label_of(ws.headers.get("user-agent"))
            if await devices.touch(session, device, label) or touched:
                await session.commit()
            return seeker.id, bytes(device.token_hash)
    await ratelimit.record_auth_failure(ws)
    return None


async def _locked_out(ws: WebSocket) -> int | None:
    """Seconds until this address may try again, while it is locked out for
    guessing tokens; None if it may try now."""
    try:
        await ratelimit.check_auth_lockout(ws)
    except RateLimited as exc:
        return exc.retry_after
    return None


async def _auth_frame(ws: WebSocket) -> tuple[uuid.UUID, bytes, str] | None:
    """Read and check a browser's auth frame; closes with 1008 and a reason if
    it is late, malformed or wrong."""
    timeout = ws.app.state.settings.push_auth_timeout_s
    try:
        message = await asyncio.wait_for(ws.receive(), timeout)
    except TimeoutError:
        await _close(ws, "auth_timeout", f"no auth message within {timeout:g} s")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        auth = p.parse_auth(message.get("text") or message.get("bytes") or b"")
    except p.ProtocolError as exc:
        await _close(ws, "auth_invalid", exc.message)
        return None
    retry = await _locked_out(ws)
    if retry is not None:
        await _close(ws, "rate_limited", f"too many failed sign-ins; try again in {retry} s")
        return None
    found = await _seeker(ws, auth.token)
    if found is None:
        await _close(ws, "auth_failed", "a valid jobseeker token is required")
        return None
    return found[0], found[1], auth.device


@router.websocket("/v1/push")
async def push(ws: WebSocket) -> None:
    hub: PushHub = ws.app.state.hub
    if "token" in ws.query_params:
        await _refuse(ws, status.HTTP_400_BAD_REQUEST, "token_in_url",
                      "send the token in an Authorization header or an auth message, "
                      "never in the URL")  # fmt: skip
        return
    header = ws.headers.get("authorization", "")
    if header:
        retry = await _locked_out(ws)
        if retry is not None:
            await _refuse(ws, status.HTTP_429_TOO_MANY_REQUESTS, "rate_limited",
                          f"too many failed sign-ins; try again in {retry} s", retry)  # fmt: skip
            return
        secret = header[7:].strip() if header.lower().startswith("bearer ") else ""
        found = await _seeker(ws, secret) if secret else None
        if found is None:
            if not secret:
                await ratelimit.record_auth_failure(ws)
            await _refuse(ws, status.HTTP_403_FORBIDDEN, "forbidden",
                          "a valid jobseeker token is required")  # fmt: skip
            return
        seeker_id, secret_hash = found
        try:
            device_id = p.device(ws.headers.get(DEVICE_HEADER))
        except p.ProtocolError as exc:
            await _refuse(ws, status.HTTP_400_BAD_REQUEST, "invalid_device",
                          f"Jotr-Device header: {exc.message}")  # fmt: skip
            return
        await ws.accept()
    else:
        await ws.accept()
        by_frame = await _auth_frame(ws)
        if by_frame is None:
            return
        seeker_id, secret_hash, device_id = by_frame
    await _serve(ws, hub, seeker_id, device_id, secret_hash)


async def _serve(
    ws: WebSocket, hub: PushHub, seeker_id: uuid.UUID, device_id: str, secret_hash: bytes
) -> None:
    conn = hub.open(seeker_id, device_id, secret_hash)
    writer: asyncio.Task[None] | None = None
    try:
        if not await hub.admit(conn):
            limit = ws.app.state.settings.push_max_connections
            reason = f"at most {limit} connections per person; close another first"
            await _close(ws, "too_many_connections", reason)
            return
        writer = asyncio.create_task(_write(ws, conn))
        if not await hub.start(conn):
            await _close(ws, "gone", "this jobseeker no longer exists")
            return
        await _read(ws, hub, conn)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the phone went away, or we closed a laggard while reading
    finally:
        if writer is not None:
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
        if frame == REVOKED:
            metrics.REFUSED.labels("token_revoked").inc()
            await ws.close(code=POLICY_VIOLATION, reason="token revoked; sign in again")
            return
        await ws.send_text(frame.decode())


def _admit(conn: Connection, msg: p.ClientMessage | None, now: float) -> bool:
    """The inbound rate limit. An ack that acknowledges something this
    connection was sent is always let through (a replay of 100 frames is
    answered by up to 100 acks); everything else takes a token."""
    if isinstance(msg, p.Ack) and conn.acked < msg.seq <= conn.cursor:
        return True
    assert conn.limiter is not None
    if conn.limiter.admit(now):
        return True
    metrics.FRAMES_DROPPED.inc()
    if now - conn.rate_error_at >= 1.0:  # one error a second, not one per frame
        conn.rate_error_at = now
        conn.offer(p.error_message("rate_limited", "too many messages; some were dropped"))
    return False


async def _read(ws: WebSocket, hub: PushHub, conn: Connection) -> None:
    max_radius = ws.app.state.settings.max_radius_m
    while not conn.closed:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        frame = message.get("text") or message.get("bytes") or b""
        now = time.monotonic()
        try:
            msg: p.ClientMessage | None = p.parse(frame, max_radius)
            error = None
        except p.ProtocolError as exc:
            msg, error = None, exc
        if not _admit(conn, msg, now):
            assert conn.limiter is not None
            if conn.limiter.flooded:
                await _close(ws, "flood", "too many messages")
                return
            continue
        if error is not None:
            metrics.BAD_FRAMES.labels(error.code).inc()
            conn.offer(p.error_message(error.code, error.message))
            if hub.bad_frame(conn, now):
                await ws.close(code=POLICY_VIOLATION, reason="too many bad messages")
                return
            continue
        assert msg is not None
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
