"""Creating employers, jobseekers and consultants, and finding them by secret."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import Invalid
from matcher.matching.eligibility import ADULT_AGE, age_on
from matcher.models import (
    AuditEntry,
    Consultant,
    Employer,
    IdempotencyKey,
    Integration,
    Jobseeker,
)
from matcher.people import devices
from matcher.people.tokens import Principal, hash_secret, kind_of, new_secret

Account = Employer | Jobseeker | Consultant | Integration
_MODELS: dict[
    Principal, type[Employer] | type[Jobseeker] | type[Consultant] | type[Integration]
] = {
    Principal.EMPLOYER: Employer,
    Principal.JOBSEEKER: Jobseeker,
    Principal.CONSULTANT: Consultant,
    Principal.INTEGRATION: Integration,
}
# A jobseeker's tokens are per device (matcher/people/devices.py), not on the person.
_HASH_COLUMN = {
    Principal.EMPLOYER: Employer.api_key_hash,
    Principal.CONSULTANT: Consultant.token_hash,
    Principal.INTEGRATION: Integration.token_hash,
}


async def authenticate(session: AsyncSession, secret: str) -> tuple[Principal, Account] | None:
    kind = kind_of(secret)
    if kind is None:
        return None
    if kind == Principal.JOBSEEKER:
        found = await devices.authenticate(session, secret)
        return (kind, found[0]) if found is not None else None
    model = _MODELS[kind]
    row = await session.scalar(select(model).where(_HASH_COLUMN[kind] == hash_secret(secret)))
    return (kind, cast(Account, row)) if row is not None else None


async def rotate_secret(session: AsyncSession, who: Employer | Consultant | Integration) -> str:
    """Give `who` a new secret and return it; the old one stops working as soon
    as this commits (only the hash is kept, so there is nothing else to revoke).
    A jobseeker's tokens are per device: matcher/people/devices.py."""
    kind = next(k for k, model in _MODELS.items() if isinstance(who, model))
    secret, secret_hash = new_secret(kind)
    if isinstance(who, Employer):
        who.api_key_hash = secret_hash
    else:
        who.token_hash = secret_hash
    await session.flush()
    return secret


async def create_employer(
    session: AsyncSession,
    name: str,
    cvr: str | None,
    contact_email: str | None,
    org_kind: str = "business",
) -> tuple[Employer, str]:
    key, key_hash = new_secret(Principal.EMPLOYER)
    employer = Employer(
        name=name, cvr=cvr, contact_email=contact_email, api_key_hash=key_hash, org_kind=org_kind
    )
    session.add(employer)
    await session.flush()
    return employer, key


async def create_jobseeker(
    session: AsyncSession, columns: dict[str, Any], device_label: str = ""
) -> tuple[Jobseeker, str]:
    """The person and their first device's token (shown once)."""
    seeker = Jobseeker(**columns)
    session.add(seeker)
    await session.flush()
    await session.refresh(seeker)
    _, token = await devices.issue(session, seeker.id, device_label)
    return seeker, token


async def update_jobseeker(
    session: AsyncSession, seeker: Jobseeker, columns: dict[str, Any]
) -> Jobseeker:
    hours_min = columns.get("hours_min", seeker.hours_min)
    hours_max = columns.get("hours_max", seeker.hours_max)
    if hours_min is not None and hours_max is not None and hours_min > hours_max:
        raise Invalid(f"hours_min ({hours_min}) must not exceed hours_max ({hours_max})")
    birth_date = columns.get("birth_date", seeker.birth_date)
    finished = columns.get("finished_compulsory_school", seeker.finished_compulsory_school)
    if finished is None and age_on(birth_date, dt.date.today()) < ADULT_AGE:
        raise Invalid(
            "finished_compulsory_school is required under 18: send true if the person "
            "has finished 9th grade, false if not"
        )
    for key, value in columns.items():
        setattr(seeker, key, value)
    seeker.updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await session.refresh(seeker)
    return seeker


async def erase_jobseeker(session: AsyncSession, seeker: Jobseeker) -> None:
    """Delete the person and everything about them (caseload rows and reviews
    cascade). The audit log keeps only ids, which identify no one once the
    person is gone: the details of rows about them are emptied too."""
    await _forget_traces(session, [seeker.id])
    await session.delete(seeker)
    await session.flush()


async def erase_jobseekers(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """`erase_jobseeker` for many at once, by id (the inactive sweeper)."""
    await _forget_traces(session, ids)
    await session.execute(delete(Jobseeker).where(Jobseeker.id.in_(ids)))


async def _forget_traces(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """What does not cascade from the person's row: idempotency records and the
    details of audit rows about them."""
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.owner_id.in_(ids)))
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.subject_type == "jobseeker", AuditEntry.subject_id.in_(ids))
        .values(detail={})
    )


async def create_consultant(
    session: AsyncSession,
    name: str,
    email: str | None,
    role: str = "jobkonsulent",
    municipality: str | None = None,
) -> tuple[Consultant, str]:
    token, token_hash = new_secret(Principal.CONSULTANT)
    consultant = Consultant(
        id=uuid.uuid4(), name=name, email=email, role=role, token_hash=token_hash
    )
    if municipality is not None:  # else the column's default (migration 0014)
        consultant.municipality = municipality
    session.add(consultant)
    await session.flush()
    return consultant, token


async def create_integration(
    session: AsyncSession, name: str, municipality: str
) -> tuple[Integration, str]:
    """A municipality's case system; its token is shown once."""
    token, token_hash = new_secret(Principal.INTEGRATION)
    integration = Integration(
        id=uuid.uuid4(), name=name, municipality=municipality, token_hash=token_hash
    )
    session.add(integration)
    await session.flush()
    return integration, token
