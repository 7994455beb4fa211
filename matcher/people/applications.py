"""Interest ("Jeg er interesseret"): a young person's interest in a vacancy, sent to its employer.

An application holds only what the person chose to share (first name, age, phone,
e-mail, some of their skills, a short message), one per person and vacancy. The
employer who owns the vacancy reads them and answers once: come by, call me, or
no thanks. The answer reaches the person as a durable push (push/messages.py);
the route records it in the same transaction.

Who may send: a person the vacancy may reach, by the same hard rules as matches
(age, certificates, the youth rules; `matching.why_not`), and only while it is open.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import Conflict, DomainError, Invalid, NotFound
from matcher.integrations import integration_events
from matcher.matching import matches as matching
from matcher.matching.eligibility import age_on
from matcher.models import Application, Employer, Jobseeker, Vacancy, VacancyStatus

MAX_MESSAGE = 500
REPLIES = ("come_by", "call_me", "no_thanks")


class NotEligible(DomainError):
    """The hard rules keep this vacancy from this person (the match list never shows it)."""

    status_code = 422
    code = "not_eligible"


@dataclass(frozen=True, slots=True)
class Choice:
    """What the person ticked to share; phone and e-mail are typed in the sheet
    (the profile holds neither) and already checked by the caller."""

    first_name: bool = False
    age: bool = False
    phone: str | None = None
    email: str | None = None
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Row:
    application: Application
    title: str
    employer_name: str


def _message(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_MESSAGE:
        raise Invalid(f"message is longer than {MAX_MESSAGE} characters")
    return text


def shared_view(seeker: Jobseeker, choice: Choice, taxonomy: Any, today: dt.date) -> dict[str, Any]:
    """The shared part as stored: a snapshot, so a later profile edit does not
    change what the employer was told."""
    out: dict[str, Any] = {}
    if choice.first_name:
        name = (seeker.display_name or "").split()
        if not name:
            raise Invalid("first_name: your profile has no name to share")
        out["first_name"] = name[0]
    if choice.age:
        out["age"] = age_on(seeker.birth_date, today)
    if choice.phone:
        out["phone"] = choice.phone
    if choice.email:
        out["email"] = choice.email
    if choice.skills:
        mine = {taxonomy.skill_uri(i): i for i in seeker.skill_ids}
        unknown = [u for u in choice.skills if u not in mine]
        if unknown:
            raise Invalid(f"skills: not in your profile: {', '.join(unknown[:3])}")
        out["skills"] = [
            {"uri": u, "label": taxonomy.skill_label(mine[u], "da")} for u in choice.skills
        ]
    if not out.get("phone") and not out.get("email"):
        raise Invalid("share a phone number or an e-mail address, so the employer can answer")
    return out


async def create(
    session: AsyncSession,
    taxonomy: Any,
    seeker: Jobseeker,
    vacancy_id: uuid.UUID,
    choice: Choice,
    message: str | None,
) -> Application:
    vacancy = await session.get(Vacancy, vacancy_id)
    if vacancy is None or vacancy.status != VacancyStatus.OPEN:
        raise NotFound("vacancy not found")
    today = matching.today_in_denmark()
    rules = await matching.why_not(session, taxonomy, seeker, vacancy_id, today)
    if rules is None:
        raise NotFound("vacancy not found")
    if rules:
        raise NotEligible(
            "this job is not one you may take (age, certificates or the youth rules)",
            [{"rule": r} for r in rules],
        )
    values = {
        "id": uuid.uuid4(),
        "vacancy_id": vacancy_id,
        "jobseeker_id": seeker.id,
        "shared": shared_view(seeker, choice, taxonomy, today),
        "message": _message(message),
    }
    new_id = await session.scalar(
        insert(Application)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_applications_once")
        .returning(Application.id)
    )
    if new_id is None:
        raise Conflict("you have already shown interest in this job")
    # The case system hears that interest was shown, not what was shared or said.
    await integration_events.emit(
        session,
        "interest.sent",
        f"jobseekers/{seeker.id}",
        {
            "application_id": str(new_id),
            "jobseeker_id": str(seeker.id),
            "vacancy_id": str(vacancy_id),
        },
        jobseeker_id=seeker.id,
    )
    found = await session.get(Application, new_id)
    assert found is not None
    await session.refresh(found)
    return found


async def for_vacancy(
    session: AsyncSession, employer_id: uuid.UUID, vacancy_id: uuid.UUID
) -> list[Application]:
    """The vacancy's applications, newest first; 404 unless this employer owns it."""
    owner = await session.scalar(select(Vacancy.employer_id).where(Vacancy.id == vacancy_id))
    if owner != employer_id:
        raise NotFound("vacancy not found")
    rows = await session.scalars(
        select(Application)
        .where(Application.vacancy_id == vacancy_id)
        .order_by(Application.created_at.desc(), Application.id)
    )
    return list(rows)


async def counts(session: AsyncSession, employer_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, int]]:
    """{vacancy id: (all applications, those not answered yet)} for an employer."""
    rows = await session.execute(
        select(
            Application.vacancy_id,
            func.count(),
            func.count().filter(Application.reply.is_(None)),
        )
        .join(Vacancy, Vacancy.id == Application.vacancy_id)
        .where(Vacancy.employer_id == employer_id)
        .group_by(Application.vacancy_id)
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


async def reply(
    session: AsyncSession,
    employer_id: uuid.UUID,
    application_id: uuid.UUID,
    answer: str,
    message: str | None,
) -> Row:
    """The employer's one answer (a second is a 409: the person already has the
    first, as a push). 404 unless this employer owns the vacancy."""
    if answer not in REPLIES:
        raise Invalid(f"reply must be one of {', '.join(REPLIES)}")
    found = (
        await session.execute(
            select(Application, Vacancy.title, Employer.name)
            .join(Vacancy, Vacancy.id == Application.vacancy_id)
            .join(Employer, Employer.id == Vacancy.employer_id)
            .where(Application.id == application_id, Vacancy.employer_id == employer_id)
            .with_for_update(of=Application)
        )
    ).one_or_none()
    if found is None:
        raise NotFound("interest not found")
    application, title, employer_name = found
    if application.reply is not None:
        raise Conflict("this interest has already been answered")
    application.reply = answer
    application.reply_message = _message(message) or None
    application.replied_at = dt.datetime.now(dt.UTC)
    await session.flush()
    return Row(application, title, employer_name)


async def for_seeker(session: AsyncSession, jobseeker_id: uuid.UUID) -> list[Row]:
    """A person's own applications with the answers, newest first (also their export)."""
    rows = await session.execute(
        select(Application, Vacancy.title, Employer.name)
        .join(Vacancy, Vacancy.id == Application.vacancy_id)
        .join(Employer, Employer.id == Vacancy.employer_id)
        .where(Application.jobseeker_id == jobseeker_id)
        .order_by(Application.created_at.desc(), Application.id)
    )
    return [Row(a, title, name) for a, title, name in rows]
