"""Property: any valid vacancy (every field anywhere within its documented
bounds) is accepted, and matches and public search near it never fail.

Hypothesis draws the vacancies; they go through the real API of the real
server, then seekers of several kinds ask for matches and guidance at the
vacancy's place and anyone searches there. A server error anywhere fails the
property. Points avoid the patch of Denmark the other tests share.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matcher.certificates import CERTIFICATES
from matcher.models import JobType
from matcher.profile import DIMENSIONS
from tests.builders import auth, birth_date_for_age, occupation, seeker_body, verify_employer
from tests.conftest import ServerProcess

OCCUPATIONS = ["barista", "waiter/waitress", "shop assistant", "kitchen porter", "cleaner"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _pool() -> tuple[list[str], list[str]]:
    occupations, skills = [], []
    for label in OCCUPATIONS:
        try:
            occ = occupation(label)
        except KeyError:
            continue
        occupations.append(occ["uri"])
        skills += occ["essential"][:12] + occ["optional"][:6]
    return occupations, list(dict.fromkeys(skills))


OCCUPATION_URIS, SKILL_URIS = _pool()

text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))  # no surrogates


def finite(lo: float, hi: float, exclude_min: bool = False) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, exclude_min=exclude_min)


hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))


@st.composite
def spans(draw: st.DrawFn) -> list[list[str]]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        a, b = draw(hhmm), draw(hhmm)
        assume(a != b)
        out.append(sorted([a, b]))
    return out


def _start_dates() -> st.SearchStrategy[str]:
    today = dt.date.today()  # a day of margin each side for the Danish date
    return st.dates(today - dt.timedelta(days=364), today + dt.timedelta(days=729)).map(str)


def _expiries() -> st.SearchStrategy[str]:
    now = dt.datetime.now(dt.UTC)
    return st.builds(
        lambda seconds, offset_min: (
            (now + dt.timedelta(seconds=seconds))
            .astimezone(dt.timezone(dt.timedelta(minutes=offset_min)))
            .isoformat()
        ),
        st.integers(3600, 729 * 86400),
        st.integers(-12 * 60, 14 * 60),
    )


@st.composite
def vacancies(draw: st.DrawFn) -> dict[str, Any]:
    lat = draw(finite(-90, 90))
    lon = draw(finite(-180, 180))
    assume(not (54.0 <= lat <= 58.5 and 7.5 <= lon <= 16.0))  # the other tests' land
    required = draw(st.lists(st.sampled_from(SKILL_URIS), max_size=30, unique=True))
    optional = draw(st.lists(st.sampled_from(SKILL_URIS), max_size=30, unique=True))
    body: dict[str, Any] = {
        "title": draw(text.filter(lambda s: s.strip()).map(lambda s: s[:200])),
        "location": {"lat": lat, "lon": lon},
        "job_type": draw(st.sampled_from([j.value for j in JobType])),
        "hours_per_week": draw(finite(0, 80, exclude_min=True)),
    }
    optional_fields = {
        "description": text.map(lambda s: s[:2000]),
        "occupation_uri": st.sampled_from(OCCUPATION_URIS),
        "address": text.map(lambda s: s[:300]),
        "required_skills": st.just(required).flatmap(
            lambda uris: st.tuples(
                *(finite(0, 5, exclude_min=True) for _ in uris)
            ).map(lambda ws: [{"uri": u, "weight": w} for u, w in zip(uris, ws, strict=True)])
        ),
        "optional_skills": st.just(optional),
        "required_certificates": st.lists(st.sampled_from(list(CERTIFICATES)), unique=True,
                                           max_size=min(10, len(CERTIFICATES))),
        "work_profile": st.dictionaries(st.sampled_from(DIMENSIONS), finite(0, 1)),
        "shift": st.fixed_dictionaries({"start": hhmm, "end": hhmm}),
        "hazardous": st.booleans(),
        "light_work": st.booleans(),
        "min_age": st.integers(13, 99),
        "walk_in": st.booleans(),
        "opening_hours": st.dictionaries(st.sampled_from(DAYS), spans()),
        "start_date": _start_dates(),
        "expires_at": _expiries(),
        "openings": st.integers(1, 1000),
    }  # fmt: skip
    for name, strategy in optional_fields.items():
        if draw(st.booleans()):
            body[name] = draw(strategy)
    return body


@pytest.fixture(scope="module")
def seeker_tokens(server: ServerProcess) -> list[str]:
    """A skilled adult, a 14-year-old with nothing, a 17-year-old with a profile."""
    bodies = [
        seeker_body(skills=SKILL_URIS[:40], preferences={"radius_m": 50_000}),
        seeker_body(birth_date=birth_date_for_age(14), skills=[], preferences={"radius_m": 1}),
        seeker_body(
            birth_date=birth_date_for_age(17),
            certificates=list(CERTIFICATES)[:2],
            work_profile={d: 0.9 for d in DIMENSIONS[:6]},
            preferences={"radius_m": 5000, "hours_min": 5, "hours_max": 15},
        ),
    ]
    tokens = []
    for body in bodies:
        r = httpx.post(f"{server.base_url}/v1/jobseekers", json=body)
        assert r.status_code == 201, r.text
        tokens.append(r.json()["token"])
    return tokens


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # repeatable in CI; a failure prints its example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_valid_vacancies_never_cause_server_errors(
    server: ServerProcess, seeker_tokens: list[str], data: Any
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as c:
        emp = c.post("/v1/employers", json={"name": "Property ApS"}).json()
        verify_employer(server.base_url, emp["id"])  # drawn vacancies may invite walk-ins
        key = emp["api_key"]
        body = data.draw(vacancies())
        r = c.post("/v1/vacancies", json=body, headers=auth(key))
        assert r.status_code == 201, r.text
        posted = r.json()["id"]
        point = body["location"]
        radius = data.draw(finite(1, 50_000))
        # Each seeker at the vacancy's door: matches within the drawn radius (one
        # of them with their own default radius too) and guidance.
        asks = [
            ("/v1/jobseekers/me/matches", {**point, "radius_m": radius}, t) for t in seeker_tokens
        ]
        asks += [
            ("/v1/jobseekers/me/matches", point, seeker_tokens[2]),
            ("/v1/jobseekers/me/guidance", point, seeker_tokens[0]),
        ]
        for path, params, token in asks:
            r = c.get(path, params=params, headers=auth(token))
            assert r.status_code == 200, (path, r.text)
        r = c.get("/v1/vacancies", params={**point, "radius_m": radius, "limit": 100})
        assert r.status_code == 200, r.text
        assert posted in {f["id"] for f in r.json()["features"]}
