"""Passkeys (WebAuthn): a profile that survives a lost phone.

A person registers a passkey from the phone they have (their token proves who
they are); on a new phone, signing in with it issues a new token. Sign-in is
usernameless: the authenticator offers the passkeys it holds for this site
(discoverable credentials), and the credential id says whose it is.

Challenges live in `webauthn_challenges`, one row per ceremony: deleted as they
are used (single use) and refused after `JOTR_WEBAUTHN_CHALLENGE_S`.
The WebAuthn checks themselves (origin, RP id, signature, flags) are the
maintained `webauthn` library's.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from matcher.errors import Conflict, DomainError
from matcher.models import Jobseeker, Passkey, WebauthnChallenge
from matcher.settings import Settings

RP_NAME = "Job On the Run"
Purpose = Literal["register", "sign_in"]
_DEV_ORIGIN = re.compile(r"^http://localhost(:\d{1,5})?$")
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class ChallengeUnknown(DomainError):
    status_code = 404
    code = "challenge_unknown"


class ChallengeExpired(DomainError):
    status_code = 409
    code = "challenge_expired"


class PasskeyInvalid(DomainError):
    status_code = 400
    code = "passkey_invalid"


class PasskeyUnknown(DomainError):
    status_code = 401
    code = "passkey_unknown"


class PasskeyRejected(DomainError):
    status_code = 401
    code = "passkey_rejected"


class SignCountRegressed(DomainError):
    """The authenticator's counter went backwards: a cloned key, most likely."""

    status_code = 401
    code = "sign_count_regressed"


@dataclass(frozen=True, slots=True)
class Ceremony:
    id: uuid.UUID
    options: dict[str, Any]  # publicKey options as the browser's JSON expects them


async def _challenge(
    session: AsyncSession, settings: Settings, purpose: Purpose, challenge: bytes,
    seeker_id: uuid.UUID | None,
) -> uuid.UUID:  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    # Old ceremonies nobody finished go now; the table stays small.
    await session.execute(delete(WebauthnChallenge).where(WebauthnChallenge.expires_at < now))
    row = WebauthnChallenge(
        challenge=challenge, purpose=purpose, jobseeker_id=seeker_id,
        expires_at=now + dt.timedelta(seconds=settings.webauthn_challenge_s),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row.id


_TAKE_SQL = text(
    """
    DELETE FROM webauthn_challenges
    WHERE id = :id AND purpose = :purpose AND jobseeker_id IS NOT DISTINCT FROM :seeker
    RETURNING challenge, expires_at
    """
)


async def _take(
    session: AsyncSession, ceremony_id: uuid.UUID, purpose: Purpose, seeker_id: uuid.UUID | None
) -> bytes:
    """The ceremony's challenge, used up (a second try with it finds nothing)."""
    row = (
        await session.execute(
            _TAKE_SQL, {"id": ceremony_id, "purpose": purpose, "seeker": seeker_id}
        )
    ).one_or_none()
    # Spent whatever happens next: a failed answer cannot be retried with it.
    await session.commit()
    if row is None:
        raise ChallengeUnknown("No such passkey ceremony, or it was already used; start again.")
    if row.expires_at < dt.datetime.now(dt.UTC):
        raise ChallengeExpired("The passkey ceremony took too long; start again.")
    return bytes(row.challenge)


def _origins(settings: Settings, credential: dict[str, Any]) -> list[str]:
    if settings.webauthn_origins.strip():
        return [o.strip() for o in settings.webauthn_origins.split(",") if o.strip()]
    # Development: whatever localhost port the client says, checked for its form;
    # the library then checks the signed client data says exactly this.
    try:
        client = parse_client_data_json(
            base64url_to_bytes(credential["response"]["clientDataJSON"])
        )
    except Exception as exc:
        raise PasskeyInvalid("The passkey response is malformed.") from exc
    return [client.origin] if _DEV_ORIGIN.match(client.origin) else ["http://localhost"]


async def registration_options(
    session: AsyncSession, settings: Settings, seeker: Jobseeker
) -> Ceremony:
    existing = (
        await session.scalars(
            select(Passkey.credential_id).where(Passkey.jobseeker_id == seeker.id)
        )
    ).all()
    options = generate_registration_options(
        rp_id=settings.webauthn_rp_id,
        rp_name=RP_NAME,
        user_id=seeker.id.bytes,
        # No personal data on the authenticator: the name is the app's, not the person's.
        user_name="Job On the Run",
        user_display_name="Job On the Run",
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in existing],
    )
    cid = await _challenge(session, settings, "register", options.challenge, seeker.id)
    return Ceremony(cid, orjson.loads(options_to_json(options)))


async def register(
    session: AsyncSession,
    settings: Settings,
    seeker: Jobseeker,
    ceremony_id: uuid.UUID,
    credential: dict[str, Any],
    name: str,
) -> Passkey:
    challenge = await _take(session, ceremony_id, "register", seeker.id)
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=_origins(settings, credential),
        )
    except (
        InvalidRegistrationResponse,
        InvalidJSONStructure,
        KeyError,
        TypeError,
        ValueError,
    ) as exc:
        raise PasskeyInvalid(f"The passkey could not be verified: {exc}") from exc
    taken = await session.scalar(
        select(Passkey.id).where(Passkey.credential_id == verified.credential_id)
    )
    if taken is not None:
        raise Conflict("This passkey is registered already.")
    transports = [t.value for t in (parsed.response.transports or []) if t.value in _TRANSPORTS]
    key = Passkey(
        jobseeker_id=seeker.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports[:8],
        name=name,
    )
    session.add(key)
    await session.flush()
    return key


async def authentication_options(session: AsyncSession, settings: Settings) -> Ceremony:
    options = generate_authentication_options(
        rp_id=settings.webauthn_rp_id,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    cid = await _challenge(session, settings, "sign_in", options.challenge, None)
    return Ceremony(cid, orjson.loads(options_to_json(options)))


async def authenticate(
    session: AsyncSession, settings: Settings, ceremony_id: uuid.UUID, credential: dict[str, Any]
) -> Passkey:
    """The passkey that signed this ceremony's challenge, its counter moved on.
    Raises PasskeyUnknown / PasskeyRejected / SignCountRegressed / PasskeyInvalid."""
    challenge = await _take(session, ceremony_id, "sign_in", None)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (InvalidJSONStructure, KeyError, TypeError, ValueError) as exc:
        raise PasskeyInvalid(f"The passkey response is malformed: {exc}") from exc
    key = await session.scalar(
        select(Passkey).where(Passkey.credential_id == parsed.raw_id).with_for_update()
    )
    if key is None:
        raise PasskeyUnknown("This passkey is not known here (removed, or for another site).")
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=_origins(settings, credential),
            credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
        )
    except InvalidAuthenticationResponse as exc:
        if "sign count" in str(exc).lower():
            raise SignCountRegressed("The passkey's counter went backwards.") from exc
        raise PasskeyRejected(f"The passkey did not verify: {exc}") from exc
    key.sign_count = verified.new_sign_count
    key.last_used_at = dt.datetime.now(dt.UTC)
    await session.flush()
    return key


async def list_of(session: AsyncSession, seeker_id: uuid.UUID) -> list[Passkey]:
    return list(
        (
            await session.scalars(
                select(Passkey)
                .where(Passkey.jobseeker_id == seeker_id)
                .order_by(Passkey.created_at)
            )
        ).all()
    )


async def remove(session: AsyncSession, seeker_id: uuid.UUID, passkey_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(Passkey).where(Passkey.id == passkey_id, Passkey.jobseeker_id == seeker_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
