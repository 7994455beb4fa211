"""Feedback on matches: a seeker's own actions, consultants' reported outcomes,
and the seeker's competence guidance."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.contract import errors
from api.deps import CurrentConsultant, CurrentSeeker, SessionDep, TaxonomyDep
from api.schemas.common import OptionalLatQuery, OptionalLonQuery
from api.schemas.feedback import (
    EventOut,
    FeedbackCreate,
    FeedbackItem,
    FeedbackList,
    GuidanceCourse,
    GuidanceExample,
    GuidanceOut,
    GuidanceSkill,
    OutcomeCreate,
    SeekerAction,
)
from matcher.analytics import feedback
from matcher.competence import guidance
from matcher.errors import Conflict, Invalid, NotFound
from matcher.integrations import integration_events
from matcher.matching import matches as matching
from matcher.people import caseload, consent

router = APIRouter(tags=["feedback"])


def event_out(e: feedback.Event) -> EventOut:
    return EventOut(
        id=e.id,
        vacancy_id=e.vacancy_id,
        action=e.kind,
        actor=e.actor,
        occurred_at=e.occurred_at,
        score=round(e.score, 4),
        scorer=e.scorer,
        features=e.named_features(),
    )


@router.post(
    "/v1/jobseekers/me/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    tags=["jobseekers"],
    summary="Tell us what you did with a vacancy",
    responses=errors(404),
)
async def give_feedback(
    body: FeedbackCreate, seeker: CurrentSeeker, session: SessionDep, taxonomy: TaxonomyDep
) -> EventOut:
    ref = await feedback.vacancy_ref(session, seeker.id, body.vacancy_id)
    # A closed vacancy still takes feedback from someone who saw it (a hire is
    # often reported after the ad closed), but cannot be probed by others.
    if ref is None or not (ref.open or ref.seen):
        raise NotFound("vacancy not found")
    event = await feedback.record_event(
        session, taxonomy, seeker, ref, body.action, actor="seeker", actor_id=seeker.id
    )
    return event_out(event)


@router.get(
    "/v1/jobseekers/me/feedback",
    response_model=FeedbackList,
    tags=["jobseekers"],
    summary="My latest action per vacancy (e.g. my saved list)",
)
async def my_feedback(
    seeker: CurrentSeeker,
    session: SessionDep,
    action: SeekerAction | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FeedbackList:
    rows = await feedback.latest_actions(session, seeker.id, action, limit)
    return FeedbackList(
        items=[
            FeedbackItem(
                vacancy_id=r.vacancy_id,
                action=r.action,  # type: ignore[arg-type]
                occurred_at=r.occurred_at,
                title=r.title,
                employer_name=r.employer_name,
                open=r.open,
            )
            for r in rows
        ]
    )


@router.post(
    "/v1/consultants/me/caseload/{jobseeker_id}/outcomes",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    tags=["consultants"],
    summary="Report an outcome (a hire) for a person on the caseload",
)
async def report_outcome(
    jobseeker_id: uuid.UUID,
    body: OutcomeCreate,
    consultant: CurrentConsultant,
    session: SessionDep,
    taxonomy: TaxonomyDep,
) -> EventOut:
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    ref = await feedback.vacancy_ref(session, seeker.id, body.vacancy_id)
    # Any existing vacancy: a consultant may learn of a hire the app never showed.
    if ref is None:
        raise NotFound("vacancy not found")
    event = await feedback.record_event(
        session, taxonomy, seeker, ref, body.outcome, actor="consultant", actor_id=consultant.id
    )
    await caseload.audit(
        session,
        "consultant",
        consultant.id,
        "outcome.create",
        seeker.id,
        {"event_id": event.id},  # the outcome itself is the event's, erased with the person
    )
    await integration_events.emit_outcome(
        session, consultant.id, seeker.id, body.vacancy_id, body.outcome
    )
    return event_out(event)


@router.get(
    "/v1/jobseekers/me/guidance",
    response_model=GuidanceOut,
    tags=["jobseekers"],
    summary="Skills that would open the most jobs near me",
    responses=errors(409),
)
async def my_guidance(
    request: Request,
    seeker: CurrentSeeker,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
    lat: OptionalLatQuery = None,
    lon: OptionalLonQuery = None,
) -> GuidanceOut:
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon, or neither (then your last known position)")
    # The point is used for this query only and not stored, as for matches.
    point = (lat, lon) if lat is not None and lon is not None else None
    point = point or await consent.last_point(session, seeker.id)
    if point is None:
        raise Conflict(
            "no position known: send lat and lon, or open the app so that it shares your position"
        )
    found = await guidance.guidance_for(
        session,
        taxonomy,
        seeker,
        seeker.push_min_score,
        point[0],
        point[1],
        matching.usable_radius(seeker.radius_m, request.app.state.settings.max_radius_m),
        seeker.language,
        limit,
        replica=request.app.state.replica,
    )
    return GuidanceOut(
        radius_m=found.radius_m,
        current_matches=found.current_matches,
        skills=[
            GuidanceSkill(
                uri=s.uri,
                label=s.label,
                unlocks=s.unlocks,
                examples=[
                    GuidanceExample(vacancy_id=e.vacancy_id, title=e.title, distance_m=e.distance_m)
                    for e in s.examples
                ],
                courses=[
                    GuidanceCourse(title=c.title, provider=c.provider, url=c.url) for c in s.courses
                ],
            )
            for s in found.skills
        ],
    )
