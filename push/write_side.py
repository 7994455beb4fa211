"""Push's part of every write: the hooks it registers on the unit of work.

matcher/posting/unit_of_work.py owns the transaction; push adds the two rules that are
about phones (the domain may not import push, so it is given them):

- in the transaction: every vacancy it took out of the open set (closed,
  expired, hidden) gets a `withdrawn` delivery for everyone who was pushed its
  match (push/delivery.py `record_withdrawals`), so the close and its
  withdrawals commit together or not at all. The deliveries are unique per
  seeker, vacancy and kind, so a second close of the same vacancy (a hidden
  one a moderator then closes) adds nothing: each phone is told once.
- after the commit: the changes are announced - in a server through the hub
  (its own connections at once, the other workers over the bus), in the
  importer over the bus alone.

Built by api/app.py (server) and api/jobnet_import.py (import).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from matcher.matching.geo import raw_connection
from matcher.posting.events import VacancyEvent
from push import delivery
from push.bus import Bus

Announce = Callable[[list[VacancyEvent]], Awaitable[None]]


class PushWriteHooks:
    def __init__(self, announce: Announce | None) -> None:
        self._announce = announce
        self.withdrawals = 0  # `withdrawn` deliveries recorded (the import reports it)

    async def in_transaction(self, session: AsyncSession, closed: list[uuid.UUID]) -> None:
        if closed:
            conn = await raw_connection(session)
            self.withdrawals += await delivery.record_withdrawals(conn, closed)

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        if self._announce is not None:
            await self._announce(events)


def over_bus(bus: Bus | None) -> PushWriteHooks:
    """For a process without a hub (the importer): the bus alone rings the servers."""
    if bus is None:
        return PushWriteHooks(None)

    async def publish(events: list[VacancyEvent]) -> None:
        await bus.publish([e.encode() for e in events])

    return PushWriteHooks(publish)
