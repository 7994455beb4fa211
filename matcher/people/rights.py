"""A person's data rights: a copy of everything about them, and retention.

The export is driven by the database's own catalog, not a list in code: every
table with a foreign key to `jobseekers` or a `jobseeker_id`/`seeker_id` column
is read, so a table added later cannot be left out of it
(tests/test_consent_and_rights.py enumerates them the same way and checks).
Secrets (hash/token/secret columns, Web Push keys and endpoints, raw bytes) never
leave; positions leave as GeoJSON.

Retention: `last_active_at` is touched at most once a day when the person uses
the service; `sweep_inactive` deletes accounts unused for longer than
`JOTR_INACTIVE_DELETE_AFTER_DAYS`, through the same erasure as
`DELETE /v1/jobseekers/me`, and reports counts only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.models import Jobseeker
from matcher.people import accounts

log = logging.getLogger("jotr.retention")

# How often `last_active_at` is rewritten at most: a day's precision is plenty
# for a retention period counted in months, and most requests then write nothing.
TOUCH_EVERY = dt.timedelta(days=1)
# pg_try_advisory_xact_lock key: one sweeper at a time over all workers and nodes.
SWEEP_LOCK = 0x6A6F7472_0013
SUBJECT_TABLE = "jobseekers"
AUDIT_TABLE = "audit_log"
IDEMPOTENCY_TABLE = "idempotency_keys"
PERSON_COLUMNS = ("jobseeker_id", "seeker_id")
# Secrets, and a Web Push subscription's keys and capability URL (whoever holds
# them can push to the phone): the export says the subscription exists, not these.
SECRET_COLUMN = r"(hash|secret|token|^endpoint$|^p256dh$|^auth$)"

# Tables holding the person: (table, columns that hold their id), from the catalog.
PERSON_TABLES_SQL = """
SELECT c.conrelid::regclass::text AS tbl, a.attname::text AS col
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
WHERE c.contype = 'f' AND c.confrelid = 'jobseekers'::regclass
UNION
SELECT table_name::text, column_name::text
FROM information_schema.columns
WHERE table_schema = current_schema() AND column_name = ANY (:person_columns)
  AND table_name <> 'jobseekers'
"""

COLUMNS_SQL = """
SELECT table_name::text, column_name::text, data_type::text, udt_name::text
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY (:tables)
"""


async def person_tables(session: AsyncSession) -> dict[str, list[str]]:
    """Every table that holds a jobseeker, with the columns holding their id
    (the `jobseekers` row itself and the audit log are added by `export`)."""
    rows = await session.execute(text(PERSON_TABLES_SQL), {"person_columns": list(PERSON_COLUMNS)})
    out: dict[str, list[str]] = {}
    for tbl, col in rows:
        out.setdefault(tbl.strip('"'), []).append(col)
    return {t: sorted(set(cols)) for t, cols in sorted(out.items())}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def export(session: AsyncSession, seeker_id: uuid.UUID) -> dict[str, Any]:
    """Everything stored about the person, one key per table."""
    tables: dict[str, str] = {SUBJECT_TABLE: "t.id = :id"}
    for tbl, cols in (await person_tables(session)).items():
        tables[tbl] = " OR ".join(f"t.{_ident(c)} = :id" for c in cols)
    # The audit rows about the person, and those of their own doing.
    tables[AUDIT_TABLE] = (
        "(t.subject_type = 'jobseeker' AND t.subject_id = :id)"
        " OR (t.actor_type = 'jobseeker' AND t.actor_id = :id)"
    )
    # Retried POSTs' stored answers: that they exist, not the answers (which may
    # hold a secret shown once).
    tables[IDEMPOTENCY_TABLE] = "t.owner_id = :id"
    columns = await session.execute(text(COLUMNS_SQL), {"tables": list(tables)})
    hidden: dict[str, list[str]] = {t: [] for t in tables}
    hidden[IDEMPOTENCY_TABLE].append("response")
    spatial: dict[str, list[str]] = {t: [] for t in tables}
    for tbl, col, data_type, udt in columns:
        if data_type == "bytea" or re.search(SECRET_COLUMN, col):
            hidden[tbl].append(col)
        elif udt in ("geography", "geometry"):
            spatial[tbl].append(col)
    out: dict[str, list[Any]] = {}
    for tbl, where in tables.items():
        row = "to_jsonb(t) - CAST(:hidden AS text[])"
        for col in spatial[tbl]:
            row += f" || jsonb_build_object('{col}', ST_AsGeoJSON(t.{_ident(col)})::jsonb)"
        sql = f"SELECT coalesce(jsonb_agg({row}), '[]'::jsonb) FROM {_ident(tbl)} t WHERE {where}"
        found = await session.scalar(
            text(sql),
            {"id": seeker_id, "hidden": hidden[tbl]},
        )
        out[tbl] = found if isinstance(found, list) else json.loads(found)
    return {
        "jobseeker_id": str(seeker_id),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "tables": out,
    }


async def touch_active(session: AsyncSession, seeker: Jobseeker) -> bool:
    """Note that the person used the service, at most once a day (no write otherwise)."""
    now = dt.datetime.now(dt.UTC)
    if seeker.last_active_at is not None and now - seeker.last_active_at < TOUCH_EVERY:
        return False
    seeker.last_active_at = now
    await session.flush()
    return True


async def sweep_inactive(session: AsyncSession, after_days: int, batch: int = 500) -> int | None:
    """Delete accounts unused for more than `after_days` and everything about them;
    returns how many (None if another sweeper holds the lock). The caller commits.
    Logs the count only, never who."""
    locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK})
    if not locked:
        return None
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=after_days)
    deleted = 0
    while True:
        ids = list(
            (
                await session.scalars(
                    select(Jobseeker.id)
                    .where(Jobseeker.last_active_at < cutoff)
                    .order_by(Jobseeker.last_active_at)
                    .limit(batch)
                )
            ).all()
        )
        if not ids:
            break
        await accounts.erase_jobseekers(session, ids)
        deleted += len(ids)
        if len(ids) < batch:
            break
    log.info("inactive accounts deleted", extra={"deleted": deleted, "after_days": after_days})
    return deleted
