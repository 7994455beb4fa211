"""Issue #14: the whole ad (pay) and "Jeg er interesseret" that reaches the employer,
whose answer comes back as a durable push. Real server, real PostGIS, real websockets."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest

from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    occupation,
)
from tests.conftest import ServerProcess, _libpq
from tests.push_client import Phone

SHARE = {"first_name": True, "age": True, "phone": "20 30 40 50"}


def sql(database_url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        return conn.execute(query, args).fetchall()


async def _setup(client: httpx.AsyncClient, **vacancy: Any) -> tuple[dict, dict, dict]:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, **vacancy)
    seeker = await new_seeker(client, display_name="Sofie Jensen")
    return emp, v, seeker


async def _interest(
    client: httpx.AsyncClient, seeker: dict, vacancy_id: str, **body: Any
) -> httpx.Response:
    body = {"share": SHARE, "message": "Jeg kan starte i morgen", **body}
    return await client.post(
        f"/v1/vacancies/{vacancy_id}/interest", json=body, headers=auth(seeker["token"])
    )


# --- pay ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "pay",
    [
        {"kind": "hourly", "dkk": 132.5},
        {"kind": "range", "min_dkk": 120, "max_dkk": 150},
        {"kind": "agreement"},
    ],
)
async def test_pay_is_kept_and_shown_everywhere(client: httpx.AsyncClient, pay: dict) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, pay=pay)
    assert v["pay"] == pay
    public = (await client.get(f"/v1/vacancies/{v['id']}")).json()
    assert public["pay"] == pay
    found = (await client.get("/v1/vacancies", params={"lat": lat, "lon": lon})).json()
    [feature] = [f for f in found["features"] if f["id"] == v["id"]]
    assert feature["properties"]["pay"] == pay
    page = (await client.get(f"/v/{v['id']}")).text
    expected = {"hourly": "132.5 kr./time", "range": "120–150 kr./time"}.get(
        pay["kind"], "Efter overenskomst"
    )
    assert expected in page
    assert f'href="/app#job-{v["id"]}"' in page  # "Åbn i appen" opens the job view
    r = await client.patch(
        f"/v1/vacancies/{v['id']}", json={"pay": None}, headers=auth(emp["api_key"])
    )
    assert r.status_code == 200 and r.json()["pay"] is None


@pytest.mark.parametrize(
    "pay",
    [
        {"kind": "range", "min_dkk": 150, "max_dkk": 120},
        {"kind": "hourly", "dkk": 0},
        {"kind": "hourly", "dkk": 25_000},
        {"kind": "hourly", "dkk": "130"},
        {"kind": "hourly"},
        {"kind": "monthly", "dkk": 20_000},
        {"kind": "agreement", "dkk": 130},
        "130 kr",
    ],
)
async def test_bad_pay_is_refused_without_a_write(
    client: httpx.AsyncClient, database_url: str, pay: Any
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    before = sql(database_url, "SELECT count(*) FROM vacancies")[0][0]
    from tests.builders import vacancy_body

    r = await client.post(
        "/v1/vacancies", json=vacancy_body(lat, lon, pay=pay), headers=auth(emp["api_key"])
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
    assert sql(database_url, "SELECT count(*) FROM vacancies")[0][0] == before


# --- interest -----------------------------------------------------------------


async def test_interest_reaches_the_owner_only_and_is_answered_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    emp, v, seeker = await _setup(client)
    skill = occupation("barista")["essential"][0]
    r = await _interest(client, seeker, v["id"], share={**SHARE, "skills": [skill]})
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["shared"]["first_name"] == "Sofie"
    assert sent["shared"]["age"] == 19 and sent["shared"]["phone"] == "+4520304050"
    assert sent["shared"]["skills"][0]["uri"] == skill and sent["shared"]["skills"][0]["label"]
    assert sent["reply"] is None

    again = await _interest(client, seeker, v["id"])
    assert again.status_code == 409

    # The "applied" signal feedback and ML learn from is still recorded.
    fb = await client.get(
        "/v1/jobseekers/me/feedback", params={"action": "applied"}, headers=auth(seeker["token"])
    )
    assert [i["vacancy_id"] for i in fb.json()["items"]] == [v["id"]]

    owner = await client.get(
        f"/v1/employers/me/vacancies/{v['id']}/interest", headers=auth(emp["api_key"])
    )
    assert owner.status_code == 200
    [item] = owner.json()["items"]
    assert item["id"] == sent["id"] and item["message"] == "Jeg kan starte i morgen"
    assert "jobseeker_id" not in item  # the employer gets what was shared, not our ids
    counts = await client.get("/v1/employers/me/interest", headers=auth(emp["api_key"]))
    assert counts.json()["vacancies"] == [{"vacancy_id": v["id"], "total": 1, "unanswered": 1}]

    other = await new_employer(client)
    r = await client.get(
        f"/v1/employers/me/vacancies/{v['id']}/interest", headers=auth(other["api_key"])
    )
    assert r.status_code == 404
    r = await client.post(
        f"/v1/interest/{sent['id']}/reply", json={"reply": "come_by"},
        headers=auth(other["api_key"]),
    )  # fmt: skip
    assert r.status_code == 404
    r = await client.get(f"/v1/employers/me/vacancies/{v['id']}/interest",
                         headers=auth(seeker["token"]))  # fmt: skip
    assert r.status_code == 403

    r = await client.post(
        f"/v1/interest/{sent['id']}/reply",
        json={"reply": "come_by", "message": "Kom forbi lørdag kl. 10"},
        headers=auth(emp["api_key"]),
    )
    assert r.status_code == 200, r.text
    assert r.json()["reply"] == "come_by"
    r = await client.post(
        f"/v1/interest/{sent['id']}/reply", json={"reply": "no_thanks"},
        headers=auth(emp["api_key"]),
    )  # fmt: skip
    assert r.status_code == 409

    mine = (await client.get("/v1/jobseekers/me/interest", headers=auth(seeker["token"]))).json()
    [got] = mine["items"]
    assert got["reply"] == "come_by" and got["reply_message"] == "Kom forbi lørdag kl. 10"
    assert got["title"] == v["title"] and got["employer_name"] == v["employer_name"]
    counts = await client.get("/v1/employers/me/interest", headers=auth(emp["api_key"]))
    assert counts.json()["vacancies"][0]["unanswered"] == 0


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"share": {"first_name": True}}, 422, "phone number or an e-mail"),
        ({"share": {**SHARE, "phone": "+46 70 123 45 67"}}, 422, "phone must be a Danish"),
        ({"share": {**SHARE, "email": "x@"}}, 422, "email is not a plausible"),
        ({"share": {**SHARE, "skills": ["http://data.europa.eu/esco/skill/nope"]}}, 422,
         "not in your profile"),
        ({"message": "x" * 501}, 422, "500"),
        ({"share": {**SHARE, "cv": "…"}}, 422, "cv"),
    ],
)  # fmt: skip
async def test_bad_interest_is_refused_with_a_reason(
    client: httpx.AsyncClient, database_url: str, body: dict, status: int, reason: str
) -> None:
    _, v, seeker = await _setup(client)
    r = await _interest(client, seeker, v["id"], **body)
    assert r.status_code == status, r.text
    assert reason in r.text
    rows = sql(database_url, "SELECT count(*) FROM applications WHERE vacancy_id = %s", v["id"])
    assert rows[0][0] == 0


async def test_interest_only_where_the_person_may_work(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    bar = await new_vacancy(client, emp["api_key"], lat, lon, min_age=18)
    young = await new_seeker(client, birth_date=birth_date_for_age(16))
    r = await _interest(client, young, bar["id"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_eligible"

    closed = await new_vacancy(client, emp["api_key"], lat, lon)
    await client.delete(f"/v1/vacancies/{closed['id']}", headers=auth(emp["api_key"]))
    adult = await new_seeker(client)
    assert (await _interest(client, adult, closed["id"])).status_code == 404
    assert (await _interest(client, adult, str(uuid.uuid4()))).status_code == 404


async def test_consultant_reads_are_audited_and_erasure_takes_the_applications(
    client: httpx.AsyncClient, database_url: str
) -> None:
    _, v, seeker = await _setup(client)
    assert (await _interest(client, seeker, v["id"])).status_code == 201
    mine = new_consultant(database_url, [seeker["id"]])
    other = new_consultant(database_url, [])
    r = await client.get(f"/v1/jobseekers/{seeker['id']}/interest", headers=auth(mine["token"]))
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    audit = sql(
        database_url,
        "SELECT action, detail FROM audit_log WHERE actor_id = %s AND subject_id = %s",
        mine["id"],
        seeker["id"],
    )
    assert audit == [("jobseeker.interest", {"count": 1})]
    r = await client.get(f"/v1/jobseekers/{seeker['id']}/interest", headers=auth(other["token"]))
    assert r.status_code == 404

    r = await client.delete("/v1/jobseekers/me", headers=auth(seeker["token"]))
    assert r.status_code == 204
    left = sql(database_url, "SELECT count(*) FROM applications WHERE jobseeker_id = %s",
               seeker["id"])  # fmt: skip
    assert left[0][0] == 0


# --- the answer as a durable push ----------------------------------------------


async def test_the_answer_arrives_live_and_replays_to_a_device_that_was_away(
    client: httpx.AsyncClient, server: ServerProcess
) -> None:
    emp, v, seeker = await _setup(client)
    sent = (await _interest(client, seeker, v["id"])).json()

    # The phone is known to the server, then goes away (the device starts at "now").
    phone = await Phone.connect(server.base_url, seeker["token"])
    await phone.close()
    tablet = await Phone.connect(server.base_url, seeker["token"])

    r = await client.post(
        f"/v1/interest/{sent['id']}/reply",
        json={"reply": "call_me", "message": "Ring efter kl. 14"},
        headers=auth(emp["api_key"]),
    )
    assert r.status_code == 200

    live = await tablet.wait_for("interest_reply")  # live, to the device that is connected
    assert live["interest_id"] == sent["id"] and live["reply"] == "call_me"
    assert live["message"] == "Ring efter kl. 14" and live["vacancy"]["id"] == v["id"]
    await tablet.close()

    back = await phone.reconnect(server.base_url)  # the phone comes back: replayed
    [frame] = [m for m in back.replayed if m["type"] == "interest_reply"]
    assert frame == live
    await back.send(type="ack", seq=frame["seq"])
    await back.drain(0.5)
    await back.close()

    again = await phone.reconnect(server.base_url)  # acked: not again
    assert [m for m in again.replayed if m["type"] == "interest_reply"] == []
    await again.close()


async def test_interest_is_rate_limited_per_person(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    seeker = await new_seeker(client, display_name="Ali")
    statuses = []
    for _ in range(11):  # JOTR_RATE_LIMIT_INTEREST: 10 a minute
        v = await new_vacancy(client, emp["api_key"], lat, lon)
        statuses.append((await _interest(client, seeker, v["id"])).status_code)
    assert statuses == [201] * 10 + [429]
    other = await new_seeker(client)  # per person, not per address
    assert (await _interest(client, other, v["id"])).status_code == 201
