"""Address -> point, through pluggable geocoders, cached across restarts.

Three pieces behind one small Protocol (`Geocoder.geocode(address)`):

- `DawaGeocoder`: an online, DAWA-style address API (Danmarks Adressers Web
  API; any server answering the same two endpoints will do, the base URL is
  `JOTR_GEOCODER_URL`). It *washes* the address first, because job ads write
  addresses loosely ("Søndergade 12 st, 8000 Århus"):

      GET {base}/datavask/adresser?betegnelse=<address>
        -> {"kategori": "A"|"B"|"C",
            "resultater": [{"adresse": {"id", "vejnavn", "husnr", "postnr", ...},
                            "aktueladresse": {...} | null}, ...]}
      GET {base}/adresser/{id}?struktur=mini
        -> {"id", "betegnelse", "x": <lon>, "y": <lat>, ...}

  Category A (exact) and B (safe match, small spelling differences) give an
  `address` point. C means DAWA is unsure which address was meant: we keep the
  point as `street` precision only when the found street name and postcode both
  occur in what was written (the house is then somewhere on the right street,
  within a few hundred metres), and otherwise answer "not found".
  DAWA itself closes on 1 July 2026 (its data moves to Datafordeleren); a
  compatible proxy can take its URL, or another adapter this Protocol.
- `PostcodeGeocoder`: offline, from the bundled postcode centroids
  (matcher/data/dk_postcodes.csv.gz). A postcode area is a few km across, so
  a `postcode` point is good enough for "jobs near me" and says so.
- `ChainGeocoder`: asks each geocoder in turn (DAWA, then postcodes) and caches
  online answers in `geocode_cache`, keyed by the normalised address (`normalise`),
  for `JOTR_GEOCODE_CACHE_TTL_DAYS` (90 days: addresses rarely move, but DAWA
  does refine coordinates, and a postcode fallback should be retried now and
  then). An answer given while an earlier geocoder was *unavailable* (network
  error, 5xx) is not cached, so a DAWA outage does not pin ads to postcode
  centroids for three months.

Precision is stored with the vacancy (`vacancies.location_precision`); points
an employer posts through the API are `given`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Precision = Literal["address", "street", "postcode", "given"]
PRECISIONS: tuple[Precision, ...] = ("address", "street", "postcode", "given")


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    lat: float
    lon: float
    precision: Precision
    label: str  # what was matched, e.g. "Rådhuspladsen 2, 8000 Aarhus C" or "8000 Aarhus C"


class Geocoder(Protocol):
    async def geocode(self, address: str) -> GeocodeResult | None: ...


class GeocoderUnavailable(Exception):
    """The geocoder could not answer now (network, timeout, 5xx); try another."""


def normalise(address: str) -> str:
    """The cache key: case-folded words and numbers, single spaces.

    "Søndergade 12,  8000 Aarhus C" and "søndergade 12 8000 AARHUS C." are one key.
    """
    folded = unicodedata.normalize("NFKC", address).casefold()
    return " ".join(re.findall(r"\w+", folded))


# --- DAWA-style online geocoder ---------------------------------------------------


class DawaGeocoder:
    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._client = client

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        try:
            r = await self._client.get(f"{self._base}{path}", params=params)
        except httpx.HTTPError as exc:  # timeouts, refused connections, protocol errors
            raise GeocoderUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if r.status_code == 404:
            return None
        if r.status_code == 429 or r.status_code >= 500:
            raise GeocoderUnavailable(f"HTTP {r.status_code} from {path}")
        if r.status_code >= 400:  # our request is wrong for this address: no answer
            return None
        try:
            return r.json()
        except ValueError as exc:
            raise GeocoderUnavailable(f"invalid JSON from {path}") from exc

    async def geocode(self, address: str) -> GeocodeResult | None:
        if not address.strip():
            return None
        washed = await self._get("/datavask/adresser", {"betegnelse": address})
        if not isinstance(washed, dict) or not washed.get("resultater"):
            return None
        best = washed["resultater"][0]
        found = best.get("aktueladresse") or best.get("adresse") or {}
        category = washed.get("kategori")
        if category in ("A", "B"):
            precision: Precision = "address"
        elif category == "C" and _street_agrees(address, found):
            precision = "street"
        else:
            return None
        if not found.get("id"):
            return None
        mini = await self._get(f"/adresser/{found['id']}", {"struktur": "mini"})
        if not isinstance(mini, dict):
            return None
        try:
            lon, lat = float(mini["x"]), float(mini["y"])
        except (KeyError, TypeError, ValueError):
            return None
        label = str(mini.get("betegnelse") or found.get("betegnelse") or address)
        return GeocodeResult(lat, lon, precision, label)


def _street_agrees(written: str, found: Mapping[str, Any]) -> bool:
    words = f" {normalise(written)} "
    street = normalise(str(found.get("vejnavn") or ""))
    postcode = str(found.get("postnr") or "")
    return bool(street) and f" {street} " in words and f" {postcode} " in words


# --- Offline postcode centroids ---------------------------------------------------

_POSTCODES = Path(__file__).resolve().parents[1] / "data" / "dk_postcodes.csv.gz"
_FOUR_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")


@lru_cache(maxsize=1)
def postcode_centroids() -> dict[str, tuple[float, float, str]]:
    """postcode -> (lat, lon, locality) from the bundled file (ODbL, see its licence)."""
    with gzip.open(_POSTCODES, "rt", encoding="utf-8") as f:
        return {
            row["postcode"]: (float(row["latitude"]), float(row["longitude"]), row["locality"])
            for row in csv.DictReader(f)
        }


class PostcodeGeocoder:
    """The centroid of the Danish postcode written in the address.

    A Danish address ends with "<postcode> <town>", so the *last* known 4-digit
    number wins: "Vestergade 1000, 8000 Aarhus C" is 8000, not 1000 (which is a
    Copenhagen postcode as well as a possible house number). "DK-8000" works too.
    """

    def __init__(self, centroids: Mapping[str, tuple[float, float, str]] | None = None) -> None:
        self._centroids = centroids if centroids is not None else postcode_centroids()

    def lookup(self, address: str) -> GeocodeResult | None:
        for code in reversed(_FOUR_DIGITS.findall(address)):
            if code in self._centroids:
                lat, lon, locality = self._centroids[code]
                return GeocodeResult(lat, lon, "postcode", f"{code} {locality}")
        return None

    async def geocode(self, address: str) -> GeocodeResult | None:
        return self.lookup(address)


# --- Cache and chain ----------------------------------------------------------------


class GeocodeCache(Protocol):
    async def get(self, key: str) -> GeocodeResult | None: ...
    async def put(self, key: str, result: GeocodeResult) -> None: ...


class SqlGeocodeCache:
    """`geocode_cache` rows younger than `ttl`; each call is its own short transaction."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ttl: dt.timedelta) -> None:
        self._sessionmaker = sessionmaker
        self._ttl = ttl

    async def get(self, key: str) -> GeocodeResult | None:
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT lat, lon, precision, label FROM geocode_cache"
                        " WHERE key = :key AND created_at > now() - CAST(:ttl AS interval)"
                    ),
                    {"key": key, "ttl": self._ttl},
                )
            ).first()
        if row is None or row.precision not in PRECISIONS:
            return None
        return GeocodeResult(row.lat, row.lon, row.precision, row.label)

    async def put(self, key: str, result: GeocodeResult) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO geocode_cache (key, lat, lon, precision, label)"
                    " VALUES (:key, :lat, :lon, :precision, :label)"
                    " ON CONFLICT (key) DO UPDATE SET lat = EXCLUDED.lat, lon = EXCLUDED.lon,"
                    " precision = EXCLUDED.precision, label = EXCLUDED.label, created_at = now()"
                ),
                {
                    "key": key,
                    "lat": result.lat,
                    "lon": result.lon,
                    "precision": result.precision,
                    "label": result.label,
                },
            )


@dataclass
class GeocodeStats:
    cache_hits: int = 0
    lookups: int = 0  # cache misses that asked the geocoders
    unavailable: int = 0  # geocoder failures that fell through to the next one
    not_found: int = 0


class ChainGeocoder:
    """First answer of `geocoders`, in order; cached (in memory and in `cache`)."""

    def __init__(
        self,
        geocoders: Sequence[Geocoder],
        cache: GeocodeCache | None = None,
        memory_size: int = 10_000,
    ) -> None:
        self._geocoders = list(geocoders)
        self._cache = cache
        self._memory: dict[str, GeocodeResult] = {}
        self._memory_size = memory_size
        self.stats = GeocodeStats()

    async def geocode(self, address: str) -> GeocodeResult | None:
        key = normalise(address)
        if not key:
            return None
        if key in self._memory:
            self.stats.cache_hits += 1
            return self._memory[key]
        if self._cache is not None and (hit := await self._cache.get(key)) is not None:
            self.stats.cache_hits += 1
            self._remember(key, hit)
            return hit
        self.stats.lookups += 1
        degraded = False
        for geocoder in self._geocoders:
            try:
                result = await geocoder.geocode(address)
            except GeocoderUnavailable:
                self.stats.unavailable += 1
                degraded = True
                continue
            if result is not None:
                if not degraded:
                    self._remember(key, result)
                    # A postcode lookup is cheaper than the cache, and not persisting
                    # it means turning DAWA on later improves old addresses at once.
                    if self._cache is not None and result.precision != "postcode":
                        await self._cache.put(key, result)
                return result
        self.stats.not_found += 1
        return None

    def _remember(self, key: str, result: GeocodeResult) -> None:
        if len(self._memory) >= self._memory_size:
            self._memory.clear()  # crude, bounded; the SQL cache keeps the rest
        self._memory[key] = result


def make_geocoder(
    geocoder_url: str | None,
    client: httpx.AsyncClient | None,
    sessionmaker: async_sessionmaker[AsyncSession] | None,
    ttl_days: int = 90,
) -> ChainGeocoder:
    """DAWA (when a URL and client are given) then postcodes, cached in the database."""
    chain: list[Geocoder] = []
    if geocoder_url and client is not None:
        chain.append(DawaGeocoder(geocoder_url, client))
    chain.append(PostcodeGeocoder())
    cache = (
        SqlGeocodeCache(sessionmaker, dt.timedelta(days=ttl_days))
        if sessionmaker is not None
        else None
    )
    return ChainGeocoder(chain, cache)
