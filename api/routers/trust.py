"""Employer trust: an employer's own status, consultants verifying employers,
seekers reporting vacancies and consultants moderating the reports.

Any consultant may verify employers and moderate: there is one municipality,
and employers are not anyone's caseload (docs/security.md, "Employer trust").
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from api.deps import CurrentConsultant, CurrentEmployer, CurrentSeeker, SessionDep
from api.responses import JSON
from api.schemas.common import Strict
from matcher.errors import NotFound
from matcher.models import Employer
from matcher.people import caseload
from matcher.posting import employer_trust, reports

router = APIRouter(tags=["trust"])

Status = Literal["unverified", "verified", "rejected"]


class Verification(BaseModel):
    status: Status = Field(
        description="`unverified` until a consultant, an operator or the CVR register "
        "verifies the employer; until then no one under 18 sees its vacancies and it "
        "cannot invite walk-ins"
    )
    by: str | None = Field(
        description="Who set the status: consultant, operator, cvr_register or jobnet"
    )
    at: dt.datetime | None


def _verification(e: Employer) -> Verification:
    return Verification(status=e.verification_status, by=e.verified_by_type, at=e.verified_at)  # type: ignore[arg-type]


class EmployerMe(BaseModel):
    id: uuid.UUID
    name: str
    cvr: str | None
    contact_email: str | None
    verification: Verification


@router.get("/v1/employers/me", response_model=EmployerMe, summary="My employer account")
async def my_employer(employer: CurrentEmployer) -> EmployerMe:
    return EmployerMe(
        id=employer.id,
        name=employer.name,
        cvr=employer.cvr,
        contact_email=employer.contact_email,
        verification=_verification(employer),
    )


# --- seekers report -----------------------------------------------------------------


class ReportCreate(Strict):
    reason: reports.Reason
    text: str = Field(
        default="",
        max_length=500,
        description="Optional, in the seeker's own words; shown to consultants, never "
        "with who wrote it, and never to the employer",
    )


class ReportOut(BaseModel):
    vacancy_id: uuid.UUID
    reason: str
    text: str
    created_at: dt.datetime


@router.post(
    "/v1/vacancies/{vacancy_id}/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportOut,
    summary="Report a vacancy (unsafe, fake, ...); once per person, a repeat returns it",
    responses={200: {"model": ReportOut, "description": "Already reported by you: the report"}},
)
async def report_vacancy(
    vacancy_id: uuid.UUID,
    body: ReportCreate,
    request: Request,
    seeker: CurrentSeeker,
    session: SessionDep,
) -> JSON:
    hide_at = request.app.state.settings.reports_hide_at
    # Hidden by this report: everyone it was pushed to is told it is gone, as on
    # close (the request's unit of work records the withdrawals).
    done = await reports.report(session, seeker.id, vacancy_id, body.reason, body.text, hide_at)
    out = ReportOut(
        vacancy_id=vacancy_id,
        reason=done.report.reason,
        text=done.report.text,
        created_at=done.report.created_at,
    )
    return JSON(out.model_dump(mode="json"), status_code=201 if done.created else 200)


# --- consultants verify employers ---------------------------------------------------


class VerifyIn(Strict):
    status: Literal["verified", "rejected"] = "verified"


class EmployerItem(BaseModel):
    id: uuid.UUID
    name: str
    cvr: str | None
    created_at: dt.datetime
    open_vacancies: int
    verification: Verification


class EmployerList(BaseModel):
    employers: list[EmployerItem]


def _item(e: Employer, open_vacancies: int) -> EmployerItem:
    return EmployerItem(
        id=e.id,
        name=e.name,
        cvr=e.cvr,
        created_at=e.created_at,
        open_vacancies=open_vacancies,
        verification=_verification(e),
    )


@router.get(
    "/v1/consultants/me/employers",
    response_model=EmployerList,
    summary="Employers that signed up, newest first (to verify them)",
)
async def list_employers(
    consultant: CurrentConsultant,
    session: SessionDep,
    verification: Annotated[Status | None, Query(description="Only this status")] = None,
) -> EmployerList:
    rows = await employer_trust.employers_by_status(session, verification)
    return EmployerList(employers=[_item(e, n) for e, n in rows])


@router.post(
    "/v1/consultants/me/employers/{employer_id}/verify",
    response_model=EmployerItem,
    summary="Verify (or reject) an employer (audited)",
)
async def verify_employer(
    employer_id: uuid.UUID,
    consultant: CurrentConsultant,
    session: SessionDep,
    body: VerifyIn | None = None,
) -> EmployerItem:
    employer = await session.get(Employer, employer_id, with_for_update=True)
    if employer is None:
        raise NotFound("employer not found")
    decision = (body or VerifyIn()).status
    await employer_trust.set_status(session, employer, decision, "consultant", consultant.id)
    return _item(employer, await employer_trust.open_vacancy_count(session, employer.id))


# --- consultants moderate reports ---------------------------------------------------


class ModerationItem(BaseModel):
    vacancy_id: uuid.UUID
    title: str
    employer_id: uuid.UUID
    employer_name: str
    employer_verification: Status
    hidden: bool = Field(description="Hidden from everyone until a decision")
    reporters: int = Field(description="How many different people reported it")
    reasons: dict[str, int]
    texts: list[str] = Field(description="What reporters wrote (never who they are)")
    first_reported_at: dt.datetime | None


class ModerationList(BaseModel):
    hide_at: int = Field(description="Reports from this many people hide a vacancy")
    vacancies: list[ModerationItem]


@router.get(
    "/v1/consultants/me/moderation",
    response_model=ModerationList,
    summary="Reported open vacancies, hidden ones first (audited)",
)
async def moderation_list(
    request: Request, consultant: CurrentConsultant, session: SessionDep
) -> ModerationList:
    found = await reports.moderation_list(session)
    await caseload.audit(
        session,
        "consultant",
        consultant.id,
        "moderation.read",
        consultant.id,
        {"vacancies": [str(r.vacancy_id) for r in found]},
        subject_type="moderation",
    )
    return ModerationList(
        hide_at=request.app.state.settings.reports_hide_at,
        vacancies=[
            ModerationItem(
                vacancy_id=r.vacancy_id,
                title=r.title,
                employer_id=r.employer_id,
                employer_name=r.employer_name,
                employer_verification=r.employer_status,  # type: ignore[arg-type]
                hidden=r.hidden,
                reporters=r.reporters,
                reasons=r.reasons,
                texts=r.texts,
                first_reported_at=r.first_at,
            )
            for r in found
        ],
    )


class ModerationIn(Strict):
    decision: reports.Decision = Field(
        description="`keep`: show it again and clear its reports; `close`: close the vacancy"
    )


class ModerationOut(BaseModel):
    vacancy_id: uuid.UUID
    decision: str
    status: str
    hidden: bool


@router.post(
    "/v1/consultants/me/moderation/{vacancy_id}",
    response_model=ModerationOut,
    summary="Decide on a reported vacancy: keep or close (audited)",
)
async def moderate_vacancy(
    vacancy_id: uuid.UUID, body: ModerationIn, consultant: CurrentConsultant, session: SessionDep
) -> ModerationOut:
    # A close takes the normal close path: everyone it was pushed to is told it
    # is gone (the request's unit of work records the withdrawals).
    vacancy = await reports.moderate(session, consultant.id, vacancy_id, body.decision)
    return ModerationOut(
        vacancy_id=vacancy.id,
        decision=body.decision,
        status=vacancy.status.value,
        hidden=vacancy.hidden_at is not None,
    )
