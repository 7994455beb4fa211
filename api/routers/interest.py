"""Interest ("Jeg er interesseret"): a young person's interest, the employer's list and answer.

Thin: the rules live in matcher/people/applications.py, the durable answer in
push/messages.py. Every read checks who may see it: the seeker their own, the
employer only their own vacancies' (another's is a 404), a consultant only their
caseload's, audited.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from api import ratelimit
from api.contract import errors
from api.deps import CurrentConsultant, CurrentEmployer, CurrentSeeker, SessionDep, TaxonomyDep
from api.schemas.interest import (
    InterestCount,
    InterestCounts,
    InterestCreate,
    InterestList,
    InterestOut,
    MyInterestList,
    MyInterestOut,
    ReplyCreate,
    SharedOut,
)
from matcher.analytics import feedback
from matcher.matching import geo
from matcher.models import Application
from matcher.people import applications, caseload
from push import messages

router = APIRouter(tags=["interest"])


def _out(a: Application) -> InterestOut:
    return InterestOut(
        id=a.id,
        vacancy_id=a.vacancy_id,
        shared=SharedOut(**a.shared),
        message=a.message,
        reply=a.reply,  # type: ignore[arg-type]
        reply_message=a.reply_message,
        created_at=a.created_at,
        replied_at=a.replied_at,
    )


def _mine(row: applications.Row) -> MyInterestOut:
    return MyInterestOut(
        **_out(row.application).model_dump(), title=row.title, employer_name=row.employer_name
    )


@router.post(
    "/v1/vacancies/{vacancy_id}/interest",
    status_code=status.HTTP_201_CREATED,
    response_model=InterestOut,
    tags=["jobseekers"],
    summary="Jeg er interesseret: send what I choose to share to the employer",
    responses=errors(409),
)
async def send_interest(
    vacancy_id: uuid.UUID,
    body: InterestCreate,
    request: Request,
    seeker: CurrentSeeker,
    session: SessionDep,
    taxonomy: TaxonomyDep,
) -> InterestOut:
    await ratelimit.limiter_of(request).hit("interest", str(seeker.id))
    share = body.share
    choice = applications.Choice(
        first_name=share.first_name,
        age=share.age,
        phone=share.phone,
        email=share.email,
        skills=tuple(share.skills),
    )
    created = await applications.create(session, taxonomy, seeker, vacancy_id, choice, body.message)
    # The feedback/ML signal the old "Jeg har søgt" button gave, in the same transaction.
    ref = await feedback.vacancy_ref(session, seeker.id, vacancy_id)
    if ref is not None:
        await feedback.record_event(
            session, taxonomy, seeker, ref, "applied", actor="seeker", actor_id=seeker.id
        )
    return _out(created)


@router.get(
    "/v1/jobseekers/me/interest",
    response_model=MyInterestList,
    tags=["jobseekers"],
    summary="The interest I have sent, with the employers' answers",
)
async def my_interest(seeker: CurrentSeeker, session: SessionDep) -> MyInterestList:
    rows = await applications.for_seeker(session, seeker.id)
    return MyInterestList(items=[_mine(r) for r in rows])


@router.get(
    "/v1/employers/me/interest",
    response_model=InterestCounts,
    tags=["employers"],
    summary="How many have shown interest in each of my vacancies (counts only)",
)
async def my_interest_counts(employer: CurrentEmployer, session: SessionDep) -> InterestCounts:
    found = await applications.counts(session, employer.id)
    return InterestCounts(
        vacancies=[
            InterestCount(vacancy_id=v, total=total, unanswered=new)
            for v, (total, new) in found.items()
        ]
    )


@router.get(
    "/v1/employers/me/vacancies/{vacancy_id}/interest",
    response_model=InterestList,
    tags=["employers"],
    summary="Who has shown interest in my vacancy, newest first",
)
async def vacancy_interest(
    vacancy_id: uuid.UUID, employer: CurrentEmployer, session: SessionDep
) -> InterestList:
    rows = await applications.for_vacancy(session, employer.id, vacancy_id)
    return InterestList(items=[_out(a) for a in rows])


@router.post(
    "/v1/interest/{interest_id}/reply",
    response_model=InterestOut,
    tags=["employers"],
    summary="Answer someone's interest (once): come by, call me, or no thanks",
    responses=errors(409),
)
async def reply_interest(
    interest_id: uuid.UUID,
    body: ReplyCreate,
    request: Request,
    employer: CurrentEmployer,
    session: SessionDep,
) -> InterestOut:
    row = await applications.reply(session, employer.id, interest_id, body.reply, body.message)
    a = row.application
    payload = messages.interest_reply_payload(
        a.id, a.vacancy_id, row.title, row.employer_name, body.reply, a.reply_message
    )
    found = await messages.record_interest_reply(
        await geo.raw_connection(session), a.jobseeker_id, a.vacancy_id, payload
    )
    out = _out(a)
    # Committed before the workers are rung, so the doorbell finds the row.
    await session.commit()
    await messages.ring(request.app.state.hub, a.jobseeker_id, found)
    return out


@router.get(
    "/v1/jobseekers/{jobseeker_id}/interest",
    response_model=MyInterestList,
    tags=["consultants"],
    summary="The interest a person on my caseload has sent, with the answers (audited)",
)
async def seeker_interest(
    jobseeker_id: uuid.UUID, consultant: CurrentConsultant, session: SessionDep
) -> MyInterestList:
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    rows = await applications.for_seeker(session, seeker.id)
    await caseload.audit(
        session, "consultant", consultant.id, "jobseeker.interest", seeker.id,
        {"count": len(rows)},
    )  # fmt: skip
    return MyInterestList(items=[_mine(r) for r in rows])
