"""Issue #12 through the real API against PostGIS: the occupation part of the score
(interests, ISCO unit group, its explanation) and preferences that hold (hours and
job types ranked below everything that fits, zero required-skill coverage hidden,
the work-profile calibration)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.builders import auth, new_employer, new_seeker, new_vacancy, next_spot, occupation


async def _matches(
    client: httpx.AsyncClient, token: str, lat: float, lon: float, **params: Any
) -> list[dict[str, Any]]:
    r = await client.get(
        "/v1/jobseekers/me/matches",
        params={"lat": lat, "lon": lon, "radius_m": 2000, **params},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    return r.json()["matches"]  # type: ignore[no-any-return]


async def _vacancy(
    client: httpx.AsyncClient, key: str, lat: float, lon: float, label: str, **kw: Any
) -> str:
    body: dict[str, Any] = {
        "title": f"Job as {label}",
        "occupation_uri": occupation(label)["uri"],
        "required_skills": [],
        "optional_skills": [],
        "walk_in": False,
    }
    body.update(kw)
    return str((await new_vacancy(client, key, lat, lon, **body))["id"])


async def test_interests_are_stored_returned_and_checked(client: httpx.AsyncClient) -> None:
    barista = occupation("barista")["uri"]
    s = await new_seeker(client, interests=[barista])
    me = (await client.get("/v1/jobseekers/me", headers=auth(s["token"]))).json()
    assert me["interests"] == [{"uri": barista, "label": "barista"}]

    shop = occupation("shop assistant")["uri"]
    r = await client.patch(
        "/v1/jobseekers/me", json={"interests": [shop, barista]}, headers=auth(s["token"])
    )
    assert r.status_code == 200, r.text
    assert [i["uri"] for i in r.json()["interests"]] == [shop, barista]

    # A skill is not an occupation; an unknown URI is not an ESCO concept.
    skill = occupation("barista")["essential"][0]
    for bad, code in ((skill, "unknown_concept"), ("http://example.org/x", "unknown_concept")):
        r = await client.patch(
            "/v1/jobseekers/me", json={"interests": [bad]}, headers=auth(s["token"])
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == code
    isco = "http://data.europa.eu/esco/isco/C5132"
    r = await client.patch(
        "/v1/jobseekers/me", json={"interests": [isco]}, headers=auth(s["token"])
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "wrong_concept_kind", r.text
    r = await client.patch("/v1/jobseekers/me", json={"interests": None}, headers=auth(s["token"]))
    assert r.status_code == 422  # not-null: send [] to clear
    me = (await client.get("/v1/jobseekers/me", headers=auth(s["token"]))).json()
    assert [i["uri"] for i in me["interests"]] == [shop, barista]  # nothing half-written


async def test_interests_change_the_ranking_and_say_why(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client))["api_key"]
    shop = await _vacancy(client, key, lat, lon, "shop assistant")
    bar = await _vacancy(client, key, lat, lon, "barista")
    coder = await _vacancy(client, key, lat, lon, "software developer")
    same_group = await _vacancy(client, key, lat, lon, "bartender")

    s = await new_seeker(
        client, skills=[], interests=[occupation("shop assistant")["uri"]], language="da"
    )
    found = await _matches(client, s["token"], lat, lon)
    order = [m["vacancy"]["id"] for m in found]
    assert order[0] == shop
    top = found[0]["explanation"]
    assert top["occupation"]["reason"] == "wished"
    assert top["occupation"]["uri"] == occupation("shop assistant")["uri"]
    assert top["parts"]["occupation"] == 1.0
    assert top["weights"]["occupation"] > 0

    r = await client.patch(
        "/v1/jobseekers/me",
        json={"interests": [occupation("barista")["uri"]]},
        headers=auth(s["token"]),
    )
    assert r.status_code == 200
    found = await _matches(client, s["token"], lat, lon)
    order = [m["vacancy"]["id"] for m in found]
    by_id = {m["vacancy"]["id"]: m for m in found}
    assert order[0] == bar
    # The same ISCO unit group (5132, bartender) ranks above an unrelated occupation.
    assert order.index(same_group) < order.index(coder)
    assert by_id[same_group]["explanation"]["occupation"]["reason"] == "same_group"
    assert (
        by_id[same_group]["explanation"]["occupation"]["interest"]["uri"]
        == (occupation("barista")["uri"])
    )
    assert by_id[coder]["explanation"]["occupation"]["reason"] is None
    assert by_id[same_group]["score"] > by_id[coder]["score"]


async def test_skills_point_to_occupations_without_interests(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client))["api_key"]
    bar = await _vacancy(client, key, lat, lon, "barista")
    coder = await _vacancy(client, key, lat, lon, "software developer")
    # A barista's skills, no wishes: the barista vacancy, listing nothing, comes first
    # through the occupation part and the ESCO profile standing in for its skills.
    s = await new_seeker(client, skills=occupation("barista")["essential"][:6])
    found = await _matches(client, s["token"], lat, lon)
    assert [m["vacancy"]["id"] for m in found][:2] == [bar, coder]
    assert found[0]["explanation"]["occupation"]["reason"] == "skills"
    assert (
        found[0]["explanation"]["parts"]["required"] > found[1]["explanation"]["parts"]["required"]
    )


async def test_hours_and_job_types_outside_wishes_rank_below_and_are_marked(
    client: httpx.AsyncClient,
) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client))["api_key"]
    barista = occupation("barista")
    full_skills = [{"uri": u} for u in barista["essential"][:3]]
    # The long and the wrong-type jobs fit the person's skills best...
    long = await _vacancy(
        client, key, lat, lon, "barista", hours_per_week=32, required_skills=full_skills,
        job_type="ordinary",
    )  # fmt: skip
    wrong_type = await _vacancy(
        client, key, lat, lon, "barista", hours_per_week=8, required_skills=full_skills,
        job_type="ordinary",
    )  # fmt: skip
    # ...the fitting one is another occupation, listing nothing.
    fitting = await _vacancy(client, key, lat, lon, "shop assistant", hours_per_week=8)
    s = await new_seeker(
        client,
        skills=barista["essential"][:3],
        preferences={
            "radius_m": 3000,
            "hours_min": 0,
            "hours_max": 10,
            "job_types": ["fritidsjob"],
        },
    )
    found = await _matches(client, s["token"], lat, lon)
    by_id = {m["vacancy"]["id"]: m for m in found}
    assert found[0]["vacancy"]["id"] == fitting
    assert by_id[fitting]["score"] < by_id[long]["score"]  # by score alone it would be last
    assert by_id[fitting]["explanation"]["fits_preferences"] is True
    assert by_id[long]["explanation"]["fits_preferences"] is False
    assert set(by_id[long]["explanation"]["preference_misses"]) == {"hours", "job_type"}
    assert by_id[wrong_type]["explanation"]["preference_misses"] == ["job_type"]


async def test_no_required_skill_covered_is_hidden_unless_asked(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client))["api_key"]
    coder = occupation("software developer")
    weak = await _vacancy(
        client, key, lat, lon, "software developer",
        required_skills=[{"uri": u} for u in coder["essential"][:3]],
    )  # fmt: skip
    bar = await _vacancy(client, key, lat, lon, "barista")
    s = await new_seeker(client, skills=occupation("barista")["essential"][:3])
    shown = [m["vacancy"]["id"] for m in await _matches(client, s["token"], lat, lon)]
    assert bar in shown and weak not in shown
    everything = await _matches(client, s["token"], lat, lon, include_weak="true")
    by_id = {m["vacancy"]["id"]: m for m in everything}
    assert by_id[weak]["explanation"]["weak"] is True
    assert by_id[weak]["explanation"]["required_skills"]["matched"] == []
    assert by_id[bar]["explanation"]["weak"] is False


async def test_work_profile_calibration_through_the_api(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client))["api_key"]
    answers = {"teamwork": 1.0, "customer_contact": 1.0, "physical_work": 0.0,
               "early_hours": 1.0, "late_hours": 0.0, "variety": 1.0}  # fmt: skip
    vacancy = await _vacancy(client, key, lat, lon, "barista", work_profile=answers)
    opposite = {k: 1.0 - v for k, v in answers.items()}
    scores = {}
    for name, wp in (("opposite", opposite), ("skipped", None), ("matching", answers)):
        extra = {"work_profile": wp} if wp is not None else {}
        s = await new_seeker(client, skills=[], **extra)
        found = await _matches(client, s["token"], lat, lon)
        scores[name] = next(m["score"] for m in found if m["vacancy"]["id"] == vacancy)
    assert scores["opposite"] < scores["skipped"] < scores["matching"]
    # Clearly: all answers opposite cost the whole profile weight's half.
    assert scores["skipped"] - scores["opposite"] >= 0.07
