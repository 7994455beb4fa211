"""Abuse limits: per-IP on sign-ups, extraction and failed logins; per-employer
on vacancy writes. Exceeding one answers 429 with `Retry-After` (seconds) and
the usual error body.

Counting is the `limits` library's moving window, stored in Redis so that every
worker of every instance counts together (`JOTR_RATE_LIMIT_STORAGE=memory`
counts per process, for a laptop without Redis). The limiter fails open: if the
store cannot be reached the request goes through, a warning is logged (at most
once a minute) and `jotr_rate_limit_errors_total` counts it. A limiter outage
must never become a service outage.

Failed bearer authentications are a limit of their own: after K failures
within a window the IP's every authentication answers 429 (right token or
wrong) until the oldest failure ages out; with several tiers (10 in 10 minutes,
30 an hour, 100 a day) the lockout grows the longer the guessing goes on.

The client is the socket peer. Behind a reverse proxy `jotr serve` passes
`JOTR_TRUSTED_PROXIES` to uvicorn, which then puts the X-Forwarded-For client
from those peers (only) into the scope we read here.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from api.errors import error_response
from api.responses import JSON
from matcher.settings import Settings

log = logging.getLogger("jotr.ratelimit")

LIMITED = Counter("jotr_rate_limited_total", "Requests refused with 429.", ["limit"])
ERRORS = Counter(
    "jotr_rate_limit_errors_total", "Limiter store failures (the request was let through)."
)

# Names of the limits, their settings and what the 429 message says.
LIMITS: dict[str, tuple[str, str]] = {
    "signup": ("rate_limit_signup", "too many sign-ups from this address"),
    "employer_signup": (
        "rate_limit_employer_signup",
        "too many employer sign-ups from this address",
    ),
    "extract": ("rate_limit_extract", "too many extraction requests from this address"),
    "vacancy_writes": ("rate_limit_vacancy_writes", "too many vacancy changes for this employer"),
    "interest": ("rate_limit_interest", "too many interest messages from this person"),
    "auth_failures": (
        "rate_limit_auth_failures",
        "too many failed authentications from this address; wait before trying again",
    ),
}

WARN_EVERY_S = 60.0


class RateLimited(Exception):
    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(LIMITS[name][1])
        self.name = name
        self.retry_after = retry_after


class Limiter:
    """The configured limits over one store. Create inside the event loop."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.items: dict[str, list[RateLimitItem]] = {
            name: parse_many(getattr(settings, field)) for name, (field, _) in LIMITS.items()
        }
        self._settings = settings
        self._strategy: MovingWindowRateLimiter | None = None
        self._warned_at = -math.inf

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._strategy is None:
            self._strategy = MovingWindowRateLimiter(make_storage(self._settings))
        return self._strategy

    async def hit(self, name: str, key: str) -> None:
        """Count one request against every tier of `name`; raise RateLimited past one."""
        if not self.enabled:
            return
        limiter = self._limiter()
        try:
            for item in self.items[name]:
                if not await limiter.hit(item, name, key):
                    stats = await limiter.get_window_stats(item, name, key)
                    LIMITED.labels(name).inc()
                    raise RateLimited(name, _seconds_until(stats.reset_time))
        except RateLimited:
            raise
        except Exception as exc:
            self._store_failed(exc)

    async def record_failure(self, name: str, key: str) -> None:
        """Count a failure against every tier of `name` (refusing nothing); if a
        tier is full now, lock `key` out until that tier has room again."""
        if not self.enabled:
            return
        limiter = self._limiter()
        try:
            until = 0.0
            for item in self.items[name]:
                # Every tier counts every failure, so the longer tiers fill up
                # even while a shorter one is what locks the address out.
                counted = await limiter.hit(item, name, key)
                if not counted or not await limiter.test(item, name, key):
                    stats = await limiter.get_window_stats(item, name, key)
                    until = max(until, stats.reset_time)
            if until:
                # One key to read per authentication (check_lock), not every tier.
                await limiter.storage.incr(_lock_key(name, key), _seconds_until(until))
        except Exception as exc:
            self._store_failed(exc)

    async def check_lock(self, name: str, key: str) -> None:
        """Raise RateLimited while `key` is locked out of `name` (one read)."""
        if not self.enabled:
            return
        storage = self._limiter().storage
        try:
            if await storage.get(_lock_key(name, key)) <= 0:
                return
            retry = _seconds_until(await storage.get_expiry(_lock_key(name, key)))
        except Exception as exc:
            self._store_failed(exc)
            return
        LIMITED.labels(name).inc()
        raise RateLimited(name, retry)

    def _store_failed(self, exc: Exception) -> None:
        # The store is down: the request goes through, counted and (now and then) logged.
        ERRORS.inc()
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "rate limiter store unavailable; limits are not enforced",
                extra={"error": type(exc).__name__},
            )


def _seconds_until(when: float) -> int:
    return max(1, math.ceil(when - time.time()))


def _lock_key(name: str, key: str) -> str:
    return f"lock/{name}/{key}"


def make_storage(settings: Settings) -> Storage:
    if settings.rate_limit_storage == "memory":
        return MemoryStorage()
    # redis-py (already ours for the push bus); short timeouts so an unreachable
    # store costs a request at most a fraction of a second before failing open.
    uri = settings.redis_url.replace("redis://", "async+redis://", 1).replace(
        "rediss://", "async+rediss://", 1
    )
    options: dict[str, Any] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return RedisStorage(
        uri,
        implementation="redispy",
        key_prefix=settings.rate_limit_key_prefix,
        wrap_exceptions=True,
        **options,
    )


def client_ip(request: HTTPConnection) -> str:
    # uvicorn has already replaced the peer by the forwarded client when (and
    # only when) the peer is a trusted proxy (api/cli.py passes the setting).
    return request.client.host if request.client else "unknown"


def limiter_of(request: HTTPConnection) -> Limiter:
    limiter: Limiter = request.app.state.limiter
    return limiter


def per_ip(name: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency counting the request against limit `name` for its IP."""
    if name not in LIMITS:
        raise ValueError(f"unknown limit {name}")

    async def dependency(request: Request) -> None:
        await limiter_of(request).hit(name, client_ip(request))

    return dependency


async def check_auth_lockout(request: HTTPConnection) -> None:
    """Refuse the authentication outright while the IP is locked out."""
    await limiter_of(request).check_lock("auth_failures", client_ip(request))


async def record_auth_failure(request: HTTPConnection) -> None:
    """Count a failed authentication; the next one may already be refused."""
    await limiter_of(request).record_failure("auth_failures", client_ip(request))


def install(app: FastAPI, settings: Settings) -> None:
    app.state.limiter = Limiter(settings)

    @app.exception_handler(RateLimited)
    async def _limited(_: Request, exc: RateLimited) -> JSON:
        return error_response(
            429, "rate_limited", str(exc), headers={"Retry-After": str(exc.retry_after)}
        )
