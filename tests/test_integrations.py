"""Events for case systems: webhooks to a real local receiver that checks every
signature the way the Standard Webhooks spec says, and the pull feed read
through a two-worker server while both workers write (docs/integrations.md).

The servers here retry on a compressed schedule (seconds, not hours), so
retries and dead letters happen within a test.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import psycopg
import pytest
import standardwebhooks

from tests.builders import (
    auth,
    new_consultant,
    new_employer,
    new_integration,
    new_seeker,
    new_vacancy,
    next_spot,
)
from tests.conftest import SUITE_WEBHOOKS, ServerProcess, _free_port, _libpq

# Every server of the suite delivers webhooks with these (tests/conftest.py): six
# retries, about 5.5 s, then dead.
ENV = SUITE_WEBHOOKS
ATTEMPTS_UNTIL_DEAD = 7


# --- a receiver that verifies like the spec says -----------------------------------


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300) -> None:
    """Standard Webhooks verification in a few lines (the same as docs/integrations.md)."""
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(ts)) > tolerance_s:
        raise ValueError("timestamp outside tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    for sig in headers["webhook-signature"].split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise ValueError("no valid signature")


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it gets, checking signatures
    with our verifier and with the reference library; answers `status`."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.secret = ""
        self.status = 200
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    verify(receiver.secret, headers, body)
                    standardwebhooks.Webhook(receiver.secret).verify(body, headers)
                    ok = True
                except Exception:
                    ok = False
                with receiver._lock:
                    if not ok:
                        receiver.bad_signatures += 1
                    receiver.received.append(
                        {"headers": headers, "body": orjson.loads(body), "status": receiver.status}
                    )
                self.send_response(receiver.status if ok else 401)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self, where: Callable[[dict[str, Any]], bool] = lambda e: True) -> list[Any]:
        with self._lock:
            return [r for r in self.received if where(r["body"])]


async def until(check: Callable[[], Any], within: float = 20.0, what: str = "") -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.1)


async def subscribe(
    api: httpx.AsyncClient, token: str, receiver: Receiver, types: list[str] | None = None
) -> dict[str, Any]:
    r = await api.post(
        "/v1/integrations/me/webhooks",
        json={"url": receiver.url, "types": types or []},
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    receiver.secret = r.json()["secret"]
    assert receiver.secret.startswith("whsec_")
    return r.json()


def about(vacancy_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["data"].get("vacancy_id") == vacancy_id


@pytest.fixture(scope="module")
def hooks_server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    srv = ServerProcess(database_url, env=ENV)
    srv.start(timeout=300)
    yield srv
    srv.stop()


@pytest.fixture
async def api(hooks_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hooks_server.base_url, timeout=10.0) as c:
        yield c


@pytest.fixture
def integration(database_url: str) -> dict[str, Any]:
    return new_integration(database_url)


@pytest.fixture
async def receiver(api: httpx.AsyncClient, integration: dict[str, Any]) -> AsyncIterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.stop()
    # Other tests' vacancy events must not pile up for a receiver that is gone.
    listed = await api.get("/v1/integrations/me/webhooks", headers=auth(integration["token"]))
    for hook in listed.json()["webhooks"]:
        await api.delete(
            f"/v1/integrations/me/webhooks/{hook['id']}", headers=auth(integration["token"])
        )


# --- webhooks --------------------------------------------------------------------------


def test_the_verifier_rejects_a_changed_body_or_a_wrong_secret() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = b'{"a":1}'
    ts = str(int(time.time()))
    sig = base64.b64encode(
        hmac.new(b"k" * 32, f"msg_1.{ts}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": f"v1,{sig}"}
    verify(secret, headers, body)
    with pytest.raises(ValueError):
        verify(secret, headers, b'{"a":2}')
    with pytest.raises(ValueError):
        verify("whsec_" + base64.b64encode(b"x" * 32).decode(), headers, body)


async def test_a_new_vacancy_is_delivered_as_a_signed_cloudevent(
    api: httpx.AsyncClient, integration: dict[str, Any], receiver: Receiver
) -> None:
    receiver.start()
    await subscribe(api, integration["token"], receiver, ["vacancy.created", "vacancy.closed"])
    employer = await new_employer(api)
    vacancy = await new_vacancy(api, employer["api_key"], *next_spot())
    got = await until(lambda: receiver.events(about(vacancy["id"])), what="the webhook")
    assert receiver.bad_signatures == 0
    request = got[0]
    assert request["headers"]["content-type"] == "application/cloudevents+json"
    event = request["body"]
    assert event["specversion"] == "1.0"
    assert event["type"] == "vacancy.created"
    assert event["subject"] == f"vacancies/{vacancy['id']}"
    assert event["datacontenttype"] == "application/json"
    assert event["id"] == request["headers"]["webhook-id"]
    assert {"source", "time"} <= event.keys()
    assert event["data"]["employer_id"] == employer["id"]
    assert not {"location", "lat", "lon"} & event["data"].keys()

    r = await api.delete(f"/v1/vacancies/{vacancy['id']}", headers=auth(employer["api_key"]))
    assert r.status_code in (200, 204), r.text
    closed = await until(
        lambda: [
            e
            for e in receiver.events(about(vacancy["id"]))
            if e["body"]["type"] == "vacancy.closed"
        ],
        what="vacancy.closed",
    )
    assert len(closed) == 1
    # The feed has the same two events, in the order they were written.
    feed = await read_feed(api, integration["token"])
    mine = [e for e in feed if e["data"].get("vacancy_id") == vacancy["id"]]
    assert [e["type"] for e in mine] == ["vacancy.created", "vacancy.closed"]
    assert mine[0]["id"] == event["id"]


async def test_a_type_filter_keeps_other_types_away(
    api: httpx.AsyncClient, integration: dict[str, Any], receiver: Receiver
) -> None:
    receiver.start()
    await subscribe(api, integration["token"], receiver, ["vacancy.closed"])
    employer = await new_employer(api)
    vacancy = await new_vacancy(api, employer["api_key"], *next_spot())
    await api.delete(f"/v1/vacancies/{vacancy['id']}", headers=auth(employer["api_key"]))
    got = await until(lambda: receiver.events(about(vacancy["id"])), what="vacancy.closed")
    assert [e["body"]["type"] for e in got] == ["vacancy.closed"]


async def test_delivery_is_retried_after_the_receiver_was_down(
    api: httpx.AsyncClient, integration: dict[str, Any], receiver: Receiver
) -> None:
    await subscribe(api, integration["token"], receiver, ["vacancy.created"])  # not started
    employer = await new_employer(api)
    vacancy = await new_vacancy(api, employer["api_key"], *next_spot())

    async def failed_once() -> Any:
        found = await deliveries(api, integration["token"])
        return [d for d in found if d["attempts"] >= 1 and d["last_error"]]

    failed = await until(failed_once, what="a failed attempt")
    assert failed[0]["status"] == "pending" and failed[0]["last_status"] is None
    receiver.start()
    got = await until(lambda: receiver.events(about(vacancy["id"])), what="the retried webhook")
    assert receiver.bad_signatures == 0 and len(got) == 1

    async def delivered() -> Any:
        found = await deliveries(api, integration["token"], "delivered")
        return [d for d in found if d["event_id"] == got[0]["body"]["id"]]

    (done,) = await until(delivered, what="the delivery marked delivered")
    assert done["attempts"] >= 2 and done["last_status"] == 200


async def test_a_delivery_that_keeps_failing_is_dead_lettered_and_can_be_replayed(
    api: httpx.AsyncClient, database_url: str, integration: dict[str, Any], receiver: Receiver
) -> None:
    receiver.status = 500
    receiver.start()
    await subscribe(api, integration["token"], receiver, ["vacancy.created"])
    employer = await new_employer(api)
    vacancy = await new_vacancy(api, employer["api_key"], *next_spot())

    async def dead() -> Any:
        return await deliveries(api, integration["token"], "dead")

    (letter,) = await until(dead, within=30, what="the dead letter")
    attempts = receiver.events(about(vacancy["id"]))
    assert letter["attempts"] == ATTEMPTS_UNTIL_DEAD == len(attempts)
    assert letter["last_status"] == 500 and letter["dead_at"] and letter["next_attempt_at"] is None
    # Every attempt was the same message (one webhook-id), freshly signed.
    assert {a["headers"]["webhook-id"] for a in attempts} == {letter["event_id"]}
    assert receiver.bad_signatures == 0

    receiver.status = 200
    r = await api.post(
        f"/v1/integrations/me/deliveries/{letter['id']}/replay", headers=auth(integration["token"])
    )
    assert r.status_code == 202, r.text
    assert r.json() == {"deliveries": [letter["id"]]}
    await until(
        lambda: [a for a in receiver.events(about(vacancy["id"])) if a["status"] == 200],
        what="the replayed delivery",
    )
    assert await deliveries(api, integration["token"], "dead") == []
    # Replay by event id sends a delivered event again, too.
    r = await api.post(
        f"/v1/integrations/me/events/{letter['event_id']}/replay",
        headers=auth(integration["token"]),
    )
    assert r.status_code == 202, r.text
    await until(
        lambda: len([a for a in receiver.events(about(vacancy["id"])) if a["status"] == 200]) == 2,
        what="the second replay",
    )
    # Someone else's delivery or event is not there for another integration.
    other = new_integration(database_url, municipality="0101")
    for path in (
        f"/v1/integrations/me/deliveries/{letter['id']}/replay",
        f"/v1/integrations/me/events/{letter['event_id']}/replay",
    ):
        assert (await api.post(path, headers=auth(other["token"]))).status_code == 404


async def deliveries(
    api: httpx.AsyncClient, token: str, status: str | None = None
) -> list[dict[str, Any]]:
    params = {"status": status} if status else {}
    r = await api.get("/v1/integrations/me/deliveries", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["deliveries"])


async def read_feed(
    api: httpx.AsyncClient, token: str, after: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    return (await read_feed_to_end(api, token, after, limit))[0]


async def read_feed_to_end(
    api: httpx.AsyncClient, token: str, after: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str]:
    """Every event after `after` and the cursor at the end."""
    out: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        r = await api.get("/v1/events", params=params, headers=auth(token))
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["events"]
        after = page["next_cursor"]
        if not page["events"]:
            return out, after


# --- person events and consent ------------------------------------------------------


async def test_person_events_go_to_the_consultants_municipality_only_while_shared(
    api: httpx.AsyncClient, database_url: str, integration: dict[str, Any], receiver: Receiver
) -> None:
    receiver.start()
    await subscribe(api, integration["token"], receiver)  # every type
    elsewhere = new_integration(database_url, municipality="0101")
    other = Receiver().start()
    try:
        await subscribe(api, elsewhere["token"], other)
        consultant = new_consultant(database_url)
        lat, lon = next_spot()
        employer = await new_employer(api)
        vacancy = await new_vacancy(api, employer["api_key"], lat, lon)
        seeker = await new_seeker(api)
        sid = seeker["id"]

        def person(e: dict[str, Any]) -> bool:
            return bool(e["data"].get("jobseeker_id") == sid)

        code = await api.post("/v1/consultants/me/invites", headers=auth(consultant["token"]))
        r = await api.post(
            "/v1/jobseekers/me/consultant",
            json={"code": code.json()["code"], "consent": True},
            headers=auth(seeker["token"]),
        )
        assert r.status_code == 201, r.text
        review = {"jobseeker_id": sid, "vacancy_id": vacancy["id"], "verdict": "good",
                  "reason": "Tæt på skolen", "lat": lat, "lon": lon}  # fmt: skip
        r = await api.post("/v1/reviews", json=review, headers=auth(consultant["token"]))
        assert r.status_code == 201, r.text
        r = await api.post(
            f"/v1/vacancies/{vacancy['id']}/interest",
            json={"share": {"first_name": True, "phone": "20 30 40 50"}},
            headers=auth(seeker["token"]),
        )
        assert r.status_code == 201, r.text
        await until(lambda: len(receiver.events(person)) >= 3, what="linked, verdict, interest")

        # Withdrawn: one last event, then nothing about the person, even when a
        # case system links them again (that is no consent).
        r = await api.delete("/v1/jobseekers/me/consultant", headers=auth(seeker["token"]))
        assert r.status_code == 204
        await until(
            lambda: any(
                e["body"]["type"] == "jobseeker.consent_withdrawn" for e in receiver.events(person)
            ),
            what="consent_withdrawn",
        )
        r = await api.post(
            "/v1/integrations/me/caseload",
            json={"consultant_id": consultant["id"], "jobseeker_id": sid},
            headers=auth(integration["token"]),
        )
        assert r.status_code == 204, r.text
        r = await api.post("/v1/reviews", json=review, headers=auth(consultant["token"]))
        assert r.status_code == 201, r.text
        # A vacancy event written after it shows the dispatcher has moved past.
        later = await new_vacancy(api, employer["api_key"], lat, lon)
        await until(lambda: receiver.events(about(later["id"])), what="a later vacancy")

        # Webhooks promise no order (several workers send); the ids give commit order.
        got = sorted(receiver.events(person), key=lambda e: int(e["body"]["id"].split("_")[-1]))
        types = [e["body"]["type"] for e in got]
        assert types == [
            "jobseeker.linked", "verdict.recorded", "interest.sent", "jobseeker.consent_withdrawn"
        ]  # fmt: skip
        interest = got[2]["body"]["data"]
        assert set(interest) == {"application_id", "jobseeker_id", "vacancy_id"}
        verdict = got[1]["body"]
        assert verdict["data"]["verdict"] == "good" and "reason" not in verdict["data"]
        assert verdict["subject"] == f"jobseekers/{sid}"
        for e in receiver.events(person):
            assert not {"location", "lat", "lon", "last_position"} & e["body"]["data"].keys()
        # The feed says the same; the other municipality heard nothing of the person.
        feed = [e for e in await read_feed(api, integration["token"]) if person(e)]
        assert [e["type"] for e in feed] == types
        assert not [e for e in await read_feed(api, elsewhere["token"]) if person(e)]
        assert not other.events(person)
        assert receiver.bad_signatures == 0
        with psycopg.connect(_libpq(database_url)) as conn:
            row = conn.execute(
                "SELECT share_with_municipality, share_withdrawn_at IS NOT NULL"
                " FROM jobseekers WHERE id = %s",
                (sid,),
            ).fetchone()
        assert row == (False, True)
    finally:
        other.stop()
        for hook in (
            await api.get("/v1/integrations/me/webhooks", headers=auth(elsewhere["token"]))
        ).json()["webhooks"]:
            await api.delete(
                f"/v1/integrations/me/webhooks/{hook['id']}", headers=auth(elsewhere["token"])
            )


async def test_webhook_urls_must_be_https_to_a_public_host(
    api: httpx.AsyncClient, integration: dict[str, Any]
) -> None:
    for url in (
        "http://example.org/hook",
        "https://10.0.0.5/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest",
        "ftp://example.org/x",
    ):
        r = await api.post(
            "/v1/integrations/me/webhooks", json={"url": url}, headers=auth(integration["token"])
        )
        assert r.status_code == 422, (url, r.text)
    r = await api.post(
        "/v1/integrations/me/webhooks",
        json={"url": "https://example.org/hook", "types": ["no.such"]},
        headers=auth(integration["token"]),
    )
    assert r.status_code == 422


async def test_integration_endpoints_want_an_integration_token(
    api: httpx.AsyncClient, database_url: str
) -> None:
    consultant = new_consultant(database_url)
    assert (await api.get("/v1/events", headers=auth(consultant["token"]))).status_code == 403
    assert (await api.get("/v1/events")).status_code == 401
    token = new_integration(database_url)["token"]
    r = await api.get("/v1/events", params={"after": "nonsense"}, headers=auth(token))
    assert r.status_code == 422
    # Another kind of principal is refused the consultants' and seekers' endpoints.
    r = await api.get("/v1/consultants/me/caseload", headers=auth(token))
    assert r.status_code == 403


# --- the feed across two workers ----------------------------------------------------


async def test_the_feed_is_complete_and_in_one_order_across_two_workers(
    database_url: str, esco_loaded: object
) -> None:
    srv = ServerProcess(database_url, workers=2, env=ENV)
    srv.start(timeout=300)  # two workers loading ESCO on a shared, busy machine
    integration = new_integration(database_url)
    rec = Receiver().start()
    try:
        async with httpx.AsyncClient(base_url=srv.base_url, timeout=20.0) as api:
            await subscribe(api, integration["token"], rec, ["vacancy.created"])
            # Start reading from the end of the feed as it is now.
            _, start = await read_feed_to_end(api, integration["token"], limit=1000)
            cursor = start
            employer = await new_employer(api)
            lat, lon = next_spot()
            created: list[str] = []
            seen: list[dict[str, Any]] = []
            writing = True

            async def write(n: int) -> None:
                for _ in range(n):
                    v = await new_vacancy(api, employer["api_key"], lat, lon)
                    created.append(v["id"])

            async def poll() -> None:
                nonlocal cursor
                while True:
                    r = await api.get(
                        "/v1/events", params={"after": cursor, "limit": 7},
                        headers=auth(integration["token"]),
                    )  # fmt: skip
                    page = r.json()
                    seen.extend(page["events"])
                    cursor = page["next_cursor"]
                    if not writing and not page["events"]:
                        return
                    await asyncio.sleep(0.01)

            poller = asyncio.create_task(poll())
            await asyncio.gather(*(write(10) for _ in range(8)))  # 80, over both workers
            writing = False
            await asyncio.wait_for(poller, 30)

            mine = [e for e in seen if e["data"].get("employer_id") == employer["id"]]
            ids = [e["data"]["vacancy_id"] for e in mine]
            assert len(ids) == len(set(ids)) == 80, "no duplicates"
            assert set(ids) == set(created), "no gaps"
            # Read again from the same start: the same events in the same order.
            again = await read_feed(api, integration["token"], after=start)
            again_ids = [e["id"] for e in again if e["data"].get("employer_id") == employer["id"]]
            assert again_ids == [e["id"] for e in mine]

            # Both workers dispatch; each event still reaches the webhook once.
            def mine_delivered() -> list[Any]:
                return rec.events(lambda e: e["data"].get("employer_id") == employer["id"])

            await until(lambda: len(mine_delivered()) >= 80, within=30, what="80 webhooks")
            await asyncio.sleep(0.5)  # a duplicate would arrive within the lease
            hook_ids = [r["headers"]["webhook-id"] for r in mine_delivered()]
            assert len(hook_ids) == len(set(hook_ids)) == 80
            assert rec.bad_signatures == 0
    finally:
        rec.stop()
        srv.stop()


# --- match.pushed: written with the push deliveries, in their transaction ------------


async def test_pushed_matches_become_events_only_for_people_who_share(
    api: httpx.AsyncClient, database_url: str
) -> None:
    import asyncpg

    from push import delivery

    consultant = new_consultant(database_url)
    employer = await new_employer(api)
    vacancy = await new_vacancy(api, employer["api_key"], *next_spot())
    sharing, other = await new_seeker(api), await new_seeker(api)
    code = (await api.post("/v1/consultants/me/invites", headers=auth(consultant["token"]))).json()
    r = await api.post(
        "/v1/jobseekers/me/consultant",
        json={"code": code["code"], "consent": True},
        headers=auth(sharing["token"]),
    )
    assert r.status_code == 201, r.text
    # On a caseload, but without the person's yes (linked by a case system).
    aarhus = new_integration(database_url)
    r = await api.post(
        "/v1/integrations/me/caseload",
        json={"consultant_id": consultant["id"], "jobseeker_id": other["id"]},
        headers=auth(aarhus["token"]),
    )
    assert r.status_code == 204, r.text
    payload = {"type": "match", "vacancy": {"id": vacancy["id"]}, "score": 0.8123456}
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        # Both in one batch, as a new vacancy's fan-out records them: one statement
        # decides per person.
        async with conn.transaction():
            sent = await delivery.record_many(
                conn, delivery.MATCH,
                [(uuid.UUID(s["id"]), (uuid.UUID(vacancy["id"]), payload, 0.8123456))
                 for s in (sharing, other)],
            )  # fmt: skip
            assert len(sent) == 2
        rows = await conn.fetch(
            "SELECT jobseeker_id, data, municipalities FROM integration_events"
            " WHERE type = 'match.pushed' AND data->>'vacancy_id' = $1",
            vacancy["id"],
        )
    finally:
        await conn.close()
    assert [(str(r["jobseeker_id"]), r["municipalities"]) for r in rows] == [
        (sharing["id"], ["0751"])
    ]
    assert orjson.loads(rows[0]["data"]) == {
        "jobseeker_id": sharing["id"], "vacancy_id": vacancy["id"], "score": 0.8123,
    }  # fmt: skip
    feed = await read_feed(api, aarhus["token"])
    assert [e["data"]["jobseeker_id"] for e in feed if e["type"] == "match.pushed"
            and e["data"]["vacancy_id"] == vacancy["id"]] == [sharing["id"]]  # fmt: skip
