"""A person's account beyond one phone: passkeys, signed-in devices, and what
they dismissed or saved.

Thin: the work is in matcher/people/passkeys.py, matcher/people/devices.py and
matcher/people/marks.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, Field

from api import ratelimit
from api.contract import errors
from api.deps import CurrentDevice, CurrentSeeker, SessionDep
from api.schemas.common import Strict
from matcher.errors import DomainError, NotFound
from matcher.models import Jobseeker
from matcher.people import caseload, devices, marks, passkeys

router = APIRouter(tags=["account"])

VacancyId = Annotated[uuid.UUID, Path(description="A vacancy's id")]
PasskeyId = Annotated[uuid.UUID, Path(description="One of your passkeys' id")]
DeviceId = Annotated[uuid.UUID, Path(description="One of your signed-in devices' id")]


# --- passkeys ---------------------------------------------------------------


class CeremonyOut(BaseModel):
    ceremony_id: uuid.UUID = Field(description="Send it back with the authenticator's answer.")
    options: dict[str, Any] = Field(
        description="`publicKey` options for navigator.credentials (base64url as in WebAuthn JSON)."
    )


class RegistrationIn(Strict):
    ceremony_id: uuid.UUID
    credential: dict[str, Any] = Field(
        description="The PublicKeyCredential as JSON (`toJSON()`), base64url-encoded fields."
    )
    name: str = Field(default="", max_length=60, description='Your name for it ("min iPhone").')


class AuthenticationIn(Strict):
    ceremony_id: uuid.UUID
    credential: dict[str, Any] = Field(description="The PublicKeyCredential as JSON.")


class PasskeyOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class PasskeyList(BaseModel):
    passkeys: list[PasskeyOut]


class SignedIn(BaseModel):
    id: uuid.UUID
    token: str = Field(
        description="Shown once: this device's own token. Your other devices stay signed in."
    )


def _passkey_out(p: Any) -> PasskeyOut:
    return PasskeyOut(id=p.id, name=p.name, created_at=p.created_at, last_used_at=p.last_used_at)


@router.post(
    "/v1/jobseekers/me/passkeys/registration/options",
    response_model=CeremonyOut,
    summary="Start registering a passkey for my profile",
)
async def passkey_registration_options(
    request: Request, seeker: CurrentSeeker, session: SessionDep
) -> CeremonyOut:
    c = await passkeys.registration_options(session, request.app.state.settings, seeker)
    return CeremonyOut(ceremony_id=c.id, options=c.options)


@router.post(
    "/v1/jobseekers/me/passkeys",
    status_code=status.HTTP_201_CREATED,
    response_model=PasskeyOut,
    summary="Finish registering a passkey",
    responses=errors(400, 404, 409),
)
async def register_passkey(
    request: Request, body: RegistrationIn, seeker: CurrentSeeker, session: SessionDep
) -> PasskeyOut:
    key = await passkeys.register(
        session, request.app.state.settings, seeker, body.ceremony_id, body.credential, body.name
    )
    await caseload.audit(session, "jobseeker", seeker.id, "passkey.register", seeker.id)
    return _passkey_out(key)


@router.get("/v1/jobseekers/me/passkeys", response_model=PasskeyList, summary="My passkeys")
async def list_my_passkeys(seeker: CurrentSeeker, session: SessionDep) -> PasskeyList:
    return PasskeyList(
        passkeys=[_passkey_out(p) for p in await passkeys.list_of(session, seeker.id)]
    )


@router.delete(
    "/v1/jobseekers/me/passkeys/{passkey_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove one of my passkeys",
)
async def delete_my_passkey(
    passkey_id: PasskeyId, seeker: CurrentSeeker, session: SessionDep
) -> Response:
    if not await passkeys.remove(session, seeker.id, passkey_id):
        raise NotFound("No such passkey of yours.")
    await caseload.audit(session, "jobseeker", seeker.id, "passkey.remove", seeker.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/passkeys/authentication/options",
    response_model=CeremonyOut,
    summary="Start signing in with a passkey (no account named: the passkey says whose)",
    dependencies=[Depends(ratelimit.check_auth_lockout)],
)
async def passkey_authentication_options(request: Request, session: SessionDep) -> CeremonyOut:
    c = await passkeys.authentication_options(session, request.app.state.settings)
    return CeremonyOut(ceremony_id=c.id, options=c.options)


@router.post(
    "/v1/passkeys/authentication",
    response_model=SignedIn,
    summary="Sign in with a passkey: a new token for this device",
    responses=errors(400, 401, 404, 409),
    dependencies=[Depends(ratelimit.check_auth_lockout)],
)
async def authenticate_with_passkey(
    request: Request, body: AuthenticationIn, session: SessionDep
) -> SignedIn:
    try:
        key = await passkeys.authenticate(
            session, request.app.state.settings, body.ceremony_id, body.credential
        )
    except DomainError:
        # Counted like a wrong token: guessing at passkeys locks the IP out too.
        await ratelimit.record_auth_failure(request)
        raise
    seeker = await session.get(Jobseeker, key.jobseeker_id)
    assert seeker is not None  # the passkey row cascades with the person
    # A new device of its own: the phones already signed in keep working.
    device, token = await devices.issue(
        session, seeker.id, devices.label_of(request.headers.get("user-agent"))
    )
    await caseload.audit(
        session, "jobseeker", seeker.id, "passkey.sign_in", seeker.id,
        {"passkey": str(key.id), "device": str(device.id)},
    )  # fmt: skip
    return SignedIn(id=seeker.id, token=token)


# --- signed-in devices -------------------------------------------------------


class DeviceOut(BaseModel):
    id: uuid.UUID
    label: str = Field(description='Browser and system family ("Chrome · Android"), or "".')
    created_at: dt.datetime = Field(description="When the device was signed in.")
    last_used_on: dt.date = Field(description="The day it was last used (kept to the day).")
    current: bool = Field(description="The device making this request.")


class DeviceList(BaseModel):
    devices: list[DeviceOut]


@router.get(
    "/v1/jobseekers/me/devices",
    response_model=DeviceList,
    summary="My signed-in devices (each has its own token)",
)
async def list_my_devices(me: CurrentDevice, session: SessionDep) -> DeviceList:
    return DeviceList(
        devices=[
            DeviceOut(
                id=d.id,
                label=d.label,
                created_at=d.created_at,
                last_used_on=d.last_used_on,
                current=d.id == me.device.id,
            )
            for d in await devices.list_of(session, me.seeker.id)
        ]
    )


@router.delete(
    "/v1/jobseekers/me/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign one of my devices out (a lost phone); the others stay signed in",
)
async def sign_out_my_device(
    request: Request, device_id: DeviceId, me: CurrentDevice, session: SessionDep
) -> Response:
    seeker_id = me.seeker.id
    if not await devices.remove(session, seeker_id, device_id):
        raise NotFound("No such device of yours.")
    await caseload.audit(
        session, "jobseeker", seeker_id, "device.sign_out", seeker_id, {"device": str(device_id)}
    )
    await session.commit()
    # That device's websockets close now on this worker, within one presence
    # refresh on the others; the person's other devices stay connected.
    request.app.state.hub.revoke_replaced(seeker_id, await devices.token_hashes(session, seeker_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- dismissed and saved ----------------------------------------------------


class MarkIn(Strict):
    mark: Literal["dismissed", "saved"]


class MarkOut(BaseModel):
    vacancy_id: uuid.UUID
    mark: Literal["dismissed", "saved"]
    at: dt.datetime


class MarkList(BaseModel):
    marks: list[MarkOut]


@router.put(
    "/v1/jobseekers/me/marks/{vacancy_id}",
    response_model=MarkOut,
    summary="Dismiss or save a vacancy (on every device; dismissed ones never come back)",
)
async def set_my_mark(
    vacancy_id: VacancyId, body: MarkIn, seeker: CurrentSeeker, session: SessionDep
) -> MarkOut:
    found = await marks.set_mark(session, seeker.id, vacancy_id, body.mark)
    if found is None:
        raise NotFound("No such vacancy.")
    return MarkOut(vacancy_id=found.vacancy_id, mark=found.mark, at=found.at)


@router.delete(
    "/v1/jobseekers/me/marks/{vacancy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Undo a dismiss or a save",
)
async def clear_my_mark(
    vacancy_id: VacancyId, seeker: CurrentSeeker, session: SessionDep
) -> Response:
    if not await marks.clear_mark(session, seeker.id, vacancy_id):
        raise NotFound("No mark on that vacancy.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/jobseekers/me/marks", response_model=MarkList, summary="All my marks, newest first"
)
async def list_my_marks(seeker: CurrentSeeker, session: SessionDep) -> MarkList:
    return MarkList(
        marks=[
            MarkOut(vacancy_id=m.vacancy_id, mark=m.mark, at=m.at)
            for m in await marks.marks_of(session, seeker.id)
        ]
    )


@router.get("/v1/jobseekers/me/saved", response_model=MarkList, summary="The vacancies I saved")
async def list_my_saved(seeker: CurrentSeeker, session: SessionDep) -> MarkList:
    return MarkList(
        marks=[
            MarkOut(vacancy_id=m.vacancy_id, mark=m.mark, at=m.at)
            for m in await marks.marks_of(session, seeker.id, "saved")
        ]
    )
