"""Dependencies: the request-scoped session and who is calling.

`SessionDep` commits when the route returns and rolls back if it raises, before
the response is sent (scope="function"), so a client never sees a 2xx for a
write that did not land. It is the request's unit of work (matcher/posting/unit_of_work.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api import ratelimit
from matcher.errors import DomainError, Forbidden
from matcher.esco.taxonomy import Taxonomy
from matcher.models import Consultant, Employer, Integration, Jobseeker, SeekerDevice
from matcher.people import accounts, devices, rights
from matcher.people.accounts import Account
from matcher.people.tokens import Principal, kind_of

log = logging.getLogger("jotr.api")


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # The request is one unit of work (matcher/posting/unit_of_work.py): vacancies it
    # closes get their withdrawals in its transaction, and its changes are
    # announced (this worker's connections first, then the bus) only once committed.
    async with request.app.state.uow.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="API key or token: `Bearer <secret>`",
)


def get_taxonomy(request: Request) -> Taxonomy:
    taxonomy: Taxonomy = request.app.state.taxonomy
    return taxonomy


TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]


async def _authenticate(
    request: Request, session: AsyncSession, secret: str
) -> tuple[Principal, Account]:
    """Who holds `secret`; 401 if no one, 429 while this IP is locked out for
    guessing (api/ratelimit.py)."""
    await ratelimit.check_auth_lockout(request)
    found = await accounts.authenticate(session, secret)
    if found is None:
        await ratelimit.record_auth_failure(request)
        raise Unauthorized("invalid or revoked credentials")
    return found


async def _principal(
    request: Request,
    session: SessionDep,
    creds: HTTPAuthorizationCredentials | None,
    want: Principal,
) -> Account:
    if creds is None or not creds.credentials:
        raise Unauthorized(f"missing bearer credentials ({want.value} secret)")
    kind, who = await _authenticate(request, session, creds.credentials)
    if kind != want:
        # Authenticated, but as the wrong kind of user for this endpoint.
        raise Forbidden(f"this endpoint is for {want.value}s")
    return who


async def current_employer(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Employer:
    return await _principal(request, session, creds, Principal.EMPLOYER)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class SignedInDevice:
    """A jobseeker and the device whose token made this request."""

    seeker: Jobseeker
    device: SeekerDevice


async def current_device(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SignedInDevice:
    if creds is None or not creds.credentials or kind_of(creds.credentials) != Principal.JOBSEEKER:
        # Not a jobseeker's token: 401, or 403 for another kind of user.
        await _principal(request, session, creds, Principal.JOBSEEKER)
        raise Unauthorized("missing bearer credentials (jobseeker secret)")  # not reached
    await ratelimit.check_auth_lockout(request)
    found = await devices.authenticate(session, creds.credentials)
    if found is None:
        await ratelimit.record_auth_failure(request)
        raise Unauthorized("invalid or revoked credentials")
    seeker, device = found
    # Any use of the service keeps the account, and says the device was used
    # today (each written at most once a day).
    await rights.touch_active(session, seeker)
    await devices.touch(session, device, devices.label_of(request.headers.get("user-agent")))
    return SignedInDevice(seeker, device)


async def current_seeker(
    signed_in: Annotated[SignedInDevice, Depends(current_device)],
) -> Jobseeker:
    return signed_in.seeker


async def current_consultant(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Consultant:
    return await _principal(request, session, creds, Principal.CONSULTANT)  # type: ignore[return-value]


async def current_integration(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Integration:
    return await _principal(request, session, creds, Principal.INTEGRATION)  # type: ignore[return-value]


async def optional_employer(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Employer | None:
    """The employer if an employer key is given; anyone else reads the public view."""
    if creds is None:
        return None
    kind, who = await _authenticate(request, session, creds.credentials)
    return who if kind == Principal.EMPLOYER else None  # type: ignore[return-value]


CurrentEmployer = Annotated[Employer, Depends(current_employer)]


async def vacancy_writer(request: Request, employer: CurrentEmployer) -> Employer:
    """The employer, counted against their limit on vacancy writes."""
    await ratelimit.limiter_of(request).hit("vacancy_writes", str(employer.id))
    return employer


VacancyWriter = Annotated[Employer, Depends(vacancy_writer)]
CurrentSeeker = Annotated[Jobseeker, Depends(current_seeker)]
CurrentDevice = Annotated[SignedInDevice, Depends(current_device)]
CurrentConsultant = Annotated[Consultant, Depends(current_consultant)]
CurrentIntegration = Annotated[Integration, Depends(current_integration)]
MaybeEmployer = Annotated[Employer | None, Depends(optional_employer)]


def request_lang(request: Request) -> str:
    """The language to label skills in for a caller who is not a jobseeker (whose
    own `language` decides): `?lang=da|en`, else the first of Accept-Language
    that we speak, else English (API clients that ask for nothing get ESCO's)."""
    asked = request.query_params.get("lang", "")
    if asked in LANGS:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return "en"


LANGS = ("da", "en")
LangDep = Annotated[str, Depends(request_lang)]
