"""The privacy notice and the consents a person gives (docs/privacy.md, "Consent").

The notice is versioned data (matcher/data/privacy_notice.json). Sign-up needs
explicit consent to the current version, stored with the version and the time;
location consent is its own thing, asked separately and withdrawable. Without a
live location consent positions are neither accepted nor kept: the push layer
refuses location frames and its position write checks the consent row in SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import Invalid
from matcher.models import Consent

NOTICE_PATH = Path(__file__).resolve().parents[1] / "data" / "privacy_notice.json"
LANGS = ("da", "en")
SERVICE, LOCATION = "service", "location"


class ConsentRequired(Invalid):
    code = "consent_required"


class StaleNotice(Invalid):
    code = "stale_notice"


@lru_cache(maxsize=1)
def _notice_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(NOTICE_PATH.read_text(encoding="utf-8"))
    return data


def current_version() -> str:
    return str(_notice_file()["version"])


def notice(lang: str, delete_after_days: int) -> dict[str, Any]:
    """The notice in one language, with the retention period filled in."""
    data = _notice_file()
    months = max(1, round(delete_after_days / 30.4))
    return {
        "version": data["version"],
        "lang": lang,
        "controller": data["controller"],
        "points": [
            {
                "id": point["id"],
                "icon": point["icon"],
                "title": point[lang]["title"],
                "text": point[lang]["text"].replace("{months}", str(months)),
            }
            for point in data["points"]
        ],
    }


def check_signup_consent(consent: dict[str, Any] | None) -> str:
    """The notice version a sign-up consented to; 422 unless it is an explicit yes
    to the current notice."""
    if consent is None or consent.get("accepted") is not True:
        raise ConsentRequired(
            "sign-up needs consent to the privacy notice: send "
            '"consent": {"notice_version": "<GET /v1/privacy-notice version>", "accepted": true}'
        )
    version = current_version()
    if consent.get("notice_version") != version:
        raise StaleNotice(
            f"the privacy notice has changed (now version {version}); show it again and "
            "send its version",
            details=[{"loc": ["body", "consent", "notice_version"], "current": version}],
        )
    return version


@dataclass(frozen=True, slots=True)
class ConsentState:
    kind: str
    granted: bool
    notice_version: str | None
    granted_at: dt.datetime | None
    withdrawn_at: dt.datetime | None


async def grant(session: AsyncSession, seeker_id: uuid.UUID, kind: str) -> None:
    """Record a consent to the current notice, unless a live one exists already
    (a repeated yes changes nothing)."""
    live = await session.scalar(
        select(Consent.id).where(
            Consent.jobseeker_id == seeker_id, Consent.kind == kind, Consent.withdrawn_at.is_(None)
        )
    )
    if live is None:
        session.add(Consent(jobseeker_id=seeker_id, kind=kind, notice_version=current_version()))
        await session.flush()


async def withdraw(session: AsyncSession, seeker_id: uuid.UUID, kind: str) -> None:
    await session.execute(
        update(Consent)
        .where(
            Consent.jobseeker_id == seeker_id, Consent.kind == kind, Consent.withdrawn_at.is_(None)
        )
        .values(withdrawn_at=text("now()"))
    )


async def last_point(session: AsyncSession, seeker_id: uuid.UUID) -> tuple[float, float] | None:
    """The person's last known position (lat, lon), kept only while their app is
    connected and they consent (`push_streams`, apart from the profile row)."""
    row = (
        await session.execute(
            text(
                "SELECT ST_Y(last_position::geometry), ST_X(last_position::geometry)"
                " FROM push_streams WHERE jobseeker_id = :id AND last_position IS NOT NULL"
            ),
            {"id": seeker_id},
        )
    ).first()
    return (float(row[0]), float(row[1])) if row is not None else None


async def erase_position(session: AsyncSession, seeker_id: uuid.UUID) -> None:
    """Location consent withdrawn: the stored last position goes in the same
    transaction (the push layer's writes check the consent, so none comes back)."""
    await session.execute(
        text(
            "UPDATE push_streams SET last_position = NULL, last_position_at = NULL"
            " WHERE jobseeker_id = :id AND last_position IS NOT NULL"
        ),
        {"id": seeker_id},
    )


async def states(session: AsyncSession, seeker_id: uuid.UUID) -> dict[str, ConsentState]:
    """Each kind's latest row: live (granted) or withdrawn; never given -> not granted."""
    rows = (
        await session.scalars(
            select(Consent)
            .where(Consent.jobseeker_id == seeker_id)
            .order_by(Consent.kind, Consent.granted_at.desc(), Consent.id.desc())
            .distinct(Consent.kind)
        )
    ).all()
    latest = {r.kind: r for r in rows}
    out = {}
    for kind in (SERVICE, LOCATION):
        row = latest.get(kind)
        out[kind] = ConsentState(
            kind=kind,
            granted=row is not None and row.withdrawn_at is None,
            notice_version=row.notice_version if row else None,
            granted_at=row.granted_at if row else None,
            withdrawn_at=row.withdrawn_at if row else None,
        )
    return out


async def has_location_consent(session: AsyncSession, seeker_id: uuid.UUID) -> bool:
    # The same condition as the push layer's position write (push/hub.py).
    found = await session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM consents c WHERE c.jobseeker_id = :id"
            " AND c.kind = 'location' AND c.withdrawn_at IS NULL)"
        ),
        {"id": seeker_id},
    )
    return bool(found)
