"""One websocket connection's state, as the hub sees it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass, field

from matcher.scoring import SeekerContext
from push import metrics
from push.candidates import CandidateCache
from push.rules import TokenBucket

LAGGARD = b""  # sentinel in an outbox: close this connection


@dataclass(slots=True)
class SeekerState:
    """The seeker as this connection last read them (refreshed with the cache)."""

    ctx: SeekerContext
    certificates: frozenset[str]
    radius_m: float
    min_score: float
    paused: bool
    quiet_from: dt.time | None
    quiet_until: dt.time | None
    walk_in_interest: bool


@dataclass(eq=False)
class Connection:
    seeker_id: uuid.UUID
    outbox: asyncio.Queue[bytes]
    bucket: TokenBucket
    last_point: tuple[float, float] | None = None
    bad_frames: list[float] = field(default_factory=list)
    closed: bool = False
    state: SeekerState | None = None
    state_at: float = 0.0  # monotonic time the seeker was read
    cache: CandidateCache | None = None
    # Vacancies this seeker was already pushed (read with the state, then kept up).
    pushed: set[uuid.UUID] = field(default_factory=set)
    # Where and when (monotonic) the position was last written to the database.
    written_point: tuple[float, float] | None = None
    written_at: float = 0.0

    def forget_cache(self) -> None:
        """Settings changed: the next update reads the seeker and rebuilds."""
        self.state = None
        self.cache = None
        self.pushed.clear()

    def offer(self, frame: bytes) -> bool:
        """Queue a frame without waiting; a full outbox marks a laggard, which
        is disconnected and resumes later from the database."""
        if self.closed:
            return False
        try:
            self.outbox.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            self.closed = True
            metrics.LAGGARDS.inc()
            # Make room for the sentinel so the writer wakes and closes.
            while not self.outbox.empty():
                self.outbox.get_nowait()
            self.outbox.put_nowait(LAGGARD)
            return False
