"""Fetching feed pages over HTTP, with bounded retries.

What is retried: timeouts, connection errors, 5xx, 429 and a 200 whose body is
not JSON (a page cut off by a proxy). What is not: other 4xx (our request is
wrong; retrying will not fix it). Waits grow exponentially with "full jitter"
(a random wait between 0 and base * 2^attempt, capped), so many importers that
failed together do not return together; a `Retry-After` header (seconds or an
HTTP date) is honoured, up to `max_wait_s`. After `attempts` tries the error
surfaces and the import stops with its cursor at the last committed page.

Politeness: every request (retries included) first waits for the `RateLimiter`
(at most `rate` requests a second, spaced evenly), and carries the client's
headers (an honest User-Agent naming the service and a contact URL; Jobnet's
search JSON also wants `x-csrf: 1`).

Worked example with the defaults (base 0.5 s, cap 30 s): the waits after the
first four failures are drawn from [0, 0.5], [0, 1], [0, 2] and [0, 4] seconds;
a 503 with `Retry-After: 10` waits exactly 10 s instead.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx


class FeedError(Exception):
    """The feed could not be read (after retries, or a non-retryable answer)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of a non-retryable answer


class RateLimiter:
    """At most `rate` requests a second, evenly spaced (0 or less: no limit).

    A slot is reserved under a lock before sleeping, so concurrent callers queue
    up one interval apart instead of all waking together.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = asyncio.Lock()
        self.waited_s = 0.0

    async def wait(self) -> None:
        if self.interval <= 0:
            return
        async with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.waited_s += start - now
            await self._sleep(start - now)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries per page, the first included
    base_s: float = 0.5
    cap_s: float = 30.0
    max_wait_s: float = 120.0  # the most we honour of a Retry-After

    def backoff(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2**retry))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class FeedClient:
    """GET JSON pages from one feed URL; counts the retries it needed."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        headers: Mapping[str, str] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._client = client
        self.url = url
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.limiter = limiter or RateLimiter(0)
        self.requests = 0
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.retries = 0
        self.last_error: str | None = None

    async def get_json(self, params: Mapping[str, str], url: str | None = None) -> Any:
        """The JSON body of GET `url` (default: the client's URL) with `params`."""
        url = url or self.url
        for attempt in range(self.policy.attempts):
            wait: float | None = None
            await self.limiter.wait()
            self.requests += 1
            try:
                response = await self._client.get(url, params=params, headers=self.headers)
            except httpx.TimeoutException as exc:
                problem = f"timeout ({type(exc).__name__})"
            except httpx.TransportError as exc:  # refused, reset, protocol errors
                problem = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return response.json()
                    except ValueError:
                        problem = "the page is not valid JSON"
                elif status == 429 or status >= 500:
                    problem = f"HTTP {status}"
                    wait = retry_after(response.headers.get("Retry-After"))
                else:
                    raise FeedError(f"HTTP {status} from {url}: {response.text[:200]}", status)
            self.last_error = problem
            if attempt + 1 == self.policy.attempts:
                break
            self.retries += 1
            if wait is None:
                wait = self.policy.backoff(attempt, self._rng)
            await self._sleep(min(wait, self.policy.max_wait_s))
        raise FeedError(
            f"{url}: {self.last_error}, still failing after {self.policy.attempts} tries"
        )
