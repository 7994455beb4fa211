"""Who is connected, on any worker of any node: one `push_presence` row per live
websocket, so that

- a person has at most `JOTR_PUSH_MAX_CONNECTIONS` websockets in all, and
- their position is erased when their *last* connection anywhere closes, not
  when one worker's last connection of theirs does (docs/privacy.md).

Every worker refreshes its rows (and the `last_position_at` of the people it
holds) every `JOTR_PUSH_PRESENCE_REFRESH_S`; a row not refreshed for three
periods belongs to a dead worker (a SIGKILL, a lost node) and no longer counts.
The position has its own short TTL, so a dead worker's positions go too.

Opening and closing take a transaction-scoped advisory lock per person, so two
connects cannot both see room for one more, and a close cannot miss a
connect that is being registered elsewhere.
"""

from __future__ import annotations

import uuid

import asyncpg

# A presence row not refreshed for this many refresh periods is dead.
STALE_PERIODS = 3

_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('push_presence:' || $1::uuid::text, 0))"

_LIVE_SQL = """
SELECT count(*) FROM push_presence
WHERE jobseeker_id = $1 AND refreshed_at > now() - make_interval(secs => $2)
"""


async def register(
    conn: asyncpg.Connection,
    presence_id: uuid.UUID,
    jobseeker_id: uuid.UUID,
    device_id: str,
    node: str,
    limit: int,
    stale_s: float,
) -> bool:
    """Register a new connection unless the person already has `limit` live
    ones; call inside a transaction. False: refused."""
    await conn.execute(_LOCK_SQL, jobseeker_id)
    if await conn.fetchval(_LIVE_SQL, jobseeker_id, stale_s) >= limit:
        return False
    await conn.execute(
        "INSERT INTO push_presence (id, jobseeker_id, device_id, node) VALUES ($1, $2, $3, $4)",
        presence_id,
        jobseeker_id,
        device_id,
        node,
    )
    return True


async def release(
    conn: asyncpg.Connection, presence_id: uuid.UUID, jobseeker_id: uuid.UUID, stale_s: float
) -> bool:
    """Forget a closed connection and, if it was the person's last live one
    anywhere, their position; call inside a transaction. True: position erased."""
    await conn.execute(_LOCK_SQL, jobseeker_id)
    await conn.execute("DELETE FROM push_presence WHERE id = $1", presence_id)
    status = await conn.execute(
        "UPDATE push_streams SET last_position = NULL, last_position_at = NULL"
        " WHERE jobseeker_id = $1 AND last_position IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM push_presence WHERE jobseeker_id = $1"
        "                 AND refreshed_at > now() - make_interval(secs => $2))",
        jobseeker_id,
        stale_s,
    )
    return status.split()[-1] != "0"


async def refresh(
    conn: asyncpg.Connection,
    node: str,
    rows: list[tuple[uuid.UUID, uuid.UUID, str]],
) -> None:
    """Refresh this worker's live connections (presence id, person, device) and
    their people's positions. An upsert: if a sweeper took a row for dead during
    a database outage, the connection is registered again."""
    if not rows:
        return
    await conn.execute(
        """
        INSERT INTO push_presence (id, jobseeker_id, device_id, node)
        SELECT r.id, r.jobseeker_id, r.device_id, $4
        FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS r(id, jobseeker_id, device_id)
        WHERE EXISTS (SELECT 1 FROM jobseekers j WHERE j.id = r.jobseeker_id)
        ON CONFLICT (id) DO UPDATE SET refreshed_at = now()
        """,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        node,
    )
    await conn.execute(
        "UPDATE push_streams SET last_position_at = now()"
        " WHERE jobseeker_id = ANY($1::uuid[]) AND last_position IS NOT NULL",
        list({r[1] for r in rows}),
    )


async def token_hashes(
    conn: asyncpg.Connection, jobseeker_ids: list[uuid.UUID]
) -> dict[uuid.UUID, frozenset[bytes]]:
    """The token hashes of each person's signed-in devices (someone deleted, or
    with no device left, is absent): connections opened with any other hash were
    revoked elsewhere (matcher/people/devices.py)."""
    rows = await conn.fetch(
        "SELECT jobseeker_id, array_agg(token_hash) AS hashes FROM seeker_devices"
        " WHERE jobseeker_id = ANY($1::uuid[]) GROUP BY jobseeker_id",
        jobseeker_ids,
    )
    return {r["jobseeker_id"]: frozenset(bytes(h) for h in r["hashes"]) for r in rows}


async def sweep(conn: asyncpg.Connection, stale_s: float, position_max_age_s: float) -> int:
    """Drop dead workers' presence rows and erase positions not refreshed within
    `position_max_age_s`; returns how many positions were erased."""
    await conn.execute(
        "DELETE FROM push_presence WHERE refreshed_at < now() - make_interval(secs => $1)",
        stale_s,
    )
    status = await conn.execute(
        "UPDATE push_streams SET last_position = NULL, last_position_at = NULL"
        " WHERE last_position_at < now() - make_interval(secs => $1)",
        position_max_age_s,
    )
    return int(status.split()[-1])
