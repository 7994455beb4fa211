"""Bad input gets a clear 4xx with a reason and writes nothing; never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.builders import auth, count_rows, new_employer, next_spot, seeker_body, vacancy_body

UNKNOWN_SKILL = "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000"


def _vacancy_cases() -> list[tuple[str, dict[str, Any], int]]:
    lat, lon = next_spot()
    ok = vacancy_body(lat, lon)
    return [
        ("lat out of range", {**ok, "location": {"lat": 91, "lon": 10}}, 422),
        ("lon out of range", {**ok, "location": {"lat": 56, "lon": -181}}, 422),
        ("lat as string", {**ok, "location": {"lat": "north", "lon": 10}}, 422),
        ("missing location", {k: v for k, v in ok.items() if k != "location"}, 422),
        ("unknown skill", {**ok, "required_skills": [{"uri": UNKNOWN_SKILL}]}, 422),
        ("unknown optional skill", {**ok, "optional_skills": [UNKNOWN_SKILL]}, 422),
        (
            "unknown occupation",
            {**ok, "occupation_uri": "http://data.europa.eu/esco/occupation/x"},
            422,
        ),
        ("skill repeated", {**ok, "required_skills": ok["required_skills"][:1] * 2}, 422),
        ("zero hours", {**ok, "hours_per_week": 0}, 422),
        ("100 hours", {**ok, "hours_per_week": 100}, 422),
        ("min age 12", {**ok, "min_age": 12}, 422),
        ("huge int", {**ok, "openings": 2**40}, 422),
        ("unknown job type", {**ok, "job_type": "astronaut"}, 422),
        ("unknown field", {**ok, "salary_dkk": 1}, 422),
        ("unknown certificate", {**ok, "required_certificates": ["pilot"]}, 422),
        ("past expiry", {**ok, "expires_at": "2020-01-01T00:00:00+00:00"}, 422),
        ("naive expiry", {**ok, "expires_at": "2030-01-01T00:00:00"}, 422),
        ("bad opening hours", {**ok, "opening_hours": {"mon": [["18:00", "09:00"]]}}, 422),
        ("bad day", {**ok, "opening_hours": {"someday": [["09:00", "17:00"]]}}, 422),
        ("profile out of range", {**ok, "work_profile": {"teamwork": 2}}, 422),
        ("profile unknown dim", {**ok, "work_profile": {"karma": 0.5}}, 422),
        (
            "weight zero",
            {**ok, "required_skills": [{"uri": ok["required_skills"][0]["uri"], "weight": 0}]},
            422,
        ),
        ("empty title", {**ok, "title": "   "}, 422),
        ("body is a list", [ok], 422),  # type: ignore[dict-item]
        ("null description", {**ok, "description": None}, 422),
        ("null skill list", {**ok, "optional_skills": None}, 422),
        ("NUL in title", {**ok, "title": "Bar\x00ista"}, 422),
        ("NUL in a nested key", {**ok, "opening_hours": {"mon\x00": [["09:00", "17:00"]]}}, 422),
    ]


@pytest.mark.parametrize(
    ("case", "body", "status"), _vacancy_cases(), ids=lambda x: x if isinstance(x, str) else ""
)
async def test_bad_vacancy_bodies(
    client: httpx.AsyncClient, database_url: str, case: str, body: Any, status: int
) -> None:
    emp = await new_employer(client)
    before = count_rows(database_url, "vacancies")
    r = await client.post("/v1/vacancies", json=body, headers=auth(emp["api_key"]))
    assert r.status_code == status, (case, r.text)
    err = r.json()["error"]
    assert err["code"] and err["message"]
    assert count_rows(database_url, "vacancies") == before


async def test_unknown_skill_names_the_uri(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    body = vacancy_body(lat, lon, optional_skills=[UNKNOWN_SKILL])
    r = await client.post("/v1/vacancies", json=body, headers=auth(emp["api_key"]))
    assert r.status_code == 422
    assert UNKNOWN_SKILL in r.text


async def test_malformed_json_is_400(client: httpx.AsyncClient, database_url: str) -> None:
    emp = await new_employer(client)
    before = count_rows(database_url, "vacancies")
    r = await client.post(
        "/v1/vacancies",
        content=b'{"title": "x", ',
        headers={**auth(emp["api_key"]), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    assert count_rows(database_url, "vacancies") == before


async def test_oversized_body_is_413(client: httpx.AsyncClient, database_url: str) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    before = count_rows(database_url, "vacancies")
    body = vacancy_body(lat, lon, description="x" * 200_000)
    r = await client.post("/v1/vacancies", json=body, headers=auth(emp["api_key"]))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b" " * 4096

    r = await client.post(
        "/v1/vacancies",
        content=chunks(),
        headers={**auth(emp["api_key"]), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert count_rows(database_url, "vacancies") == before


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 56.15, "lon": 10.2, "radius_m": 0},
        {"lat": 56.15, "lon": 10.2, "radius_m": -5},
        {"lat": 56.15, "lon": 10.2, "radius_m": 10_000_000},
        {"lat": 56.15, "lon": 10.2, "radius_m": "nan"},
        {"lat": 56.15, "lon": 10.2, "radius_m": "inf"},
        {"lat": 95, "lon": 10.2},
        {"lat": "x", "lon": 10.2},
        {"lon": 10.2},
        {"lat": 56.15, "lon": 10.2, "limit": 0},
        {"lat": 56.15, "lon": 10.2, "limit": 10_000},
    ],
)
async def test_bad_search_parameters(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    r = await client.get("/v1/vacancies", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("case", "override"),
    [
        ("too young", {"birth_date": "2020-01-01"}),
        ("too old", {"birth_date": "1980-01-01"}),
        ("not a date", {"birth_date": "yesterday"}),
        ("unknown skill", {"skills": [UNKNOWN_SKILL]}),
        ("unknown certificate", {"certificates": ["pilot"]}),
        ("radius zero", {"preferences": {"radius_m": 0}}),
        ("hours reversed", {"preferences": {"hours_min": 20, "hours_max": 5}}),
        ("bad language", {"language": "fr"}),
        ("unknown field", {"cpr": "0101011234"}),
        ("null job types", {"preferences": {"job_types": None}}),
        ("null skills", {"skills": None}),
        ("NUL in name", {"display_name": "A\x00"}),
    ],
)
async def test_bad_seeker_bodies(
    client: httpx.AsyncClient, database_url: str, case: str, override: dict[str, Any]
) -> None:
    before = count_rows(database_url, "jobseekers")
    r = await client.post("/v1/jobseekers", json=seeker_body(**override))
    assert r.status_code == 422, (case, r.text)
    assert count_rows(database_url, "jobseekers") == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/vacancies/not-a-uuid"),
        ("PATCH", "/v1/vacancies/not-a-uuid"),
        ("GET", "/v1/jobseekers/not-a-uuid/matches"),
        ("GET", "/v1/nowhere"),
        ("PUT", "/v1/vacancies"),
    ],
)
async def test_bad_paths_are_4xx(client: httpx.AsyncClient, method: str, path: str) -> None:
    emp = await new_employer(client)
    r = await client.request(method, path, headers=auth(emp["api_key"]), json={})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["code"]


async def test_patches_that_would_break_a_row_are_422(client: httpx.AsyncClient) -> None:
    from tests.builders import new_seeker, new_vacancy

    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    for body in ({"min_age": None}, {"walk_in": None}, {"title": None}, {}):
        r = await client.patch(f"/v1/vacancies/{v['id']}", json=body, headers=auth(emp["api_key"]))
        assert r.status_code == 422, (body, r.text)
    s = await new_seeker(client, preferences={"hours_min": 10, "hours_max": 20})
    r = await client.patch(
        "/v1/jobseekers/me", json={"preferences": {"hours_max": 5}}, headers=auth(s["token"])
    )
    assert r.status_code == 422 and "hours_min" in r.json()["error"]["message"]
    r = await client.patch("/v1/jobseekers/me", json={"language": None}, headers=auth(s["token"]))
    assert r.status_code == 422


async def test_denormal_coordinates_do_not_break_the_geo_index(client: httpx.AsyncClient) -> None:
    # Found by fuzzing: PostGIS's geography KNN fails on coordinates like 1e-81.
    emp = await new_employer(client)
    body = vacancy_body(1e-300, 5e-324)
    r = await client.post("/v1/vacancies", json=body, headers=auth(emp["api_key"]))
    assert r.status_code == 201 and r.json()["location"] == {"lat": 0.0, "lon": 0.0}
    for lat, lon in [(-2.220446049250313e-16, 1.0731927443452038e-81), (1e-15, 0.0)]:
        r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 5000})
        assert r.status_code == 200, r.text
        assert r.json()["features"]
