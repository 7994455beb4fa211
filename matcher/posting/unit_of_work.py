"""One unit of work for every write: its transaction, what it changed, and what
follows from that, in one place for the API and the importer alike.

A service that changes a vacancy records what changed on the session
(`events.emit`: created, updated, or closed, where closed means "left the open
set": closed, expired or hidden). The unit of work owns the transaction and
runs the write side's two rules around its commit:

1. **In the transaction**, just before the commit, every hook's
   `in_transaction(session, closed)` gets the vacancies the transaction took
   out of the open set (each once; the list may be empty, the hook still runs,
   so a hook can veto any write by raising). Push registers the rule "closing a vacancy
   records a `withdrawn` for everyone who was pushed its match" there, so the
   vacancy closes and its withdrawals exist together, or neither does - on
   every path that closes: the API's close, a hide by reports, a moderator's
   close, and the importer's tombstones, sweeps and expiries.
2. **After a successful commit**, and only then, every hook's
   `after_commit(events)` gets the transaction's events. Push registers the
   doorbell there (the hub's `announce` in a server, the bus in the importer),
   so a listener never hears of a row it cannot read yet, and a rolled-back
   change is never announced. A failing announcement is logged, never raised:
   the rows stand, and every worker catches up from the change numbers
   (push/catchup.py).

The domain does not know who listens: matcher/ never imports push/. The outer
layers register their hooks when they build the unit of work (api/app.py for
the server's requests, api/jobnet_import.py for the import, api/cli.py for
`jotr employer verify`). Services never commit themselves (they `flush`), so
whatever they close is seen by rule 1 before the one commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.posting import events
from matcher.posting.events import VacancyEvent

log = logging.getLogger("jotr.write")


class WriteHooks(Protocol):
    """What an outer layer adds to every write (push records withdrawals and rings)."""

    async def in_transaction(self, session: AsyncSession, closed: list[uuid.UUID]) -> None:
        """Inside the transaction, after its writes; raising rolls it back."""

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        """After a successful commit. Errors are logged; the write stands."""


def closed_ids(changes: Sequence[VacancyEvent]) -> list[uuid.UUID]:
    """The vacancies that left the open set, each once, in the order they left."""
    return list(dict.fromkeys(e.vacancy_id for e in changes if e.kind == "closed"))


class UnitOfWork:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        hooks: Sequence[WriteHooks] = (),
    ) -> None:
        self.sessionmaker = sessionmaker
        self._hooks: list[WriteHooks] = list(hooks)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block ends and rolls back if
        it raises; the hooks run around the commit as the module says."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await self._before_commit(session)
                await session.commit()
            except BaseException:
                await session.rollback()
                events.take(session)  # nothing rolled back is ever announced
                raise
            await self._announce(events.take(session))

    async def _before_commit(self, session: AsyncSession) -> None:
        """Rule 1: the vacancies this transaction took out of the open set."""
        closed = closed_ids(session.info.get("events", []))
        for hooks in self._hooks:
            await hooks.in_transaction(session, closed)

    async def _announce(self, committed: list[VacancyEvent]) -> None:
        """Rule 2: committed changes to every listener, each failure logged."""
        if not committed:
            return
        for hooks in self._hooks:
            try:
                await hooks.after_commit(committed)
            except Exception:  # the rows stand; workers catch up from the change numbers
                log.exception("announcing %d vacancy changes failed", len(committed))
