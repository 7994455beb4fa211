"""Web Push subscriptions and the home area (alerts while the app is closed)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, model_validator

from api.schemas.common import Lat, Lon, Number, Strict
from push.webpush import b64url_decode

B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


def _key_bytes(value: str, length: int, what: str) -> str:
    try:
        raw = b64url_decode(value.rstrip("="))
    except ValueError:
        raise ValueError(f"{what} is not base64url") from None
    if len(raw) != length:
        raise ValueError(f"{what} must be {length} bytes, base64url")
    return value.rstrip("=")


def _p256dh(value: str) -> str:
    value = _key_bytes(value, 65, "p256dh")
    if b64url_decode(value)[0] != 4:
        raise ValueError("p256dh must be an uncompressed P-256 point")
    return value


class SubscriptionKeys(Strict):
    p256dh: Annotated[
        str,
        Field(min_length=87, max_length=88, pattern=B64URL, description="P-256 point, 65 bytes"),
        AfterValidator(_p256dh),
    ]
    auth: Annotated[
        str,
        Field(min_length=22, max_length=24, pattern=B64URL, description="Auth secret, 16 bytes"),
        AfterValidator(lambda v: _key_bytes(v, 16, "auth")),
    ]


class SubscriptionIn(Strict):
    """What `PushSubscription.toJSON()` gives (`expirationTime` is accepted and ignored)."""

    endpoint: str = Field(
        min_length=12, max_length=2048, description="The push service URL (https)"
    )
    keys: SubscriptionKeys
    expirationTime: Number | None = Field(default=None, description="Ignored")


class UnsubscribeIn(Strict):
    endpoint: str = Field(min_length=1, max_length=2048)


def check_endpoint(endpoint: str, allow_loopback_http: bool) -> str | None:
    """Why this endpoint is refused, or None. https to a named host (push services
    are public); no credentials, no IP literals of private networks (the server
    POSTs to it). `allow_loopback_http` (tests) admits http://127.0.0.1."""
    try:
        url = urlsplit(endpoint)
        host = url.hostname or ""
        _ = url.port
    except ValueError:
        return "endpoint is not a URL"
    if url.username or url.password or url.fragment:
        return "endpoint must not hold credentials or a fragment"
    if allow_loopback_http and url.scheme == "http" and host == "127.0.0.1":
        return None
    if url.scheme != "https" or not host:
        return "endpoint must be an https URL"
    if host == "localhost" or host.endswith(".localhost"):
        return "endpoint must be a public push service"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not ip.is_global:
        return "endpoint must be a public push service"
    return None


class HomeAreaIn(Strict):
    """A postcode, or a position that is snapped to a 500 m grid before it is stored."""

    postcode: str | None = Field(
        default=None, pattern=r"^[0-9]{4}$", description="Danish postcode", examples=["8000"]
    )
    lat: Lat | None = None
    lon: Lon | None = None
    consent: Literal[True] = Field(
        description="The person agrees that this coarse area is stored to send alerts"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> HomeAreaIn:
        point = (self.lat is not None) + (self.lon is not None)
        if point == 1:
            raise ValueError("give both lat and lon")
        if (self.postcode is not None) == (point == 2):
            raise ValueError("give either a postcode or lat and lon")
        return self


class HomeAreaOut(BaseModel):
    lat: float = Field(description="The stored, coarse point")
    lon: float
    source: Literal["postcode", "position"]
    postcode: str | None
    grid_m: float | None = Field(description="Cell size a position was snapped to")
    consent_by: str
    consented_at: dt.datetime


class VapidKeyOut(BaseModel):
    application_server_key: str = Field(
        description="For `pushManager.subscribe`: the VAPID public key, base64url"
    )
