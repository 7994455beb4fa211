"""Employer trust (issue #13): CVR numbers, verification, walk-ins, reports.

Real server process, real PostGIS, real websockets; the CVR register is a local
HTTP server speaking cvrapi.dk's JSON.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from matcher.posting.employer_trust import cvr_valid
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
from tests.push_client import Phone, push_spot

# --- CVR numbers ---------------------------------------------------------------------

VALID = ["10000009", "12345674", "29403473", "10150817", "25313763", "35954716"]
INVALID = [
    "00000000",  # the example: all zeros sums to 0 but starts with 0
    "12345678",  # weighted sum 138, not divisible by 11
    "01000004",  # passes the sum but starts with 0
    "38129456",  # weighted sum 142
    "1234567",  # 7 digits
    "123456789",  # 9 digits
    "1234567a",
    "١٢٣٤٥٦٧٤",  # Arabic-Indic digits are digits to str.isdigit, not to the register
    "",
]


@pytest.mark.parametrize("cvr", VALID)
def test_valid_cvr_numbers(cvr: str) -> None:
    assert cvr_valid(cvr)


@pytest.mark.parametrize("cvr", INVALID)
def test_invalid_cvr_numbers(cvr: str) -> None:
    assert not cvr_valid(cvr)


def test_the_check_is_the_weighted_sum_modulo_11() -> None:
    # Every last digit of one prefix: exactly one makes the sum divisible by 11
    # (or none, when it would have to be 10).
    prefix = "3812945"
    weights = (2, 7, 6, 5, 4, 3, 2)
    rest = sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 11
    expected = {str((11 - rest) % 11)} if (11 - rest) % 11 < 10 else set()
    assert {d for d in "0123456789" if cvr_valid(prefix + d)} == expected


async def test_sign_up_refuses_a_bad_cvr_with_its_own_code(client: httpx.AsyncClient) -> None:
    for cvr in ("00000000", "12345678"):
        r = await client.post("/v1/employers", json={"name": "Nul ApS", "cvr": cvr})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_cvr"
    r = await client.post("/v1/employers", json={"name": "Kort ApS", "cvr": "1234"})
    assert r.status_code == 422  # not 8 digits: the schema's own validation error
    emp = await new_employer(client, verified=False, cvr="12345674")
    me = await client.get("/v1/employers/me", headers=auth(emp["api_key"]))
    assert me.status_code == 200, me.text
    assert me.json()["cvr"] == "12345674"
    assert me.json()["verification"] == {"status": "unverified", "by": None, "at": None}


# --- helpers -------------------------------------------------------------------------


def barista() -> list[str]:
    return list(occupation("barista")["essential"][:3])


async def matched(client: httpx.AsyncClient, token: str, lat: float, lon: float) -> set[str]:
    r = await client.get(
        "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    return {m["vacancy"]["id"] for m in r.json()["matches"]}


async def verify(client: httpx.AsyncClient, token: str, employer_id: str, **body: Any) -> Any:
    return await client.post(
        f"/v1/consultants/me/employers/{employer_id}/verify",
        json=body or None,
        headers=auth(token),
    )


def audit_rows(database_url: str, subject_id: str) -> list[tuple[str, str, str, Any]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT actor_type, actor_id::text, action, detail FROM audit_log"
            " WHERE subject_id = %s ORDER BY id",
            (subject_id,),
        ).fetchall()
    return [tuple(r) for r in rows]  # type: ignore[misc]


# --- verification: who sees what -------------------------------------------------------


async def test_unverified_employers_vacancy_reaches_adults_only_until_verified(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client, verified=False)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    young = await new_seeker(client, birth_date=birth_date_for_age(16), skills=barista())
    adult = await new_seeker(client, birth_date=birth_date_for_age(18), skills=barista())
    assert v["id"] not in await matched(client, young["token"], lat, lon)
    assert v["id"] in await matched(client, adult["token"], lat, lon)
    # The public age limit says so too, and a consultant is told why.
    public = (await client.get(f"/v1/vacancies/{v['id']}")).json()
    assert public["age_limit"] == 18
    con = new_consultant(database_url, caseload=[young["id"]])
    why = await client.get(
        f"/v1/jobseekers/{young['id']}/why-not/{v['id']}", headers=auth(con["token"])
    )
    assert why.status_code == 200, why.text
    assert [x["id"] for x in why.json()["excluded_by"]] == ["employer.unverified"]
    # The employer's own reach counts no minors either (the adult is 1 < the floor).

    # A seeker cannot verify; any consultant can (one municipality).
    r = await verify(client, young["token"], emp["id"])
    assert r.status_code == 403
    other = new_consultant(database_url)  # not the young person's consultant
    r = await verify(client, other["token"], emp["id"])
    assert r.status_code == 200, r.text
    assert r.json()["verification"]["status"] == "verified"
    assert r.json()["verification"]["by"] == "consultant"
    assert r.json()["open_vacancies"] == 1
    assert v["id"] in await matched(client, young["token"], lat, lon)
    assert (await client.get(f"/v1/vacancies/{v['id']}")).json()["age_limit"] == 15
    me = (await client.get("/v1/employers/me", headers=auth(emp["api_key"]))).json()
    assert me["verification"]["status"] == "verified" and me["verification"]["at"]
    rows = audit_rows(database_url, emp["id"])
    assert rows[-1][:3] == ("consultant", other["id"], "employer.verification")
    assert rows[-1][3] == {"before": "unverified", "after": "verified"}

    # Rejected: minors lose it again.
    r = await verify(client, other["token"], emp["id"], status="rejected")
    assert r.status_code == 200 and r.json()["verification"]["status"] == "rejected"
    assert v["id"] not in await matched(client, young["token"], lat, lon)
    r = await verify(client, other["token"], "00000000-0000-0000-0000-000000000001")
    assert r.status_code == 404


async def test_consultants_list_employers_waiting(
    client: httpx.AsyncClient, database_url: str
) -> None:
    waiting = await new_employer(client, verified=False)
    done = await new_employer(client)
    con = new_consultant(database_url)
    r = await client.get(
        "/v1/consultants/me/employers",
        params={"verification": "unverified"},
        headers=auth(con["token"]),
    )
    assert r.status_code == 200, r.text
    ids = {e["id"] for e in r.json()["employers"]}
    assert waiting["id"] in ids and done["id"] not in ids
    r = await client.get("/v1/consultants/me/employers", headers=auth(waiting["api_key"]))
    assert r.status_code == 403


async def test_walk_ins_need_a_verified_employer(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client, verified=False)
    from tests.builders import vacancy_body

    for extra in ({"walk_in": True}, {"walk_in": False, "apply": {"walk_in": True}}):
        r = await client.post(
            "/v1/vacancies", json=vacancy_body(lat, lon, **extra), headers=auth(emp["api_key"])
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "walk_in_needs_verified_employer"
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    r = await client.patch(
        f"/v1/vacancies/{v['id']}", json={"walk_in": True}, headers=auth(emp["api_key"])
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "walk_in_needs_verified_employer"
    # Nothing was written.
    r = await client.get(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    assert r.json()["walk_in"] is False
    ok = await new_employer(client)
    assert (await new_vacancy(client, ok["api_key"], lat, lon, walk_in=True))["walk_in"] is True


async def test_walk_in_flag_written_around_the_api_never_shows_unverified(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client, verified=False)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    with psycopg.connect(_libpq(database_url)) as conn:  # an import, an old row
        conn.execute("UPDATE vacancies SET walk_in = true WHERE id = %s", (v["id"],))
    r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 500})
    props = {f["id"]: f["properties"] for f in r.json()["features"]}
    assert props[v["id"]]["walk_in"] is False
    assert (await client.get(f"/v1/vacancies/{v['id']}")).json()["walk_in"] is False


def test_operator_verifies_from_the_cli(server: ServerProcess, database_url: str) -> None:
    from api.cli import app

    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        emp = c.post("/v1/employers", json={"name": "Cli Bageri"}).json()
        done = CliRunner().invoke(
            app, ["employer", "verify", emp["id"]], env={"DATABASE_URL": database_url}
        )
        assert done.exit_code == 0, done.output
        assert "verified" in done.output
        me = c.get("/v1/employers/me", headers=auth(emp["api_key"])).json()
        assert me["verification"]["status"] == "verified"
        assert me["verification"]["by"] == "operator"
    rows = audit_rows(database_url, emp["id"])
    assert rows[-1][:3] == (
        "operator",
        "00000000-0000-0000-0000-000000000000",
        "employer.verification",
    )


# --- push over the real websocket -----------------------------------------------------


async def test_unverified_vacancy_is_never_pushed_to_a_16_year_old(
    server: ServerProcess, client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = push_spot()
    young = await new_seeker(
        client, birth_date=birth_date_for_age(16), skills=barista(),
        preferences={"radius_m": 600},
    )  # fmt: skip
    adult = await new_seeker(
        client, birth_date=birth_date_for_age(18), skills=barista(),
        preferences={"radius_m": 600},
    )  # fmt: skip
    young_phone = await Phone.connect(server.base_url, young["token"])
    adult_phone = await Phone.connect(server.base_url, adult["token"])
    try:
        for phone in (young_phone, adult_phone):
            await phone.move(lat, lon)
            await phone.drain(quiet=0.5)
        # Posted while both stand there: the new-vacancy push path.
        emp = await new_employer(client, verified=False)
        v = await new_vacancy(client, emp["api_key"], lat + 0.001, lon, walk_in=False)
        got = await adult_phone.wait_for("match", within=10)
        assert got["vacancy"]["id"] == v["id"]
        # One worker handles both phones, and the adult's push came from the same
        # event: whatever the young phone was going to get has been sent.
        assert not [m for m in await young_phone.drain(quiet=1.0) if m["type"] == "match"]
        # Moving re-reads the candidates near by (the list path of push).
        await young_phone.move(lat + 0.003, lon)
        assert not [m for m in await young_phone.drain(quiet=1.0) if m["type"] == "match"]
        # Verified: the change reaches the young phone without it moving.
        con = new_consultant(database_url)
        r = await verify(client, con["token"], emp["id"])
        assert r.status_code == 200, r.text
        got = await young_phone.wait_for("match", within=10)
        assert got["vacancy"]["id"] == v["id"]
    finally:
        await young_phone.close()
        await adult_phone.close()


# --- reports and moderation -------------------------------------------------------------


async def report(client: httpx.AsyncClient, token: str, vacancy_id: str, **body: Any) -> Any:
    return await client.post(
        f"/v1/vacancies/{vacancy_id}/reports",
        json={"reason": "unsafe", **body},
        headers=auth(token),
    )


async def moderation(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    r = await client.get("/v1/consultants/me/moderation", headers=auth(token))
    assert r.status_code == 200, r.text
    return {item["vacancy_id"]: item for item in r.json()["vacancies"]}


async def test_reports_hide_at_three_people_until_a_consultant_keeps_it(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    people = [
        await new_seeker(client, birth_date=birth_date_for_age(19), skills=barista())
        for _ in range(4)
    ]
    watcher = people[3]
    con = new_consultant(database_url)

    r = await report(client, people[0]["token"], v["id"], reason="fake", text="Ingen butik her")
    assert r.status_code == 201, r.text
    assert r.json()["reason"] == "fake"
    # The same person again: the same report, not a second one.
    again = await report(client, people[0]["token"], v["id"], reason="offensive")
    assert again.status_code == 200 and again.json() == r.json()
    r = await report(client, people[1]["token"], v["id"])
    assert r.status_code == 201
    # Two people: still shown.
    assert v["id"] in await matched(client, watcher["token"], lat, lon)
    listed = await moderation(client, con["token"])
    assert listed[v["id"]]["reporters"] == 2 and listed[v["id"]]["hidden"] is False
    assert listed[v["id"]]["reasons"] == {"fake": 1, "unsafe": 1}
    assert listed[v["id"]]["texts"] == ["Ingen butik her"]
    assert people[0]["id"] not in json.dumps(listed)  # never who reported

    r = await report(client, people[2]["token"], v["id"], reason="wrong_info")
    assert r.status_code == 201
    # Three different people: hidden from matches, search and the public page's list.
    assert v["id"] not in await matched(client, watcher["token"], lat, lon)
    found = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 500})
    assert v["id"] not in {f["id"] for f in found.json()["features"]}
    listed = await moderation(client, con["token"])
    assert listed[v["id"]]["hidden"] is True and listed[v["id"]]["reporters"] == 3
    # The employer sees nothing of the reports.
    owner = await client.get(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    assert "report" not in owner.text and "Ingen butik" not in owner.text

    # Seekers and employers cannot moderate.
    for token in (watcher["token"], emp["api_key"]):
        r = await client.post(
            f"/v1/consultants/me/moderation/{v['id']}", json={"decision": "keep"},
            headers=auth(token),
        )  # fmt: skip
        assert r.status_code == 403
        r = await client.get("/v1/consultants/me/moderation", headers=auth(token))
        assert r.status_code == 403
    r = await client.post(
        f"/v1/consultants/me/moderation/{v['id']}", json={"decision": "keep"},
        headers=auth(con["token"]),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json() == {
        "vacancy_id": v["id"],
        "decision": "keep",
        "status": "open",
        "hidden": False,
    }
    assert v["id"] in await matched(client, watcher["token"], lat, lon)
    assert v["id"] not in await moderation(client, con["token"])  # cleared
    rows = audit_rows(database_url, v["id"])
    assert rows[-1][:3] == ("consultant", con["id"], "vacancy.moderation.keep")
    assert rows[-1][3]["reporters"] == 3 and rows[-1][3]["was_hidden"] is True
    # Decided already: nothing to moderate.
    r = await client.post(
        f"/v1/consultants/me/moderation/{v['id']}", json={"decision": "keep"},
        headers=auth(con["token"]),
    )  # fmt: skip
    assert r.status_code == 404


async def test_moderation_close_closes_the_vacancy_and_withdraws_it(
    server: ServerProcess, client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = push_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    watcher = await new_seeker(
        client, birth_date=birth_date_for_age(19), skills=barista(),
        preferences={"radius_m": 600},
    )  # fmt: skip
    phone = await Phone.connect(server.base_url, watcher["token"])
    try:
        await phone.move(lat, lon)
        got = await phone.wait_for("match", within=10)
        assert got["vacancy"]["id"] == v["id"]
        reporters = [await new_seeker(client, birth_date=birth_date_for_age(20)) for _ in range(3)]
        for who in reporters:
            assert (await report(client, who["token"], v["id"])).status_code == 201
        # Hidden: the phone it was pushed to is told it is gone.
        gone = await phone.wait_for("withdrawn", within=10)
        assert gone["vacancy_id"] == v["id"]
    finally:
        await phone.close()
    con = new_consultant(database_url)
    r = await client.post(
        f"/v1/consultants/me/moderation/{v['id']}", json={"decision": "close"},
        headers=auth(con["token"]),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    owner = await client.get(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    assert owner.json()["status"] == "closed"
    with psycopg.connect(_libpq(database_url)) as conn:
        left = conn.execute(
            "SELECT count(*) FROM vacancy_reports WHERE vacancy_id = %s", (v["id"],)
        ).fetchone()
    assert left == (0,)
    # Reporting a closed vacancy: as if missing.
    r = await report(client, reporters[0]["token"], v["id"])
    assert r.status_code == 404


async def test_report_input_and_access(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    s = await new_seeker(client)
    r = await report(client, s["token"], v["id"], reason="boring")
    assert r.status_code == 422
    r = await report(client, s["token"], v["id"], text="x" * 501)
    assert r.status_code == 422
    r = await report(client, emp["api_key"], v["id"])
    assert r.status_code == 403
    r = await client.post(f"/v1/vacancies/{v['id']}/reports", json={"reason": "fake"})
    assert r.status_code == 401
    r = await report(client, s["token"], "00000000-0000-0000-0000-000000000002")
    assert r.status_code == 404


async def test_reporters_erasure_takes_their_reports_and_the_hidden_job_stays_listed(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    people = [await new_seeker(client) for _ in range(3)]
    for s in people:
        assert (await report(client, s["token"], v["id"])).status_code == 201
    for s in people:
        r = await client.delete("/v1/jobseekers/me", headers=auth(s["token"]))
        assert r.status_code in (200, 204), r.text
    with psycopg.connect(_libpq(database_url)) as conn:
        left = conn.execute(
            "SELECT count(*) FROM vacancy_reports WHERE vacancy_id = %s", (v["id"],)
        ).fetchone()
    assert left == (0,)
    # Still hidden, and still in the list, so a consultant can decide.
    con = new_consultant(database_url)
    listed = await moderation(client, con["token"])
    assert listed[v["id"]]["hidden"] is True and listed[v["id"]]["reporters"] == 0
    r = await client.post(
        f"/v1/consultants/me/moderation/{v['id']}", json={"decision": "keep"},
        headers=auth(con["token"]),
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["hidden"] is False


# --- the CVR register -------------------------------------------------------------------


class _Register(BaseHTTPRequestHandler):
    """cvrapi.dk's answers: 200 with the company, 404 for an unknown number."""

    companies: ClassVar[dict[str, dict[str, Any]]] = {}
    down = False

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        cvr = query.get("search", [""])[0]
        assert urlparse(self.path).path == "/api" and query.get("country") == ["dk"]
        assert "job-on-the-run" in self.headers.get("User-Agent", "")
        if self.down:
            self.send_response(503)
            self.end_headers()
            return
        company = self.companies.get(cvr)
        body = json.dumps(company if company else {"error": "NOT_FOUND"}).encode()
        self.send_response(200 if company else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def register() -> Iterator[type[_Register]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Register)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Register.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield _Register
    httpd.shutdown()


@pytest.fixture(scope="module")
def register_server(
    database_url: str, esco_loaded: object, register: type[_Register]
) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        database_url,
        env={"JOTR_CVR_REGISTER_URL": register.base_url},  # type: ignore[attr-defined]
    )
    srv.start()
    yield srv
    srv.stop()


async def test_the_cvr_register_verifies_active_companies_of_the_same_name(
    register: type[_Register], register_server: ServerProcess
) -> None:
    register.companies = {
        "10000009": {"vat": 10000009, "name": "Kaffebaren ApS", "enddate": None},
        "12345674": {"vat": 12345674, "name": "Lukket Bageri ApS", "enddate": "01/01 - 2020"},
        "29403473": {"vat": 29403473, "name": "Kaffe & Kage ApS", "enddate": None},
    }
    async with httpx.AsyncClient(base_url=register_server.base_url, timeout=10) as c:

        async def status_of(name: str, cvr: str) -> tuple[str, str | None]:
            r = await c.post("/v1/employers", json={"name": name, "cvr": cvr})
            assert r.status_code == 201, r.text
            me = await c.get("/v1/employers/me", headers=auth(r.json()["api_key"]))
            v = me.json()["verification"]
            return v["status"], v["by"]

        assert await status_of("  KAFFEBAREN   aps", "10000009") == ("verified", "cvr_register")
        assert await status_of("Lukket Bageri ApS", "12345674") == ("unverified", None)  # ended
        assert await status_of("Andet Navn ApS", "29403473") == ("unverified", None)  # name
        assert await status_of("Ukendt ApS", "25313763") == ("unverified", None)  # not found
        r = await c.post("/v1/employers", json={"name": "Uden CVR ApS"})  # nothing to look up
        assert r.status_code == 201
        register.down = True
        try:
            # The register down: the sign-up goes through, unverified, and is counted.
            assert await status_of("Kaffebaren ApS", "10000009") == ("unverified", None)
        finally:
            register.down = False
        metrics = (await c.get("/metrics")).text
        assert 'jotr_cvr_register_lookups_total{outcome="unavailable"} 1.0' in metrics
        assert 'jotr_cvr_register_lookups_total{outcome="verified"} 1.0' in metrics
