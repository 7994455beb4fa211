"""Web Push subscriptions (`webpush_subscriptions`): one per browser install.

An endpoint is a capability URL (whoever has it can push to that browser), so
it is never logged (api/redaction.py masks it anyway) and never returned.
A browser has one endpoint; subscribing again from it (the same or another
person on a shared phone) moves it to whoever subscribed last.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

# A person's subscriptions beyond this many: the oldest go (each install makes one).
MAX_PER_SEEKER = 10


@dataclass(frozen=True, slots=True)
class Subscription:
    id: uuid.UUID
    jobseeker_id: uuid.UUID
    endpoint: str
    p256dh: str
    auth: str


async def add(
    conn: asyncpg.Connection, jobseeker_id: uuid.UUID, endpoint: str, p256dh: str, auth: str
) -> uuid.UUID:
    """Store a subscription (or move/refresh the one with this endpoint); call in
    a transaction. Returns its id."""
    sub_id: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO webpush_subscriptions (id, jobseeker_id, endpoint, p256dh, auth)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (endpoint) DO UPDATE SET
            jobseeker_id = EXCLUDED.jobseeker_id, p256dh = EXCLUDED.p256dh,
            auth = EXCLUDED.auth, created_at = now()
        RETURNING id
        """,
        uuid.uuid4(),
        jobseeker_id,
        endpoint,
        p256dh,
        auth,
    )
    await conn.execute(
        """
        DELETE FROM webpush_subscriptions WHERE jobseeker_id = $1 AND id NOT IN (
            SELECT id FROM webpush_subscriptions WHERE jobseeker_id = $1
            ORDER BY created_at DESC, id LIMIT $2)
        """,
        jobseeker_id,
        MAX_PER_SEEKER,
    )
    return sub_id


async def remove(conn: asyncpg.Connection, jobseeker_id: uuid.UUID, endpoint: str | None) -> int:
    """Unsubscribe one endpoint of this person (None: all of theirs)."""
    if endpoint is None:
        status = await conn.execute(
            "DELETE FROM webpush_subscriptions WHERE jobseeker_id = $1", jobseeker_id
        )
    else:
        status = await conn.execute(
            "DELETE FROM webpush_subscriptions WHERE jobseeker_id = $1 AND endpoint = $2",
            jobseeker_id,
            endpoint,
        )
    return int(status.split()[-1])


async def gone(conn: asyncpg.Connection, sub_id: uuid.UUID, endpoint: str) -> int:
    """The push service said the subscription is gone (404/410): forget it (only
    if it still has that endpoint, so a re-subscribe in between survives)."""
    status = await conn.execute(
        "DELETE FROM webpush_subscriptions WHERE id = $1 AND endpoint = $2", sub_id, endpoint
    )
    return int(status.split()[-1])


async def of_seekers(
    conn: asyncpg.Connection, jobseeker_ids: list[uuid.UUID]
) -> list[Subscription]:
    rows = await conn.fetch(
        "SELECT id, jobseeker_id, endpoint, p256dh, auth FROM webpush_subscriptions"
        " WHERE jobseeker_id = ANY($1::uuid[]) ORDER BY created_at",
        jobseeker_ids,
    )
    return [Subscription(**dict(r)) for r in rows]


async def count(conn: asyncpg.Connection, jobseeker_id: uuid.UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM webpush_subscriptions WHERE jobseeker_id = $1", jobseeker_id
        )
    )
