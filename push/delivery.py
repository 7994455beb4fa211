"""Durable delivery: every push is a row before it is a frame.

A delivery gets the seeker's next sequence number (the `jobseekers.push_seq`
row lock orders concurrent writers across workers) and is unique per seeker,
vacancy and kind, so a vacancy is pushed once even when a location update in
one worker and a new-vacancy event in another race: the loser's insert does
nothing and its sequence number is simply skipped. Clients must accept gaps.

Acks are cumulative: `ack n` acknowledges every delivery up to n. A resume
replays the unacknowledged deliveries after the given sequence number, in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from matcher import feedback

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
SELECT $1, alloc.base + item.ord, $3, item.vacancy_id, item.payload, item.score
FROM alloc,
     unnest($2::uuid[], $4::jsonb[], $5::float8[]) WITH ORDINALITY
        AS item(vacancy_id, payload, score, ord)
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
    return sorted(out, key=lambda d: d.seq)


def _json(value: Any) -> dict[str, Any]:
    return orjson.loads(value) if isinstance(value, str | bytes) else value  # type: ignore[no-any-return]


async def pushed_vacancies(conn: asyncpg.Connection, jobseeker_id: uuid.UUID) -> set[uuid.UUID]:
    """Every vacancy this seeker was ever pushed a match of."""
    rows = await conn.fetch(
        "SELECT vacancy_id FROM push_deliveries WHERE jobseeker_id = $1 AND kind = 'match'",
        jobseeker_id,
    )
    return {r["vacancy_id"] for r in rows}


async def ack(conn: asyncpg.Connection, jobseeker_id: uuid.UUID, seq: int) -> int:
    status = await conn.execute(
        "UPDATE push_deliveries SET acked_at = now()"
        " WHERE jobseeker_id = $1 AND seq <= $2 AND acked_at IS NULL",
        jobseeker_id,
        seq,
    )
    return int(status.split()[-1])


async def unacked_after(
    conn: asyncpg.Connection, jobseeker_id: uuid.UUID, after_seq: int, limit: int = 500
) -> list[Delivery]:
    rows = await conn.fetch(
        "SELECT seq, payload FROM push_deliveries"
        " WHERE jobseeker_id = $1 AND seq > $2 AND acked_at IS NULL"
        " ORDER BY seq LIMIT $3",
        jobseeker_id,
        after_seq,
        limit,
    )
    return [Delivery(jobseeker_id, r["seq"], _json(r["payload"])) for r in rows]


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


async def record_withdrawals(conn: asyncpg.Connection, vacancy_id: uuid.UUID) -> int:
    """When a vacancy closes: one `withdrawn` for everyone who got its match.

    Runs in the closing transaction, once, whether or not those people are
    connected; they get it live or on their next resume.
    """
    rows = await conn.fetch(
        "SELECT jobseeker_id FROM push_deliveries WHERE vacancy_id = $1 AND kind = 'match'",
        vacancy_id,
    )
    payload = {"type": "withdrawn", "vacancy_id": str(vacancy_id)}
    count = 0
    for r in rows:
        count += len(
            await record(conn, r["jobseeker_id"], WITHDRAWN, [(vacancy_id, payload, None)])
        )
    return count


async def withdrawals_for(
    conn: asyncpg.Connection, vacancy_id: uuid.UUID, jobseeker_ids: list[uuid.UUID]
) -> list[Delivery]:
    rows = await conn.fetch(
        "SELECT jobseeker_id, seq, payload FROM push_deliveries"
        " WHERE vacancy_id = $1 AND kind = 'withdrawn' AND acked_at IS NULL"
        " AND jobseeker_id = ANY($2::uuid[])",
        vacancy_id,
        jobseeker_ids,
    )
    return [Delivery(r["jobseeker_id"], r["seq"], _json(r["payload"])) for r in rows]
