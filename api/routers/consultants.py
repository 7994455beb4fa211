"""Jobkonsulenter and UU-vejledere: their caseload, its matches, their verdicts.

Every read of a person's data is written to the audit log in the same
transaction as the read, so there is no read without its audit row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from api.contract import errors
from api.deps import CurrentConsultant, SessionDep, TaxonomyDep
from api.routers.jobseekers import Limit, MinScore, Radius, match_list, seeker_out
from api.schemas.common import Lat, LatQuery, Lon, LonQuery, Strict
from api.schemas.jobseekers import MatchList, SeekerOut
from matcher.analytics import feedback
from matcher.errors import NotFound
from matcher.matching import matches as matching
from matcher.matching.eligibility import age_on, describe_rule
from matcher.models import Verdict
from matcher.people import caseload, devices

router = APIRouter(tags=["consultants"])


class CaseloadItem(BaseModel):
    id: uuid.UUID
    display_name: str | None
    age: int
    skills: int
    has_work_profile: bool
    subsidy_eligibility: list[str]


SubsidisedType = Literal["fleksjob", "igu", "loentilskud", "virksomhedspraktik"]


class SubsidyEligibility(Strict):
    """The subsidised job types a jobcenter decision makes the person eligible for;
    the list replaces the stored one ([] clears it)."""

    job_types: list[SubsidisedType] = Field(max_length=4)


class SubsidyEligibilityOut(BaseModel):
    jobseeker_id: uuid.UUID
    job_types: list[str]


class Caseload(BaseModel):
    jobseekers: list[CaseloadItem]


class ReviewCreate(Strict):
    jobseeker_id: uuid.UUID
    vacancy_id: uuid.UUID
    verdict: Verdict
    reason: str = Field(default="", max_length=2000)
    lat: Lat | None = Field(default=None, description="Where the match was looked at, if known")
    lon: Lon | None = None


class ReviewOut(BaseModel):
    id: uuid.UUID
    jobseeker_id: uuid.UUID
    vacancy_id: uuid.UUID
    verdict: Verdict
    reason: str
    score: float | None
    eligible: bool | None
    created_at: dt.datetime


@router.get("/v1/consultants/me/caseload", response_model=Caseload)
async def my_caseload(consultant: CurrentConsultant, session: SessionDep) -> Caseload:
    people = await caseload.caseload(session, consultant.id)
    today = matching.today_in_denmark()
    for p in people:
        await caseload.audit(session, "consultant", consultant.id, "caseload.list", p.id)
    return Caseload(
        jobseekers=[
            CaseloadItem(
                id=p.id,
                display_name=p.display_name,
                age=age_on(p.birth_date, today),
                skills=len(p.skill_ids),
                has_work_profile=p.work_profile is not None,
                subsidy_eligibility=list(p.subsidy_eligibility),
            )
            for p in people
        ]
    )


class ReissuedToken(BaseModel):
    jobseeker_id: uuid.UUID
    token: str = Field(
        description="Shown once; hand it to the young person. Every earlier token, "
        "on every device, is dead."
    )


@router.post(
    "/v1/consultants/me/caseload/{jobseeker_id}/token",
    response_model=ReissuedToken,
    summary="Sign all of a jobseeker's devices out and issue one new token (my caseload)",
)
async def reissue_seeker_token(
    request: Request, jobseeker_id: uuid.UUID, consultant: CurrentConsultant, session: SessionDep
) -> ReissuedToken:
    # For a lost or leaked phone: every device's token stops working when this
    # commits, and their open websockets close (push/hub.py `revoke_replaced`).
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    seeker_id = seeker.id
    device, token = await devices.revoke_all_and_issue(session, seeker_id)
    await caseload.audit(session, "consultant", consultant.id, "jobseeker.token.reissue", seeker_id)
    await session.commit()
    request.app.state.hub.revoke_replaced(seeker_id, frozenset({bytes(device.token_hash)}))
    return ReissuedToken(jobseeker_id=seeker_id, token=token)


@router.get("/v1/jobseekers/{jobseeker_id}", response_model=SeekerOut)
async def seeker_profile(
    jobseeker_id: uuid.UUID,
    consultant: CurrentConsultant,
    session: SessionDep,
    taxonomy: TaxonomyDep,
) -> SeekerOut:
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    await caseload.audit(session, "consultant", consultant.id, "jobseeker.read", seeker.id)
    return seeker_out(seeker, taxonomy)


@router.get("/v1/jobseekers/{jobseeker_id}/matches", response_model=MatchList)
async def seeker_matches(
    request: Request,
    jobseeker_id: uuid.UUID,
    consultant: CurrentConsultant,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    lat: LatQuery,
    lon: LonQuery,
    radius_m: Radius = None,
    limit: Limit = 20,
    min_score: MinScore = 0.0,
) -> MatchList:
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    await caseload.audit(
        session, "consultant", consultant.id, "jobseeker.matches", seeker.id, {"limit": limit}
    )
    return await match_list(
        request, session, taxonomy, seeker, lat, lon, radius_m, limit, min_score
    )


@router.put(
    "/v1/consultants/me/caseload/{jobseeker_id}/eligibility",
    response_model=SubsidyEligibilityOut,
    responses=errors(404),
    summary="Mark the subsidised job types a person on your caseload may be shown",
)
async def set_eligibility(
    jobseeker_id: uuid.UUID,
    body: SubsidyEligibility,
    consultant: CurrentConsultant,
    session: SessionDep,
) -> SubsidyEligibilityOut:
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    before = list(seeker.subsidy_eligibility)
    seeker = await caseload.set_subsidy_eligibility(session, seeker, list(body.job_types))
    await caseload.audit(
        session, "consultant", consultant.id, "jobseeker.subsidy_eligibility", seeker.id,
        {"before": before, "after": list(seeker.subsidy_eligibility)},
    )  # fmt: skip
    return SubsidyEligibilityOut(jobseeker_id=seeker.id, job_types=list(seeker.subsidy_eligibility))


class ExcludingRule(BaseModel):
    id: str
    title: str
    source: str


class WhyNot(BaseModel):
    jobseeker_id: uuid.UUID
    vacancy_id: uuid.UUID
    eligible: bool = Field(description="Whether the hard rules let this person take it")
    excluded_by: list[ExcludingRule]


@router.get(
    "/v1/jobseekers/{jobseeker_id}/why-not/{vacancy_id}",
    response_model=WhyNot,
    responses=errors(404),
    summary="Which hard rules keep this vacancy from this person (consultants)",
)
async def why_not(
    jobseeker_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    consultant: CurrentConsultant,
    session: SessionDep,
    taxonomy: TaxonomyDep,
) -> WhyNot:
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    rule_ids = await matching.why_not(session, taxonomy, seeker, vacancy_id)
    if rule_ids is None:
        raise NotFound("vacancy not found")
    await caseload.audit(
        session, "consultant", consultant.id, "jobseeker.why_not", seeker.id,
        {"vacancy_id": str(vacancy_id)},
    )  # fmt: skip
    return WhyNot(
        jobseeker_id=seeker.id,
        vacancy_id=vacancy_id,
        eligible=not rule_ids,
        excluded_by=[ExcludingRule(**describe_rule(r)) for r in rule_ids],
    )


@router.post(
    "/v1/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewOut,
    responses=errors(404),
)
async def review_match(
    body: ReviewCreate, consultant: CurrentConsultant, session: SessionDep, taxonomy: TaxonomyDep
) -> ReviewOut:
    seeker = await caseload.seeker_on_caseload(session, consultant.id, body.jobseeker_id)
    # Score the match as the consultant saw it, so learning later uses the
    # features of that moment, not of whatever the profile becomes.
    lat, lon = (
        (body.lat, body.lon) if body.lat is not None and body.lon is not None else (None, None)
    )
    scored = await matching.score_vacancies(
        session, taxonomy, seeker, [body.vacancy_id], lat or 0.0, lon or 0.0, seeker.radius_m
    )
    if body.vacancy_id not in scored:
        raise NotFound("vacancy not found")
    match, eligible = scored[body.vacancy_id]
    explanation = dict(match.explanation)
    if lat is None:
        explanation["parts"] = {k: v for k, v in explanation["parts"].items() if k != "distance"}
    review = await caseload.add_review(
        session,
        consultant.id,
        seeker.id,
        body.vacancy_id,
        body.verdict,
        body.reason,
        match.score if lat is not None else None,
        {**explanation, "eligible": eligible},
    )
    point = (lat, lon) if lat is not None and lon is not None else None
    await feedback.record_verdict(
        session, taxonomy, seeker, body.vacancy_id, body.verdict, consultant.id, point
    )
    await caseload.audit(
        session,
        "consultant",
        consultant.id,
        "review.create",
        seeker.id,
        {"review_id": str(review.id)},
    )
    return ReviewOut(
        id=review.id,
        jobseeker_id=review.jobseeker_id,
        vacancy_id=review.vacancy_id,
        verdict=review.verdict,
        reason=review.reason,
        score=review.score,
        eligible=eligible,
        created_at=review.created_at,
    )
