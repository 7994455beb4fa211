"""Jobseekers: sign-up, their own profile, their matches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from api import ratelimit
from api.deps import CurrentDevice, CurrentSeeker, SessionDep, TaxonomyDep
from api.presenters import seeker_skills
from api.routers.vacancies import check_radius
from api.schemas.common import LatQuery, LonQuery, OccupationRef
from api.schemas.jobseekers import (
    MatchList,
    MatchOut,
    MatchVacancy,
    PreferencesOut,
    SeekerCreate,
    SeekerCreated,
    SeekerOut,
    SeekerUpdate,
)
from matcher import profile
from matcher.matching import geo
from matcher.matching import matches as matching
from matcher.matching.eligibility import age_on, in_school
from matcher.models import Jobseeker
from matcher.people import accounts, caseload, consent, devices, marks

router = APIRouter(prefix="/v1/jobseekers", tags=["jobseekers"])

Radius = Annotated[
    float | None,
    Query(gt=0, allow_inf_nan=False, description="Metres; default: your preference"),
]
Limit = Annotated[int, Query(ge=1, le=100)]
MinScore = Annotated[float, Query(ge=0, le=1, allow_inf_nan=False)]


def seeker_columns(body: SeekerCreate | SeekerUpdate, taxonomy: Any) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    out: dict[str, Any] = {}
    for key in (
        "display_name",
        "birth_date",
        "language",
        "certificates",
        "finished_compulsory_school",
    ):
        if key in fields:
            out[key] = fields[key]
    if "skills" in fields:
        out["skill_ids"] = taxonomy.resolve_skills(fields["skills"], "skills")
    if "interests" in fields:
        # Checked against ESCO (422 unknown_concept / wrong_concept_kind), stored as URIs.
        taxonomy.resolve_occupations(fields["interests"], "interests")
        out["interests"] = list(fields["interests"])
    if "work_profile" in fields:
        wp = body.work_profile
        out["work_profile"] = wp.as_vector() if wp is not None else None
    if "parent_contact" in fields:
        pc = body.parent_contact
        out["parent_contact"] = pc.model_dump(exclude_none=True) if pc is not None else None
    prefs = fields.get("preferences") or {}
    for key, value in prefs.items():
        out[key] = [str(t) for t in value] if key == "job_types" else value
    return out


def seeker_out(seeker: Jobseeker, taxonomy: Any) -> SeekerOut:
    age = age_on(seeker.birth_date, matching.today_in_denmark())
    return SeekerOut(
        id=seeker.id,
        display_name=seeker.display_name,
        birth_date=seeker.birth_date,
        age=age,
        language=seeker.language,
        skills=seeker_skills(seeker, taxonomy),
        certificates=list(seeker.certificates),
        interests=seeker_interests(seeker, taxonomy),
        work_profile=profile.to_mapping(seeker.work_profile),
        preferences=PreferencesOut(
            radius_m=seeker.radius_m,
            job_types=list(seeker.job_types),
            hours_min=seeker.hours_min,
            hours_max=seeker.hours_max,
            walk_in_interest=seeker.walk_in_interest,
            offer_kinds=list(seeker.offer_kinds),
        ),
        finished_compulsory_school=seeker.finished_compulsory_school,
        parent_contact=seeker.parent_contact,
        parents_informed=age < 15 or in_school(age, seeker.finished_compulsory_school),
        created_at=seeker.created_at,
        updated_at=seeker.updated_at,
    )


def seeker_interests(seeker: Jobseeker, taxonomy: Any) -> list[OccupationRef]:
    """The wished occupations with labels in the person's language; one ESCO
    retired since keeps its URI and reads as the URI."""
    out = []
    for uri in seeker.interests or ():
        i = taxonomy.occupation_id(uri)
        label = taxonomy.occupation_label(i, seeker.language) if i is not None else uri
        out.append(OccupationRef(uri=uri, label=label))
    return out


async def match_list(
    request: Request,
    session: Any,
    taxonomy: Any,
    seeker: Jobseeker,
    lat: float,
    lon: float,
    radius_m: float | None,
    limit: int,
    min_score: float,
    include_weak: bool = False,
    exclude: frozenset[Any] = frozenset(),
) -> MatchList:
    limit_m = request.app.state.settings.max_radius_m
    radius = radius_m if radius_m is not None else matching.usable_radius(seeker.radius_m, limit_m)
    check_radius(request, radius)
    found = await matching.find_matches(
        session,
        taxonomy,
        seeker,
        lat,
        lon,
        radius,
        limit,
        min_score,
        include_weak=include_weak,
        exclude=exclude,
        replica=request.app.state.replica,
    )
    # Open ones only: a vacancy closed or deleted since the replica's last sync
    # (matcher/matching/replica.py) drops out here rather than being shown.
    cards = await geo.vacancy_cards(
        session, [m.vacancy_id for m in found], lat, lon, open_only=True
    )
    found = [m for m in found if m.vacancy_id in cards]
    return MatchList(
        radius_m=radius,
        matches=[
            MatchOut(
                vacancy=MatchVacancy(
                    id=m.vacancy_id,
                    title=cards[m.vacancy_id].title,
                    employer_name=cards[m.vacancy_id].employer_name,
                    kind=cards[m.vacancy_id].kind,
                    min_age=cards[m.vacancy_id].min_age,
                    max_age=cards[m.vacancy_id].max_age,
                    cost_dkk=cards[m.vacancy_id].cost_dkk,
                    cost_note=cards[m.vacancy_id].cost_note,
                    job_type=cards[m.vacancy_id].job_type,
                    hours_per_week=cards[m.vacancy_id].hours_per_week,
                    walk_in=cards[m.vacancy_id].walk_in,
                    lat=cards[m.vacancy_id].lat,
                    lon=cards[m.vacancy_id].lon,
                    address=cards[m.vacancy_id].address,
                ),
                score=m.score,
                distance_m=m.distance_m,
                explanation=m.explanation,
            )
            for m in found
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SeekerCreated,
    dependencies=[Depends(ratelimit.per_ip("signup"))],
)
async def sign_up(
    request: Request, body: SeekerCreate, session: SessionDep, taxonomy: TaxonomyDep
) -> SeekerCreated:
    # Explicit consent to the current privacy notice first (docs/privacy.md, "Consent").
    consent.check_signup_consent(body.consent.model_dump() if body.consent else None)
    seeker, token = await accounts.create_jobseeker(
        session,
        seeker_columns(body, taxonomy),
        devices.label_of(request.headers.get("user-agent")),
    )
    await consent.grant(session, seeker.id, consent.SERVICE)
    return SeekerCreated(id=seeker.id, token=token)


class TokenOut(BaseModel):
    token: str = Field(
        description="Shown once. This device's previous token no longer works; "
        "your other devices' tokens are untouched."
    )


@router.post(
    "/me/token",
    response_model=TokenOut,
    summary="Replace this device's token (the old one stops working at once)",
)
async def rotate_my_token(request: Request, me: CurrentDevice, session: SessionDep) -> TokenOut:
    seeker_id = me.seeker.id
    token = await devices.rotate(session, me.device)
    await caseload.audit(
        session, "jobseeker", seeker_id, "token.rotate", seeker_id, {"device": str(me.device.id)}
    )
    await session.commit()
    # Websockets opened with the old token close now on this worker, and within
    # one presence refresh on the others (push/hub.py `revoke_replaced`).
    request.app.state.hub.revoke_replaced(seeker_id, await devices.token_hashes(session, seeker_id))
    return TokenOut(token=token)


@router.get("/me", response_model=SeekerOut)
async def me(seeker: CurrentSeeker, taxonomy: TaxonomyDep) -> SeekerOut:
    return seeker_out(seeker, taxonomy)


@router.patch("/me", response_model=SeekerOut)
async def update_me(
    body: SeekerUpdate, seeker: CurrentSeeker, session: SessionDep, taxonomy: TaxonomyDep
) -> SeekerOut:
    seeker = await accounts.update_jobseeker(session, seeker, seeker_columns(body, taxonomy))
    return seeker_out(seeker, taxonomy)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, summary="Erase me and my data")
async def erase_me(request: Request, seeker: CurrentSeeker, session: SessionDep) -> Response:
    seeker_id = seeker.id
    await accounts.erase_jobseeker(session, seeker)
    await session.commit()
    # Their open websockets close (other workers: within a presence refresh).
    request.app.state.hub.revoke_replaced(seeker_id, frozenset())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/matches", response_model=MatchList, summary="My best matches near a point")
async def my_matches(
    request: Request,
    seeker: CurrentSeeker,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    lat: LatQuery,
    lon: LonQuery,
    radius_m: Radius = None,
    limit: Limit = 20,
    min_score: MinScore = 0.0,
    include_weak: Annotated[
        bool,
        Query(description="Also matches that cover none of the vacancy's required skills"),
    ] = False,
) -> MatchList:
    # The position is used for this query only and not stored.
    return await match_list(
        request, session, taxonomy, seeker, lat, lon, radius_m, limit, min_score, include_weak,
        exclude=await marks.dismissed(session, seeker.id),  # dismissed on any device
    )  # fmt: skip
