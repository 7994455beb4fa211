"""Vacancies: employers post and manage theirs; anyone searches nearby."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from api.contract import errors
from api.deps import LangDep, MaybeEmployer, SessionDep, TaxonomyDep, VacancyWriter
from api.presenters import vacancy_owner, vacancy_public
from api.responses import JSON, GeoJSON
from api.schemas.common import LatQuery, LonQuery
from api.schemas.geojson import VacancyFeatureCollection
from api.schemas.vacancies import (
    OfferKind,
    VacancyCreate,
    VacancyOwner,
    VacancyPublic,
    VacancyUpdate,
)
from matcher import offers
from matcher.errors import Invalid, NotFound
from matcher.matching import geo
from matcher.matching.eligibility import implied_min_age
from matcher.matching.matches import today_in_denmark
from matcher.models import VacancyStatus
from matcher.posting import employer_trust, idempotency
from matcher.posting import pay as pay_rules
from matcher.posting import vacancies as service

router = APIRouter(prefix="/v1/vacancies", tags=["vacancies"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Any unique string; a retried POST with the same key and body "
        "returns the first response instead of creating a second vacancy.",
    ),
]


def _columns(body: VacancyCreate | VacancyUpdate, taxonomy: Any) -> dict[str, Any]:
    # Top-level: only what the client sent (a PATCH is partial); nested: with defaults.
    fields = body.model_dump(include=body.model_fields_set)
    if "work_profile" in fields:
        wp = body.work_profile
        fields["work_profile"] = wp.as_vector() if wp is not None else None
    if "apply" in fields:
        fields["apply"] = body.apply.stored() if body.apply is not None else None
    if "pay" in fields:
        fields["pay"] = pay_rules.check(fields["pay"])
    return service.to_columns(taxonomy, fields)


def _invites_walk_ins(body: VacancyCreate | VacancyUpdate) -> bool:
    """The body asks young people to drop by: `walk_in`, or walk-in as how to apply."""
    return bool(body.walk_in) or bool(body.apply is not None and body.apply.walk_in)


LOCATION = {
    "Location": {
        "description": "The new vacancy's URL path, `/v1/vacancies/{id}`",
        "required": True,
        "schema": {"type": "string"},
    }
}


def _location(vacancy_id: uuid.UUID | str) -> str:
    return f"/v1/vacancies/{vacancy_id}"


async def age_limits(session: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The age limit each vacancy shows: its min_age or what the youth rules imply."""
    batch = await geo.fetch_candidates_by_id(session, ids, 0.0, 0.0, [])
    ages = implied_min_age(batch.eligibility, today_in_denmark())
    return {batch.ids[i]: int(a) for i, a in enumerate(ages.tolist())}  # type: ignore[misc]


def check_radius(request: Request, radius_m: float) -> None:
    limit = request.app.state.settings.max_radius_m
    if radius_m > limit:
        raise Invalid(f"radius_m must be at most {limit:.0f} metres")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VacancyOwner,
    summary="Post a vacancy",
    responses={201: {"headers": LOCATION}},
)
async def create_vacancy(
    body: VacancyCreate,
    request: Request,
    employer: VacancyWriter,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    lang: LangDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if idempotency_key:
        body_hash = idempotency.request_hash(body.model_dump_json().encode())
        previous = await idempotency.claim(session, employer.id, idempotency_key, body_hash)
        if previous is not None:
            # The first answer again, Location included (only its body is stored).
            vacancy_id = previous.response.get("id")
            headers = {"Location": _location(str(vacancy_id))} if vacancy_id else None
            return JSON(previous.response, status_code=previous.status_code, headers=headers)
    employer_trust.require_verified_for_walk_in(employer, _invites_walk_ins(body))
    vacancy = await service.create(session, employer.id, _columns(body, taxonomy))
    out = vacancy_owner(vacancy, employer.name, taxonomy, lang).model_dump(mode="json")
    if idempotency_key:
        await idempotency.record(session, employer.id, idempotency_key, 201, out)
    return JSON(out, status_code=201, headers={"Location": _location(vacancy.id)})


@router.get(
    "",
    summary="Open vacancies near a point, nearest first (GeoJSON)",
    response_class=GeoJSON,
    response_model=VacancyFeatureCollection,
)
async def search_nearby(
    request: Request,
    session: SessionDep,
    lat: LatQuery,
    lon: LonQuery,
    radius_m: Annotated[
        float, Query(gt=0, allow_inf_nan=False, description="Search radius in metres")
    ] = 5000.0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    kind: Annotated[
        list[OfferKind] | None,
        Query(
            description="Kinds of offer to show, repeatable (`kind=leisure&kind=job`); "
            "jobs only when left out"
        ),
    ] = None,
) -> GeoJSON:
    check_radius(request, radius_m)
    kinds = tuple(dict.fromkeys(kind)) if kind else offers.DEFAULT_OFFER_KINDS
    rows = await geo.nearby_open_vacancies(session, lat, lon, radius_m, limit, kinds)
    limits = await age_limits(session, [r.id for r in rows])
    features = [
        {
            "type": "Feature",
            "id": str(r.id),
            "geometry": {"type": "Point", "coordinates": [round(r.lon, 7), round(r.lat, 7)]},
            "properties": {
                "title": r.title,
                "employer_name": r.employer_name,
                "occupation": r.occupation_label,
                "kind": r.kind,
                "job_type": r.job_type,
                "hours_per_week": r.hours_per_week,
                "walk_in": r.walk_in,
                "opening_hours": r.opening_hours,
                "min_age": r.min_age,
                # A row the hot path cannot read (geo.sound_rows) is shown as adults-only.
                "age_limit": limits.get(r.id, max(r.min_age, 18)),
                "start_date": r.start_date.isoformat() if r.start_date else None,
                "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                "address": r.address,
                "pay": r.pay,
                "location_precision": r.location_precision,
                "distance_m": round(r.distance_m, 1),
                "max_age": r.max_age,
                "cost_dkk": r.cost_dkk,
                "cost_note": r.cost_note,
                "org_kind": r.org_kind,
            },
        }
        for r in rows
    ]
    return GeoJSON({"type": "FeatureCollection", "features": features})


@router.get(
    "/{vacancy_id}",
    response_model=VacancyOwner | VacancyPublic,
    summary="One vacancy: the full record for its owner, the public view for others",
)
async def get_vacancy(
    vacancy_id: uuid.UUID,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    employer: MaybeEmployer,
    lang: LangDep,
) -> VacancyOwner | VacancyPublic:
    vacancy = await service.get(session, vacancy_id)
    if employer is not None and vacancy.employer_id == employer.id:
        return vacancy_owner(vacancy, employer.name, taxonomy, lang)
    if vacancy.status != VacancyStatus.OPEN:
        raise NotFound("vacancy not found")
    names = await service.employer_names(session, {vacancy.employer_id})
    return vacancy_public(vacancy, names[vacancy.employer_id], taxonomy, lang)


@router.patch(
    "/{vacancy_id}",
    response_model=VacancyOwner,
    summary="Change your vacancy",
    responses=errors(409),
)
async def update_vacancy(
    vacancy_id: uuid.UUID,
    body: VacancyUpdate,
    employer: VacancyWriter,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    lang: LangDep,
) -> VacancyOwner:
    vacancy = await service.get_owned(session, employer.id, vacancy_id)
    employer_trust.require_verified_for_walk_in(employer, _invites_walk_ins(body))
    columns = _columns(body, taxonomy)
    if not columns:
        raise Invalid("nothing to change: the body has no fields")
    vacancy = await service.update(session, vacancy, columns)
    return vacancy_owner(vacancy, employer.name, taxonomy, lang)


@router.delete(
    "/{vacancy_id}",
    response_model=VacancyOwner,
    summary="Close your vacancy (kept, no longer shown)",
)
async def close_vacancy(
    vacancy_id: uuid.UUID,
    employer: VacancyWriter,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    lang: LangDep,
) -> VacancyOwner:
    vacancy = await service.get_owned(session, employer.id, vacancy_id)
    # Everyone who was told about it is told it is gone, live or on resume: the
    # request's unit of work records the withdrawals (matcher/posting/unit_of_work.py).
    vacancy = await service.close(session, vacancy)
    return vacancy_owner(vacancy, employer.name, taxonomy, lang)
