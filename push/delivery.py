"""Durable delivery: every push is a row before it is a frame.

A delivery gets the seeker's next sequence number and is unique per seeker,
vacancy and kind, so a vacancy is pushed once even when a location update in
one worker and a new-vacancy event in another race. The recorder first locks
the people's `push_streams` rows (in id order), then decides what is new in a
statement that starts after the lock: the race's loser sees the winner's
committed delivery and takes no number, so a person's numbers stay dense (a
`last_seq` in hello is always a delivery that exists). Clients still skip gaps:
a delivery of a person erased meanwhile is never read.

Acks are cumulative and per device (`push_device_acks`): `ack n` from a device
acknowledges every delivery up to n *for that device only*, so one phone's ack
never swallows what the tablet missed. On connect a device is replayed, in
order, everything after its own ack. A device seen for the first time starts at
the person's current sequence number (the REST match list shows what is older).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from matcher.analytics import feedback
from matcher.integrations import integration_events

MATCH = "match"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Delivery:
    jobseeker_id: uuid.UUID
    seq: int
    payload: dict[str, Any]


# Each person's stream row, created if missing and locked, in id order (two
# workers recording overlapping batches cannot deadlock). ON CONFLICT DO UPDATE
# locks the latest row version, waiting for a concurrent recorder to commit;
# the statement after this one then sees that recorder's deliveries.
_LOCK_STREAMS_SQL = """
INSERT INTO push_streams AS s (jobseeker_id, push_seq)
SELECT j.id, 0 FROM jobseekers j WHERE j.id = ANY($1::uuid[]) ORDER BY j.id
ON CONFLICT (jobseeker_id) DO UPDATE SET push_seq = s.push_seq
"""

# Deliveries of many people in one statement, under the stream locks: each
# person's stream advances by their number of new items and numbers them in
# order from there.
_RECORD_SQL = """
WITH given AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $4::jsonb[], $5::float8[]) WITH ORDINALITY
        AS i(jobseeker_id, vacancy_id, payload, score, ord)
), item AS (
    -- What will really be inserted, before any number is taken, so a person's
    -- numbers stay dense: not already delivered (once per vacancy and kind), not
    -- dismissed (on any device: checked here, where every push is recorded, so
    -- no path can forget it), once per person and vacancy within the batch.
    SELECT DISTINCT ON (g.jobseeker_id, g.vacancy_id) g.* FROM given g
    WHERE NOT EXISTS (
        SELECT 1 FROM push_deliveries d
        WHERE d.jobseeker_id = g.jobseeker_id AND d.vacancy_id = g.vacancy_id AND d.kind = $3
    ) AND ($3::text <> 'match' OR NOT EXISTS (
        SELECT 1 FROM seeker_vacancy_marks m
        WHERE m.jobseeker_id = g.jobseeker_id AND m.vacancy_id = g.vacancy_id
          AND m.mark = 'dismissed'
    ))
    ORDER BY g.jobseeker_id, g.vacancy_id, g.ord
), wanted AS (
    SELECT jobseeker_id, count(*) AS n FROM item GROUP BY jobseeker_id
), alloc AS (
    INSERT INTO push_streams AS s (jobseeker_id, push_seq)
    SELECT w.jobseeker_id, w.n FROM wanted w
    -- Only people who exist: a person erased meanwhile gets nothing.
    WHERE EXISTS (SELECT 1 FROM jobseekers j WHERE j.id = w.jobseeker_id)
    ORDER BY w.jobseeker_id
    ON CONFLICT (jobseeker_id) DO UPDATE SET push_seq = s.push_seq + EXCLUDED.push_seq
    RETURNING s.jobseeker_id, s.push_seq
)
INSERT INTO push_deliveries (jobseeker_id, seq, kind, vacancy_id, payload, score)
SELECT item.jobseeker_id,
       alloc.push_seq - wanted.n
           + row_number() OVER (PARTITION BY item.jobseeker_id ORDER BY item.ord),
       $3::text, item.vacancy_id, item.payload, item.score
FROM item
JOIN wanted USING (jobseeker_id)
JOIN alloc USING (jobseeker_id)
-- Cannot conflict under the stream lock; kept so a missed lock is a gap, not an error.
ON CONFLICT ON CONSTRAINT uq_push_deliveries_once DO NOTHING
RETURNING jobseeker_id, seq, vacancy_id, payload
"""

Item = tuple[uuid.UUID, dict[str, Any], float | None]


async def record(
    conn: asyncpg.Connection,
    jobseeker_id: uuid.UUID,
    kind: str,
    items: Sequence[Item],
) -> list[Delivery]:
    """Record deliveries for one seeker; returns those that were new, by seq."""
    return await record_many(conn, kind, [(jobseeker_id, i) for i in items])


async def record_many(
    conn: asyncpg.Connection,
    kind: str,
    items: Sequence[tuple[uuid.UUID, Item]],
) -> list[Delivery]:
    """Record deliveries for many seekers in one statement (a batch of vacancy
    changes); returns those that were new, by seeker and seq. In the caller's
    transaction, or in one of its own (the stream locks must hold to commit)."""
    if conn.is_in_transaction():
        return await _record_many(conn, kind, items)
    async with conn.transaction():
        return await _record_many(conn, kind, items)


async def _record_many(
    conn: asyncpg.Connection,
    kind: str,
    items: Sequence[tuple[uuid.UUID, Item]],
) -> list[Delivery]:
    if kind == MATCH and items:
        # Only vacancies still open and shown, re-read under a share lock taken
        # before any seq: a close committing meanwhile is waited for and then
        # seen, so its withdrawals (recorded in the closing transaction) can
        # never miss a match recorded here. Locked in id order: no deadlock
        # between two batches.
        live = {
            r[0]
            for r in await conn.fetch(
                "SELECT id FROM vacancies WHERE id = ANY($1::uuid[]) AND status = 'open'"
                " AND hidden_at IS NULL ORDER BY id FOR SHARE",
                list({i[0] for _, i in items}),
            )
        }
        items = [(s, i) for s, i in items if i[0] in live]
    if not items:
        return []
    await conn.execute(_LOCK_STREAMS_SQL, sorted({s for s, _ in items}))
    rows = await conn.fetch(
        _RECORD_SQL,
        [s for s, _ in items],
        [i[0] for _, i in items],
        kind,
        [orjson.dumps(i[1]).decode() for _, i in items],
        [i[2] for _, i in items],
    )
    out = [Delivery(r["jobseeker_id"], r["seq"], _json(r["payload"])) for r in rows]
    if kind == MATCH and out:
        # Each new match is also a `pushed` feedback event, and for the
        # municipality's case system (if the person shares) a `match.pushed`: in
        # this transaction, one statement each for everyone in the batch.
        pushed = [
            (d.jobseeker_id, r["vacancy_id"], d.payload) for r, d in zip(rows, out, strict=True)
        ]
        await feedback.record_pushed(conn, pushed)
        await integration_events.emit_pushed(
            conn, [(s, v, float(p.get("score") or 0.0)) for s, v, p in pushed]
        )
    return sorted(out, key=lambda d: (str(d.jobseeker_id), d.seq))


def _json(value: Any) -> dict[str, Any]:
    return orjson.loads(value) if isinstance(value, str | bytes) else value  # type: ignore[no-any-return]


async def pushed_vacancies(conn: asyncpg.Connection, jobseeker_id: uuid.UUID) -> set[uuid.UUID]:
    """Every vacancy this seeker was ever pushed a match of, or dismissed: the
    candidates push skips."""
    rows = await conn.fetch(
        "SELECT vacancy_id FROM push_deliveries WHERE jobseeker_id = $1 AND kind = 'match'"
        " UNION SELECT vacancy_id FROM seeker_vacancy_marks"
        " WHERE jobseeker_id = $1 AND mark = 'dismissed'",
        jobseeker_id,
    )
    return {r["vacancy_id"] for r in rows}


async def start_device(
    conn: asyncpg.Connection, jobseeker_id: uuid.UUID, device_id: str
) -> tuple[int, int]:
    """(last_seq, acked_seq) for a device that is connecting; a new device is
    registered as having everything up to now."""
    row = await conn.fetchrow(
        """
        WITH me AS (SELECT COALESCE(s.push_seq, 0) AS push_seq FROM jobseekers j
                    LEFT JOIN push_streams s ON s.jobseeker_id = j.id WHERE j.id = $1)
        INSERT INTO push_device_acks AS d (jobseeker_id, device_id, acked_seq)
        SELECT $1, $2, me.push_seq FROM me
        ON CONFLICT (jobseeker_id, device_id) DO UPDATE SET seen_at = now()
        RETURNING d.acked_seq, (SELECT push_seq FROM me) AS last_seq
        """,
        jobseeker_id,
        device_id,
    )
    if row is None:
        raise LookupError("jobseeker not found")
    return int(row["last_seq"]), int(row["acked_seq"])


async def ack(conn: asyncpg.Connection, jobseeker_id: uuid.UUID, device_id: str, seq: int) -> int:
    """Record a device's cumulative ack (never backwards, never past what exists);
    returns the device's ack after it."""
    value = await conn.fetchval(
        """
        UPDATE push_device_acks SET
            acked_seq = GREATEST(acked_seq,
                                 LEAST($3, COALESCE((SELECT push_seq FROM push_streams
                                                     WHERE jobseeker_id = $1), 0))),
            seen_at = now()
        WHERE jobseeker_id = $1 AND device_id = $2
        RETURNING acked_seq
        """,
        jobseeker_id,
        device_id,
        seq,
    )
    return int(value or 0)


async def forget_devices(conn: asyncpg.Connection, days: int) -> int:
    """Devices not seen for `days` are forgotten; if one comes back it starts afresh."""
    status = await conn.execute(
        "DELETE FROM push_device_acks WHERE seen_at < now() - make_interval(days => $1)", days
    )
    return int(status.split()[-1])


async def between(
    conn: asyncpg.Connection, jobseeker_id: uuid.UUID, lo: int, hi: int
) -> list[Delivery]:
    rows = await conn.fetch(
        "SELECT seq, payload FROM push_deliveries"
        " WHERE jobseeker_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
        jobseeker_id,
        lo,
        hi,
    )
    return [Delivery(jobseeker_id, r["seq"], _json(r["payload"])) for r in rows]


async def record_withdrawals(conn: asyncpg.Connection, vacancy_ids: Sequence[uuid.UUID]) -> int:
    """When vacancies close: one `withdrawn` for everyone who got their match.

    Runs in the closing transaction (push/write_side.py), once, whether or not
    those people are connected; they get it live or on their next resume. One
    statement per person, in id order (so two closing transactions lock people's
    rows in the same order), not one per person and vacancy.
    """
    if not vacancy_ids:
        return 0
    rows = await conn.fetch(
        "SELECT jobseeker_id, vacancy_id FROM push_deliveries"
        " WHERE vacancy_id = ANY($1::uuid[]) AND kind = 'match'"
        " ORDER BY jobseeker_id, vacancy_id",
        list(vacancy_ids),
    )
    by_person: dict[uuid.UUID, list[tuple[uuid.UUID, dict[str, Any], float | None]]] = {}
    for r in rows:
        vid = r["vacancy_id"]
        payload = {"type": "withdrawn", "vacancy_id": str(vid)}
        by_person.setdefault(r["jobseeker_id"], []).append((vid, payload, None))
    count = 0
    for jobseeker_id, items in by_person.items():
        count += len(await record(conn, jobseeker_id, WITHDRAWN, items))
    return count


async def withdrawals_for(
    conn: asyncpg.Connection, vacancy_id: uuid.UUID, jobseeker_ids: list[uuid.UUID]
) -> list[Delivery]:
    rows = await conn.fetch(
        "SELECT jobseeker_id, seq, payload FROM push_deliveries"
        " WHERE vacancy_id = $1 AND kind = 'withdrawn' AND jobseeker_id = ANY($2::uuid[])"
        " ORDER BY seq",
        vacancy_id,
        jobseeker_ids,
    )
    return [Delivery(r["jobseeker_id"], r["seq"], _json(r["payload"])) for r in rows]
