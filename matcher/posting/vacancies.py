"""Vacancy use cases: create, change, close, and the owner check.

Services only `flush()`; the request-scoped session commits or rolls back, so a
request either writes everything or nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Protocol

from geoalchemy2.elements import WKTElement
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import offers
from matcher.errors import Conflict, NotFound
from matcher.integrations import integration_events
from matcher.models import Employer, Vacancy, VacancySource, VacancyStatus
from matcher.posting import events
from matcher.posting.events import VacancyEvent

# Sane date ranges for what a vacancy says about time, enforced wherever a vacancy
# is written (API and imports). Extreme values are not harmless: asyncpg stores
# date.min/date.max as -infinity/infinity, and "cannot subtract infinite dates"
# in the candidate query would fail every match request nearby.
START_DATE_PAST_YEARS = 1
START_DATE_FUTURE_YEARS = 2
EXPIRY_FUTURE_YEARS = 2


def years_from(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (or earlier); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def start_date_problem(start: dt.date, today: dt.date) -> str | None:
    """Why a start date is not acceptable, or None if it is."""
    earliest = years_from(today, -START_DATE_PAST_YEARS)
    latest = years_from(today, START_DATE_FUTURE_YEARS)
    if not earliest <= start <= latest:
        return (
            f"start_date must be between {earliest} and {latest}: at most "
            f"{START_DATE_PAST_YEARS} year back and {START_DATE_FUTURE_YEARS} years ahead"
        )
    return None


def expiry_problem(expires_at: dt.datetime, now: dt.datetime) -> str | None:
    """Why an expiry is not acceptable (in the past, or more than two years ahead)."""
    try:
        moment = expires_at.astimezone(dt.UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past the year 9999 in UTC
        return "expires_at is out of range"
    if moment <= now:
        return "expires_at must be in the future"
    latest = now + (years_from(now.date(), EXPIRY_FUTURE_YEARS) - now.date())
    if moment > latest:
        return f"expires_at must be at most {EXPIRY_FUTURE_YEARS} years ahead ({latest.date()})"
    return None


class ConceptResolver(Protocol):
    def resolve_skills(self, uris: list[str], field: str | None = None) -> list[int]: ...
    def resolve_occupation(self, uri: str, field: str | None = None) -> int: ...


def point(lat: float, lon: float) -> WKTElement:
    # WKT is x y, i.e. lon lat.
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=4326)


def to_columns(taxonomy: ConceptResolver, fields: dict[str, Any]) -> dict[str, Any]:
    """Map validated input fields (URIs, lat/lon, shift) to column values.

    Only the keys present in `fields` are returned, so the same function serves
    a full create and a partial update. Unknown URIs raise
    taxonomy.UnknownConceptError before anything is written.
    """
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "location":
            out["location"] = point(value["lat"], value["lon"])
        elif key == "occupation_uri":
            out["occupation_id"] = taxonomy.resolve_occupation(value, key) if value else None
        elif key == "required_skills":
            out["required_skill_ids"] = taxonomy.resolve_skills([s["uri"] for s in value], key)
            out["required_skill_weights"] = [float(s["weight"]) for s in value]
        elif key == "optional_skills":
            out["optional_skill_ids"] = taxonomy.resolve_skills(list(value), key)
        elif key == "shift":
            out["shift_start"] = value["start"] if value else None
            out["shift_end"] = value["end"] if value else None
        elif key == "work_profile":
            out["work_profile"] = value  # already a vector (api maps names to it)
        elif key == "hazardous" and "hazards" in fields:
            continue  # the checklist says it (the api checked that they agree)
        elif key == "hazardous":
            # The old flag without the checklist: kept from minors as 'other'.
            out["hazardous"], out["hazards"] = bool(value), ["other"] if value else []
        elif key == "schedule":
            out["schedule"] = list(value) or None  # [] clears it
        elif key == "hazards":
            out["hazards"], out["hazardous"] = list(value), bool(value)
        else:
            out[key] = value
    return out


async def create(session: AsyncSession, employer_id: uuid.UUID, columns: dict[str, Any]) -> Vacancy:
    columns = offers.settle(columns)  # what the offer's kind needs (422 if missing)
    vacancy = Vacancy(employer_id=employer_id, source=VacancySource.API, **columns)
    session.add(vacancy)
    await session.flush()
    await session.refresh(vacancy)
    events.emit(session, VacancyEvent(vacancy.id, "created"))
    await integration_events.emit(
        session, "vacancy.created", f"vacancies/{vacancy.id}", vacancy_facts(vacancy)
    )
    return vacancy


async def get(session: AsyncSession, vacancy_id: uuid.UUID) -> Vacancy:
    vacancy = await session.get(Vacancy, vacancy_id)
    if vacancy is None:
        raise NotFound("vacancy not found")
    return vacancy


async def get_owned(
    session: AsyncSession, employer_id: uuid.UUID, vacancy_id: uuid.UUID
) -> Vacancy:
    """The vacancy if this employer owns it. Another employer's vacancy is
    reported as missing, so ids cannot be probed."""
    vacancy = await session.get(Vacancy, vacancy_id, with_for_update=True)
    if vacancy is None or vacancy.employer_id != employer_id:
        raise NotFound("vacancy not found")
    return vacancy


async def update(session: AsyncSession, vacancy: Vacancy, columns: dict[str, Any]) -> Vacancy:
    if vacancy.status != VacancyStatus.OPEN:
        raise Conflict(f"vacancy is {vacancy.status.value}; a closed vacancy cannot be changed")
    columns = offers.settle(columns, vacancy)  # judged on the row as it will be
    for key, value in columns.items():
        setattr(vacancy, key, value)
    vacancy.updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await session.refresh(vacancy)
    events.emit(session, VacancyEvent(vacancy.id, "updated"))
    return vacancy


async def close(session: AsyncSession, vacancy: Vacancy) -> Vacancy:
    if vacancy.status == VacancyStatus.OPEN:
        vacancy.status = VacancyStatus.CLOSED
        vacancy.updated_at = dt.datetime.now(dt.UTC)
        await session.flush()
        events.emit(session, VacancyEvent(vacancy.id, "closed"))
        await integration_events.emit(
            session,
            "vacancy.closed",
            f"vacancies/{vacancy.id}",
            {"vacancy_id": str(vacancy.id), "status": "closed"},
        )
    return vacancy


def vacancy_facts(vacancy: Vacancy) -> dict[str, Any]:
    """What a case system hears of a new vacancy: ids and facts; where it is
    stays in the API (`GET /v1/vacancies/{id}`)."""
    return {
        "vacancy_id": str(vacancy.id),
        "employer_id": str(vacancy.employer_id),
        "source": vacancy.source.value,
        "title": vacancy.title,
        "kind": vacancy.kind,
        "job_type": vacancy.job_type.value if vacancy.job_type is not None else None,
        "hours_per_week": vacancy.hours_per_week,
        "min_age": vacancy.min_age,
        "start_date": vacancy.start_date.isoformat() if vacancy.start_date else None,
    }


async def employer_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Employer.id, Employer.name).where(Employer.id.in_(ids)))
    return {r.id: r.name for r in rows}
