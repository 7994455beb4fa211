"""The youth rules through the real API: each case posts a vacancy, signs up a
seeker of that age and school status, and asks whether the vacancy appears in
their matches. The case's id is the rule it checks (docs/matching.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    signup_consent,
)

IN, OUT = True, False
EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"
SCHOOL, LEFT = False, True  # finished_compulsory_school


def sched(*entries: str) -> dict[str, Any]:
    """sched("mon,tue 16:00-18:00", "sat 09:00-12:00")"""
    out = []
    for e in entries:
        days, span = e.split()
        start, end = span.split("-")
        out.append({"days": days.split(","), "start": start, "end": end})
    return {"schedule": out}


def shift(span: str) -> dict[str, Any]:
    start, end = span.split("-")
    return {"shift": {"start": start, "end": end}}


def case(rule: str, age: int, finished: bool, expected: bool, **vacancy: Any) -> Any:
    return pytest.param(age, finished, vacancy, expected, id=rule)


CASES = [
    # 13-14 (and anyone under 18 still in compulsory school): light work only.
    case("youth.13_14.light_work", 13, SCHOOL, OUT, light_work=False),
    case("youth.13_14.light_work", 13, SCHOOL, IN),
    case("youth.13_14.school_day", 13, SCHOOL, OUT, **sched("mon 15:00-18:00")),
    case("youth.13_14.school_day", 13, SCHOOL, IN, **sched("mon,thu 16:00-18:00")),
    case("youth.13_14.school_day", 13, SCHOOL, OUT, **shift("07:00-19:00")),  # the review's
    case("youth.13_14.free_day", 14, SCHOOL, OUT, **sched("sat 08:00-16:00")),
    case("youth.13_14.free_day", 14, SCHOOL, IN, **sched("sat 09:00-16:00")),
    case("youth.13_14.school_week", 14, SCHOOL, OUT, hours_per_week=14),
    case("youth.13_14.school_week", 14, SCHOOL, IN, hours_per_week=12),
    case("youth.13_14.window", 14, SCHOOL, IN, **sched("sat 06:00-10:00")),
    case("youth.13_14.window", 14, SCHOOL, OUT, **sched("sat 15:00-20:30")),
    case("youth.13_14.window", 14, SCHOOL, OUT, **sched("sun 05:30-07:30")),
    case("youth.13_14.rest", 14, SCHOOL, OUT, **sched("fri 18:00-20:00", "sat 06:00-08:00")),
    case("youth.13_14.rest", 14, SCHOOL, IN, **sched("fri 18:00-20:00", "sat 10:00-12:00")),
    case("youth.13_14.days_off", 14, SCHOOL, OUT, **sched(f"{EVERY_DAY} 16:00-17:00")),
    case("youth.13_14.days_off", 14, SCHOOL, IN, **sched("mon,tue,wed,thu,fri 16:00-17:00")),
    # 15-17 still in school: the school rules, whatever the age.
    case("youth.school.light_work", 16, SCHOOL, OUT, light_work=False),
    case("youth.school.light_work", 16, LEFT, IN, light_work=False),
    case("youth.school.school_day", 15, SCHOOL, OUT, workplace_kind="restaurant",
         hours_per_week=30, **shift("14:00-21:45")),  # the review's 15-year-old
    case("youth.school.school_week", 15, SCHOOL, OUT, hours_per_week=20),
    case("youth.school.school_week", 15, LEFT, IN, hours_per_week=20),
    case("youth.school.free_day", 16, SCHOOL, OUT, **sched("sat 08:00-17:00")),
    case("youth.school.free_day", 16, SCHOOL, IN, **sched("sat 09:00-17:00")),
    case("youth.school.window", 17, SCHOOL, OUT, workplace_kind="shop", **sched("sat 14:00-21:00")),
    case("youth.school.window", 17, LEFT, IN, workplace_kind="shop", **sched("sat 14:00-21:00")),
    case("youth.school.rest", 16, SCHOOL, OUT, **sched("sat 18:00-20:00", "sun 06:00-08:00")),
    case("youth.school.days_off", 15, SCHOOL, OUT, **sched(f"{EVERY_DAY} 10:00-11:00")),
    # 15-17 who finished 9th grade.
    case("youth.left.day", 17, LEFT, OUT, **sched("sat 08:00-17:00")),
    case("youth.left.day", 17, LEFT, IN, **sched("sat 09:00-17:00")),
    case("youth.left.week", 17, LEFT, OUT, hours_per_week=45, job_type="ordinary"),
    case("youth.left.window", 15, LEFT, OUT, **shift("16:00-22:00")),  # a warehouse: 'other'
    case("youth.left.window", 15, LEFT, IN, **shift("16:00-20:00")),
    case("youth.left.window_shop", 15, LEFT, IN, workplace_kind="shop", **shift("16:00-22:00")),
    case("youth.left.window_shop", 15, LEFT, OUT, workplace_kind="office", **shift("16:00-22:30")),
    case("youth.left.window_hospitality", 17, LEFT, IN, workplace_kind="restaurant",
         **shift("17:00-23:30")),
    case("youth.left.window_hospitality", 17, LEFT, OUT, workplace_kind="hotel",
         **shift("18:00-00:30")),
    case("youth.left.window_hospitality", 16, LEFT, IN, workplace_kind="cinema",
         **sched("fri,sat 18:00-00:00")),
    case("youth.left.window_early", 17, LEFT, IN, workplace_kind="bakery", **shift("04:00-10:00")),
    case("youth.left.window_early", 17, LEFT, OUT, workplace_kind="bakery", **shift("03:30-10:00")),
    case("youth.left.window_early", 16, LEFT, IN, workplace_kind="farm_stable",
         **sched("sat,sun 04:30-08:00")),
    case("youth.left.window_newspaper", 16, LEFT, IN, workplace_kind="newspaper_delivery",
         **shift("05:00-07:00")),
    case("youth.left.window_newspaper", 16, LEFT, OUT, workplace_kind="newspaper_delivery",
         **shift("04:30-07:00")),
    case("youth.left.rest", 17, LEFT, OUT, workplace_kind="restaurant",
         **sched("fri 16:00-00:00", "sat 10:00-14:00")),
    case("youth.left.rest", 17, LEFT, IN, workplace_kind="restaurant",
         **sched("fri 16:00-00:00", "sat 12:00-16:00")),
    case("youth.left.days_off", 17, LEFT, OUT, **sched(f"{EVERY_DAY} 10:00-14:00")),
    case("youth.left.days_off", 17, LEFT, IN, **sched("mon,tue,wed,thu,fri 10:00-14:00")),
    # Everyone under 18.
    case("youth.alone_evening", 17, LEFT, OUT, workplace_kind="kiosk", may_work_alone=True,
         **sched("mon 16:00-19:00")),
    case("youth.alone_evening", 17, LEFT, IN, workplace_kind="kiosk", may_work_alone=True,
         **sched("mon 14:00-17:00")),
    case("youth.alone_evening", 17, LEFT, IN, workplace_kind="kiosk", **sched("mon 16:00-21:00")),
    case("youth.alone_evening", 16, LEFT, OUT, workplace_kind="service_station",
         may_work_alone=True, **sched("sat 10:00-15:00")),
    case("youth.alone_evening", 16, LEFT, OUT, workplace_kind="grill_bar", may_work_alone=True),
    case("youth.alone_evening", 18, LEFT, IN, workplace_kind="kiosk", may_work_alone=True,
         **sched("mon 18:00-23:00")),
    case("youth.alcohol.school", 14, SCHOOL, OUT, workplace_kind="restaurant",
         alcohol_served=True, **sched("sat 10:00-14:00")),
    case("youth.alcohol.school", 14, SCHOOL, IN, workplace_kind="restaurant",
         **sched("sat 10:00-14:00")),
    case("youth.alcohol.school_15", 16, SCHOOL, OUT, workplace_kind="restaurant",
         alcohol_served=True, **sched("sat 10:00-14:00")),
    case("youth.alcohol.left", 17, LEFT, IN, workplace_kind="restaurant", alcohol_served=True,
         **shift("17:00-21:00")),
    case("youth.alcohol.left", 17, LEFT, OUT, workplace_kind="restaurant", alcohol_served=True,
         **shift("18:00-23:00")),
    case("youth.alcohol.left", 17, LEFT, OUT, workplace_kind="bar", alcohol_served=True,
         **shift("17:00-21:00")),
    case("youth.alcohol.left", 18, LEFT, IN, workplace_kind="bar", alcohol_served=True,
         **shift("20:00-02:00")),
    case("youth.hazards", 17, LEFT, OUT, hazards=["machines"]),
    case("youth.hazards", 17, LEFT, OUT, hazards=["heavy_lifting", "chemicals"]),
    case("youth.hazards", 16, LEFT, OUT, hazardous=True),  # the old flag: 'other'
    case("youth.hazards", 18, LEFT, IN, hazards=["machines"]),
]  # fmt: skip


async def _appears(
    client: httpx.AsyncClient, age: int, finished: bool, vacancy: dict[str, Any]
) -> bool:
    lat, lon = next_spot()
    emp = await new_employer(client)
    body = {"min_age": 13, "light_work": True, "hours_per_week": 6, **vacancy}
    v = await new_vacancy(client, emp["api_key"], lat, lon, **body)
    extra = {"finished_compulsory_school": finished} if age < 18 else {}
    s = await new_seeker(client, birth_date=birth_date_for_age(age), **extra)
    r = await client.get(
        "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=auth(s["token"])
    )
    assert r.status_code == 200, r.text
    return v["id"] in {m["vacancy"]["id"] for m in r.json()["matches"]}


@pytest.mark.parametrize(("age", "finished", "vacancy", "expected"), CASES)
async def test_youth_rule(
    client: httpx.AsyncClient, age: int, finished: bool, vacancy: dict[str, Any], expected: bool
) -> None:
    assert await _appears(client, age, finished, vacancy) is expected


def test_cases_name_real_rules_and_cover_them() -> None:
    from matcher.youth_rules import RULES

    ids = {p.id for p in CASES}
    assert ids <= {r.id for r in RULES}
    # Under-13s cannot sign up, and the holiday-week limits never bind more than the
    # school-week ones a vacancy is judged by (docs/matching.md); tests/test_eligibility.py
    # checks those rows against the oracle.
    untestable = {"youth.under_13", "youth.13_14.free_week", "youth.school.free_week"}
    assert {r.id for r in RULES} - ids == untestable
    assert len(CASES) >= 40


async def test_school_status_is_required_under_18_stored_and_editable(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/v1/jobseekers",
        json={"birth_date": birth_date_for_age(16), "finished_compulsory_school": None},
    )
    assert r.status_code == 422 and "finished_compulsory_school" in r.text
    r = await client.post("/v1/jobseekers", json={"birth_date": birth_date_for_age(16)})
    assert r.status_code == 422 and "9th grade" in r.text
    adult = await client.post(
        "/v1/jobseekers",
        json={"birth_date": birth_date_for_age(19), "consent": signup_consent()},
    )
    assert adult.status_code == 201
    s = await new_seeker(
        client, birth_date=birth_date_for_age(16), finished_compulsory_school=False
    )
    me = (await client.get("/v1/jobseekers/me", headers=auth(s["token"]))).json()
    assert me["finished_compulsory_school"] is False
    r = await client.patch(
        "/v1/jobseekers/me", json={"finished_compulsory_school": True}, headers=auth(s["token"])
    )
    assert r.status_code == 200 and r.json()["finished_compulsory_school"] is True
    # An adult who gives a birth date under 18 must answer too; nothing is written if not.
    token = adult.json()["token"]
    r = await client.patch(
        "/v1/jobseekers/me", json={"birth_date": birth_date_for_age(17)}, headers=auth(token)
    )
    assert r.status_code == 422 and "9th grade" in r.text
    assert (await client.get("/v1/jobseekers/me", headers=auth(token))).json()["age"] == 19


async def test_bad_schedules_and_hazards_are_refused(client: httpx.AsyncClient) -> None:
    emp = await new_employer(client)
    lat, lon = next_spot()
    bad = [
        sched("mon 16:00-18:00", "mon 19:00-20:00"),  # a day twice
        {"schedule": [{"days": ["monday"], "start": "16:00", "end": "18:00"}]},
        {"schedule": [{"days": ["mon"], "start": "16:00", "end": "16:00"}]},
        {"schedule": [{"days": ["mon"], "start": "25:00", "end": "16:00"}]},
        {"hazards": ["knives"]},
        {"hazards": ["machines", "machines"]},
        {"hazards": ["machines"], "hazardous": False},
        {"workplace_kind": "casino"},
        {"workplace_kind": None},
    ]
    for extra in bad:
        r = await client.post(
            "/v1/vacancies",
            json={"title": "x", "location": {"lat": lat, "lon": lon}, "job_type": "fritidsjob",
                  "hours_per_week": 5, **extra},
            headers=auth(emp["api_key"]),
        )  # fmt: skip
        assert r.status_code == 422, (extra, r.text)


async def test_public_view_shows_the_age_limit_the_rules_imply(client: httpx.AsyncClient) -> None:
    emp = await new_employer(client)
    lat, lon = next_spot()
    v = await new_vacancy(
        client, emp["api_key"], lat, lon, min_age=13, light_work=True,
        workplace_kind="restaurant", **shift("17:00-23:30"),
    )  # fmt: skip
    assert v["age_limit"] == 15 and v["hazardous"] is False and v["hazards"] == []
    public = (await client.get(f"/v1/vacancies/{v['id']}")).json()
    assert public["age_limit"] == 15 and "hazards" not in public
    r = await client.patch(
        f"/v1/vacancies/{v['id']}", json={"hazards": ["chemicals"]}, headers=auth(emp["api_key"])
    )
    assert r.json()["age_limit"] == 18 and r.json()["hazardous"] is True
    found = (
        await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 500})
    ).json()["features"]
    assert [f["properties"]["age_limit"] for f in found if f["id"] == v["id"]] == [18]


async def test_consultant_sees_why_not_and_the_read_is_audited(
    client: httpx.AsyncClient, database_url: str
) -> None:
    emp = await new_employer(client)
    lat, lon = next_spot()
    v = await new_vacancy(
        client, emp["api_key"], lat, lon, min_age=13, workplace_kind="kiosk",
        may_work_alone=True, hazards=["machines"], **sched("mon 16:00-19:00"),
    )  # fmt: skip
    s = await new_seeker(client, birth_date=birth_date_for_age(16), finished_compulsory_school=True)
    other = await new_seeker(client)
    con = new_consultant(database_url, caseload=[s["id"]])
    r = await client.get(f"/v1/jobseekers/{s['id']}/why-not/{v['id']}", headers=auth(con["token"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["eligible"] is False
    assert {x["id"] for x in body["excluded_by"]} == {"youth.alone_evening", "youth.hazards"}
    assert all(x["source"] for x in body["excluded_by"])
    # Not on the caseload: as if missing.
    r = await client.get(
        f"/v1/jobseekers/{other['id']}/why-not/{v['id']}", headers=auth(con["token"])
    )
    assert r.status_code == 404
    # A seeker cannot ask about themselves through the consultant's route.
    r = await client.get(f"/v1/jobseekers/{s['id']}/why-not/{v['id']}", headers=auth(s["token"]))
    assert r.status_code in (401, 403)
    import psycopg

    from tests.conftest import _libpq

    with psycopg.connect(_libpq(database_url)) as conn:
        n = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'jobseeker.why_not' AND subject_id = %s",
            (s["id"],),
        ).fetchone()
    assert n is not None and n[0] == 1


async def test_subsidised_types_reach_only_people_marked_eligible(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    jobs = {
        jt: (await new_vacancy(client, emp["api_key"], lat, lon, job_type=jt, min_age=18))["id"]
        for jt in ("igu", "fleksjob", "loentilskud", "virksomhedspraktik", "ordinary")
    }
    marked = await new_seeker(client)
    unmarked = await new_seeker(client)
    young = await new_seeker(client, birth_date=birth_date_for_age(16))
    con = new_consultant(database_url, caseload=[marked["id"], young["id"]])

    async def seen(s: dict[str, Any]) -> set[str]:
        r = await client.get(
            "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=auth(s["token"])
        )
        assert r.status_code == 200, r.text
        found = {m["vacancy"]["id"] for m in r.json()["matches"]}
        return {jt for jt, vid in jobs.items() if vid in found}

    assert await seen(marked) == {"ordinary"}
    url = f"/v1/consultants/me/caseload/{marked['id']}/eligibility"
    r = await client.put(
        url, json={"job_types": ["igu", "loentilskud"]}, headers=auth(con["token"])
    )
    assert r.status_code == 200, r.text
    assert r.json()["job_types"] == ["igu", "loentilskud"]
    assert await seen(marked) == {"ordinary", "igu", "loentilskud"}
    assert await seen(unmarked) == {"ordinary"}  # others never see them
    caseload = (await client.get("/v1/consultants/me/caseload", headers=auth(con["token"]))).json()
    assert {p["id"]: p["subsidy_eligibility"] for p in caseload["jobseekers"]}[marked["id"]] == [
        "igu",
        "loentilskud",
    ]
    # A 16-year-old marked for IGU still does not see these adult jobs (min_age 18).
    young_url = f"/v1/consultants/me/caseload/{young['id']}/eligibility"
    await client.put(young_url, json={"job_types": ["igu"]}, headers=auth(con["token"]))
    assert await seen(young) == set()
    # Bad input, someone else's person, a seeker's token: refused, nothing written.
    bad = await client.put(url, json={"job_types": ["ordinary"]}, headers=auth(con["token"]))
    assert bad.status_code == 422
    other = f"/v1/consultants/me/caseload/{unmarked['id']}/eligibility"
    assert (
        await client.put(other, json={"job_types": ["igu"]}, headers=auth(con["token"]))
    ).status_code == 404
    r = await client.put(url, json={"job_types": []}, headers=auth(marked["token"]))
    assert r.status_code in (401, 403)
    r = await client.put(url, json={"job_types": []}, headers=auth(con["token"]))
    assert r.json()["job_types"] == [] and await seen(marked) == {"ordinary"}
    import psycopg

    from tests.conftest import _libpq

    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT detail FROM audit_log WHERE action = 'jobseeker.subsidy_eligibility'"
            " AND subject_id = %s ORDER BY id",
            (marked["id"],),
        ).fetchall()
    assert [r[0]["after"] for r in rows] == [["igu", "loentilskud"], []]


def test_api_lists_agree_with_the_rules() -> None:
    from typing import get_args

    from api.routers.consultants import SubsidisedType
    from api.schemas.vacancies import Hazard, WorkplaceKind
    from matcher.matching.eligibility import SUBSIDISED_TYPES
    from matcher.youth_rules import HAZARDS, WORKPLACE_KINDS

    assert get_args(WorkplaceKind) == WORKPLACE_KINDS
    assert get_args(Hazard) == HAZARDS
    assert get_args(SubsidisedType) == SUBSIDISED_TYPES
