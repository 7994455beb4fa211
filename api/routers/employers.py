"""Employer sign-up, and an employer's own vacancies with their reach."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from api import ratelimit
from api.deps import CurrentEmployer, LangDep, SessionDep, TaxonomyDep
from api.presenters import vacancy_owner
from api.schemas.common import NOT_BLANK, Strict
from api.schemas.vacancies import VacancyOwner
from matcher.matching import reach
from matcher.people import accounts, caseload
from matcher.posting import employer_trust
from matcher.posting.cvr_register import from_url

router = APIRouter(prefix="/v1/employers", tags=["employers"])


# Not a space in any engine and not @ (NOT_BLANK in api/schemas/common.py says why).
_NOT_SPACE = NOT_BLANK.replace("[^", "[^@")
EMAIL = rf"^{_NOT_SPACE}+@{_NOT_SPACE}+\.{_NOT_SPACE}+$"


OrgKind = Literal["business", "association", "volunteer_centre", "club"]  # offers.ORG_KINDS


class EmployerCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    cvr: str | None = Field(
        default=None,
        pattern=r"^\d{8}$",
        description="Danish CVR number: 8 digits passing the modulus-11 check (else a 422 "
        "`invalid_cvr`). Checked against the CVR register where one is configured.",
    )
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    org_kind: OrgKind = Field(
        default="business",
        description="Who posts: a business, or a forening, club or volunteer centre "
        "posting leisure and volunteering offers (the pages' words for the poster)",
    )


class EmployerCreated(BaseModel):
    id: uuid.UUID
    name: str
    org_kind: str
    api_key: str = Field(description="Shown once. Send as `Authorization: Bearer <api_key>`.")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EmployerCreated,
    dependencies=[Depends(ratelimit.per_ip("employer_signup"))],
)
async def create_employer(
    body: EmployerCreate, request: Request, session: SessionDep
) -> EmployerCreated:
    register = from_url(request.app.state.settings.cvr_register_url)
    employer, key = await employer_trust.sign_up(
        session, body.name, body.cvr, body.contact_email, register, org_kind=body.org_kind
    )
    return EmployerCreated(
        id=employer.id, name=employer.name, org_kind=employer.org_kind, api_key=key
    )


class ApiKeyOut(BaseModel):
    api_key: str = Field(description="Shown once. The previous key no longer works.")


@router.post(
    "/me/token",
    response_model=ApiKeyOut,
    summary="Replace my API key (the old one stops working at once)",
)
async def rotate_my_key(employer: CurrentEmployer, session: SessionDep) -> ApiKeyOut:
    key = await accounts.rotate_secret(session, employer)
    await caseload.audit(
        session, "employer", employer.id, "api_key.rotate", employer.id, subject_type="employer"
    )
    return ApiKeyOut(api_key=key)


class VacancyList(BaseModel):
    vacancies: list[VacancyOwner]


class ReachOut(BaseModel):
    vacancy_id: uuid.UUID
    matching_seekers: int | None = Field(
        description="Young people near by right now whom the vacancy fits; null when "
        "fewer than `fewer_than` (small counts could identify someone)"
    )
    fewer_than: int = Field(description="Counts below this are not shown")
    radius_m: float = Field(description="The farthest anyone is counted from (each uses theirs)")


@router.get("/me/vacancies", response_model=VacancyList, summary="My vacancies")
async def my_vacancies(
    employer: CurrentEmployer, session: SessionDep, taxonomy: TaxonomyDep, lang: LangDep
) -> VacancyList:
    rows = await reach.owned_vacancies(session, employer.id)
    return VacancyList(vacancies=[vacancy_owner(v, employer.name, taxonomy, lang) for v in rows])


@router.get(
    "/me/vacancies/{vacancy_id}/reach",
    response_model=ReachOut,
    summary="How many young people near by the vacancy fits now (a count only)",
)
async def vacancy_reach(
    vacancy_id: uuid.UUID,
    request: Request,
    employer: CurrentEmployer,
    session: SessionDep,
    taxonomy: TaxonomyDep,
) -> ReachOut:
    vacancy = await reach.owned_vacancy(session, employer.id, vacancy_id)
    max_radius = request.app.state.settings.max_radius_m
    walk_in_m = request.app.state.settings.push_walk_in_m
    found = await reach.reach(session, taxonomy, vacancy, max_radius, walk_in_m=walk_in_m)
    return ReachOut(
        vacancy_id=vacancy.id,
        matching_seekers=found.shown,
        fewer_than=found.floor,
        radius_m=max_radius,
    )
