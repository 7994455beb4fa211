"""Offers beyond jobs (issue #15, part 3): leisure and volunteering offers through
the real API, the real matcher on PostGIS and a real websocket.

Done when: a leisure offer and a volunteering offer are matched and pushed to a
seeker who opted in to them, and not to others.
"""

from __future__ import annotations

from typing import Any

import httpx

from api.schemas.geojson import VacancyFeatureCollection
from tests.builders import (
    auth,
    birth_date_for_age,
    new_employer,
    new_seeker,
    next_spot,
    occupation,
    vacancy_body,
)
from tests.conftest import ServerProcess
from tests.push_client import Phone, push_spot
from tests.test_api_vacancies import offset

EVERY_KIND = ["job", "leisure", "volunteering"]


def offer_body(lat: float, lon: float, kind: str, **overrides: Any) -> dict[str, Any]:
    """A barista-skilled offer of any kind; non-jobs without job type or hours."""
    body = vacancy_body(lat, lon, walk_in=False, kind=kind, **overrides)
    if kind != "job":
        for key in ("job_type", "hours_per_week"):
            if key not in overrides:
                body.pop(key)
    return body


async def post(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/vacancies", json=body, headers=auth(key))


async def new_offer(
    client: httpx.AsyncClient, key: str, lat: float, lon: float, kind: str, **kw: Any
) -> dict[str, Any]:
    r = await post(client, key, offer_body(lat, lon, kind, **kw))
    assert r.status_code == 201, r.text
    return r.json()


async def seeker(client: httpx.AsyncClient, age: int = 19, kinds: list[str] | None = None,
                 radius: float = 1500, **kw: Any) -> dict[str, Any]:  # fmt: skip
    prefs: dict[str, Any] = {"radius_m": radius}
    if kinds is not None:
        prefs["offer_kinds"] = kinds
    return await new_seeker(
        client,
        birth_date=birth_date_for_age(age),
        skills=occupation("barista")["essential"][:3],
        preferences=prefs,
        **kw,
    )


async def match_titles(client: httpx.AsyncClient, token: str, lat: float, lon: float) -> set[str]:
    r = await client.get(
        "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    return {m["vacancy"]["title"] for m in r.json()["matches"]}


def error_message(r: httpx.Response) -> str:
    return str(r.json()["error"]["message"])


# --- validation ----------------------------------------------------------------------


async def test_each_kind_asks_for_its_own_fields(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client, org_kind="association"))["api_key"]

    # A job still needs its hours and its job type, with a message that says so.
    no_hours = vacancy_body(lat, lon)
    no_hours.pop("hours_per_week")
    r = await post(client, key, no_hours)
    assert r.status_code == 422 and "hours_per_week is required for a job" in error_message(r)
    no_type = vacancy_body(lat, lon)
    no_type.pop("job_type")
    r = await post(client, key, no_type)
    assert r.status_code == 422 and "job_type is required" in error_message(r)

    # A job without `kind` is a job, as before.
    r = await post(client, key, vacancy_body(lat, lon))
    assert r.status_code == 201 and r.json()["kind"] == "job"
    assert r.json()["volunteering_is_work"] is False

    # Leisure: no hours, no job type; an age range and a cost.
    leisure = await new_offer(client, key, lat, lon, "leisure", title="Ungdomsklub",
                              min_age=13, max_age=17, cost_dkk=0, cost_note="gratis")  # fmt: skip
    assert leisure["kind"] == "leisure" and leisure["job_type"] is None
    assert leisure["hours_per_week"] is None
    assert (leisure["min_age"], leisure["max_age"], leisure["cost_dkk"]) == (13, 17, 0)

    # A job type on a leisure offer is refused, not silently dropped.
    r = await post(client, key, offer_body(lat, lon, "leisure", job_type="fritidsjob"))
    assert r.status_code == 422 and "job_type is only for jobs" in error_message(r)
    r = await post(client, key, offer_body(lat, lon, "job", cost_dkk=100))
    assert r.status_code == 422 and "cost_dkk is for leisure" in error_message(r)
    r = await post(client, key, offer_body(lat, lon, "volunteering", cost_dkk=100))
    assert r.status_code == 422
    r = await post(client, key, offer_body(lat, lon, "leisure", volunteering_is_work=True))
    assert r.status_code == 422 and "only for volunteering" in error_message(r)
    r = await post(client, key, offer_body(lat, lon, "leisure", min_age=16, max_age=15))
    assert r.status_code == 422 and "max_age" in error_message(r)
    r = await post(client, key, offer_body(lat, lon, "hobby"))
    assert r.status_code == 422

    # Volunteering is work (the youth rules apply) unless the poster says otherwise.
    vol = await new_offer(client, key, lat, lon, "volunteering", hours_per_week=3)
    assert vol["volunteering_is_work"] is True and vol["hours_per_week"] == 3
    free = await new_offer(client, key, lat, lon, "volunteering", volunteering_is_work=False)
    assert free["volunteering_is_work"] is False

    # PATCH judges the row as it will be: leisure -> job needs hours and a type ...
    url = f"/v1/vacancies/{leisure['id']}"
    r = await client.patch(url, json={"kind": "job"}, headers=auth(key))
    assert r.status_code == 422 and "job_type is required" in error_message(r)
    r = await client.patch(url, json={"kind": "job", "job_type": "fritidsjob"}, headers=auth(key))
    assert r.status_code == 422 and "hours_per_week is required" in error_message(r)
    got = (await client.get(url, headers=auth(key))).json()
    assert got["kind"] == "leisure" and got["cost_dkk"] == 0  # nothing written
    # ... a job -> leisure loses its job type; nulling a job's hours is refused.
    job = (await post(client, key, vacancy_body(lat, lon))).json()
    r = await client.patch(f"/v1/vacancies/{job['id']}", json={"hours_per_week": None},
                           headers=auth(key))  # fmt: skip
    assert r.status_code == 422
    r = await client.patch(f"/v1/vacancies/{job['id']}", json={"kind": "leisure"},
                           headers=auth(key))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "leisure" and r.json()["job_type"] is None
    assert r.json()["hours_per_week"] == 10  # kept: a leisure offer may state hours

    # The public view shows the kind too.
    public = (await client.get(f"/v1/vacancies/{leisure['id']}")).json()
    assert public["kind"] == "leisure" and public["max_age"] == 17


async def test_org_kind_is_kept_and_bounded(client: httpx.AsyncClient) -> None:
    emp = await new_employer(client, org_kind="volunteer_centre")
    assert emp["org_kind"] == "volunteer_centre"
    assert (await new_employer(client))["org_kind"] == "business"
    r = await client.post("/v1/employers", json={"name": "X", "org_kind": "church"})
    assert r.status_code == 422


# --- opt-in and matching ---------------------------------------------------------------


async def test_only_seekers_who_opted_in_are_matched_with_other_kinds(
    client: httpx.AsyncClient,
) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client, org_kind="club"))["api_key"]
    here = offset(lat, lon, 200, 0)
    await new_offer(client, key, *here, "job", title="job")
    await new_offer(client, key, *here, "leisure", title="leisure", cost_dkk=250)
    await new_offer(client, key, *here, "volunteering", title="volunteering")

    plain = await seeker(client)
    me = (await client.get("/v1/jobseekers/me", headers=auth(plain["token"]))).json()
    assert me["preferences"]["offer_kinds"] == ["job"]  # jobs stay the default
    assert await match_titles(client, plain["token"], lat, lon) == {"job"}

    # Opting in through PATCH me, and seeing it in GET me.
    r = await client.patch("/v1/jobseekers/me", json={"preferences": {"offer_kinds": EVERY_KIND}},
                           headers=auth(plain["token"]))  # fmt: skip
    assert r.status_code == 200 and r.json()["preferences"]["offer_kinds"] == EVERY_KIND
    assert await match_titles(client, plain["token"], lat, lon) == set(EVERY_KIND)

    only_leisure = await seeker(client, kinds=["leisure"])
    assert await match_titles(client, only_leisure["token"], lat, lon) == {"leisure"}

    # The match list and its explanation say what kind each is, with no hours for non-jobs.
    r = await client.get("/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon},
                         headers=auth(plain["token"]))  # fmt: skip
    by_kind = {m["vacancy"]["kind"]: m for m in r.json()["matches"]}
    assert by_kind["leisure"]["vacancy"]["job_type"] is None
    assert by_kind["leisure"]["explanation"]["practical"]["hours_per_week"] is None
    # No hours and no job type cost nothing in practical fit: the same offer as a
    # job with hours outside the seeker's wish scores lower there.
    assert by_kind["leisure"]["explanation"]["parts"]["practical"] == 1.0

    # Bad opt-ins are refused.
    for bad in ([], ["hobby"], ["job", "job"], None):
        r = await client.patch("/v1/jobseekers/me", json={"preferences": {"offer_kinds": bad}},
                               headers=auth(plain["token"]))  # fmt: skip
        assert r.status_code == 422, (bad, r.text)


async def test_youth_rules_bind_volunteering_that_is_work_but_not_leisure(
    client: httpx.AsyncClient,
) -> None:
    """A 14-year-old still in school may not work 19-22 (nor do other than light
    work), as a job or as volunteering that is work; a leisure activity or a club's
    volunteering that is not work at the same hours is open to them."""
    lat, lon = next_spot()
    key = (await new_employer(client, org_kind="association"))["api_key"]
    here = offset(lat, lon, 150, 0)
    evening = {"min_age": 13, "schedule": [{"days": ["tue", "thu"], "start": "19:00",
                                            "end": "22:00"}]}  # fmt: skip
    await new_offer(client, key, *here, "job", title="job", hours_per_week=6, **evening)
    await new_offer(client, key, *here, "volunteering", title="vol-work", **evening)
    await new_offer(client, key, *here, "volunteering", title="vol-club",
                    volunteering_is_work=False, **evening)  # fmt: skip
    leisure = await new_offer(client, key, *here, "leisure", title="leisure", max_age=17,
                              **evening)  # fmt: skip
    young = await seeker(client, age=14, kinds=EVERY_KIND, finished_compulsory_school=False)
    assert await match_titles(client, young["token"], lat, lon) == {"vol-club", "leisure"}
    # A 19-year-old may take the work, but is past the leisure offer's upper age.
    adult = await seeker(client, age=19, kinds=EVERY_KIND)
    assert await match_titles(client, adult["token"], lat, lon) == {"job", "vol-work", "vol-club"}
    # The age limit shown is the offer's own, not the youth rules' 18.
    public = (await client.get(f"/v1/vacancies/{leisure['id']}")).json()
    assert public["age_limit"] == 13


# --- public search ----------------------------------------------------------------------


async def test_public_search_shows_jobs_unless_asked_for_other_kinds(
    client: httpx.AsyncClient,
) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client, org_kind="club"))["api_key"]
    here = offset(lat, lon, 100, 0)
    await new_offer(client, key, *here, "job", title="job")
    await new_offer(client, key, *here, "leisure", title="leisure", cost_dkk=300,
                    cost_note="per sæson", min_age=13, max_age=17)  # fmt: skip
    await new_offer(client, key, *here, "volunteering", title="volunteering")

    async def search(**params: Any) -> list[dict[str, Any]]:
        r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 500,
                                                       **params})  # fmt: skip
        assert r.status_code == 200, r.text
        VacancyFeatureCollection.model_validate(r.json())
        return [f["properties"] for f in r.json()["features"]]

    assert [p["title"] for p in await search()] == ["job"]
    got = await search(kind="leisure")
    assert [p["title"] for p in got] == ["leisure"]
    assert got[0]["kind"] == "leisure" and got[0]["job_type"] is None
    assert (got[0]["cost_dkk"], got[0]["cost_note"], got[0]["max_age"]) == (300, "per sæson", 17)
    assert got[0]["org_kind"] == "club" and got[0]["hours_per_week"] is None
    both = await search(kind=["leisure", "volunteering"])
    assert sorted(p["title"] for p in both) == ["leisure", "volunteering"]
    assert sorted(p["kind"] for p in await search(kind=EVERY_KIND)) == sorted(EVERY_KIND)
    r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "kind": "hobby"})
    assert r.status_code == 422


# --- push over a real websocket -----------------------------------------------------------


def matches(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == "match"]


async def test_leisure_and_volunteering_are_pushed_to_the_opted_in_only(
    server: ServerProcess, client: httpx.AsyncClient
) -> None:
    lat, lon = push_spot()
    key = (await new_employer(client, org_kind="volunteer_centre"))["api_key"]
    near = offset(lat, lon, 200, 45)
    # Already there when the phones arrive (the movement path) ...
    before = {
        "job": await new_offer(client, key, *near, "job", title="job"),
        "leisure": await new_offer(client, key, *near, "leisure", title="leisure"),
        "volunteering": await new_offer(client, key, *near, "volunteering", title="volunteering"),
    }
    keen = await seeker(client, kinds=EVERY_KIND, radius=800)
    plain = await seeker(client, radius=800)
    keen_phone = await Phone.connect(server.base_url, keen["token"])
    plain_phone = await Phone.connect(server.base_url, plain["token"])
    try:
        await keen_phone.move(lat, lon)
        await plain_phone.move(lat, lon)
        got_keen = matches(await keen_phone.drain(quiet=1.0))
        got_plain = matches(await plain_phone.drain(quiet=0.3))
        assert {m["vacancy"]["id"]: m["vacancy"]["kind"] for m in got_keen} == {
            v["id"]: k for k, v in before.items()
        }
        assert [m["vacancy"]["id"] for m in got_plain] == [before["job"]["id"]]

        # ... and posted while they stand there (the new-vacancy path).
        later = offset(lat, lon, 300, 200)
        leisure = await new_offer(client, key, *later, "leisure", title="leisure 2", cost_dkk=0)
        vol = await new_offer(client, key, *later, "volunteering", title="volunteering 2")
        got_keen = matches(await keen_phone.drain(quiet=1.5))
        got_plain = matches(await plain_phone.drain(quiet=0.3))
        frames = {m["vacancy"]["id"]: m["vacancy"] for m in got_keen}
        assert set(frames) == {leisure["id"], vol["id"]}
        assert frames[leisure["id"]]["kind"] == "leisure" and frames[leisure["id"]]["cost_dkk"] == 0
        assert frames[vol["id"]]["kind"] == "volunteering"
        assert frames[vol["id"]]["job_type"] is None
        assert got_plain == []
    finally:
        await keen_phone.close()
        await plain_phone.close()


# --- share page ------------------------------------------------------------------------


async def test_share_page_says_what_kind_of_offer_it_is(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    key = (await new_employer(client, org_kind="club"))["api_key"]
    terms = {"cost_dkk": 300, "cost_note": "per sæson", "min_age": 13, "max_age": 17}
    leisure = await new_offer(client, key, lat, lon, "leisure", title="Klatring", **terms)
    vol = await new_offer(client, key, lat, lon, "volunteering", title="Lektiecafé")
    job = await new_offer(client, key, lat, lon, "job", title="Opvasker")

    page = (await client.get(f"/v/{leisure['id']}")).text
    assert "Fritidsaktivitet" in page and "300 kr. per sæson" in page and "13-17 år" in page
    assert "Fritidsjob" not in page and "timer/uge" not in page
    page_en = (await client.get(f"/v/{vol['id']}", params={"lang": "en"})).text
    assert "Volunteering" in page_en and "Spare-time job" not in page_en
    # The preview text (Open Graph) starts with the kind too.
    assert 'og:description" content="Volunteering' in page_en
    page = (await client.get(f"/v/{job['id']}")).text
    assert "Fritidsjob" in page and "10 timer/uge" in page and "Fritidsaktivitet" not in page
