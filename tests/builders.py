"""Builders for test data: plain async functions with `**overrides`, through the
real HTTP API wherever the API can create the thing."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import itertools
import uuid
from functools import lru_cache
from typing import Any

import httpx
import psycopg

from matcher.people.consent import current_version as current_notice_version
from matcher.people.tokens import Principal, new_secret
from tests.conftest import SHARED_DATA, _libpq
from tests.run_logs import MUST_NOT_BE_LOGGED, SERVER_DATABASES

# Every test gets its own patch of Denmark (about 5.5 x 6 km apart), so tests can
# share one database and one server without seeing each other's vacancies.
_spots = itertools.count()


def next_spot() -> tuple[float, float]:
    i = next(_spots)
    # Rounded like the API rounds coordinates (7 decimals, about 1 cm).
    return round(54.70 + 0.05 * (i % 60), 7), round(8.30 + 0.10 * (i // 60), 7)


@lru_cache(maxsize=1)
def _occupation_rows() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    path = SHARED_DATA / "esco_en" / "occupation_skill_relations_v1.2.0.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            occ = out.setdefault(
                row["occupationLabel"],
                {"uri": row["occupationUri"], "essential": [], "optional": []},
            )
            if row["skillUri"]:
                occ[row["relationType"]].append(row["skillUri"])
    return out


def occupation(label: str) -> dict[str, Any]:
    """A real ESCO occupation with its essential and optional skill URIs."""
    return _occupation_rows()[label]


def remember(*values: Any) -> None:
    """Secrets and personal data a builder made: no server may log them (conftest)."""
    MUST_NOT_BE_LOGGED.update(str(v) for v in values if v)


def birth_date_for_age(age: int) -> str:
    # Born on 1 January: exactly `age` on any day of this year.
    return dt.date(dt.date.today().year - age, 1, 1).isoformat()


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def new_employer(
    client: httpx.AsyncClient, verified: bool = True, **overrides: Any
) -> dict[str, Any]:
    """An employer, verified by default (as a consultant would: employer trust),
    so its vacancies reach minors and may invite walk-ins; `verified=False` for
    a fresh sign-up as it is."""
    body = {"name": f"Test Bageri {uuid.uuid4().hex[:6]}", **overrides}
    r = await client.post("/v1/employers", json=body)
    assert r.status_code == 201, r.text
    remember(r.json()["api_key"])
    if verified:
        verify_employer(str(client.base_url).rstrip("/"), r.json()["id"])
    return r.json()


def verify_employer(base_url: str, employer_id: str) -> None:
    """Mark an employer verified in the database of the server at `base_url`, as
    an operator would (`jotr employer verify`, without starting a process)."""
    with psycopg.connect(_libpq(SERVER_DATABASES[base_url])) as conn:
        conn.execute(
            "UPDATE employers SET verification_status = 'verified', verified_by_type = "
            "'operator', verified_at = now() WHERE id = %s",
            (employer_id,),
        )


def vacancy_body(lat: float, lon: float, **overrides: Any) -> dict[str, Any]:
    barista = occupation("barista")
    body: dict[str, Any] = {
        "title": "Barista, weekends",
        "description": "Coffee bar in the Latin Quarter.",
        "occupation_uri": barista["uri"],
        "location": {"lat": lat, "lon": lon},
        "required_skills": [{"uri": u} for u in barista["essential"][:4]],
        "optional_skills": barista["optional"][:2],
        "job_type": "fritidsjob",
        "hours_per_week": 10,
        "min_age": 15,
        "walk_in": True,
    }
    body.update(overrides)
    return body


async def new_vacancy(
    client: httpx.AsyncClient, api_key: str, lat: float, lon: float, **overrides: Any
) -> dict[str, Any]:
    r = await client.post(
        "/v1/vacancies", json=vacancy_body(lat, lon, **overrides), headers=auth(api_key)
    )
    assert r.status_code == 201, r.text
    return r.json()


def signup_consent() -> dict[str, Any]:
    """Explicit consent to the current privacy notice, as the app sends it."""
    return {"notice_version": current_notice_version(), "accepted": True}


def seeker_body(**overrides: Any) -> dict[str, Any]:
    barista = occupation("barista")
    body: dict[str, Any] = {
        "birth_date": birth_date_for_age(19),
        "display_name": "Testperson",
        "skills": barista["essential"][:3],
        "preferences": {"radius_m": 3000},
        "consent": signup_consent(),
    }
    body.update(overrides)
    age = _age(body["birth_date"])
    if age < 18 and "finished_compulsory_school" not in body:
        # Required under 18: the usual case, out of 9th grade from 15.
        body["finished_compulsory_school"] = age >= 15
    return body


def _age(birth_date: Any) -> int:
    try:
        born, today = dt.date.fromisoformat(birth_date), dt.date.today()
    except (TypeError, ValueError):
        return 99  # a bad body under test: leave it as it is

    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def new_seeker(
    client: httpx.AsyncClient, location_consent: bool = True, **overrides: Any
) -> dict[str, Any]:
    """A signed-up seeker; by default also with location consent, as the app
    asks it before the first position (push needs it)."""
    body = seeker_body(**overrides)
    r = await client.post("/v1/jobseekers", json=body)
    assert r.status_code == 201, r.text
    remember(r.json()["token"], r.json()["id"], body.get("display_name"), body.get("birth_date"))
    if location_consent:
        c = await client.put(
            "/v1/jobseekers/me/consents/location",
            json={"granted": True},
            headers=auth(r.json()["token"]),
        )
        assert c.status_code == 200, c.text
    return r.json()


def new_consultant(database_url: str, caseload: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """Consultants are made by operators (CLI), not the API: insert directly."""
    token, token_hash = new_secret(Principal.CONSULTANT)
    cid = uuid.uuid4()
    remember(token)
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO consultants (id, name, token_hash) VALUES (%s, %s, %s)",
            (cid, "Test Konsulent", token_hash),
        )
        for seeker_id in caseload:
            conn.execute(
                "INSERT INTO caseload (consultant_id, jobseeker_id) VALUES (%s, %s)",
                (cid, seeker_id),
            )
    return {"id": str(cid), "token": token}


def new_integration(database_url: str, municipality: str = "0751") -> dict[str, Any]:
    """Integrations are made by operators (`jotr integration create`): insert directly."""
    token, token_hash = new_secret(Principal.INTEGRATION)
    iid = uuid.uuid4()
    remember(token)
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO integrations (id, name, municipality, token_hash) VALUES (%s, %s, %s, %s)",
            (iid, "Test sagssystem", municipality, token_hash),
        )
    return {"id": str(iid), "token": token}


def count_rows(database_url: str, table: str) -> int:
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])
