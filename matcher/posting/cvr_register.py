"""Looking a CVR number up in a company register, behind an adapter.

Off unless an operator sets `JOTR_CVR_REGISTER_URL`. The one adapter speaks the
simple JSON of cvrapi.dk (https://cvrapi.dk/documentation):

    GET {url}/api?search=<cvr>&country=dk   (with a User-Agent naming the caller)
    200 {"vat": 12345678, "name": "Kaffebaren ApS", "enddate": null, ...}
    404, or 200 {"error": "NOT_FOUND"}: no such company

A company is active when it has no `enddate`. Any other answer (a timeout, a
5xx, a 429 over the quota, JSON of another shape) is `RegisterUnavailable`: the
caller leaves the employer unverified and a person decides (employer_trust.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

USER_AGENT = "job-on-the-run (employer verification)"


class RegisterUnavailable(Exception):
    """The register did not give a usable answer."""


@dataclass(frozen=True, slots=True)
class Company:
    cvr: str
    name: str
    active: bool


class CvrRegister(Protocol):
    async def lookup(self, cvr: str) -> Company | None:
        """The company with this CVR number, or None if the register has none."""
        ...


def same_name(a: str, b: str) -> bool:
    """Names compared case-folded, with spacing and Unicode forms evened out."""

    def fold(s: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", s).casefold().split())

    return fold(a) == fold(b)


class CvrApiRegister:
    """cvrapi.dk, or anything that answers the same way (a test's local server)."""

    def __init__(self, base_url: str, timeout_s: float = 3.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s

    async def lookup(self, cvr: str) -> Company | None:
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, headers={"User-Agent": USER_AGENT}
            ) as client:
                r = await client.get(f"{self._base}/api", params={"search": cvr, "country": "dk"})
        except httpx.HTTPError as exc:  # refused, timed out, broken protocol
            raise RegisterUnavailable(type(exc).__name__) from exc
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise RegisterUnavailable(f"HTTP {r.status_code}")
        try:
            body: Any = r.json()
        except ValueError as exc:
            raise RegisterUnavailable("invalid JSON") from exc
        if not isinstance(body, dict):
            raise RegisterUnavailable("unexpected JSON")
        if body.get("error") == "NOT_FOUND":
            return None
        vat, name = body.get("vat"), body.get("name")
        if vat is None or not isinstance(name, str):
            raise RegisterUnavailable("unexpected JSON")
        return Company(cvr=str(vat).zfill(8), name=name, active=not body.get("enddate"))


def from_url(url: str | None) -> CvrRegister | None:
    return CvrApiRegister(url) if url else None
