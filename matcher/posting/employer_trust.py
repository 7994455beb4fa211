"""Employer trust: CVR numbers that add up, and employers verified by someone.

An employer starts `unverified`. A consultant (any consultant: there is one
municipality), an operator (CLI) or, where an operator configured one, the CVR
register (matcher/posting/cvr_register.py) makes it `verified`; a consultant or an
operator may also mark it `rejected`. Who and when is on the employer row and
every change is in the audit log.

What it decides lives elsewhere, each in one place:
- no one under 18 sees an unverified (or rejected) employer's vacancies: the
  hard rule `employer.unverified` in matcher/matching/eligibility.py, over the copy
  `vacancies.employer_verified` that triggers keep (migration 0012);
- only a verified employer may invite walk-ins: `require_verified_for_walk_in`
  below refuses the flag, and matcher/matching/geo.py reads it only with the copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import metrics
from matcher.errors import Invalid
from matcher.models import Employer, Vacancy, VacancyStatus
from matcher.people import accounts, caseload
from matcher.posting import events
from matcher.posting.cvr_register import CvrRegister, RegisterUnavailable, same_name
from matcher.posting.events import VacancyEvent

log = logging.getLogger("jotr.employer_trust")

Status = Literal["unverified", "verified", "rejected"]
UNVERIFIED: Status = "unverified"
VERIFIED: Status = "verified"
REJECTED: Status = "rejected"
# Who may set a status, as written to `verified_by_type` and the audit log.
ActorType = Literal["consultant", "operator", "cvr_register", "jobnet"]
# Audit rows need an actor id; the register and operators are not accounts.
SYSTEM_ACTOR_ID = uuid.UUID(int=0)

CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


class InvalidCvr(Invalid):
    code = "invalid_cvr"


class WalkInNeedsVerifiedEmployer(Invalid):
    code = "walk_in_needs_verified_employer"


def cvr_valid(cvr: str) -> bool:
    """Eight digits, not starting with 0, whose weighted sum (2,7,6,5,4,3,2,1)
    is divisible by 11: the modulus-11 check of the Danish CVR register."""
    if len(cvr) != 8 or not cvr.isascii() or not cvr.isdigit() or cvr[0] == "0":
        return False
    return sum(int(d) * w for d, w in zip(cvr, CVR_WEIGHTS, strict=True)) % 11 == 0


def check_cvr(cvr: str | None) -> None:
    if cvr is not None and not cvr_valid(cvr):
        raise InvalidCvr(
            "cvr is not a valid CVR number: 8 digits, not starting with 0, "
            "passing the modulus-11 check",
            [{"loc": ["body", "cvr"], "msg": "invalid CVR number", "type": "invalid_cvr"}],
        )


def require_verified_for_walk_in(employer: Employer, walk_in: bool | None) -> None:
    """Only a verified employer may ask young people to drop by ("stik hovedet ind")."""
    if walk_in and employer.verification_status != VERIFIED:
        raise WalkInNeedsVerifiedEmployer(
            "walk_in needs a verified employer: a consultant verifies new employers; "
            "until then post the vacancy without walk_in",
            [{"loc": ["body", "walk_in"], "msg": "employer not verified", "type": "walk_in"}],
        )


async def set_status(
    session: AsyncSession,
    employer: Employer,
    status: Status,
    actor_type: ActorType,
    actor_id: uuid.UUID,
) -> Employer:
    """Record who set the employer's status and when, in the row and the audit
    log. The trigger carries it to the employer's vacancies; each open one is
    announced as changed, so push workers offer it to those it now reaches."""
    before = employer.verification_status
    employer.verification_status = status
    employer.verified_by_type = actor_type
    employer.verified_by_id = actor_id
    employer.verified_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await caseload.audit(
        session,
        actor_type,
        actor_id,
        "employer.verification",
        employer.id,
        {"before": before, "after": status},
        subject_type="employer",
    )
    if before != status:
        open_ids = await session.scalars(
            select(Vacancy.id).where(
                Vacancy.employer_id == employer.id, Vacancy.status == VacancyStatus.OPEN
            )
        )
        for vacancy_id in open_ids:
            events.emit(session, VacancyEvent(vacancy_id, "updated"))
    return employer


async def sign_up(
    session: AsyncSession,
    name: str,
    cvr: str | None,
    contact_email: str | None,
    register: CvrRegister | None,
    org_kind: str = "business",
) -> tuple[Employer, str]:
    """A new employer with a checked CVR number, verified at once when the
    register (if configured) has the CVR active under the same name. The
    register being down never stops a sign-up: the employer waits for a person."""
    check_cvr(cvr)
    company = None
    if register is not None and cvr is not None:
        try:
            company = await register.lookup(cvr)
        except RegisterUnavailable as exc:
            metrics.CVR_REGISTER_LOOKUPS.labels("unavailable").inc()
            log.warning("CVR register unavailable", extra={"error": str(exc)})
    employer, key = await accounts.create_employer(
        session, name, cvr, contact_email, org_kind=org_kind
    )
    if (
        company is not None
        and company.active
        and company.cvr == cvr
        and same_name(company.name, name)
    ):
        await set_status(session, employer, VERIFIED, "cvr_register", SYSTEM_ACTOR_ID)
        metrics.CVR_REGISTER_LOOKUPS.labels("verified").inc()
    elif register is not None and cvr is not None and company is not None:
        metrics.CVR_REGISTER_LOOKUPS.labels("not_verified").inc()
    elif register is not None and cvr is not None:
        metrics.CVR_REGISTER_LOOKUPS.labels("not_found").inc()
    return employer, key


async def employers_by_status(
    session: AsyncSession, status: Status | None, limit: int = 200
) -> list[tuple[Employer, int]]:
    """Employers (newest first) with their number of open vacancies."""
    open_count = (
        select(func.count())
        .where(Vacancy.employer_id == Employer.id, Vacancy.status == VacancyStatus.OPEN)
        .correlate(Employer)
        .scalar_subquery()
    )
    query = (
        select(Employer, open_count)
        .where(Employer.import_key.is_(None))  # importers' employers cannot sign in
        .order_by(Employer.created_at.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Employer.verification_status == status)
    rows = await session.execute(query)
    return [(e, int(n)) for e, n in rows.all()]


async def open_vacancy_count(session: AsyncSession, employer_id: uuid.UUID) -> int:
    n = await session.scalar(
        select(func.count()).where(
            Vacancy.employer_id == employer_id, Vacancy.status == VacancyStatus.OPEN
        )
    )
    return int(n or 0)
