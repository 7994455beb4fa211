"""Slow and stuck clients: how long a request may take to arrive, and how big its
head may be.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but waits
forever for a request that is being sent slowly, so a few hundred half-sent
requests hold a worker's connections for as long as the sender likes
(measured before this: 200 held for 45 s, and on). Two pieces close that gap:

- `TimedHttpToolsProtocol`: uvicorn's httptools protocol with a deadline for
  the request line and headers (`JOTR_HEADER_TIMEOUT_S`) and a cap on their size
  (`JOTR_MAX_HEADER_BYTES`; httptools has none, h11 has
  `h11_max_incomplete_event_size`, which we set to the same). A late head gets
  408, an oversized one 431, and the connection is closed.
- `BodyTimeoutMiddleware`: a pure ASGI middleware giving the body a deadline
  (`JOTR_BODY_TIMEOUT_S` from the start of the request). A late body gets 408
  with `Connection: close`, so uvicorn drops the connection after it.

`uvicorn_options` is what `jotr serve` hands uvicorn.
"""

from __future__ import annotations

import asyncio
from asyncio import TimerHandle
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.push_socket import PROTOCOL as PUSH_SOCKET
from matcher.settings import Settings, get_settings

PROTOCOL = "api.timeouts:TimedHttpToolsProtocol"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    proxies = settings.trusted_proxies.strip()
    return {
        "http": PROTOCOL,
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.limit_concurrency,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        # X-Forwarded-For is believed from the configured proxies only; none: never.
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        # Compression of the push socket: each message on its own unless
        # push_deflate_context (api/push_socket.py: bandwidth against memory).
        "ws_per_message_deflate": settings.push_deflate,
        "ws": PUSH_SOCKET,
    }


def _error_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    body = orjson.dumps({"error": {"code": code, "message": message, "details": []}})
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with a deadline and a size cap on each request's head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._head_timeout = settings.header_timeout_s
        self._head_max = settings.max_header_bytes
        self._head_timer: TimerHandle | None = None
        self._head_bytes = 0

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a request is cut too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:  # keep the connection's first deadline running
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_timer is not None and not self.transport.is_closing():
            # Still inside a head (or before one): count it against the cap.
            self._head_bytes += len(data)
            if self._head_bytes > self._head_max:
                self._refuse(
                    _error_bytes(
                        431,
                        "Request Header Fields Too Large",
                        "headers_too_large",
                        f"request line and headers exceed {self._head_max} bytes",
                    )
                )

    def _head_too_slow(self) -> None:
        self._head_timer = None
        busy = self.cycle is not None and not self.cycle.response_complete
        if busy:  # a response of an earlier pipelined request is still going out
            self.transport.close()
            return
        self._refuse(
            _error_bytes(
                408,
                "Request Timeout",
                "request_timeout",
                f"request headers did not arrive within {self._head_timeout:g} s",
            )
        )

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()


def _expects_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


class BodyTimeoutMiddleware:
    """408 and a closed connection for a body that does not arrive in time."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _expects_body(scope):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        state = {"body_done": False, "timed_out": False, "started": False}

        async def receive_wrapper() -> Message:
            if state["timed_out"]:
                return {"type": "http.disconnect"}
            if state["body_done"]:
                return await receive()  # waiting for a disconnect: no deadline
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                state["timed_out"] = True
                if not state["started"]:
                    await _send_408(send, self.timeout_s)
                # The app sees the client gone; whatever it answers is dropped.
                return {"type": "http.disconnect"}
            if message["type"] == "http.request" and not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def send_wrapper(message: Message) -> None:
            if state["timed_out"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, receive_wrapper, send_wrapper)


async def _send_408(send: Send, timeout_s: float) -> None:
    body = orjson.dumps(
        {
            "error": {
                "code": "request_timeout",
                "message": f"request body did not arrive within {timeout_s:g} s",
                "details": [],
            }
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # uvicorn closes the connection after a response that says so.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
