"""Catch-up: what a worker missed on the bus, read back from the database.

The bus (push/bus.py) is a doorbell that can fail silently: a listener is lost
until it reconnects, a full queue drops a message, a NOTIFY is never sent
because the writer's process died after its commit. Two things make any
missed doorbell cost latency and nothing else:

- Vacancy changes. Every insert or update of a vacancy takes the next number
  from `vacancy_change_no_seq` in its own transaction (a trigger, migration
  0006). A worker remembers which change numbers it has applied (`ChangeLog`)
  and reads `change_no > floor ORDER BY change_no`, applying the ones it has
  not. Numbers are taken at write time but become visible at commit, so a
  slow transaction can commit a number below one already seen; the log keeps
  every applied number for `LOOKBACK_S` and only then raises the floor past
  it, so such a change is still found as long as its transaction took less
  than that. (An in-memory replica of open vacancies can be kept current from
  the same number.)
- Deliveries. A seeker's deliveries get their sequence numbers under the
  seeker's row lock (`push_streams.push_seq`), so per seeker they commit in
  sequence order: a committed `push_seq` of n means every delivery up to n is
  readable. Catch-up reads `push_seq` for the connected seekers; a connection
  that knows less fills the gap in order, exactly as after a doorbell
  (push/hub.py `_fill`).

The hub runs a catch-up after every (re)connect of the bus, after a dropped
message, and on a timer (`JOTR_PUSH_CATCHUP_S`), so even a bus that died
without a sound heals within that period.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

# One implementation of "which change numbers are applied" for push and the
# replica (matcher/matching/change_log.py); re-exported here for the hub.
from matcher.matching.change_log import LOOKBACK_S, ChangeLog

__all__ = ["LOOKBACK_S", "ChangeLog"]

# Rows read per catch-up; more is read on the next round, which follows at once.
BATCH_ROWS = 2000


@dataclass(frozen=True, slots=True)
class Change:
    vacancy_id: uuid.UUID
    change_no: int | None  # None: the vacancy is gone (erased)
    open: bool


HIGH_WATER_SQL = "SELECT coalesce(max(change_no), 0) FROM vacancies"

# "Open" for a phone: open and not hidden pending review (matcher/posting/reports.py), so
# a vacancy hidden while a worker was deaf is withdrawn on catch-up like a closed one.
CHANGES_SQL = """
SELECT id, change_no, status = 'open' AND hidden_at IS NULL AS open FROM vacancies
WHERE change_no > $1 ORDER BY change_no LIMIT $2
"""

CURRENT_SQL = (
    "SELECT id, change_no, status = 'open' AND hidden_at IS NULL AS open"
    " FROM vacancies WHERE id = ANY($1)"
)

# Each connected seeker's highest committed delivery seq.
SEQS_SQL = (
    "SELECT jobseeker_id AS id, push_seq FROM push_streams WHERE jobseeker_id = ANY($1::uuid[])"
)


async def high_water(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(HIGH_WATER_SQL))


async def changes_since(conn: asyncpg.Connection, floor: int, limit: int) -> list[Change]:
    rows = await conn.fetch(CHANGES_SQL, floor, limit)
    return [Change(r["id"], r["change_no"], r["open"]) for r in rows]


async def current(conn: asyncpg.Connection, vacancy_ids: list[uuid.UUID]) -> list[Change]:
    """The vacancies as they are now, in change order; erased ones last, as closed."""
    rows = await conn.fetch(CURRENT_SQL, vacancy_ids)
    found = sorted((Change(r["id"], r["change_no"], r["open"]) for r in rows),
                   key=lambda c: c.change_no or 0)  # fmt: skip
    gone = set(vacancy_ids) - {c.vacancy_id for c in found}
    return found + [Change(v, None, False) for v in gone]


async def delivery_seqs(
    conn: asyncpg.Connection, seeker_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not seeker_ids:
        return {}
    rows = await conn.fetch(SEQS_SQL, seeker_ids)
    return {r["id"]: r["push_seq"] for r in rows}
