"""Seekers report vacancies; consultants moderate the reported ones.

One report per seeker per vacancy (a second is the first again). When reports
come from `hide_at` different people (`JOTR_REPORTS_HIDE_AT`), the vacancy is
hidden (`vacancies.hidden_at`) from every listing, match and push until a
consultant decides: `keep` un-hides it and clears its reports; `close` closes it
through the normal close path (matcher/posting/vacancies.py), so phones get their
withdrawals. The rule "hidden is shown to no one" is the one condition
`_NOT_HIDDEN` in matcher/matching/geo.py (and push/catchup.py's notion of open).

Reports are the reporter's personal data: consultants see reasons and texts
but never who reported; employers see nothing of them. They go with the
reporter's erasure (cascade) and are deleted once a consultant has decided.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, func, select, union
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import metrics
from matcher.errors import NotFound
from matcher.models import Employer, Vacancy, VacancyReport, VacancyStatus
from matcher.people import caseload
from matcher.posting import events
from matcher.posting import vacancies as vacancy_service
from matcher.posting.events import VacancyEvent

Reason = Literal["unsafe", "fake", "offensive", "wrong_info", "other"]
REASONS: tuple[Reason, ...] = ("unsafe", "fake", "offensive", "wrong_info", "other")
Decision = Literal["keep", "close"]


@dataclass(frozen=True, slots=True)
class Reported:
    report: VacancyReport
    created: bool  # False: this seeker had reported the vacancy already
    hidden: bool


async def report(
    session: AsyncSession,
    seeker_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    reason: Reason,
    text: str,
    hide_at: int,
) -> Reported:
    # The row lock makes concurrent reports count one after the other, so the
    # one that reaches `hide_at` is sure to see the others.
    vacancy = await session.get(Vacancy, vacancy_id, with_for_update=True)
    if vacancy is None or vacancy.status != VacancyStatus.OPEN:
        raise NotFound("vacancy not found")
    inserted = await session.execute(
        insert(VacancyReport)
        .values(vacancy_id=vacancy_id, jobseeker_id=seeker_id, reason=reason, text=text)
        .on_conflict_do_nothing(index_elements=["vacancy_id", "jobseeker_id"])
        .returning(VacancyReport.vacancy_id)
    )
    created = inserted.first() is not None
    row = await session.scalar(
        select(VacancyReport)
        .where(VacancyReport.vacancy_id == vacancy_id, VacancyReport.jobseeker_id == seeker_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if created:
        metrics.VACANCY_REPORTS.labels(reason).inc()
        reporters = await session.scalar(
            select(func.count()).where(VacancyReport.vacancy_id == vacancy_id)
        )
        if vacancy.hidden_at is None and int(reporters or 0) >= hide_at:
            vacancy.hidden_at = dt.datetime.now(dt.UTC)
            await session.flush()
            # Gone from listings as if closed: push drops it from caches and
            # withdraws it from the phones it was pushed to.
            events.emit(session, VacancyEvent(vacancy.id, "closed"))
    return Reported(row, created, vacancy.hidden_at is not None)


@dataclass(slots=True)
class Reports:
    vacancy_id: uuid.UUID
    title: str
    employer_id: uuid.UUID
    employer_name: str
    employer_status: str
    hidden: bool
    reporters: int
    reasons: dict[str, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    first_at: dt.datetime | None = None


async def moderation_list(session: AsyncSession, limit: int = 200) -> list[Reports]:
    """Open vacancies with reports, or hidden (its reporters may all have erased
    their accounts since): hidden ones first, then by how many reported."""
    # Both sides are indexed (the reports' primary key, the partial index on
    # hidden vacancies), so the list never scans all vacancies.
    listed = union(
        select(VacancyReport.vacancy_id.label("id")),
        select(Vacancy.id.label("id")).where(Vacancy.hidden_at.is_not(None)),
    ).subquery()
    rows = await session.execute(
        select(Vacancy, Employer.name, Employer.verification_status, VacancyReport)
        .outerjoin(VacancyReport, VacancyReport.vacancy_id == Vacancy.id)
        .join(Employer, Employer.id == Vacancy.employer_id)
        .where(Vacancy.status == VacancyStatus.OPEN, Vacancy.id.in_(select(listed.c.id)))
        .order_by(VacancyReport.created_at)
    )
    out: dict[uuid.UUID, Reports] = {}
    for vacancy, employer_name, employer_status, rep in rows.tuples():
        item = out.get(vacancy.id)
        if item is None:
            item = out[vacancy.id] = Reports(
                vacancy_id=vacancy.id,
                title=vacancy.title,
                employer_id=vacancy.employer_id,
                employer_name=employer_name,
                employer_status=employer_status,
                hidden=vacancy.hidden_at is not None,
                reporters=0,
                first_at=rep.created_at if rep is not None else None,
            )
        if rep is None:
            continue
        item.reporters += 1
        item.reasons[rep.reason] = item.reasons.get(rep.reason, 0) + 1
        if rep.text:
            item.texts.append(rep.text)
    ordered = sorted(out.values(), key=lambda r: (not r.hidden, -r.reporters))
    return ordered[:limit]


async def moderate(
    session: AsyncSession, consultant_id: uuid.UUID, vacancy_id: uuid.UUID, decision: Decision
) -> Vacancy:
    """A consultant's decision on a reported vacancy (audited, with the counts
    and reasons but not the reporters); its reports are deleted after it."""
    vacancy = await session.get(Vacancy, vacancy_id, with_for_update=True)
    counted = await session.execute(
        select(VacancyReport.reason, func.count())
        .where(VacancyReport.vacancy_id == vacancy_id)
        .group_by(VacancyReport.reason)
    )
    reasons = {reason: int(n) for reason, n in counted.all()}
    if vacancy is None or (not reasons and vacancy.hidden_at is None):
        raise NotFound("no reported vacancy with this id")
    was_hidden = vacancy.hidden_at is not None
    await session.execute(delete(VacancyReport).where(VacancyReport.vacancy_id == vacancy_id))
    vacancy.hidden_at = None
    if decision == "close":
        await vacancy_service.close(session, vacancy)
    else:
        vacancy.updated_at = dt.datetime.now(dt.UTC)
        await session.flush()
        if was_hidden and vacancy.status == VacancyStatus.OPEN:
            events.emit(session, VacancyEvent(vacancy.id, "updated"))  # back in listings
    await caseload.audit(
        session,
        "consultant",
        consultant_id,
        f"vacancy.moderation.{decision}",
        vacancy.id,
        {"reporters": sum(reasons.values()), "reasons": reasons, "was_hidden": was_hidden},
        subject_type="vacancy",
    )
    return vacancy
