"""A jobseeker's signed-in devices: one bearer token each.

Sign-up issues the first; a passkey sign-in on another phone adds one and
leaves the others working; rotating replaces only the calling device's token;
a consultant's re-issue or an operator's revoke (a lost phone, a leaked token)
signs every device out and issues one new token; erasure deletes them all
(the rows cascade with the person).

Only the token's SHA-256 is kept (matcher/people/tokens.py), unique, so authenticating
is one index lookup that also yields the person. About the device itself: a
coarse label from the User-Agent ("Chrome · Android"; the full string is never
stored) at sign-in or, for a device issued without one, at its first use,
when it was signed in, and the day it was last used (written at most
once a day). A signed-out device's row is deleted, not marked.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.models import Jobseeker, SeekerDevice
from matcher.people.tokens import Principal, hash_secret, new_secret

# Order matters: browsers name the engines they imitate ("Chrome ... Safari").
_BROWSERS = (
    ("SamsungBrowser/", "Samsung Internet"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edg/", "Edge"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "Mac"),
    ("Linux", "Linux"),
)
LABEL_MAX = 40


def label_of(user_agent: str | None) -> str:
    """Browser and system family only ("Chrome · Android"), or "" when neither
    is recognised: enough for a person to tell their phones apart, too little
    to single out a device (no versions, no models)."""
    ua = (user_agent or "")[:512]
    browser = next((name for key, name in _BROWSERS if key in ua), "")
    system = next((name for key, name in _SYSTEMS if key in ua), "")
    return " · ".join(p for p in (browser, system) if p)[:LABEL_MAX]


async def issue(
    session: AsyncSession, seeker_id: uuid.UUID, label: str
) -> tuple[SeekerDevice, str]:
    """A new device for the person; returns it and its token (shown once)."""
    token, token_hash = new_secret(Principal.JOBSEEKER)
    device = SeekerDevice(
        id=uuid.uuid4(),
        jobseeker_id=seeker_id,
        token_hash=token_hash,
        label=label[:LABEL_MAX],
        last_used_on=dt.date.today(),
    )
    session.add(device)
    await session.flush()
    return device, token


async def authenticate(session: AsyncSession, secret: str) -> tuple[Jobseeker, SeekerDevice] | None:
    """The person and the device `secret` belongs to: one lookup by the hash's
    unique index, joined to the person."""
    row = (
        await session.execute(
            select(Jobseeker, SeekerDevice)
            .join(SeekerDevice, SeekerDevice.jobseeker_id == Jobseeker.id)
            .where(SeekerDevice.token_hash == hash_secret(secret))
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def touch(session: AsyncSession, device: SeekerDevice, label: str = "") -> bool:
    """Note that the device was used today (a write at most once a day). A device
    without a label (a consultant's re-issue, rows from before migration 0021)
    takes the label of its first use that has one, once."""
    today = dt.date.today()
    named = not device.label and bool(label)
    if device.last_used_on >= today and not named:
        return False
    device.last_used_on = today
    if named:
        device.label = label[:LABEL_MAX]
    await session.flush()
    return True


async def rotate(session: AsyncSession, device: SeekerDevice) -> str:
    """A new token for this device only; its old one stops working when this commits."""
    token, token_hash = new_secret(Principal.JOBSEEKER)
    device.token_hash = token_hash
    await session.flush()
    return token


async def revoke_all_and_issue(
    session: AsyncSession, seeker_id: uuid.UUID, label: str = ""
) -> tuple[SeekerDevice, str]:
    """Sign every device out and issue one new token (a lost or leaked phone)."""
    await session.execute(delete(SeekerDevice).where(SeekerDevice.jobseeker_id == seeker_id))
    return await issue(session, seeker_id, label)


async def list_of(session: AsyncSession, seeker_id: uuid.UUID) -> list[SeekerDevice]:
    return list(
        (
            await session.scalars(
                select(SeekerDevice)
                .where(SeekerDevice.jobseeker_id == seeker_id)
                .order_by(SeekerDevice.created_at, SeekerDevice.id)
            )
        ).all()
    )


async def remove(session: AsyncSession, seeker_id: uuid.UUID, device_id: uuid.UUID) -> bool:
    """Sign one of the person's devices out; False if it is not theirs (or gone)."""
    result = await session.execute(
        delete(SeekerDevice).where(
            SeekerDevice.id == device_id, SeekerDevice.jobseeker_id == seeker_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def token_hashes(session: AsyncSession, seeker_id: uuid.UUID) -> frozenset[bytes]:
    """The hashes that still sign this person in (websockets opened with any
    other are closed: push/hub.py `revoke_replaced`)."""
    rows = await session.scalars(
        select(SeekerDevice.token_hash).where(SeekerDevice.jobseeker_id == seeker_id)
    )
    return frozenset(bytes(h) for h in rows)
