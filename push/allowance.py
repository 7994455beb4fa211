"""How many pushes a connection may send, and what waits for the next one.

A token bucket of `per_window` pushes per `window_s` (6 a minute by default),
refilled continuously, plus a best-first queue of what was eligible but found
no token. What waits is sent as tokens come back, best first, whether or not
the phone moves (the hub arms a timer per connection, `PushHub._arm`): a good
job found while the allowance is spent is deferred, never dropped.

Sans-I/O: time is passed in, nothing here sleeps, reads a clock or a socket,
so every rule is tested as plain values (tests/test_push_allowance.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class Allowance(Generic[K]):
    """`offer` says what to send now; the rest waits in `waiting` until `due`."""

    per_window: int
    window_s: float = 60.0
    tokens: float = field(init=False)
    updated: float | None = field(init=False, default=None)
    # key -> priority (higher is better); a dict so a key waits once.
    _waiting: dict[K, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.tokens = float(self.per_window)

    @property
    def per_s(self) -> float:
        return self.per_window / self.window_s

    def _refill(self, now: float) -> None:
        if self.updated is not None and now > self.updated:
            self.tokens = min(
                float(self.per_window), self.tokens + (now - self.updated) * self.per_s
            )
        if self.updated is None or now > self.updated:
            self.updated = now

    def available(self, now: float) -> int:
        self._refill(now)
        # A hair of tolerance: `next_in`'s float arithmetic must give the token.
        return int(self.tokens + 1e-9)

    def take(self, n: int) -> None:
        """Spend tokens on pushes sent outside `offer` (a new vacancy's fan-out)."""
        self.tokens = max(0.0, self.tokens - n)

    def refund(self, n: int) -> None:
        """Give back tokens `offer` handed out for pushes that did not go (the
        vacancy closed meanwhile): they are not lost to the next in line."""
        self.tokens = min(float(self.per_window), self.tokens + n)

    def offer(self, ranked: Iterable[tuple[K, float]], now: float) -> list[K]:
        """`ranked` is everything that may be pushed right now, with priorities.
        Returns the best as many as there are tokens (spent here), best first;
        the rest waits, replacing what waited before: the caller's list is the
        current truth (a vacancy no longer in it has closed, been pushed, or
        left the radius, and must not be sent later)."""
        self._waiting = {}
        for key, priority in ranked:
            if priority > self._waiting.get(key, float("-inf")):
                self._waiting[key] = priority
        room = self.available(now)
        send = self.waiting[:room]
        for key in send:
            del self._waiting[key]
        self.tokens = max(0.0, self.tokens - len(send))
        return send

    def defer(self, key: K, priority: float) -> None:
        """A push found no token (a new vacancy while the allowance was spent)."""
        if priority > self._waiting.get(key, float("-inf")):
            self._waiting[key] = priority

    def discard(self, key: K) -> None:
        self._waiting.pop(key, None)

    @property
    def waiting(self) -> list[K]:
        """What waits, best first (ties by key order of arrival)."""
        return sorted(self._waiting, key=lambda k: -self._waiting[k])

    def due(self, now: float) -> bool:
        """Something waits and a token is there for it."""
        return bool(self._waiting) and self.available(now) >= 1

    def next_in(self, now: float) -> float | None:
        """Seconds until `due`, or None when nothing waits."""
        if not self._waiting:
            return None
        self._refill(now)
        return max(0.0, (1.0 - self.tokens) / self.per_s)
