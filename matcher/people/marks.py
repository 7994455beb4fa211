"""What a person dismissed or saved, kept on the server so every device honours it.

A dismissed vacancy is never listed again (`find_matches(exclude=…)`) nor pushed
(push/delivery.py checks the mark where every push is recorded). A person has
at most one mark per vacancy: saving a dismissed job un-dismisses it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.models import SeekerVacancyMark, Vacancy

Mark = Literal["dismissed", "saved"]


@dataclass(frozen=True, slots=True)
class Marked:
    vacancy_id: uuid.UUID
    mark: Mark
    at: dt.datetime


_UPSERT_SQL = text(
    """
    INSERT INTO seeker_vacancy_marks (jobseeker_id, vacancy_id, mark)
    VALUES (:seeker, :vacancy, :mark)
    ON CONFLICT (jobseeker_id, vacancy_id) DO UPDATE SET mark = EXCLUDED.mark, at = now()
    RETURNING at
    """
)


async def set_mark(
    session: AsyncSession, seeker_id: uuid.UUID, vacancy_id: uuid.UUID, mark: Mark
) -> Marked | None:
    """Mark a vacancy; None if it does not exist (closed ones may still be marked:
    a saved job that closed stays in the list, shown as closed)."""
    if await session.get(Vacancy, vacancy_id) is None:
        return None
    at = (
        await session.execute(
            _UPSERT_SQL, {"seeker": seeker_id, "vacancy": vacancy_id, "mark": mark}
        )
    ).scalar_one()
    return Marked(vacancy_id, mark, at)


async def clear_mark(session: AsyncSession, seeker_id: uuid.UUID, vacancy_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(SeekerVacancyMark).where(
            SeekerVacancyMark.jobseeker_id == seeker_id,
            SeekerVacancyMark.vacancy_id == vacancy_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def marks_of(
    session: AsyncSession, seeker_id: uuid.UUID, mark: Mark | None = None
) -> list[Marked]:
    """A person's marks, newest first."""
    q = select(SeekerVacancyMark).where(SeekerVacancyMark.jobseeker_id == seeker_id)
    if mark is not None:
        q = q.where(SeekerVacancyMark.mark == mark)
    rows = (await session.scalars(q.order_by(SeekerVacancyMark.at.desc()))).all()
    return [Marked(r.vacancy_id, r.mark, r.at) for r in rows]  # type: ignore[arg-type]


async def dismissed(session: AsyncSession, seeker_id: uuid.UUID) -> frozenset[uuid.UUID]:
    return frozenset(m.vacancy_id for m in await marks_of(session, seeker_id, "dismissed"))
