"""Events for municipalities' case systems: the outbox, its audience and the feed.

`emit` writes an event in the caller's transaction, and in the same statement one
`webhook_deliveries` row for each subscription that should get it, so an event
exists (and will be delivered) exactly when the change it tells about committed.
The webhook dispatcher (matcher/integrations/webhooks.py) and the pull feed read the same rows.

Who may see an event (docs/privacy.md):

* events about a vacancy go to every integration (`municipalities` NULL);
* events about a person go only to integrations of the municipalities whose
  consultants hold the person on their caseload, and only while the person has
  said yes to sharing with the municipality (`jobseekers.share_with_municipality`).
  Without both, nothing is written at all.

Payloads carry ids and facts, never positions.

Feed order: `txid` is the writing transaction's id. An event is shown only once
every transaction of this database with a smaller id has ended (the horizon,
`_HORIZON_SQL`), in (txid, id) order, so once a reader has passed a cursor, no event
can later commit behind it. A sequence number alone (like `vacancies.change_no`)
does not have that property: numbers are handed out in start order, not commit
order, and a slow transaction would land behind a reader's cursor.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import Invalid
from matcher.matching import geo

# The catalogue (docs/integrations.md). `interest.sent` is emitted by the
# applications feature; `jobseeker.unlinked` when a consultant takes a person off.
TYPES: tuple[str, ...] = (
    "jobseeker.linked",
    "jobseeker.unlinked",
    "jobseeker.consent_withdrawn",
    "match.pushed",
    "interest.sent",
    "verdict.recorded",
    "outcome.recorded",
    "vacancy.created",
    "vacancy.closed",
)

# The municipalities that may hear about person $1: those of the consultants
# holding them, if they share; NULL if none. $5 (if given) overrides it, for the
# one event written as sharing ends (consent withdrawn).
_EMIT_SQL = """
WITH item AS (
    SELECT * FROM unnest($1::uuid[], $3::text[], $4::jsonb[])
        WITH ORDINALITY AS item(jobseeker_id, subject, data, ord)
), audience AS (
    -- Per person the events are about (NULL: about nobody, for every listener).
    SELECT p.jobseeker_id, CASE
        WHEN $5::text[] IS NOT NULL THEN $5::text[]
        WHEN p.jobseeker_id IS NULL THEN NULL
        ELSE (SELECT array_agg(DISTINCT c.municipality ORDER BY c.municipality)
              FROM caseload cl
              JOIN consultants c ON c.id = cl.consultant_id
              JOIN jobseekers j ON j.id = cl.jobseeker_id
              WHERE cl.jobseeker_id = p.jobseeker_id AND j.share_with_municipality)
    END AS m
    FROM (SELECT DISTINCT jobseeker_id FROM item) p
), ev AS (
    INSERT INTO integration_events (type, subject, jobseeker_id, municipalities, data)
    SELECT $2, item.subject, item.jobseeker_id, a.m, item.data
    FROM item JOIN audience a ON a.jobseeker_id IS NOT DISTINCT FROM item.jobseeker_id
    WHERE item.jobseeker_id IS NULL OR a.m IS NOT NULL
    ORDER BY item.ord
    RETURNING id, type, municipalities
), fanout AS (
    INSERT INTO webhook_deliveries (event_id, subscription_id)
    SELECT ev.id, s.id
    FROM ev
    JOIN webhook_subscriptions s ON cardinality(s.types) = 0 OR ev.type = ANY(s.types)
    JOIN integrations i ON i.id = s.integration_id
    WHERE ev.municipalities IS NULL OR i.municipality = ANY(ev.municipalities)
)
SELECT id FROM ev ORDER BY id
"""


def _check_type(type_: str) -> None:
    if type_ not in TYPES:
        raise ValueError(f"unknown integration event type {type_!r}")


async def emit_many(
    conn: asyncpg.Connection,
    type_: str,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    jobseeker_id: uuid.UUID | None = None,
    audience: Sequence[str] | None = None,
) -> list[int]:
    """Events of one type, (subject, data) each, about one person or none, in one
    statement on the caller's open transaction. Returns their ids ([] when the
    person is on no sharing caseload: then nothing is written)."""
    return await _emit(conn, type_, [jobseeker_id] * len(items), items, audience)


async def _emit(
    conn: asyncpg.Connection,
    type_: str,
    people: Sequence[uuid.UUID | None],
    items: Sequence[tuple[str, Mapping[str, Any]]],
    audience: Sequence[str] | None = None,
) -> list[int]:
    """Events of one type, item k about `people[k]` (or nobody), in one statement;
    an item about a person on no sharing caseload is not written."""
    _check_type(type_)
    if not items:
        return []
    rows = await conn.fetch(
        _EMIT_SQL,
        list(people),
        type_,
        [s for s, _ in items],
        [orjson.dumps(dict(d), default=str).decode() for _, d in items],
        list(audience) if audience is not None else None,
    )
    return [int(r["id"]) for r in rows]


async def emit(
    session: AsyncSession,
    type_: str,
    subject: str,
    data: Mapping[str, Any],
    jobseeker_id: uuid.UUID | None = None,
    audience: Sequence[str] | None = None,
) -> int | None:
    """One event in the session's transaction; its id, or None if no one may hear
    of it (a person who does not share). For other features (e.g. `interest.sent`):
    `await emit(session, "interest.sent", f"jobseekers/{sid}", {...}, jobseeker_id=sid)`."""
    conn = await geo.raw_connection(session)
    ids = await emit_many(conn, type_, [(subject, data)], jobseeker_id, audience)
    return ids[0] if ids else None


async def emit_pushed(
    conn: asyncpg.Connection,
    pushed: Sequence[tuple[uuid.UUID, uuid.UUID, float]],
) -> list[int]:
    """`match.pushed` for matches just recorded, for any number of people:
    (seeker id, vacancy id, score) each, one statement for the batch (nothing
    for people who do not share)."""
    items = [
        (f"jobseekers/{p}", {"jobseeker_id": str(p), "vacancy_id": str(v), "score": round(s, 4)})
        for p, v, s in pushed
    ]
    return await _emit(conn, "match.pushed", [p for p, _, _ in pushed], items)


async def emit_verdict(
    session: AsyncSession,
    review_id: uuid.UUID,
    consultant_id: uuid.UUID,
    jobseeker_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    verdict: str,
) -> int | None:
    """`verdict.recorded`; the consultant's free-text reason stays in the service."""
    data = {
        "review_id": str(review_id),
        "jobseeker_id": str(jobseeker_id),
        "vacancy_id": str(vacancy_id),
        "consultant_id": str(consultant_id),
        "verdict": verdict,
    }
    subject = f"jobseekers/{jobseeker_id}"
    return await emit(session, "verdict.recorded", subject, data, jobseeker_id=jobseeker_id)


async def emit_outcome(
    session: AsyncSession,
    consultant_id: uuid.UUID,
    jobseeker_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    outcome: str,
) -> int | None:
    data = {
        "jobseeker_id": str(jobseeker_id),
        "vacancy_id": str(vacancy_id),
        "consultant_id": str(consultant_id),
        "outcome": outcome,
    }
    subject = f"jobseekers/{jobseeker_id}"
    return await emit(session, "outcome.recorded", subject, data, jobseeker_id=jobseeker_id)


async def audience_of(conn: asyncpg.Connection, jobseeker_id: uuid.UUID) -> list[str]:
    """The municipalities that hear about this person now ([] if none)."""
    value = await conn.fetchval(
        """
        SELECT array_agg(DISTINCT c.municipality ORDER BY c.municipality)
        FROM caseload cl JOIN consultants c ON c.id = cl.consultant_id
        JOIN jobseekers j ON j.id = cl.jobseeker_id
        WHERE cl.jobseeker_id = $1 AND j.share_with_municipality
        """,
        jobseeker_id,
    )
    return list(value or [])


async def cancel_pending(conn: asyncpg.Connection, jobseeker_id: uuid.UUID) -> int:
    """Stop webhook deliveries not yet made of events about this person (consent
    withdrawn): they end dead-lettered with the reason, and cannot be replayed."""
    status = await conn.execute(
        """
        UPDATE webhook_deliveries d SET dead_at = now(), last_error = 'consent withdrawn'
        FROM integration_events e
        WHERE e.id = d.event_id AND e.jobseeker_id = $1
          AND d.delivered_at IS NULL AND d.dead_at IS NULL
        """,
        jobseeker_id,
    )
    return int(status.split()[-1])


# --- the pull feed ------------------------------------------------------------

_CURSOR = re.compile(r"^(\d{1,19})-(\d{1,19})$")


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    txid: int
    type: str
    subject: str
    data: dict[str, Any]
    occurred_at: dt.datetime

    @property
    def cursor(self) -> str:
        return encode_cursor(self.txid, self.id)


def encode_cursor(txid: int, event_id: int) -> str:
    return f"{txid}-{event_id}"


def decode_cursor(cursor: str | None) -> tuple[int, int]:
    """(txid, id) after which to read; the start for None or ""."""
    if not cursor:
        return 0, 0
    m = _CURSOR.match(cursor)
    if m is None:
        raise Invalid("after must be a cursor from an earlier page (`next_cursor`)")
    return int(m.group(1)), int(m.group(2))


# The feed's horizon: below it, every transaction of this database that could
# write an event has ended. It is the smallest id among this database's running
# (or prepared) transactions, or the next id to be handed out if none runs.
# Transaction ids are cluster-wide, but pg_snapshot_xmin() would let a long
# transaction in any other database of the cluster stall the feed, so the
# snapshot's in-progress list is narrowed to our database's backends (visible
# to the role that writes events, which is the service's own). Read in its own
# statement *before* the events are (READ COMMITTED: a newer snapshot), so
# everything below the horizon has committed or aborted by the time they are.
_HORIZON_SQL = """
WITH s AS (SELECT pg_current_snapshot() AS snap),
ours AS (
    SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
    WHERE datname = current_database() AND backend_xid IS NOT NULL
    UNION ALL
    SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database()
)
SELECT LEAST(
    (SELECT pg_snapshot_xmax(snap)::text::bigint FROM s),
    (SELECT min(x::text::bigint) FROM s, pg_snapshot_xip(s.snap) AS x
     WHERE (x::text::bigint & 4294967295) IN (SELECT xid FROM ours))
)
"""

_FEED_SQL = """
SELECT id, txid, type, subject, data, occurred_at
FROM integration_events
WHERE (txid, id) > ($1, $2)
  AND txid < $5
  AND (municipalities IS NULL OR $3 = ANY(municipalities))
ORDER BY txid, id
LIMIT $4
"""


def _event(row: Mapping[str, Any]) -> Event:
    data = row["data"]
    return Event(
        id=int(row["id"]),
        txid=int(row["txid"]),
        type=row["type"],
        subject=row["subject"],
        data=orjson.loads(data) if isinstance(data, str | bytes) else dict(data),
        occurred_at=row["occurred_at"],
    )


async def feed(
    session: AsyncSession, municipality: str, after: str | None, limit: int
) -> tuple[list[Event], str]:
    """Events this municipality may see after the cursor, in feed order, and the
    cursor to continue from (the same one if there was nothing new)."""
    txid, event_id = decode_cursor(after)
    conn = await geo.raw_connection(session)
    horizon = int(await conn.fetchval(_HORIZON_SQL))
    rows = await conn.fetch(_FEED_SQL, txid, event_id, municipality, limit, horizon)
    events = [_event(r) for r in rows]
    return events, events[-1].cursor if events else encode_cursor(txid, event_id)


def cloudevent(
    source: str, event_id: int, type_: str, subject: str, occurred_at: dt.datetime, data: Any
) -> dict[str, Any]:
    """The CloudEvents 1.0 structured-mode envelope of an event."""
    return {
        "specversion": "1.0",
        "id": f"evt_{event_id}",
        "source": source,
        "type": type_,
        "time": occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }
