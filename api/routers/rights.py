"""The privacy notice, a person's consents, and a copy of their data
(docs/privacy.md, "Consent" and "Your data")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.deps import CurrentSeeker, SessionDep, request_lang
from api.responses import JSON
from api.schemas.common import Strict
from matcher.people import caseload, consent, rights

router = APIRouter(tags=["privacy"])


class NoticePoint(BaseModel):
    id: str
    icon: str = Field(description="A picture for the point (an emoji)")
    title: str
    text: str


class Controller(BaseModel):
    name: str
    contact: str


class PrivacyNotice(BaseModel):
    version: str = Field(description="Send this as `consent.notice_version` at sign-up")
    lang: str
    controller: Controller
    points: list[NoticePoint]


class ConsentOut(BaseModel):
    granted: bool
    notice_version: str | None
    granted_at: dt.datetime | None
    withdrawn_at: dt.datetime | None


class ConsentsOut(BaseModel):
    current_notice_version: str
    service: ConsentOut
    location: ConsentOut


class LocationConsentIn(Strict):
    granted: bool = Field(description="true: positions may be used for push; false: withdraw")


def _consents_out(states: dict[str, consent.ConsentState]) -> ConsentsOut:
    def one(s: consent.ConsentState) -> ConsentOut:
        return ConsentOut(
            granted=s.granted,
            notice_version=s.notice_version,
            granted_at=s.granted_at,
            withdrawn_at=s.withdrawn_at,
        )

    return ConsentsOut(
        current_notice_version=consent.current_version(),
        service=one(states[consent.SERVICE]),
        location=one(states[consent.LOCATION]),
    )


@router.get("/v1/privacy-notice", response_model=PrivacyNotice, summary="The privacy notice")
async def privacy_notice(
    request: Request,
    response: Response,
    lang: Annotated[Literal["da", "en"] | None, Query()] = None,
) -> PrivacyNotice:
    # Public and the same for everyone: caches may keep it a while.
    response.headers["Cache-Control"] = "public, max-age=300"
    days = request.app.state.settings.inactive_delete_after_days
    return PrivacyNotice.model_validate(consent.notice(lang or request_lang(request), days))


@router.get("/v1/jobseekers/me/consents", response_model=ConsentsOut, summary="My consents")
async def my_consents(seeker: CurrentSeeker, session: SessionDep) -> ConsentsOut:
    return _consents_out(await consent.states(session, seeker.id))


@router.put(
    "/v1/jobseekers/me/consents/location",
    response_model=ConsentsOut,
    summary="Give or withdraw consent to use my position",
)
async def set_location_consent(
    request: Request, body: LocationConsentIn, seeker: CurrentSeeker, session: SessionDep
) -> ConsentsOut:
    if body.granted:
        await consent.grant(session, seeker.id, consent.LOCATION)
    else:
        await consent.withdraw(session, seeker.id, consent.LOCATION)
        await consent.erase_position(session, seeker.id)
    states = await consent.states(session, seeker.id)
    # Committed before this worker's live connections are told, so a connection
    # starting meanwhile reads the new answer or is told it; other workers learn
    # when they next read the person (their position writes check it in SQL).
    await session.commit()
    request.app.state.hub.set_location_consent(seeker.id, body.granted)
    return _consents_out(states)


@router.get(
    "/v1/jobseekers/me/export",
    summary="A copy of everything stored about me (JSON)",
    response_model=dict[str, Any],
)
async def export_me(seeker: CurrentSeeker, session: SessionDep) -> JSON:
    # The audit row first, so the copy shows that it was made.
    await caseload.audit(session, "jobseeker", seeker.id, "jobseeker.export", seeker.id)
    data = await rights.export(session, seeker.id)
    stamp = dt.date.today().isoformat()
    return JSON(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="job-on-the-run-{stamp}.json"',
            "Cache-Control": "no-store",
        },
    )
