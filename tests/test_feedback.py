"""Feedback events: recorded by push, by seekers and by consultants, with the match
as it was scored; access checked, bad input rejected with nothing written."""

from __future__ import annotations

import math
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from matcher.analytics.feedback import FEATURE_NAMES, features_from_match
from matcher.matching.scoring import PARTS, WEIGHTS
from tests.builders import (
    auth,
    birth_date_for_age,
    count_rows,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
)
from tests.conftest import ServerProcess, _libpq
from tests.push_client import Phone, push_spot
from tests.test_api_consultants import audit_rows


def events(database_url: str, seeker_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        cur = conn.execute(
            "SELECT kind, actor, actor_id::text, vacancy_id::text, score, features, scorer,"
            " age_band, area FROM match_events WHERE jobseeker_id = %s ORDER BY id",
            (seeker_id,),
        )
        cols = [d.name for d in cur.description or ()]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def same(a: list[float], b: list[float]) -> bool:
    """Feature vectors equal as stored (real = float32), NaN equal to NaN."""
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-5 * max(1.0, abs(x))
        for x, y in zip(a, b, strict=True)
    )


def test_features_start_with_the_scoring_parts() -> None:
    # Append-only: the five parts of hand-v1 first, the occupation part (hand-v2) last.
    old = ("required", "optional", "profile", "practical", "distance")
    assert FEATURE_NAMES[:5] == tuple(f"part_{p}" for p in old)
    assert FEATURE_NAMES[-1] == "part_occupation"
    assert {f"part_{p}" for p in PARTS} <= set(FEATURE_NAMES)
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


async def test_pushed_event_and_seeker_actions_copy_its_features(
    client: httpx.AsyncClient, server: ServerProcess, database_url: str
) -> None:
    lat, lon = push_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    s = await new_seeker(client, birth_date=birth_date_for_age(16))
    phone = await Phone.connect(server.base_url, s["token"])
    try:
        await phone.move(lat, lon)
        frame = await phone.wait_for("match")
    finally:
        await phone.close()
    assert frame["vacancy"]["id"] == v["id"]

    [pushed] = events(database_url, s["id"])
    assert pushed["kind"] == "pushed" and pushed["actor"] == "system"
    assert pushed["age_band"] == "<18" and pushed["scorer"] == "hand-v2"
    assert abs(pushed["score"] - frame["score"]) < 1e-6
    expected = features_from_match(frame["explanation"], frame["distance_m"], eligible=True)
    assert same(pushed["features"], expected)
    named = dict(zip(FEATURE_NAMES, pushed["features"], strict=True))
    assert named["n_required"] == 4 and named["n_matched_required"] == 3
    assert named["eligible"] == 1.0 and named["walk_in"] == 0.0

    # The profile changes after the push: an action still carries the match as pushed.
    r = await client.patch("/v1/jobseekers/me", json={"skills": []}, headers=auth(s["token"]))
    assert r.status_code == 200
    for action in ("opened", "saved"):
        r = await client.post(
            "/v1/jobseekers/me/feedback",
            json={"vacancy_id": v["id"], "action": action},
            headers=auth(s["token"]),
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["action"] == action and body["actor"] == "seeker"
        assert abs(body["score"] - frame["score"]) < 1e-4
        assert body["features"]["part_required"] == pytest.approx(named["part_required"])
    rows = events(database_url, s["id"])
    assert [e["kind"] for e in rows] == ["pushed", "opened", "saved"]
    assert all(same(e["features"], pushed["features"]) for e in rows)
    assert {e["actor_id"] for e in rows[1:]} == {s["id"]}


async def test_an_action_without_push_or_position_is_scored_now(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    s = await new_seeker(client)
    r = await client.post(
        "/v1/jobseekers/me/feedback",
        json={"vacancy_id": v["id"], "action": "opened"},
        headers=auth(s["token"]),
    )
    assert r.status_code == 201, r.text
    f = r.json()["features"]
    # No position: the distance is unknown and counts as neutral in the score.
    assert f["part_distance"] is None and f["distance_km"] is None
    assert f["n_required"] == 4 and f["n_matched_required"] == 3 and f["eligible"] == 1.0
    parts = {p: f[f"part_{p}"] for p in PARTS if p != "distance"}
    neutral = sum(WEIGHTS[p] * parts[p] for p in parts) + WEIGHTS["distance"] * 0.5
    assert r.json()["score"] == pytest.approx(neutral, abs=2e-4)


async def test_bad_feedback_is_rejected_and_writes_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    key = emp["api_key"]
    v = await new_vacancy(client, key, lat, lon)
    closed = await new_vacancy(client, key, lat, lon)
    assert (
        await client.delete(f"/v1/vacancies/{closed['id']}", headers=auth(key))
    ).status_code == 200
    s = await new_seeker(client)
    h = auth(s["token"])
    before = count_rows(database_url, "match_events")
    cases: list[tuple[Any, int]] = [
        ({"vacancy_id": v["id"], "action": "pushed"}, 422),
        ({"vacancy_id": v["id"], "action": "verdict_good"}, 422),
        ({"vacancy_id": v["id"], "action": "Saved"}, 422),
        ({"vacancy_id": v["id"]}, 422),
        ({"vacancy_id": "not-a-uuid", "action": "saved"}, 422),
        ({"vacancy_id": v["id"], "action": "saved", "extra": 1}, 422),
        ({"vacancy_id": str(uuid.uuid4()), "action": "saved"}, 404),
        ({"vacancy_id": closed["id"], "action": "hired"}, 404),  # closed, never seen
    ]
    for body, want in cases:
        r = await client.post("/v1/jobseekers/me/feedback", json=body, headers=h)
        assert r.status_code == want, (body, r.text)
        assert r.json()["error"]["message"]
    r = await client.post(
        "/v1/jobseekers/me/feedback",
        content=b"{nope",
        headers={**h, "content-type": "application/json"},
    )
    assert r.status_code == 400
    body = {"vacancy_id": v["id"], "action": "saved"}
    assert (await client.post("/v1/jobseekers/me/feedback", json=body)).status_code == 401
    r = await client.post("/v1/jobseekers/me/feedback", json=body, headers=auth(key))
    assert r.status_code == 403
    r = await client.get("/v1/jobseekers/me/feedback", params={"action": "pushed"}, headers=h)
    assert r.status_code == 422
    assert count_rows(database_url, "match_events") == before


async def test_latest_action_per_vacancy(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    key = emp["api_key"]
    a = await new_vacancy(client, key, lat, lon, title="A")
    b = await new_vacancy(client, key, lat, lon, title="B")
    c = await new_vacancy(client, key, lat, lon, title="C")
    s, other = await new_seeker(client), await new_seeker(client)
    h = auth(s["token"])

    async def act(vacancy: dict[str, Any], action: str, who: dict[str, str] = h) -> None:
        r = await client.post(
            "/v1/jobseekers/me/feedback",
            json={"vacancy_id": vacancy["id"], "action": action},
            headers=who,
        )
        assert r.status_code == 201, r.text

    await act(a, "saved")
    await act(a, "opened")  # looking at it again does not un-save it
    await act(b, "saved")
    await act(b, "dismissed")
    await act(c, "opened")
    await act(a, "dismissed", auth(other["token"]))

    r = await client.get("/v1/jobseekers/me/feedback", params={"action": "saved"}, headers=h)
    assert r.status_code == 200
    assert [(i["title"], i["action"]) for i in r.json()["items"]] == [("A", "saved")]
    assert r.json()["items"][0]["open"] is True
    r = await client.get("/v1/jobseekers/me/feedback", headers=h)
    got = {i["title"]: i["action"] for i in r.json()["items"]}
    assert got == {"A": "saved", "B": "dismissed", "C": "opened"}
    r = await client.get("/v1/jobseekers/me/feedback", headers=auth(other["token"]))
    assert [(i["title"], i["action"]) for i in r.json()["items"]] == [("A", "dismissed")]

    # A closed vacancy the seeker has seen still takes feedback (hired after it closed).
    assert (await client.delete(f"/v1/vacancies/{a['id']}", headers=auth(key))).status_code == 200
    await act(a, "hired")
    r = await client.get("/v1/jobseekers/me/feedback", params={"action": "hired"}, headers=h)
    assert [(i["title"], i["open"]) for i in r.json()["items"]] == [("A", False)]


async def test_consultant_outcomes_and_verdicts(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    mine, stranger = await new_seeker(client), await new_seeker(client)
    con = new_consultant(database_url, caseload=[mine["id"]])
    h = auth(con["token"])
    url = f"/v1/consultants/me/caseload/{mine['id']}/outcomes"
    before = count_rows(database_url, "match_events")
    bad: list[tuple[str, Any, int]] = [
        (url, {"vacancy_id": v["id"], "outcome": "applied"}, 422),
        (url, {"vacancy_id": v["id"]}, 422),
        (url, {"vacancy_id": str(uuid.uuid4()), "outcome": "hired"}, 404),
        (f"/v1/consultants/me/caseload/{stranger['id']}/outcomes",
         {"vacancy_id": v["id"], "outcome": "hired"}, 404),
        (f"/v1/consultants/me/caseload/{uuid.uuid4()}/outcomes",
         {"vacancy_id": v["id"], "outcome": "hired"}, 404),
    ]  # fmt: skip
    for path, body, want in bad:
        r = await client.post(path, json=body, headers=h)
        assert r.status_code == want, (path, body, r.text)
    r = await client.post(url, json={"vacancy_id": v["id"], "outcome": "hired"},
                          headers=auth(mine["token"]))  # fmt: skip
    assert r.status_code == 403
    assert count_rows(database_url, "match_events") == before
    assert audit_rows(database_url, con["id"]) == []

    r = await client.post(url, json={"vacancy_id": v["id"], "outcome": "hired"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["action"] == "hired" and r.json()["actor"] == "consultant"

    review = {"jobseeker_id": mine["id"], "vacancy_id": v["id"], "verdict": "bad",
              "lat": lat, "lon": lon}  # fmt: skip
    r = await client.post("/v1/reviews", json=review, headers=h)
    assert r.status_code == 201, r.text
    rows = events(database_url, mine["id"])
    assert [(e["kind"], e["actor"], e["actor_id"]) for e in rows] == [
        ("hired", "consultant", con["id"]),
        ("verdict_bad", "consultant", con["id"]),
    ]
    # The verdict carries the match as the consultant saw it, at their point.
    assert rows[1]["score"] == pytest.approx(r.json()["score"], abs=1e-4)
    named = dict(zip(FEATURE_NAMES, rows[1]["features"], strict=True))
    assert named["distance_km"] == pytest.approx(0.0, abs=1e-3)
    assert [a for a, _ in audit_rows(database_url, con["id"])] == [
        "outcome.create",
        "review.create",
    ]


async def test_events_are_append_only_and_erased_with_the_person(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    s = await new_seeker(client)
    h = auth(s["token"])
    body = {"vacancy_id": v["id"], "action": "applied"}
    assert (
        await client.post("/v1/jobseekers/me/feedback", json=body, headers=h)
    ).status_code == 201
    with (
        psycopg.connect(_libpq(database_url)) as conn,
        pytest.raises(psycopg.errors.RaiseException),
    ):
        conn.execute("UPDATE match_events SET score = 1 WHERE jobseeker_id = %s", (s["id"],))
    assert len(events(database_url, s["id"])) == 1
    assert (await client.delete("/v1/jobseekers/me", headers=h)).status_code == 204
    assert events(database_url, s["id"]) == []


async def test_erasure_leaves_no_outcome_in_the_audit_log(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    s = await new_seeker(client)
    con = new_consultant(database_url, caseload=[s["id"]])
    url = f"/v1/consultants/me/caseload/{s['id']}/outcomes"
    r = await client.post(url, json={"vacancy_id": v["id"], "outcome": "hired"},
                          headers=auth(con["token"]))  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/jobseekers/{s['id']}", headers=auth(con["token"]))
    assert r.status_code == 200, r.text

    def details() -> list[tuple[str, dict[str, Any]]]:
        with psycopg.connect(_libpq(database_url)) as conn:
            rows = conn.execute(
                "SELECT action, detail FROM audit_log WHERE subject_id = %s ORDER BY id",
                (s["id"],),
            ).fetchall()
        return [(a, d) for a, d in rows]

    # Audited with an opaque id only, never the outcome itself.
    assert [a for a, _ in details()] == ["outcome.create", "jobseeker.read"]
    assert "hired" not in str(details())
    assert (await client.delete("/v1/jobseekers/me", headers=auth(s["token"]))).status_code == 204
    # The rows stay (who read whom, when), their details do not.
    assert details() == [("outcome.create", {}), ("jobseeker.read", {})]
