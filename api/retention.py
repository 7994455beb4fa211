"""The inactive-account sweeper, run by every worker (one at a time: the sweep
takes an advisory lock) and by `jotr sweep inactive` (docs/privacy.md, "Retention")."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.people import rights

log = logging.getLogger("jotr.retention")


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession], after_days: int) -> int | None:
    """One sweep in its own transaction; how many accounts went (None: another ran)."""
    async with sessionmaker() as session, session.begin():
        return await rights.sweep_inactive(session, after_days)


async def sweep_forever(
    sessionmaker: async_sessionmaker[AsyncSession], after_days: int, every_s: float
) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await sweep_once(sessionmaker, after_days)
        except Exception:
            log.exception("inactive sweep failed")
