"""The bus between worker processes: a doorbell, not a mailbox.

A message is a short string: "vacancy X was created/updated/closed", or "seeker
Y has new deliveries n..m" (push/hub.py); every worker then reads what it
needs from PostgreSQL. Two implementations of one Protocol:

- `PgBus` (default, no extra server): PostgreSQL LISTEN/NOTIFY. NOTIFY is sent
  after the writer's commit on a separate connection, never inside the hot
  transaction (NOTIFY takes a global lock at commit).
- `RedisBus` (scale-out across nodes): Redis pub/sub.

Delivery on the bus is at-most-once, and a listener's connection can die (a
database or Redis restart, a killed client). So the listener heals itself:
it notices the loss (the connection closing, or a ping going unanswered),
logs it once, reconnects with exponential backoff and jitter, logs the
recovery once, and calls `on_connect` so the hub catches up from the database
(push/catchup.py): nothing durable travels on the bus, so a missed doorbell
costs latency, never a delivery. `status()` feeds /readyz and the metrics.

Channel names start with `JOTR_BUS_PREFIX`, so two environments on one Redis
(or one PostgreSQL) never hear each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import redis.asyncio as aioredis

from push import metrics

log = logging.getLogger("jotr.push.bus")

# A message for the hub; called synchronously, it must not block (the hub
# queues it: push/hub.py `ring`).
Handler = Callable[[str], None]
OnConnect = Callable[[], Awaitable[None]]

CONNECT_TIMEOUT_S = 5.0
BACKOFF_MIN_S = 0.1


def channel_name(prefix: str) -> str:
    return f"{prefix}_vacancy_events"


@dataclass(frozen=True, slots=True)
class BusStatus:
    up: bool
    # Monotonic time the listener was lost (None while up, or before the first connect).
    down_since: float | None
    reason: str | None


class Bus(Protocol):
    kind: str

    async def start(self, handler: Handler, on_connect: OnConnect | None = None) -> None: ...
    async def publish(self, payloads: list[str]) -> None: ...
    async def close(self) -> None: ...
    def status(self) -> BusStatus: ...


def backoff_s(attempt: int, cap_s: float) -> float:
    """Exponential backoff with jitter: workers that lost the same server do
    not come back in lock step."""
    return min(cap_s, BACKOFF_MIN_S * 2**attempt) * random.uniform(0.5, 1.0)


_CREDENTIALS = re.compile(r"://[^/@\s]*@")


def describe(exc: BaseException) -> str:
    """An error for the log: its type and message, with any credentials in a
    URL masked (drivers sometimes echo the DSN)."""
    text = _CREDENTIALS.sub("://***@", str(exc))[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def readiness_problem(status: BusStatus, grace_s: float, now: float | None = None) -> str | None:
    """Why this worker is not ready because of its bus, or None. A short blip
    (a reconnect) is tolerated for `grace_s`; catch-up covers it."""
    if status.up:
        return None
    since = status.down_since
    now = time.monotonic() if now is None else now
    if since is None or now - since < grace_s:
        return None
    return f"push bus down for {now - since:.0f} s ({status.reason or 'not connected'})"


class _Listener:
    """The reconnect loop both buses share: run `session()` (connect, listen
    until the connection is lost), and on any failure back off and try again."""

    kind = "?"

    def __init__(self, backoff_max_s: float, ping_s: float) -> None:
        self.backoff_max_s = backoff_max_s
        self.ping_s = ping_s
        self._handler: Handler | None = None
        self._on_connect: OnConnect | None = None
        self._task: asyncio.Task[None] | None = None
        self._up = False
        self._down_since: float | None = None
        self._reason: str | None = None
        self._connected_once = False
        self._attempt = 0
        self._first_try = asyncio.Event()  # set by the first connect or failure

    def status(self) -> BusStatus:
        return BusStatus(self._up, self._down_since, self._reason)

    async def start(self, handler: Handler, on_connect: OnConnect | None = None) -> None:
        """Start listening; waits (briefly) for the first connection so a
        healthy start is ready at once, but never fails: a bus that is down
        at boot is retried like one lost later."""
        self._handler, self._on_connect = handler, on_connect
        self._down_since = time.monotonic()
        self._task = asyncio.create_task(self._run(), name=f"bus-{self.kind}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), CONNECT_TIMEOUT_S + 1)

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
                raise ConnectionError("listener connection closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lost(exc)
            await asyncio.sleep(backoff_s(self._attempt, self.backoff_max_s))
            self._attempt += 1

    async def _session(self) -> None:
        raise NotImplementedError

    async def _connected(self) -> None:
        """The listener is (again) subscribed: log a recovery, ask for catch-up."""
        if self._connected_once:
            metrics.BUS_RECONNECTS.labels(self.kind).inc()
            down = time.monotonic() - (self._down_since or time.monotonic())
            log.warning("push bus recovered", extra={"bus": self.kind, "down_s": round(down, 2)})
        self._connected_once = True
        self._up, self._down_since, self._reason, self._attempt = True, None, None, 0
        metrics.BUS_UP.set(1)
        self._first_try.set()
        if self._on_connect is not None:
            try:
                await self._on_connect()
            except Exception:
                log.exception("push bus catch-up request failed")

    def _lost(self, exc: BaseException) -> None:
        reason = describe(exc)
        if self._up:  # logged once per outage; the retries are quiet
            log.warning("push bus lost", extra={"bus": self.kind, "error": reason})
            self._down_since = time.monotonic()
        elif self._reason is None:
            log.warning("push bus cannot connect", extra={"bus": self.kind, "error": reason})
        self._up, self._reason = False, reason
        metrics.BUS_UP.set(0)
        self._first_try.set()

    def _deliver(self, payload: str) -> None:
        if self._handler is not None:
            self._handler(payload)

    async def _stop_listening(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


class PgBus(_Listener):
    kind = "postgres"

    def __init__(
        self,
        dsn: str,
        prefix: str = "jotr",
        backoff_max_s: float = 0.5,
        ping_s: float = 5.0,
    ) -> None:
        super().__init__(backoff_max_s, ping_s)
        self._dsn = dsn
        self.channel = channel_name(prefix)
        self._send: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def _session(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_S)
        try:
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c: lost.set())

            def on_notify(_c: object, _pid: int, _channel: str, payload: object) -> None:
                self._deliver(str(payload))

            await conn.add_listener(self.channel, on_notify)
            await self._connected()
            # A restart closes the connection (the termination listener fires);
            # a half-dead network does not, so ping too.
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.ping_s)
                    break
                await conn.fetchval("SELECT 1", timeout=self.ping_s)
        finally:
            conn.terminate()

    async def publish(self, payloads: list[str]) -> None:
        if not payloads:
            return
        async with self._lock:
            # The sending connection may have died with a restart since its last
            # use: one more try on a fresh connection before giving up.
            for attempt in (1, 2):
                try:
                    if self._send is None or self._send.is_closed():
                        self._send = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_S)
                    await self._send.executemany(
                        "SELECT pg_notify($1, $2)", [(self.channel, p) for p in payloads]
                    )
                    return
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    if self._send is not None:
                        self._send.terminate()
                    self._send = None
                    if attempt == 2:
                        raise

    async def close(self) -> None:
        await self._stop_listening()
        if self._send is not None and not self._send.is_closed():
            await self._send.close()


class RedisBus(_Listener):
    kind = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "jotr",
        backoff_max_s: float = 0.5,
        ping_s: float = 5.0,
    ) -> None:
        super().__init__(backoff_max_s, ping_s)
        self.channel = channel_name(prefix)
        self._redis = aioredis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            subscribed = False
            heard, pinged = loop.time(), False
            while True:
                message: dict[str, Any] | None = await pubsub.get_message(
                    timeout=min(1.0, self.ping_s)
                )
                now = loop.time()
                if message is not None:
                    heard, pinged = now, False
                    kind = message["type"]
                    if kind == "message":
                        self._deliver(message["data"].decode())
                    elif kind == "subscribe":
                        if subscribed:
                            # redis-py reconnected underneath us and subscribed
                            # again: messages in between are lost, so catch up.
                            self._lost(ConnectionError("subscriber connection was reset"))
                        subscribed = True
                        await self._connected()
                    continue
                if now - heard >= 2 * self.ping_s:
                    raise ConnectionError(f"no answer to a ping within {self.ping_s:g} s")
                if now - heard >= self.ping_s and not pinged:
                    await pubsub.ping()
                    pinged = True
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def publish(self, payloads: list[str]) -> None:
        if not payloads:
            return
        # A pooled connection may have died with a restart since its last use
        # (the pool drops it on the error): one more try on a fresh one.
        for attempt in (1, 2):
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for payload in payloads:
                        pipe.publish(self.channel, payload)
                    await pipe.execute()
                return
            except (aioredis.ConnectionError, aioredis.TimeoutError):
                if attempt == 2:
                    raise

    async def close(self) -> None:
        await self._stop_listening()
        await self._redis.aclose()
