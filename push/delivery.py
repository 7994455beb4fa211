"""Durable delivery: every push is a row before it is a frame.

A delivery gets the seeker's next sequence number (the `jobseekers.push_seq`
row lock orders concurrent writers across workers) and is unique per seeker,
vacancy and kind, so a vacancy is pushed once even when a location update in
one worker and a new-vacancy event in another race: the loser's insert does
nothing and its sequence number is simply skipped. Clients must accept gaps.

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

from matcher import feedback, integration_events

MATCH = "match"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Delivery:
    jobseeker_id: uuid.UUID
    seq: int
    payload: dict[str, Any]


_RECORD_SQL = """
WITH alloc AS (
    UPDATE jobseekers SET push_seq = push_seq + cardinality($2::uuid[])
    WHERE id = $1
    RETURNING push_seq - cardinality($2::uuid[]) AS base
)
INSERT INTO push_deliveries (jobseeker_id, seq, kind, vacancy_id, payload, score)
SELECT $1, alloc.base + item.ord, $3::text, item.vacancy_id, item.payload, item.score
FROM alloc,
     unnest($2::uuid[], $4::jsonb[], $5::float8[]) WITH ORDINALITY
        AS item(vacancy_id, payload, score, ord)
-- A vacancy the person dismissed (on any device) is never pushed to them: checked
-- here, where every push is recorded, so no path can forget it.
WHERE $3::text <> 'match' OR NOT EXISTS (
    SELECT 1 FROM seeker_vacancy_marks m
    WHERE m.jobseeker_id = $1 AND m.vacancy_id = item.vacancy_id AND m.mark = 'dismissed'
)
ON CONFLICT ON CONSTRAINT uq_push_deliveries_once DO NOTHING
RETURNING seq, vacancy_id, payload
"""


async def record(
    conn: asyncpg.Connection,
    jobseeker_id: uuid.UUID,
    kind: str,
    items: Sequence[tuple[uuid.UUID, dict[str, Any], float | None]],
) -> list[Delivery]:
    """Record deliveries for one seeker; returns those that were new, by seq."""
    if not items:
        return []
    rows = await conn.fetch(
        _RECORD_SQL,
        jobseeker_id,
        [i[0] for i in items],
        kind,
        [orjson.dumps(i[1]).decode() for i in items],
        [i[2] for i in items],
    )
    out = [Delivery(jobseeker_id, r["seq"], _json(r["payload"])) for r in rows]
    if kind == MATCH:  # each new match is also a `pushed` feedback event, in this transaction
        pushed = [(r["vacancy_id"], d.payload) for r, d in zip(rows, out, strict=True)]
        await feedback.record_pushed(conn, jobseeker_id, pushed)
        # For the municipality's case system, if the person shares (one statement).
        scores = [(v, float(p.get("score") or 0.0)) for v, p in pushed]
        await integration_events.emit_pushed(conn, jobseeker_id, scores)
    return sorted(out, key=lambda d: d.seq)


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
        WITH me AS (SELECT push_seq FROM jobseekers WHERE id = $1)
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
                                 LEAST($3, (SELECT push_seq FROM jobseekers WHERE id = $1))),
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
