"""Caseloads without the command line: invite codes, links and unlinks, and the
young person's consent to share with their consultant's municipality.

A consultant makes a short code; the young person types it in the app and says
yes to sharing, which puts them on the caseload and lets events about them reach
the municipality's case system (matcher/integrations/integration_events.py). Either side can
undo it. Every step is audited; codes are stored only as hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import NotFound
from matcher.integrations import integration_events
from matcher.matching import geo
from matcher.models import CaseloadEntry, Consultant, ConsultantInvite, Integration, Jobseeker
from matcher.people import caseload

# No 0/O, 1/I/L: read aloud or off a screen without mistakes. 31^8 codes, and
# wrong guesses count against the caller's IP like wrong tokens do.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str:
    """What the person typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def hash_code(code: str) -> bytes:
    return hashlib.sha256(("invite:" + normalise(code)).encode()).digest()


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    expires_at: dt.datetime


async def create_invite(session: AsyncSession, consultant: Consultant, days: int) -> Invite:
    code = new_code()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    session.add(
        ConsultantInvite(code_hash=hash_code(code), consultant_id=consultant.id, expires_at=expires)
    )
    await session.flush()
    await caseload.audit(
        session, "consultant", consultant.id, "invite.create", consultant.id,
        {"expires_at": expires.isoformat()}, subject_type="consultant",
    )  # fmt: skip
    return Invite(display(code), expires)


async def _linked(
    session: AsyncSession, seeker: Jobseeker, consultant: Consultant, via: str
) -> None:
    await integration_events.emit(
        session,
        "jobseeker.linked",
        f"jobseekers/{seeker.id}",
        {
            "jobseeker_id": str(seeker.id),
            "consultant_id": str(consultant.id),
            "municipality": consultant.municipality,
            "via": via,
        },
        jobseeker_id=seeker.id,
    )


async def link_with_code(session: AsyncSession, seeker: Jobseeker, code: str) -> Consultant:
    """Use an invite: the person joins the consultant's caseload and shares with
    the municipality (the caller has their explicit yes). NotFound for a wrong,
    used or expired code alike."""
    invite = await session.scalar(
        select(ConsultantInvite)
        .where(
            ConsultantInvite.code_hash == hash_code(code),
            ConsultantInvite.used_at.is_(None),
            ConsultantInvite.expires_at > dt.datetime.now(dt.UTC),
        )
        .with_for_update()
    )
    if invite is None:
        raise NotFound("no such invite code (wrong, used or expired)")
    consultant = await session.get(Consultant, invite.consultant_id)
    if consultant is None:  # pragma: no cover - the invite cascades with the consultant
        raise NotFound("no such invite code (wrong, used or expired)")
    now = dt.datetime.now(dt.UTC)
    invite.used_at = now
    await caseload.assign(session, consultant.id, seeker.id)
    seeker.share_with_municipality = True
    seeker.share_given_at = now
    seeker.share_withdrawn_at = None
    await session.flush()
    await caseload.audit(
        session, "jobseeker", seeker.id, "caseload.link", seeker.id,
        {"consultant_id": str(consultant.id), "via": "invite", "share": True},
    )  # fmt: skip
    await _linked(session, seeker, consultant, "invite")
    return consultant


async def my_consultants(session: AsyncSession, seeker: Jobseeker) -> list[Consultant]:
    rows = await session.scalars(
        select(Consultant)
        .join(CaseloadEntry, CaseloadEntry.consultant_id == Consultant.id)
        .where(CaseloadEntry.jobseeker_id == seeker.id)
        .order_by(CaseloadEntry.created_at, Consultant.id)
    )
    return list(rows)


async def unlink_self(session: AsyncSession, seeker: Jobseeker) -> int:
    """The person leaves every caseload and withdraws their consent: pending
    webhook deliveries about them stop, and the municipalities that heard about
    them get one last `jobseeker.consent_withdrawn`. Returns how many links went."""
    conn = await geo.raw_connection(session)
    audience = await integration_events.audience_of(conn, seeker.id)
    consultants = await my_consultants(session, seeker)
    await session.execute(delete(CaseloadEntry).where(CaseloadEntry.jobseeker_id == seeker.id))
    was_sharing = seeker.share_with_municipality
    seeker.share_with_municipality = False
    if was_sharing:
        seeker.share_withdrawn_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await integration_events.cancel_pending(conn, seeker.id)
    if audience:
        await integration_events.emit(
            session,
            "jobseeker.consent_withdrawn",
            f"jobseekers/{seeker.id}",
            {"jobseeker_id": str(seeker.id)},
            jobseeker_id=seeker.id,
            audience=audience,
        )
    await caseload.audit(
        session, "jobseeker", seeker.id, "caseload.unlink", seeker.id,
        {"consultant_ids": [str(c.id) for c in consultants], "share_withdrawn": was_sharing},
    )  # fmt: skip
    return len(consultants)


async def unlink_by_consultant(
    session: AsyncSession, consultant: Consultant, jobseeker_id: uuid.UUID
) -> None:
    """The consultant takes the person off their caseload (404 if not on it)."""
    seeker = await caseload.seeker_on_caseload(session, consultant.id, jobseeker_id)
    # Told while the link still stands, so it reaches the municipality it concerns.
    await integration_events.emit(
        session,
        "jobseeker.unlinked",
        f"jobseekers/{seeker.id}",
        {"jobseeker_id": str(seeker.id), "consultant_id": str(consultant.id), "by": "consultant"},
        jobseeker_id=seeker.id,
    )
    await session.execute(
        delete(CaseloadEntry).where(
            CaseloadEntry.consultant_id == consultant.id, CaseloadEntry.jobseeker_id == seeker.id
        )
    )
    await caseload.audit(session, "consultant", consultant.id, "caseload.unlink", seeker.id)


async def link_by_integration(
    session: AsyncSession,
    integration: Integration,
    consultant_id: uuid.UUID,
    jobseeker_id: uuid.UUID,
) -> None:
    """A case system puts a person on a consultant's caseload, only within its
    own municipality. This is no consent: events about the person flow only once
    they say yes in the app."""
    consultant = await session.get(Consultant, consultant_id)
    if consultant is None or consultant.municipality != integration.municipality:
        raise NotFound("consultant not found in your municipality")
    seeker = await session.get(Jobseeker, jobseeker_id)
    if seeker is None:
        raise NotFound("jobseeker not found")
    await caseload.assign(session, consultant.id, seeker.id)
    await caseload.audit(
        session, "integration", integration.id, "caseload.link", seeker.id,
        {"consultant_id": str(consultant.id), "via": "integration"},
    )  # fmt: skip
    await _linked(session, seeker, consultant, "integration")
