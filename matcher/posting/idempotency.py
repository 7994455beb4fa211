"""Idempotent POSTs: a retried request with the same `Idempotency-Key` gets the
first response again instead of creating a second resource.

The key row is inserted in the same transaction as the resource. A concurrent
retry blocks on the primary key until the first commits, then finds the stored
response; if the first rolls back, the retry proceeds as the first.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import Invalid
from matcher.models import IdempotencyKey


def request_hash(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


async def claim(
    session: AsyncSession, owner_id: uuid.UUID, key: str, body_hash: bytes
) -> IdempotencyKey | None:
    """None if this request is the first with the key; else the stored record."""
    inserted = await session.scalar(
        insert(IdempotencyKey)
        .values(owner_id=owner_id, key=key, request_hash=body_hash, status_code=0, response={})
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if inserted is not None:
        return None
    existing = await session.get(IdempotencyKey, (owner_id, key), populate_existing=True)
    if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
        raise Invalid("Idempotency-Key is being reused concurrently; retry")
    if existing.request_hash != body_hash:
        raise Invalid("Idempotency-Key was already used with a different request body")
    return existing


async def record(
    session: AsyncSession, owner_id: uuid.UUID, key: str, status_code: int, response: dict[str, Any]
) -> None:
    row = await session.get(IdempotencyKey, (owner_id, key))
    if row is not None:
        row.status_code = status_code
        row.response = response
        await session.flush()
