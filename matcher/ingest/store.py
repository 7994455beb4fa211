"""The SQL of an import: cursor, employers, vacancy upserts, closing.

Every function runs on the asyncpg connection under the caller's transaction
(`connection(session)`) and never commits: the importer decides what one
transaction holds (a page of ads and the cursor after it).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.matching.geo import raw_connection
from matcher.models import VacancyStatus
from matcher.posting.employer_trust import cvr_valid


async def connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`, inside the session's transaction.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement
    *it* executes: statements sent straight to the driver before that would each
    commit on their own. One statement through the session first makes the
    transaction real, so a page is all-or-nothing.
    """
    await session.execute(text("SELECT 1"))
    conn = await raw_connection(session)
    if not conn.is_in_transaction():
        raise RuntimeError("expected to be inside the session's transaction")
    return conn


# The columns an import owns; everything else on a vacancy keeps its default.
COLUMNS: tuple[str, ...] = (
    "id",  # a new id; ignored when the ad is already there
    "employer_id",
    "source_ref",
    "title",
    "description",
    "occupation_id",
    "lon",
    "lat",
    "address",
    "location_precision",
    "required_skill_ids",
    "required_skill_weights",
    "optional_skill_ids",
    "job_type",
    "hours_per_week",
    "min_age",
    "openings",
    "start_date",
    "expires_at",
    "status",
    "apply",
    "work_profile",
)
_COMPARED: tuple[str, ...] = (
    "employer_id", "title", "description", "occupation_id", "address", "location_precision",
    "required_skill_ids", "required_skill_weights", "optional_skill_ids", "job_type",
    "hours_per_week", "min_age", "openings", "start_date", "expires_at", "status", "apply",
    "work_profile",
)  # fmt: skip
_SET = ",\n    ".join(f"{c} = EXCLUDED.{c}" for c in (*_COMPARED, "location"))
_OLD = ", ".join(f"v.{c}" for c in _COMPARED)
_NEW = ", ".join(f"EXCLUDED.{c}" for c in _COMPARED)

# Only rows that really change are written (and counted, and announced): a
# re-import of the same ads is a no-op, not 35,000 dead tuples and pushes.
UPSERT_SQL = f"""
INSERT INTO vacancies AS v (
    id, employer_id, source, source_ref, title, description, occupation_id, location, address,
    location_precision, required_skill_ids, required_skill_weights, optional_skill_ids,
    job_type, hours_per_week, min_age, openings, start_date, expires_at, status, apply,
    work_profile
) VALUES (
    $1, $2, 'import', $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326)::geography, $9,
    $10, $11::int[], $12::real[], $13::int[], $14::job_type, $15, $16, $17, $18, $19,
    $20::vacancy_status, $21::jsonb, $22::real[]
)
ON CONFLICT ON CONSTRAINT uq_vacancies_source_ref DO UPDATE SET
    {_SET},
    updated_at = now()
WHERE ({_OLD}) IS DISTINCT FROM ({_NEW})
   OR ST_AsBinary(v.location) IS DISTINCT FROM ST_AsBinary(EXCLUDED.location)
RETURNING id
"""


# --- cursor --------------------------------------------------------------------------


async def ensure_state(conn: asyncpg.Connection, source: str, reset: bool) -> str | None:
    """Create the source's state row if missing (so it can be locked); the stored cursor."""
    await conn.execute(
        "INSERT INTO import_state (source) VALUES ($1) ON CONFLICT (source) DO NOTHING", source
    )
    if reset:
        await conn.execute(
            "UPDATE import_state SET cursor = NULL, updated_at = now() WHERE source = $1", source
        )
    cursor: str | None = await conn.fetchval(
        "SELECT cursor FROM import_state WHERE source = $1", source
    )
    return cursor


async def lock_cursor(conn: asyncpg.Connection, source: str) -> str | None:
    cursor: str | None = await conn.fetchval(
        "SELECT cursor FROM import_state WHERE source = $1 FOR UPDATE", source
    )
    return cursor


async def save_cursor(conn: asyncpg.Connection, source: str, cursor: str) -> None:
    await conn.execute(
        "UPDATE import_state SET cursor = $2, updated_at = now() WHERE source = $1",
        source,
        cursor,
    )


# --- employers -----------------------------------------------------------------------


def employer_key(source: str, name: str, cvr: str | None) -> str:
    return f"{source}:{cvr or '-'}:{' '.join(name.casefold().split())}"[:240]


async def employer_ids(
    conn: asyncpg.Connection, employers: dict[str, tuple[str, str | None]]
) -> dict[str, uuid.UUID]:
    """key -> employer id, creating the missing ones.

    An imported employer cannot log in: its key hash is the SHA-256 of a random
    secret that is never shown or stored. One with a CVR number that passes the
    modulus-11 check counts as verified (docs/security.md, "Employer trust"):
    the ad comes from the state's Jobnet, where the employer is known by CVR.
    """
    if not employers:
        return {}
    keys = list(employers)
    await conn.execute(
        "INSERT INTO employers (id, name, cvr, api_key_hash, import_key,"
        " verification_status, verified_by_type, verified_at)"
        " SELECT i, n, c, h, k, CASE WHEN v THEN 'verified' ELSE 'unverified' END,"
        "        CASE WHEN v THEN 'jobnet' END, CASE WHEN v THEN now() END"
        " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::text[],"
        "             $6::bool[]) AS t(i, n, c, h, k, v)"
        " ON CONFLICT (import_key) DO NOTHING",
        [uuid.uuid4() for _ in keys],
        [employers[k][0] for k in keys],
        [employers[k][1] for k in keys],
        [hashlib.sha256(secrets.token_bytes(32)).digest() for _ in keys],
        keys,
        [bool(employers[k][1]) and cvr_valid(employers[k][1] or "") for k in keys],
    )
    rows = await conn.fetch(
        "SELECT import_key, id FROM employers WHERE import_key = ANY($1::text[])", keys
    )
    return {r["import_key"]: r["id"] for r in rows}


# --- vacancies -----------------------------------------------------------------------


async def lock_existing(
    conn: asyncpg.Connection, refs: Sequence[str]
) -> dict[str, tuple[uuid.UUID, str]]:
    """source_ref -> (id, status) of the imported vacancies among `refs`, locked."""
    if not refs:
        return {}
    rows = await conn.fetch(
        "SELECT source_ref, id, status::text AS status FROM vacancies"
        " WHERE source = 'import' AND source_ref = ANY($1::text[])"
        " ORDER BY source_ref FOR UPDATE",
        list(refs),
    )
    return {r["source_ref"]: (r["id"], r["status"]) for r in rows}


async def upsert(conn: asyncpg.Connection, row: dict[str, Any]) -> uuid.UUID | None:
    """Insert or update one vacancy; its id if anything was written, None if unchanged."""
    values = {**row, "id": uuid.uuid4()}
    vacancy_id: uuid.UUID | None = await conn.fetchval(UPSERT_SQL, *(values[c] for c in COLUMNS))
    return vacancy_id


async def close(conn: asyncpg.Connection, refs: Sequence[str]) -> list[uuid.UUID]:
    """Close the open imported vacancies among `refs` (withdrawn at the source)."""
    if not refs:
        return []
    rows = await conn.fetch(
        "UPDATE vacancies SET status = 'closed', updated_at = now()"
        " WHERE source = 'import' AND source_ref = ANY($1::text[]) AND status = 'open'"
        " RETURNING id",
        list(refs),
    )
    return [r["id"] for r in rows]


async def expire_due(conn: asyncpg.Connection, batch: int = 1000) -> list[uuid.UUID]:
    """Mark imported vacancies past their deadline as expired (at most `batch`)."""
    rows = await conn.fetch(
        "UPDATE vacancies SET status = 'expired', updated_at = now() WHERE id IN ("
        "  SELECT id FROM vacancies WHERE source = 'import' AND status = 'open'"
        "  AND expires_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING id",
        batch,
    )
    return [r["id"] for r in rows]


OPEN = VacancyStatus.OPEN.value


# --- listing sources: what was seen, and sweeps ------------------------------------


async def known_hashes(
    conn: asyncpg.Connection, source: str, refs: Sequence[str]
) -> dict[str, str | None]:
    if not refs:
        return {}
    rows = await conn.fetch(
        "SELECT ref, content_hash FROM import_ads WHERE source = $1 AND ref = ANY($2::text[])",
        source,
        list(refs),
    )
    return {r["ref"]: r["content_hash"] for r in rows}


async def record_seen(
    conn: asyncpg.Connection, source: str, seen: Sequence[tuple[str, str | None]]
) -> None:
    """Remember each ad's row hash (None: fetch it again next time) and that it was seen now."""
    if not seen:
        return
    await conn.execute(
        "INSERT INTO import_ads (source, ref, content_hash, last_seen)"
        " SELECT $1, ref, h, now() FROM unnest($2::text[], $3::text[]) AS t(ref, h)"
        " ON CONFLICT (source, ref) DO UPDATE"
        " SET content_hash = EXCLUDED.content_hash, last_seen = EXCLUDED.last_seen",
        source,
        [r for r, _ in seen],
        [h for _, h in seen],
    )


async def open_count(conn: asyncpg.Connection, source: str) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM vacancies WHERE source = 'import' AND status = 'open'"
        " AND starts_with(source_ref, $1 || ':')",
        source,
    )
    return n


async def seen_count(conn: asyncpg.Connection, source: str, since: Any) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM import_ads WHERE source = $1 AND last_seen >= $2", source, since
    )
    return n


async def close_unseen(conn: asyncpg.Connection, source: str, since: Any) -> list[uuid.UUID]:
    """Close this source's open vacancies whose ad no listing pass saw since `since`.

    Their stored row hashes are forgotten too: an ad that a sweep missed (the
    listing shifted under it while it paged) and closed comes back as "changed" the
    next time a pass sees it, and is reopened.
    """
    rows = await conn.fetch(
        "WITH closed AS ("
        "  UPDATE vacancies v SET status = 'closed', updated_at = now()"
        "  WHERE v.source = 'import' AND v.status = 'open'"
        "  AND starts_with(v.source_ref, $1 || ':')"
        "  AND NOT EXISTS (SELECT 1 FROM import_ads a WHERE a.source = $1"
        "    AND v.source_ref = $1 || ':' || a.ref AND a.last_seen >= $2)"
        "  RETURNING v.id, v.source_ref"
        "), forgotten AS ("
        "  UPDATE import_ads a SET content_hash = NULL FROM closed c"
        "  WHERE a.source = $1 AND c.source_ref = $1 || ':' || a.ref"
        ") SELECT id FROM closed",
        source,
        since,
    )
    return [r["id"] for r in rows]
