"""Consultants' access to the young people on their caseload, always audited."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import NotFound
from matcher.integrations import integration_events
from matcher.models import AuditEntry, CaseloadEntry, Jobseeker, MatchReview, Verdict


async def audit(
    session: AsyncSession,
    actor_type: str,
    actor_id: uuid.UUID,
    action: str,
    subject_id: uuid.UUID,
    detail: dict[str, Any] | None = None,
    subject_type: str = "jobseeker",
) -> None:
    session.add(
        AuditEntry(
            actor_type=actor_type,
            actor_id=actor_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail or {},
        )
    )
    await session.flush()


async def caseload(session: AsyncSession, consultant_id: uuid.UUID) -> list[Jobseeker]:
    rows = await session.scalars(
        select(Jobseeker)
        .join(CaseloadEntry, CaseloadEntry.jobseeker_id == Jobseeker.id)
        .where(CaseloadEntry.consultant_id == consultant_id)
        .order_by(Jobseeker.created_at, Jobseeker.id)
    )
    return list(rows)


async def seeker_on_caseload(
    session: AsyncSession, consultant_id: uuid.UUID, jobseeker_id: uuid.UUID
) -> Jobseeker:
    """The seeker if on this consultant's caseload; otherwise 404, whether the
    person exists or not, so a consultant cannot learn who uses the service."""
    seeker = await session.scalar(
        select(Jobseeker)
        .join(CaseloadEntry, CaseloadEntry.jobseeker_id == Jobseeker.id)
        .where(CaseloadEntry.consultant_id == consultant_id, Jobseeker.id == jobseeker_id)
    )
    if seeker is None:
        raise NotFound("jobseeker not found")
    return seeker


async def assign(session: AsyncSession, consultant_id: uuid.UUID, jobseeker_id: uuid.UUID) -> None:
    if await session.get(CaseloadEntry, (consultant_id, jobseeker_id)) is None:
        session.add(CaseloadEntry(consultant_id=consultant_id, jobseeker_id=jobseeker_id))
        await session.flush()


async def add_review(
    session: AsyncSession,
    consultant_id: uuid.UUID,
    jobseeker_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    verdict: Verdict,
    reason: str,
    score: float | None,
    explanation: dict[str, Any] | None,
) -> MatchReview:
    review = MatchReview(
        consultant_id=consultant_id,
        jobseeker_id=jobseeker_id,
        vacancy_id=vacancy_id,
        verdict=verdict,
        reason=reason,
        score=score,
        explanation=explanation,
    )
    session.add(review)
    await session.flush()
    await session.refresh(review)
    await integration_events.emit_verdict(
        session, review.id, consultant_id, jobseeker_id, vacancy_id, verdict.value
    )
    return review


async def set_subsidy_eligibility(
    session: AsyncSession, seeker: Jobseeker, job_types: list[str]
) -> Jobseeker:
    """Record the subsidised job types a jobcenter decision makes the person
    eligible for; only those of them reach the person (matcher/matching/eligibility.py)."""
    seeker.subsidy_eligibility = sorted(set(job_types))
    await session.flush()
    return seeker
