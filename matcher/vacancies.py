"""Vacancy use cases: create, change, close, and the owner check.

Services only `flush()`; the request-scoped session commits or rolls back, so a
request either writes everything or nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Protocol

from geoalchemy2.elements import WKTElement
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import events
from matcher.errors import Conflict, NotFound
from matcher.events import VacancyEvent
from matcher.models import Employer, Vacancy, VacancySource, VacancyStatus


class ConceptResolver(Protocol):
    def resolve_skills(self, uris: list[str]) -> list[int]: ...
    def resolve_occupation(self, uri: str) -> int: ...


def point(lat: float, lon: float) -> WKTElement:
    # WKT is x y, i.e. lon lat.
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=4326)


def lat_lon(location: Any) -> tuple[float, float]:
    p = to_shape(location)
    return float(p.y), float(p.x)


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
            out["occupation_id"] = taxonomy.resolve_occupation(value) if value else None
        elif key == "required_skills":
            out["required_skill_ids"] = taxonomy.resolve_skills([s["uri"] for s in value])
            out["required_skill_weights"] = [float(s["weight"]) for s in value]
        elif key == "optional_skills":
            out["optional_skill_ids"] = taxonomy.resolve_skills(list(value))
        elif key == "shift":
            out["shift_start"] = value["start"] if value else None
            out["shift_end"] = value["end"] if value else None
        elif key == "work_profile":
            out["work_profile"] = value  # already a vector (api maps names to it)
        else:
            out[key] = value
    return out


async def create(session: AsyncSession, employer_id: uuid.UUID, columns: dict[str, Any]) -> Vacancy:
    vacancy = Vacancy(employer_id=employer_id, source=VacancySource.API, **columns)
    session.add(vacancy)
    await session.flush()
    await session.refresh(vacancy)
    events.emit(session, VacancyEvent(vacancy.id, "created"))
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
    return vacancy


async def employer_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Employer.id, Employer.name).where(Employer.id.in_(ids)))
    return {r.id: r.name for r in rows}
