"""One websocket connection's state, as the hub sees it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from push import metrics
from push.rules import TokenBucket

LAGGARD = b""  # sentinel in an outbox: close this connection


@dataclass(eq=False)
class Connection:
    seeker_id: uuid.UUID
    outbox: asyncio.Queue[bytes]
    bucket: TokenBucket
    last_point: tuple[float, float] | None = None
    bad_frames: list[float] = field(default_factory=list)
    closed: bool = False

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
