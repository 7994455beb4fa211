"""The employer page's API: my vacancies, and how many young people nearby a
vacancy fits right now (a count with a floor, for the owner only)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import psycopg

from tests.builders import (
    auth,
    birth_date_for_age,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    occupation,
)
from tests.conftest import _libpq


def place_seeker(database_url: str, seeker_id: str, lat: float, lon: float) -> None:
    """What the push layer stores while the seeker's app is connected."""
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO push_streams (jobseeker_id, last_position, last_position_at)"
            " VALUES (%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, now())"
            " ON CONFLICT (jobseeker_id) DO UPDATE SET last_position = EXCLUDED.last_position,"
            " last_position_at = now()",
            (seeker_id, lon, lat),
        )


def set_column(database_url: str, seeker_id: str, column: str, value: Any) -> None:
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(f"UPDATE jobseekers SET {column} = %s WHERE id = %s", (value, seeker_id))


async def reach(client: httpx.AsyncClient, key: str, vacancy_id: str) -> httpx.Response:
    return await client.get(f"/v1/employers/me/vacancies/{vacancy_id}/reach", headers=auth(key))


async def test_my_vacancies_are_mine_only(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    a = await new_employer(client)
    b = await new_employer(client)
    first = await new_vacancy(client, a["api_key"], lat, lon, title="Først")
    second = await new_vacancy(client, a["api_key"], lat, lon, title="Dernæst")
    await new_vacancy(client, b["api_key"], lat, lon, title="Andens")
    await client.delete(f"/v1/vacancies/{first['id']}", headers=auth(a["api_key"]))

    r = await client.get("/v1/employers/me/vacancies", headers=auth(a["api_key"]))
    assert r.status_code == 200
    got = [(v["title"], v["status"]) for v in r.json()["vacancies"]]
    assert got == [("Dernæst", "open"), ("Først", "closed")]  # open ones first
    assert r.json()["vacancies"][0]["id"] == second["id"]
    r = await client.get("/v1/employers/me/vacancies", headers=auth(b["api_key"]))
    assert [v["title"] for v in r.json()["vacancies"]] == ["Andens"]

    assert (await client.get("/v1/employers/me/vacancies")).status_code == 401
    seeker = await new_seeker(client)
    r = await client.get("/v1/employers/me/vacancies", headers=auth(seeker["token"]))
    assert r.status_code == 403


async def test_reach_is_for_the_owner_only(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    owner = await new_employer(client)
    other = await new_employer(client)
    v = await new_vacancy(client, owner["api_key"], lat, lon)
    assert (await reach(client, owner["api_key"], v["id"])).status_code == 200
    # Another employer's vacancy answers like a missing one.
    assert (await reach(client, other["api_key"], v["id"])).status_code == 404
    assert (await reach(client, other["api_key"], str(uuid.uuid4()))).status_code == 404
    r = await client.get(f"/v1/employers/me/vacancies/{v['id']}/reach")
    assert r.status_code == 401


async def test_reach_counts_fitting_seekers_nearby_with_a_floor(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    barista = occupation("barista")
    emp = await new_employer(client)
    v = await new_vacancy(
        client, emp["api_key"], lat, lon, min_age=18, walk_in=False,
        required_skills=[{"uri": u} for u in barista["essential"][:4]],
    )  # fmt: skip
    near = (lat + 0.003, lon)  # ~330 m north

    async def fitting(**overrides: Any) -> str:
        body: dict[str, Any] = {
            "skills": barista["essential"][:6],
            "birth_date": birth_date_for_age(20),
            "preferences": {"radius_m": 2000},
            **overrides,
        }
        seeker = await new_seeker(client, **body)
        return str(seeker["id"])

    async def shown() -> dict[str, Any]:
        r = await reach(client, emp["api_key"], v["id"])
        assert r.status_code == 200, r.text
        return dict(r.json())

    body = await shown()
    assert body["matching_seekers"] is None and body["fewer_than"] == 3
    assert body["vacancy_id"] == v["id"] and body["radius_m"] > 0

    # Three who fit, but only two of them have a position (their app is open).
    ids = [await fitting() for _ in range(3)]
    for sid in ids[:2]:
        place_seeker(database_url, sid, *near)
    assert (await shown())["matching_seekers"] is None  # 2: below the floor

    # Nearby, but not counted: too young for the job, paused, asking for more
    # than this job scores, wishing for other job types (never pushed outside
    # their wishes: the one push policy, matcher/matching/push_policy.py), or farther
    # away than their own radius.
    young = await fitting(birth_date=birth_date_for_age(16))
    paused = await fitting()
    picky = await fitting()
    unwished = await fitting()
    far = await fitting(preferences={"radius_m": 1000})
    for sid in (young, paused, picky, unwished):
        place_seeker(database_url, sid, *near)
    place_seeker(database_url, far, lat + 0.012, lon)  # ~1.3 km
    set_column(database_url, paused, "push_paused", True)
    set_column(database_url, picky, "push_min_score", 0.99)
    set_column(database_url, unwished, "job_types", ["ordinary"])  # the job is a fritidsjob
    assert (await shown())["matching_seekers"] is None

    place_seeker(database_url, ids[2], *near)
    assert (await shown())["matching_seekers"] == 3

    # No position, no count: the app was closed and the position erased.
    place_seeker_none = "UPDATE push_streams SET last_position = NULL WHERE jobseeker_id = %s"
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(place_seeker_none, (ids[0],))
    assert (await shown())["matching_seekers"] is None

    # Someone in their quiet hours is not told now, but will be: they count.
    quiet = await fitting()
    place_seeker(database_url, quiet, *near)
    set_column(database_url, quiet, "quiet_from", dt.time(0, 0))
    set_column(database_url, quiet, "quiet_until", dt.time(23, 59, 59))
    assert (await shown())["matching_seekers"] == 3

    # A closed vacancy reaches no one.
    await client.delete(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    assert (await shown())["matching_seekers"] is None
