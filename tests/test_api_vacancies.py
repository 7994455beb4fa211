"""Vacancy contract: posting, ownership, idempotency, nearby search."""

from __future__ import annotations

import uuid

import httpx
from geographiclib.geodesic import Geodesic

from tests.builders import (
    auth,
    count_rows,
    new_employer,
    new_vacancy,
    next_spot,
    signup_consent,
    vacancy_body,
)


def offset(lat: float, lon: float, metres: float, bearing: float = 90.0) -> tuple[float, float]:
    g = Geodesic.WGS84.Direct(lat, lon, bearing, metres)
    return g["lat2"], g["lon2"]


async def test_post_get_patch_close(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, hours_per_week=12.5)
    assert v["status"] == "open" and v["source"] == "api" and v["employer_id"] == emp["id"]
    assert v["location"] == {"lat": lat, "lon": lon} and v["location_precision"] == "given"
    assert len(v["required_skills"]) == 4 and v["required_skills"][0]["label"]
    assert v["occupation"]["label"] == "barista"

    r = await client.patch(
        f"/v1/vacancies/{v['id']}",
        json={"hours_per_week": 8, "walk_in": False},
        headers=auth(emp["api_key"]),
    )
    assert r.status_code == 200, r.text
    assert r.json()["hours_per_week"] == 8 and r.json()["walk_in"] is False

    r = await client.delete(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    assert r.status_code == 200 and r.json()["status"] == "closed"
    # Closed: gone from search and from the public view, still visible to its owner.
    r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 1000})
    assert r.json()["features"] == []
    assert (await client.get(f"/v1/vacancies/{v['id']}")).status_code == 404
    r = await client.get(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = await client.patch(
        f"/v1/vacancies/{v['id']}", json={"hours_per_week": 9}, headers=auth(emp["api_key"])
    )
    assert r.status_code == 409


async def test_public_view_hides_private_fields(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    other = await new_employer(client)
    for headers in ({}, auth(other["api_key"])):
        r = await client.get(f"/v1/vacancies/{v['id']}", headers=headers)
        assert r.status_code == 200
        body = r.json()
        assert body["title"] == v["title"]
        assert "status" not in body and "employer_id" not in body and "work_profile" not in body


async def test_employer_cannot_touch_another_employers_vacancy(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    owner = await new_employer(client)
    v = await new_vacancy(client, owner["api_key"], lat, lon)
    intruder = await new_employer(client)
    r = await client.patch(
        f"/v1/vacancies/{v['id']}", json={"title": "Mine now"}, headers=auth(intruder["api_key"])
    )
    assert r.status_code == 404
    r = await client.delete(f"/v1/vacancies/{v['id']}", headers=auth(intruder["api_key"]))
    assert r.status_code == 404
    # Same answer as for an id that does not exist: nothing leaks.
    r = await client.delete(f"/v1/vacancies/{uuid.uuid4()}", headers=auth(intruder["api_key"]))
    assert r.status_code == 404
    r = await client.get(f"/v1/vacancies/{v['id']}", headers=auth(owner["api_key"]))
    assert r.json()["title"] == v["title"] and r.json()["status"] == "open"


async def test_writes_need_an_employer_key(client: httpx.AsyncClient, database_url: str) -> None:
    lat, lon = next_spot()
    before = count_rows(database_url, "vacancies")
    r = await client.post("/v1/vacancies", json=vacancy_body(lat, lon))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await client.post(
        "/v1/vacancies", json=vacancy_body(lat, lon), headers=auth("jotr_emp_nope")
    )
    assert r.status_code == 401
    seeker = (
        await client.post(
            "/v1/jobseekers", json={"birth_date": "2005-01-01", "consent": signup_consent()}
        )
    ).json()
    r = await client.post(
        "/v1/vacancies", json=vacancy_body(lat, lon), headers=auth(seeker["token"])
    )
    assert r.status_code == 403
    assert count_rows(database_url, "vacancies") == before


async def test_idempotency_key_makes_a_retry_create_one_vacancy(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    headers = {**auth(emp["api_key"]), "Idempotency-Key": "retry-123"}
    before = count_rows(database_url, "vacancies")
    first = await client.post("/v1/vacancies", json=vacancy_body(lat, lon), headers=headers)
    second = await client.post("/v1/vacancies", json=vacancy_body(lat, lon), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert count_rows(database_url, "vacancies") == before + 1
    # The same key with another body is a client bug, not a new vacancy.
    r = await client.post(
        "/v1/vacancies", json=vacancy_body(lat, lon, title="Other"), headers=headers
    )
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["error"]["message"]
    # Keys are per employer.
    other = await new_employer(client)
    r = await client.post(
        "/v1/vacancies",
        json=vacancy_body(lat, lon),
        headers={**auth(other["api_key"]), "Idempotency-Key": "retry-123"},
    )
    assert r.status_code == 201 and r.json()["id"] != first.json()["id"]


async def test_nearby_search_is_geojson_nearest_first_with_true_distances(
    client: httpx.AsyncClient,
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    placed = {}
    for metres, bearing in [(1200, 10), (300, 200), (2500, 90), (800, 300)]:
        vlat, vlon = offset(lat, lon, metres, bearing)
        v = await new_vacancy(client, emp["api_key"], vlat, vlon, title=f"Job at {metres} m")
        placed[v["id"]] = (metres, vlat, vlon)
    r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 2000})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    got = [(f["id"], f["properties"]["distance_m"]) for f in fc["features"]]
    assert [placed[i][0] for i, _ in got] == [300, 800, 1200]  # 2500 m is outside
    for f in fc["features"]:
        metres, vlat, vlon = placed[f["id"]]
        assert f["geometry"] == {"type": "Point", "coordinates": [round(vlon, 7), round(vlat, 7)]}
        assert abs(f["properties"]["distance_m"] - metres) / metres < 0.005
    r = await client.get(
        "/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 2000, "limit": 2}
    )
    assert len(r.json()["features"]) == 2


async def test_expired_vacancies_are_not_found_nearby(
    client: httpx.AsyncClient, database_url: str
) -> None:
    import psycopg

    from tests.conftest import _libpq

    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "UPDATE vacancies SET expires_at = now() - interval '1 minute' WHERE id = %s",
            (v["id"],),
        )
    r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 1000})
    assert r.json()["features"] == []
