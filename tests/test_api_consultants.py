"""Consultants see only their caseload, and every read of a person is audited."""

from __future__ import annotations

import uuid

import httpx
import psycopg

from tests.builders import auth, new_consultant, new_employer, new_seeker, new_vacancy, next_spot
from tests.conftest import _libpq


def audit_rows(database_url: str, consultant_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT action, subject_id::text FROM audit_log WHERE actor_id = %s ORDER BY id",
            (consultant_id,),
        ).fetchall()
    return [(a, s) for a, s in rows]


async def test_caseload_matches_and_audit(client: httpx.AsyncClient, database_url: str) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    mine = await new_seeker(client, display_name="Mine")
    other = await new_seeker(client, display_name="Not mine")
    con = new_consultant(database_url, caseload=[mine["id"]])
    h = auth(con["token"])

    r = await client.get("/v1/consultants/me/caseload", headers=h)
    assert r.status_code == 200
    assert [p["id"] for p in r.json()["jobseekers"]] == [mine["id"]]

    r = await client.get(f"/v1/jobseekers/{mine['id']}", headers=h)
    assert r.status_code == 200 and r.json()["display_name"] == "Mine"
    r = await client.get(
        f"/v1/jobseekers/{mine['id']}/matches", params={"lat": lat, "lon": lon}, headers=h
    )
    assert r.status_code == 200 and r.json()["matches"][0]["vacancy"]["id"] == v["id"]

    # Off the caseload: the same 404 as for a person who does not exist.
    for sid in (other["id"], str(uuid.uuid4())):
        assert (await client.get(f"/v1/jobseekers/{sid}", headers=h)).status_code == 404
        r = await client.get(
            f"/v1/jobseekers/{sid}/matches", params={"lat": lat, "lon": lon}, headers=h
        )
        assert r.status_code == 404

    assert audit_rows(database_url, con["id"]) == [
        ("caseload.list", mine["id"]),
        ("jobseeker.read", mine["id"]),
        ("jobseeker.matches", mine["id"]),
    ]


async def test_reviews_store_the_match_as_seen(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    seeker = await new_seeker(client)
    stranger = await new_seeker(client)
    con = new_consultant(database_url, caseload=[seeker["id"]])
    h = auth(con["token"])
    r = await client.post(
        "/v1/reviews",
        json={
            "jobseeker_id": seeker["id"],
            "vacancy_id": v["id"],
            "verdict": "good",
            "reason": "Fits her hours",
            "lat": lat,
            "lon": lon,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["verdict"] == "good" and review["eligible"] is True and 0 < review["score"] <= 1
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT explanation FROM match_reviews WHERE id = %s", (review["id"],)
        ).fetchone()
    assert row is not None and "required" in row[0]["parts"]

    bad = [
        {"jobseeker_id": stranger["id"], "vacancy_id": v["id"], "verdict": "bad"},
        {"jobseeker_id": seeker["id"], "vacancy_id": str(uuid.uuid4()), "verdict": "bad"},
    ]
    for body in bad:
        assert (await client.post("/v1/reviews", json=body, headers=h)).status_code == 404
    r = await client.post(
        "/v1/reviews",
        json={"jobseeker_id": seeker["id"], "vacancy_id": v["id"], "verdict": "meh"},
        headers=h,
    )
    assert r.status_code == 422
    # Seekers and employers cannot review.
    for secret in (seeker["token"], emp["api_key"]):
        r = await client.post(
            "/v1/reviews",
            json={"jobseeker_id": seeker["id"], "vacancy_id": v["id"], "verdict": "good"},
            headers=auth(secret),
        )
        assert r.status_code == 403


async def test_consultant_endpoints_reject_others(client: httpx.AsyncClient) -> None:
    s = await new_seeker(client)
    assert (await client.get("/v1/consultants/me/caseload")).status_code == 401
    assert (
        await client.get("/v1/consultants/me/caseload", headers=auth(s["token"]))
    ).status_code == 403
