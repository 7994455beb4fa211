"""One websocket connection's state, as the hub sees it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from push import metrics
from push.rules import FrameLimiter
from push.session import SeekerSession, SeekerState

LAGGARD = b""  # sentinel in an outbox: close this connection (too slow)
REVOKED = b"\x00revoked"  # sentinel in an outbox: close, the token is no longer valid


@dataclass(eq=False, slots=True)
class Connection:
    """Delivery frames leave in sequence order. `cursor` is the highest seq queued
    to this connection (or already acked by its device); a frame for cursor + 1
    goes straight out, anything above a gap waits in `held` while the hub reads
    the gap from the database (push/hub.py `_fill`). Since a delivery is
    committed under the person's row lock, once seq s is committed every lower
    seq is either committed too or will never exist, so the read is complete."""

    seeker_id: uuid.UUID
    outbox: asyncio.Queue[bytes]
    # What this connection's person may be told, and when (push/session.py).
    session: SeekerSession
    device_id: str = ""
    limiter: FrameLimiter | None = None
    # Hash of the token the connection authenticated with: when the person's
    # token is rotated or re-issued, connections opened with the old one close.
    secret_hash: bytes = b""
    presence_id: uuid.UUID = field(default_factory=uuid.uuid4)
    live: bool = False  # false until hello and the replay's start point are set
    cursor: int = 0
    known: int = 0  # highest seq known to be committed for this person
    acked: int = 0  # this device's ack as last written
    held: dict[int, bytes] = field(default_factory=dict)
    filling: bool = False
    rate_error_at: float = 0.0
    bad_frames: list[float] = field(default_factory=list)
    closed: bool = False
    # A live location consent (matcher/people/consent.py): without it location frames are refused.
    location_consent: bool = False
    consent_checked_at: float = 0.0  # monotonic; when `location_consent` was read
    # Fires when the allowance has a token for what waits (push/allowance.py).
    timer: asyncio.TimerHandle | None = None

    @property
    def state(self) -> SeekerState | None:
        return self.session.state

    @property
    def last_point(self) -> tuple[float, float] | None:
        return self.session.last_point

    def deliver(self, seq: int, frame: bytes) -> None:
        """Queue a delivery in seq order (see the class docstring); a frame that
        cannot go yet is held (at most an outbox's worth: the database has the rest)."""
        if self.closed:
            return
        self.known = max(self.known, seq)
        if seq <= self.cursor and self.live:
            return  # sent already, or acked by this device
        if self.live and not self.filling and seq == self.cursor + 1:
            self.offer(frame)
            self.cursor = seq
            self.drain_held()
        elif len(self.held) < self.outbox.maxsize:
            self.held[seq] = frame

    def drain_held(self) -> None:
        """Send held frames that have become next in line; forget older ones."""
        for seq in sorted(self.held):
            if seq <= self.cursor:
                del self.held[seq]
            elif seq == self.cursor + 1:
                self.offer(self.held.pop(seq))
                self.cursor = seq
            else:
                break

    @property
    def behind(self) -> bool:
        """A gap to read from the database, and nobody reading it yet."""
        return self.live and not self.filling and not self.closed and self.known > self.cursor

    def offer(self, frame: bytes) -> bool:
        """Queue a frame without waiting; a full outbox marks a laggard, which
        is disconnected and resumes later from the database."""
        if self.closed:
            return False
        try:
            self.outbox.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            self.drop_laggard()
            return False

    def revoke(self) -> None:
        """The token this connection authenticated with was replaced: close it
        (the writer sends 1008) without sending anything still queued."""
        self.closed = True
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.outbox.put_nowait(REVOKED)

    def drop_laggard(self) -> None:
        self.closed = True
        metrics.LAGGARDS.inc()
        # Make room for the sentinel so the writer wakes and closes.
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.outbox.put_nowait(LAGGARD)
