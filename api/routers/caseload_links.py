"""Invite codes and links between young people and their consultant, from both
sides (matcher/people/caseload_links.py). Every step is audited there."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from api import ratelimit
from api.contract import errors
from api.deps import CurrentConsultant, CurrentSeeker, SessionDep
from api.schemas.common import Strict
from matcher.errors import NotFound
from matcher.people import caseload_links

router = APIRouter()


class InviteOut(BaseModel):
    code: str = Field(description="Eight letters and digits (shown as XXXX-XXXX), single use")
    expires_at: dt.datetime


@router.post(
    "/v1/consultants/me/invites",
    status_code=status.HTTP_201_CREATED,
    response_model=InviteOut,
    tags=["consultants"],
    summary="A short code a young person enters in the app to join my caseload",
)
async def create_invite(
    request: Request, consultant: CurrentConsultant, session: SessionDep
) -> InviteOut:
    days = request.app.state.settings.invite_days
    invite = await caseload_links.create_invite(session, consultant, days)
    return InviteOut(code=invite.code, expires_at=invite.expires_at)


@router.delete(
    "/v1/consultants/me/jobseekers/{jobseeker_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["consultants"],
    summary="Take a person off my caseload",
)
async def unlink_jobseeker(
    jobseeker_id: uuid.UUID, consultant: CurrentConsultant, session: SessionDep
) -> Response:
    await caseload_links.unlink_by_consultant(session, consultant, jobseeker_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class MyConsultant(BaseModel):
    id: uuid.UUID
    name: str


class MyConsultants(BaseModel):
    consultants: list[MyConsultant]
    share_with_municipality: bool = Field(
        description="Whether events about me reach my consultant's municipality"
    )


class LinkWithCode(Strict):
    code: str = Field(min_length=8, max_length=12, description="The code from the consultant")
    consent: Literal[True] = Field(
        description="The person's yes: my consultant and their municipality may follow my "
        "job matches (docs/privacy.md)"
    )


@router.get(
    "/v1/jobseekers/me/consultant",
    response_model=MyConsultants,
    tags=["jobseekers"],
    summary="My consultant(s), and whether I share with the municipality",
)
async def my_consultant(seeker: CurrentSeeker, session: SessionDep) -> MyConsultants:
    found = await caseload_links.my_consultants(session, seeker)
    return MyConsultants(
        consultants=[MyConsultant(id=c.id, name=c.name) for c in found],
        share_with_municipality=seeker.share_with_municipality,
    )


@router.post(
    "/v1/jobseekers/me/consultant",
    status_code=status.HTTP_201_CREATED,
    response_model=MyConsultants,
    responses=errors(404),
    tags=["jobseekers"],
    summary="Join a consultant's caseload with their invite code, sharing with the municipality",
)
async def link_consultant(
    request: Request, body: LinkWithCode, seeker: CurrentSeeker, session: SessionDep
) -> MyConsultants:
    # Wrong codes count as failed authentications: guessing gets the IP locked out.
    await ratelimit.check_auth_lockout(request)
    try:
        await caseload_links.link_with_code(session, seeker, body.code)
    except NotFound:
        await ratelimit.record_auth_failure(request)
        raise
    return await my_consultant(seeker, session)


@router.delete(
    "/v1/jobseekers/me/consultant",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["jobseekers"],
    summary="Leave my consultant's caseload and stop sharing with the municipality",
)
async def unlink_consultant(seeker: CurrentSeeker, session: SessionDep) -> Response:
    await caseload_links.unlink_self(session, seeker)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
