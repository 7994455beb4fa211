"""The bus between worker processes: a doorbell, not a mailbox.

A message is a short string: "vacancy X was created/updated/closed", or "seeker
Y has new deliveries n..m" (push/hub.py); every worker then reads what it
needs from PostgreSQL. Two implementations of one Protocol:

- `PgBus` (default, no extra server): PostgreSQL LISTEN/NOTIFY. NOTIFY is sent
  after the writer's commit on a separate connection, never inside the hot
  transaction (NOTIFY takes a global lock at commit).
- `RedisBus` (scale-out across nodes): Redis pub/sub.

Delivery on the bus is at-most-once; that is fine because nothing durable
travels on it: a worker that misses a doorbell still finds the vacancy on the
seeker's next location update, and deliveries live in `push_deliveries`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import asyncpg
import redis.asyncio as aioredis

log = logging.getLogger("jotr.push.bus")

CHANNEL = "jotr_vacancy_events"
Handler = Callable[[str], Coroutine[Any, Any, None]]


class Bus(Protocol):
    async def start(self, handler: Handler) -> None: ...
    async def publish(self, payloads: list[str]) -> None: ...
    async def close(self) -> None: ...


def _dispatch(handler: Handler, payload: str, tasks: set[asyncio.Task[None]]) -> None:
    task = asyncio.create_task(handler(payload))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


class PgBus:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._listen: asyncpg.Connection | None = None
        self._send: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, handler: Handler) -> None:
        self._listen = await asyncpg.connect(self._dsn)

        def on_notify(_c: object, _pid: int, _channel: str, payload: str) -> None:
            _dispatch(handler, payload, self._tasks)

        await self._listen.add_listener(CHANNEL, on_notify)

    async def publish(self, payloads: list[str]) -> None:
        if not payloads:
            return
        async with self._lock:
            if self._send is None or self._send.is_closed():
                self._send = await asyncpg.connect(self._dsn)
            await self._send.executemany(
                "SELECT pg_notify($1, $2)", [(CHANNEL, p) for p in payloads]
            )

    async def close(self) -> None:
        for conn in (self._listen, self._send):
            if conn is not None and not conn.is_closed():
                await conn.close()
        for task in list(self._tasks):
            task.cancel()


class RedisBus:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, handler: Handler) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)

        async def read() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    _dispatch(handler, message["data"].decode(), self._tasks)

        self._reader = asyncio.create_task(read())

    async def publish(self, payloads: list[str]) -> None:
        for payload in payloads:
            await self._redis.publish(CHANNEL, payload)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for task in list(self._tasks):
            task.cancel()
        await self._redis.aclose()
