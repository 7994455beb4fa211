"""Geocoding: a DAWA-style server on loopback, the postcode fallback, the cache."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from matcher.location.geocode import (
    ChainGeocoder,
    DawaGeocoder,
    GeocoderUnavailable,
    PostcodeGeocoder,
    SqlGeocodeCache,
    make_geocoder,
    normalise,
)
from tests.feed_server import DawaAddress, Fault, FeedServer

CITY_HALL = DawaAddress(
    id="0a3f50a0-73bf-32b8-e044-0003ba298018",
    vejnavn="Rådhuspladsen",
    husnr="2",
    postnr="8000",
    postnrnavn="Aarhus C",
    lat=56.15357,
    lon=10.20397,
)


@pytest.fixture(scope="module")
def dawa() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.add_address("Rådhuspladsen 2, 8000 Aarhus C", CITY_HALL)
    # DAWA is unsure (category C) but street and postcode agree with what was written.
    server.add_address(
        "Raadhuspladsen 2000, 8000 Aarhus C",
        DawaAddress(**{**CITY_HALL.__dict__, "id": "c-street", "kategori": "C"}),
    )
    # Category C for something else entirely: not trusted.
    server.add_address(
        "Strøget 99, 9999 Nowhere",
        DawaAddress(**{**CITY_HALL.__dict__, "id": "c-other", "kategori": "C"}),
    )
    yield server
    server.stop()


def test_normalise_is_the_cache_key() -> None:
    assert normalise("Søndergade 12,  8000 AARHUS C.") == "søndergade 12 8000 aarhus c"
    assert normalise(" ,. ") == ""


async def test_postcode_fallback_reads_the_last_known_postcode() -> None:
    geocoder = PostcodeGeocoder()
    found = await geocoder.geocode("Vestergade 1000, 8000 Aarhus C")
    assert found is not None
    assert found.precision == "postcode" and found.label == "8000 Aarhus C"
    assert abs(found.lat - 56.15) < 0.05 and abs(found.lon - 10.25) < 0.1
    dk = await geocoder.geocode("Blegdamsvej 9, DK-2100 København Ø")
    assert dk is not None and dk.label == "2100 København Ø"
    assert await geocoder.geocode("Somewhere without a postcode") is None
    assert await geocoder.geocode("Main Street 12345, 0000 Nowhere") is None


async def test_dawa_washes_then_looks_up(dawa: FeedServer, http: httpx.AsyncClient) -> None:
    geocoder = DawaGeocoder(dawa.base_url, http)
    found = await geocoder.geocode("rådhuspladsen 2 8000 aarhus c")
    assert found is not None
    assert (found.lat, found.lon, found.precision) == (CITY_HALL.lat, CITY_HALL.lon, "address")
    assert found.label == "Rådhuspladsen 2, 8000 Aarhus C"

    street = await geocoder.geocode("Raadhuspladsen 2000, 8000 Aarhus C")
    assert street is None  # category C whose street name does not occur as written
    dawa.add_address(
        "Rådhuspladsen 2000, 8000 Aarhus C",
        DawaAddress(**{**CITY_HALL.__dict__, "id": "c-street-2", "kategori": "C"}),
    )
    street = await geocoder.geocode("Rådhuspladsen 2000, 8000 Aarhus C")
    assert street is not None and street.precision == "street"
    assert await geocoder.geocode("Strøget 99, 9999 Nowhere") is None
    assert await geocoder.geocode("Not an address at all") is None


async def test_dawa_failures_are_unavailable(dawa: FeedServer, http: httpx.AsyncClient) -> None:
    geocoder = DawaGeocoder(dawa.base_url, http)
    dawa.fail_dawa(Fault(status=503))
    with pytest.raises(GeocoderUnavailable):
        await geocoder.geocode("Rådhuspladsen 2, 8000 Aarhus C")
    dawa.fail_dawa(Fault(delay_s=1.5))  # longer than the client's 1 s timeout
    with pytest.raises(GeocoderUnavailable):
        await geocoder.geocode("Rådhuspladsen 2, 8000 Aarhus C")
    dawa.fail_dawa(Fault(garbage=True))
    with pytest.raises(GeocoderUnavailable):
        await geocoder.geocode("Rådhuspladsen 2, 8000 Aarhus C")
    closed = DawaGeocoder("http://127.0.0.1:1", http)
    with pytest.raises(GeocoderUnavailable):
        await closed.geocode("Rådhuspladsen 2, 8000 Aarhus C")


async def test_chain_caches_in_the_database(
    dawa: FeedServer,
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker,  # type: ignore[type-arg]
) -> None:
    address = f"Rådhuspladsen 2, 8000 Aarhus C ({uuid.uuid4().hex[:6]})"
    dawa.add_address(address, CITY_HALL)
    cache = SqlGeocodeCache(sessionmaker, dt.timedelta(days=90))

    first = make_geocoder(dawa.base_url, http, sessionmaker)
    asked = len(dawa.state.dawa_requests)
    found = await first.geocode(address)
    assert found is not None and found.precision == "address"
    assert len(dawa.state.dawa_requests) == asked + 2  # wash, then look up
    assert first.stats.lookups == 1 and first.stats.cache_hits == 0

    # A new process (no memory cache): the answer comes from geocode_cache.
    second = ChainGeocoder([DawaGeocoder(dawa.base_url, http), PostcodeGeocoder()], cache)
    again = await second.geocode(address.upper() + " ")
    assert again == found
    assert second.stats.cache_hits == 1
    assert len(dawa.state.dawa_requests) == asked + 2

    # Past the TTL the address is looked up again.
    stale = ChainGeocoder(
        [DawaGeocoder(dawa.base_url, http)], SqlGeocodeCache(sessionmaker, dt.timedelta(0))
    )
    assert await stale.geocode(address) == found
    assert len(dawa.state.dawa_requests) == asked + 4


async def test_outage_falls_back_to_postcodes_without_caching(
    dawa: FeedServer,
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker,  # type: ignore[type-arg]
) -> None:
    address = f"Rådhuspladsen 2, 8000 Aarhus C [{uuid.uuid4().hex[:6]}]"
    dawa.add_address(address, CITY_HALL)
    cache = SqlGeocodeCache(sessionmaker, dt.timedelta(days=90))
    chain = ChainGeocoder([DawaGeocoder(dawa.base_url, http), PostcodeGeocoder()], cache)

    dawa.fail_dawa(Fault(status=502))
    during = await chain.geocode(address)
    assert during is not None and during.precision == "postcode"
    assert chain.stats.unavailable == 1
    assert await cache.get(normalise(address)) is None  # an outage's answer is not kept

    after = await chain.geocode(address)  # DAWA is back
    assert after is not None and after.precision == "address"
    assert await cache.get(normalise(address)) == after


async def test_offline_only_uses_postcodes(
    sessionmaker: async_sessionmaker,  # type: ignore[type-arg]
) -> None:
    geocoder = make_geocoder(None, None, sessionmaker)
    found = await geocoder.geocode("Banegårdspladsen 1, 8000 Aarhus C")
    assert found is not None and found.precision == "postcode"
    assert await geocoder.geocode("") is None
