"""Hardening: abuse limits (429 + Retry-After), slow-client timeouts, no secrets or
personal data in logs, and token rotation and revocation. All through real
server processes (started with `jotr serve`, so with its uvicorn options), real
Redis and real PostgreSQL.

Limits are keyed by client address; each test speaks from its own loopback
address (127.0.0.x, Linux routes all of 127/8 to lo) so the tests' counters do
not add up.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from typer.testing import CliRunner, Result
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.extensions.permessage_deflate import PerMessageDeflate

from api.cli import app as cli_app
from api.push_socket import deflate_factory
from api.ratelimit import Limiter, RateLimited
from matcher.settings import Settings, get_settings
from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_seeker,
    next_spot,
    remember,
    seeker_body,
    vacancy_body,
)
from tests.conftest import ServerProcess, _libpq
from tests.push_client import new_device
from tests.run_logs import MUST_NOT_BE_LOGGED, leaks_in

LIMIT_FIELDS = (
    "rate_limit_signup",
    "rate_limit_employer_signup",
    "rate_limit_extract",
    "rate_limit_vacancy_writes",
    "rate_limit_auth_failures",
)
# The shipped defaults, undoing the suite's raised limits (tests/conftest.py).
DEFAULT_LIMITS = {f"JOTR_{f.upper()}": str(Settings.model_fields[f].default) for f in LIMIT_FIELDS}
SLOW_S = 2.0  # header and body deadlines of the slow-client server


def client_from(server: ServerProcess, source: str, **kw: Any) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=server.base_url, transport=transport, timeout=30.0, **kw)


def assert_limited(r: httpx.Response, upper_s: int) -> int:
    assert r.status_code == 429, r.text
    assert r.json() == {
        "error": {"code": "rate_limited", "message": r.json()["error"]["message"], "details": []}
    }
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= upper_s
    return retry


class RedisLink:
    """A TCP forwarder to the real Redis that the test can cut and restore, to
    take the limiter's store away from a running server and give it back."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 6379)) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._open):
            w.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            r2, w2 = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._open |= {writer, w2}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, w2), pipe(r2, writer))
        self._open -= {writer, w2}


PROXY = "127.0.0.21"  # the one address the defaults server believes X-Forwarded-For from


@pytest.fixture(scope="module")
async def redis_link() -> AsyncIterator[RedisLink]:
    link = RedisLink()
    await link.up()
    yield link
    if link._server is not None:
        await link.down()


@pytest.fixture(scope="module")
def defaults_server(
    database_url: str, esco_loaded: object, redis_link: RedisLink
) -> Iterator[ServerProcess]:
    """`jotr serve` with the default limits (Redis storage, through `redis_link`),
    one trusted proxy, short slow-client deadlines and every log line."""
    env = {
        **DEFAULT_LIMITS,
        "REDIS_URL": f"redis://127.0.0.1:{redis_link.port}/0",
        "JOTR_TRUSTED_PROXIES": PROXY,
        "JOTR_HEADER_TIMEOUT_S": str(SLOW_S),
        "JOTR_BODY_TIMEOUT_S": str(SLOW_S),
        "JOTR_LOG_LEVEL": "DEBUG",
    }
    srv = ServerProcess(database_url, env=env, cli=True)
    srv.start()
    yield srv
    srv.stop()


# --- limits with the defaults ------------------------------------------------------


async def _signup_until_limited(c: httpx.AsyncClient, n: int) -> list[int]:
    codes = []
    for _ in range(n):
        r = await c.post("/v1/jobseekers", json=seeker_body())
        if r.status_code == 201:
            remember(r.json()["token"], r.json()["id"])
        codes.append(r.status_code)
    return codes


async def test_signups_per_ip_default(defaults_server: ServerProcess) -> None:
    per_minute = int(Settings().rate_limit_signup.split("/")[0])
    async with client_from(defaults_server, "127.0.0.11") as c:
        codes = await _signup_until_limited(c, per_minute)
        assert codes == [201] * per_minute
        assert_limited(await c.post("/v1/jobseekers", json=seeker_body()), 60)
    # Another address is not held back by the first one's count.
    async with client_from(defaults_server, "127.0.0.12") as c:
        assert (await c.post("/v1/jobseekers", json=seeker_body())).status_code == 201


async def test_employer_signups_and_extract_per_ip_default(
    defaults_server: ServerProcess,
) -> None:
    per_minute = int(Settings().rate_limit_employer_signup.split("/")[0])
    async with client_from(defaults_server, "127.0.0.13") as c:
        for i in range(per_minute):
            r = await c.post("/v1/employers", json={"name": f"Limit Bageri {i}"})
            assert r.status_code == 201, r.text
            remember(r.json()["api_key"])
        assert_limited(await c.post("/v1/employers", json={"name": "One too many"}), 60)

    per_minute = int(Settings().rate_limit_extract.split("/")[0])
    payload = {"title": "Barista", "text": "Vi søger en barista til vores café."}
    async with client_from(defaults_server, "127.0.0.14") as c:
        for _ in range(per_minute):
            r = await c.post("/v1/extract", json=payload, timeout=60)
            assert r.status_code == 200, r.text
        assert_limited(await c.post("/v1/extract", json=payload), 60)


async def test_vacancy_writes_per_employer_default(defaults_server: ServerProcess) -> None:
    per_minute = int(Settings().rate_limit_vacancy_writes.split("/")[0])
    lat, lon = next_spot()
    async with client_from(defaults_server, "127.0.0.15") as c:
        busy, other = await new_employer(c), await new_employer(c)
        first = await c.post(
            "/v1/vacancies", json=vacancy_body(lat, lon), headers=auth(busy["api_key"])
        )
        assert first.status_code == 201
        vid = first.json()["id"]
        # Creates, changes and closes all count (one already did).
        for i in range(per_minute - 2):
            r = await c.patch(
                f"/v1/vacancies/{vid}",
                json={"hours_per_week": 5 + i % 20},
                headers=auth(busy["api_key"]),
            )
            assert r.status_code == 200, r.text
        r = await c.delete(f"/v1/vacancies/{vid}", headers=auth(busy["api_key"]))
        assert r.status_code == 200
        for method in ("POST", "PATCH", "DELETE"):
            url = "/v1/vacancies" if method == "POST" else f"/v1/vacancies/{vid}"
            body = vacancy_body(lat, lon) if method == "POST" else None
            if method == "PATCH":
                body = {"hours_per_week": 7}
            r = await c.request(method, url, json=body, headers=auth(busy["api_key"]))
            assert_limited(r, 60)
        # Reads are not writes, and another employer from the same address is free.
        assert (
            await c.get(f"/v1/vacancies/{vid}", headers=auth(busy["api_key"]))
        ).status_code == 200
        r = await c.post(
            "/v1/vacancies", json=vacancy_body(lat, lon), headers=auth(other["api_key"])
        )
        assert r.status_code == 201, r.text


async def test_wrong_tokens_lock_the_address_out(defaults_server: ServerProcess) -> None:
    tiers = Settings().rate_limit_auth_failures.split(";")
    allowed = int(tiers[0].split("/")[0])
    async with client_from(defaults_server, "127.0.0.16") as c:
        seeker = await new_seeker(c)
        for i in range(allowed):
            guess = f"jotr_js_{uuid.uuid4().hex}" if i % 2 else "not-even-a-token"
            r = await c.get("/v1/jobseekers/me", headers=auth(guess))
            assert r.status_code == 401, (i, r.text)
        # Locked out: even the right token is refused now, for the window's length.
        r = await c.get("/v1/jobseekers/me", headers=auth(seeker["token"]))
        retry = assert_limited(r, 10 * 60)
        assert retry > 9 * 60
        r = await c.get("/v1/employers/me/vacancies", headers=auth(f"jotr_emp_{uuid.uuid4()}"))
        assert_limited(r, 10 * 60)
        # Without credentials nothing is being guessed: still a plain 401.
        assert (await c.get("/v1/jobseekers/me")).status_code == 401
        # A spoofed X-Forwarded-For does not help: no proxy is trusted by default.
        r = await c.get(
            "/v1/jobseekers/me", headers={**auth(seeker["token"]), "X-Forwarded-For": "10.9.8.7"}
        )
        assert r.status_code == 429
    async with client_from(defaults_server, "127.0.0.17") as c:
        r = await c.get("/v1/jobseekers/me", headers=auth(seeker["token"]))
        assert r.status_code == 200


async def test_wrong_websocket_tokens_count_toward_the_same_lockout(
    defaults_server: ServerProcess,
) -> None:
    """Guessing through the websocket (header or first frame) fills the same
    per-address tiers as HTTP; once locked out, the handshake is a 429 with
    Retry-After and HTTP from that address is refused too."""
    allowed = int(Settings().rate_limit_auth_failures.split(";")[0].split("/")[0])
    source = "127.0.0.18"
    url = defaults_server.base_url.replace("http://", "ws://") + "/v1/push"
    async with client_from(defaults_server, "127.0.0.19") as other:
        token = (await new_seeker(other))["token"]
        remember(token)
    for i in range(allowed):
        guess = f"jotr_js_{uuid.uuid4().hex}"
        if i % 2:  # a browser's first frame
            async with connect(url, local_addr=(source, 0)) as ws:
                await ws.send(
                    orjson.dumps({"type": "auth", "token": guess, "device": new_device()}).decode()
                )
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        else:
            with pytest.raises(InvalidStatus) as refused:
                await connect(url, local_addr=(source, 0),
                              additional_headers={"Authorization": f"Bearer {guess}"})  # fmt: skip
            assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as limited:
        await connect(url, local_addr=(source, 0),
                      additional_headers={"Authorization": f"Bearer {token}",
                                          "Jotr-Device": new_device()})  # fmt: skip
    assert limited.value.response.status_code == 429, limited.value.response.body
    assert 9 * 60 < int(limited.value.response.headers["Retry-After"]) <= 10 * 60
    async with client_from(defaults_server, source) as c:
        assert_limited(await c.get("/v1/jobseekers/me", headers=auth(token)), 10 * 60)


async def test_limit_metrics_count_refusals(defaults_server: ServerProcess) -> None:
    async with client_from(defaults_server, "127.0.0.18") as c:
        text = (await c.get("/metrics")).text
    assert re.search(r'jotr_rate_limited_total\{limit="signup"\} [1-9]', text), text[:2000]


# --- proxies, memory storage, failing open --------------------------------------------


async def test_forwarded_for_only_from_trusted_proxies(defaults_server: ServerProcess) -> None:
    per_minute = int(Settings().rate_limit_employer_signup.split("/")[0])

    async def employer(c: httpx.AsyncClient, forwarded: str) -> int:
        r = await c.post(
            "/v1/employers", json={"name": "Proxy Bageri"}, headers={"X-Forwarded-For": forwarded}
        )
        if r.status_code == 201:
            remember(r.json()["api_key"])
        return r.status_code

    async with client_from(defaults_server, PROXY) as proxy:
        codes = [await employer(proxy, "10.0.0.1") for _ in range(per_minute + 1)]
        assert codes == [201] * per_minute + [429]
        # Another client behind the same proxy has its own count.
        assert await employer(proxy, "10.0.0.2") == 201
    # Not a proxy: the header is ignored and the peer is counted.
    async with client_from(defaults_server, "127.0.0.22") as direct:
        codes = [await employer(direct, f"10.1.0.{i}") for i in range(per_minute + 1)]
        assert codes == [201] * per_minute + [429]


async def test_limiter_fails_open_while_redis_is_away(
    defaults_server: ServerProcess, redis_link: RedisLink
) -> None:
    per_minute = int(Settings().rate_limit_employer_signup.split("/")[0])
    async with client_from(defaults_server, "127.0.0.23") as c:

        async def employers(n: int) -> list[int]:
            codes = []
            for _ in range(n):
                r = await c.post("/v1/employers", json={"name": "Outage Bageri"})
                if r.status_code == 201:
                    remember(r.json()["api_key"])
                codes.append(r.status_code)
            return codes

        await redis_link.down()
        try:
            # More than the limit, and no 429 and no 500: the limiter lets them through.
            assert await employers(per_minute + 3) == [201] * (per_minute + 3)
            metrics = (await c.get("/metrics")).text
            assert re.search(r"jotr_rate_limit_errors_total [1-9]", metrics)
        finally:
            await redis_link.up()
        # Store back: limits hold again (nothing was counted meanwhile).
        assert await employers(per_minute + 1) == [201] * per_minute + [429]
    log = defaults_server.log_text()
    # Warned, not once a request (at most once a minute).
    assert log.count("rate limiter store unavailable") == 1, log[-3000:]


async def test_memory_storage_counts_in_process() -> None:
    limiter = Limiter(Settings(rate_limit_storage="memory", rate_limit_signup="2/minute"))
    await limiter.hit("signup", "10.2.0.1")
    await limiter.hit("signup", "10.2.0.1")
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("signup", "10.2.0.1")
    assert 55 <= refused.value.retry_after <= 60
    await limiter.hit("signup", "10.2.0.2")  # its own count
    # The lockout: failures are only counted, until a tier is full; then checks refuse.
    locking = Limiter(
        Settings(rate_limit_storage="memory", rate_limit_auth_failures="2/minute;3/hour")
    )
    await locking.record_failure("auth_failures", "10.2.0.3")
    await locking.check_lock("auth_failures", "10.2.0.3")
    await locking.record_failure("auth_failures", "10.2.0.3")
    with pytest.raises(RateLimited) as refused:
        await locking.check_lock("auth_failures", "10.2.0.3")
    assert 55 <= refused.value.retry_after <= 60
    await locking.check_lock("auth_failures", "10.2.0.4")
    # And switched off (benchmarks), nothing is counted at all.
    off = Limiter(Settings(rate_limit_enabled=False, rate_limit_signup="1/minute"))
    for _ in range(3):
        await off.hit("signup", "10.2.0.1")


# --- slow clients ------------------------------------------------------------------


async def _half_request(i: int, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if i % 2:  # half the head
        writer.write(b"POST /v1/jobseekers HTTP/1.1\r\nHost: x\r\nContent-Ty")
    else:  # the whole head, half the body
        writer.write(
            b"POST /v1/jobseekers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"display_name": "'
        )
    await writer.drain()
    return reader, writer


async def _cut_after(reader: asyncio.StreamReader, started: float) -> tuple[float, bytes]:
    data = await asyncio.wait_for(reader.read(), timeout=SLOW_S + 10)  # until EOF
    return time.monotonic() - started, data


async def test_push_compression_keeps_no_context_between_messages(
    defaults_server: ServerProcess,
) -> None:
    """`jotr serve` answers permessage-deflate with no context takeover either way
    (api/push_socket.py): each message is compressed alone, so an idle connection
    holds no zlib state; the frames still arrive compressed and whole."""
    url = defaults_server.base_url.replace("http://", "ws://") + "/v1/push"
    async with client_from(defaults_server, "127.0.0.51") as c:
        token = (await new_seeker(c))["token"]
        remember(token)
    headers = {"Authorization": f"Bearer {token}", "Jotr-Device": new_device()}
    async with connect(url, local_addr=("127.0.0.51", 0), additional_headers=headers) as ws:
        (ext,) = ws.protocol.extensions
        assert isinstance(ext, PerMessageDeflate)
        # The client's view: the server keeps none (remote), nor may we (local).
        assert ext.remote_no_context_takeover and ext.local_no_context_takeover
        assert orjson.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
    assert deflate_factory(Settings(push_deflate_context=True)).server_no_context_takeover is False


async def test_half_sent_requests_are_cut(defaults_server: ServerProcess) -> None:
    started = time.monotonic()
    conns = [await _half_request(i, defaults_server.port) for i in range(50)]
    try:
        cuts = asyncio.gather(*(_cut_after(r, started) for r, _ in conns))
        # Meanwhile the server serves others at once.
        async with client_from(defaults_server, "127.0.0.31") as c:
            t0 = time.monotonic()
            assert (await c.get("/healthz")).status_code == 200
            assert (await c.post("/v1/jobseekers", json=seeker_body())).status_code == 201
            assert time.monotonic() - t0 < 1.0
        results = await cuts
    finally:
        for _, w in conns:
            w.close()
    for i, (elapsed, data) in enumerate(results):
        assert SLOW_S - 0.5 <= elapsed <= SLOW_S + 3, (i, elapsed)
        assert data.startswith(b"HTTP/1.1 408"), (i, data[:200])
        assert b"request_timeout" in data


async def test_oversized_head_is_refused(defaults_server: ServerProcess) -> None:
    limit = Settings().max_header_bytes
    reader, writer = await asyncio.open_connection("127.0.0.1", defaults_server.port)
    try:
        # Just over the cap, unfinished, in one go (so the server has read all of it
        # when it closes, and the client gets the answer rather than a reset).
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * limit)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()
    assert data.startswith(b"HTTP/1.1 431"), data[:200]
    assert b"headers_too_large" in data


async def test_idle_keep_alive_and_silent_connections_close(
    defaults_server: ServerProcess,
) -> None:
    # Connected, never says anything: cut at the header deadline.
    reader, writer = await asyncio.open_connection("127.0.0.1", defaults_server.port)
    t0 = time.monotonic()
    elapsed, data = await _cut_after(reader, t0)
    writer.close()
    assert elapsed <= SLOW_S + 3 and data.startswith(b"HTTP/1.1 408")


# --- rotation and revocation ------------------------------------------------------


def audit(database_url: str, subject_id: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT actor_type, actor_id::text, action FROM audit_log WHERE subject_id = %s "
            "ORDER BY id",
            (subject_id,),
        ).fetchall()
    return [(a, b, c) for a, b, c in rows]


async def test_seeker_rotates_own_token(client: httpx.AsyncClient, database_url: str) -> None:
    seeker = await new_seeker(client)
    r = await client.post("/v1/jobseekers/me/token", headers=auth(seeker["token"]))
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    remember(new)
    assert new.startswith("jotr_js_") and new != seeker["token"]
    assert (await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))).status_code == 401
    assert (await client.get("/v1/jobseekers/me", headers=auth(new))).status_code == 200
    assert audit(database_url, seeker["id"]) == [("jobseeker", seeker["id"], "token.rotate")]
    # Someone else's kind of secret cannot rotate a seeker's.
    emp = await new_employer(client)
    r = await client.post("/v1/jobseekers/me/token", headers=auth(emp["api_key"]))
    assert r.status_code == 403


async def test_employer_rotates_own_key(client: httpx.AsyncClient, database_url: str) -> None:
    emp = await new_employer(client)
    r = await client.post("/v1/employers/me/token", headers=auth(emp["api_key"]))
    assert r.status_code == 200, r.text
    new = r.json()["api_key"]
    remember(new)
    assert new.startswith("jotr_emp_")
    old = await client.get("/v1/employers/me/vacancies", headers=auth(emp["api_key"]))
    assert old.status_code == 401
    assert (await client.get("/v1/employers/me/vacancies", headers=auth(new))).status_code == 200
    assert audit(database_url, emp["id"]) == [("employer", emp["id"], "api_key.rotate")]


async def test_consultant_reissues_caseload_token(
    client: httpx.AsyncClient, database_url: str
) -> None:
    mine, other = await new_seeker(client), await new_seeker(client)
    con = new_consultant(database_url, caseload=[mine["id"]])
    url = "/v1/consultants/me/caseload/{}/token"
    r = await client.post(url.format(mine["id"]), headers=auth(con["token"]))
    assert r.status_code == 200, r.text
    assert r.json()["jobseeker_id"] == mine["id"]
    new = r.json()["token"]
    remember(new)
    assert (await client.get("/v1/jobseekers/me", headers=auth(mine["token"]))).status_code == 401
    assert (await client.get("/v1/jobseekers/me", headers=auth(new))).status_code == 200
    assert audit(database_url, mine["id"]) == [("consultant", con["id"], "jobseeker.token.reissue")]
    # Off the caseload, or no one: the same 404, and nothing changes.
    for sid in (other["id"], str(uuid.uuid4())):
        r = await client.post(url.format(sid), headers=auth(con["token"]))
        assert r.status_code == 404
    assert (await client.get("/v1/jobseekers/me", headers=auth(other["token"]))).status_code == 200
    # A seeker cannot use the consultant route.
    r = await client.post(url.format(mine["id"]), headers=auth(new))
    assert r.status_code == 403


def _jotr(database_url: str, *args: str) -> Result:
    get_settings.cache_clear()  # settings are read once per process, and env changes here
    try:
        return CliRunner().invoke(cli_app, list(args), env={"DATABASE_URL": database_url})
    finally:
        get_settings.cache_clear()


def test_operator_revokes_employer_key(server: ServerProcess, database_url: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        emp = c.post("/v1/employers", json={"name": "Revoked Bageri"}).json()
        remember(emp["api_key"])
        done = _jotr(database_url, "employer", "revoke-key", emp["id"])
        assert done.exit_code == 0, done.output
        assert "jotr_emp_" not in done.output
        r = c.get("/v1/employers/me/vacancies", headers=auth(emp["api_key"]))
        assert r.status_code == 401
        assert audit(database_url, emp["id"]) == [
            ("operator", "00000000-0000-0000-0000-000000000000", "api_key.revoke")
        ]

        done = _jotr(database_url, "employer", "revoke-key", emp["id"], "--reissue")
        assert done.exit_code == 0, done.output
        key = re.search(r"jotr_emp_\S+", done.output)
        assert key is not None, done.output
        remember(key.group())
        assert c.get("/v1/employers/me/vacancies", headers=auth(key.group())).status_code == 200

    done = _jotr(database_url, "employer", "revoke-key", str(uuid.uuid4()))
    assert done.exit_code == 1 and "no employer with id" in done.output


# --- logs ----------------------------------------------------------------------------


def test_leak_check_finds_what_it_looks_for() -> None:
    # The end-of-run check over all server logs (tests/conftest.py) uses this.
    assert leaks_in("ok: [redacted-secret] and /v1/jobseekers/{jobseeker_id}") == []
    assert leaks_in("Bearer jotr_con_abc") == ["jotr_con_"]
    assert leaks_in("name Åse Ærø here", {"Åse Ærø"}) == ["Åse Ærø"]


@pytest.fixture
def probe_index(database_url: str) -> Iterator[None]:
    """A unique index on (display_name, birth_date) for probe rows only, so that a
    second sign-up of the same probe person fails in PostgreSQL with
    `DETAIL: Key (display_name, birth_date)=(…)` — a real error that quotes
    personal data, raised inside the server."""
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        conn.execute(
            "CREATE UNIQUE INDEX leak_probe ON jobseekers (display_name, birth_date) "
            "WHERE display_name LIKE 'Leakprobe%'"
        )
    try:
        yield
    finally:
        with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
            conn.execute("DROP INDEX IF EXISTS leak_probe")


async def test_logs_hold_no_secrets_or_personal_data(
    defaults_server: ServerProcess, probe_index: None, database_url: str
) -> None:
    name = f"Leakprobe Sørensen {uuid.uuid4().hex[:6]}"
    born = birth_date_for_age(17)
    seen: set[str] = {name, born}
    async with client_from(defaults_server, "127.0.0.41") as c:
        seeker = await new_seeker(c, display_name=name, birth_date=born)
        seen |= {seeker["token"], seeker["id"]}
        # The same person again: a unique violation inside PostgreSQL, a 5xx here
        # (its own connection: uvicorn drops the connection of an unhandled error).
        async with client_from(defaults_server, "127.0.0.41") as once:
            dup = await once.post(
                "/v1/jobseekers", json=seeker_body(display_name=name, birth_date=born)
            )
        assert dup.status_code >= 500 or dup.status_code == 409, dup.text
        # Bad tokens of every kind, in every place.
        for bad in ("jotr_js_" + "x" * 43, "jotr_emp_" + "y" * 43, "jotr_con_" + "z" * 43):
            assert (await c.get("/v1/jobseekers/me", headers=auth(bad))).status_code == 401
        r = await c.get(f"/v1/jobseekers/{seeker['id']}", headers=auth("jotr_con_" + "q" * 43))
        assert r.status_code == 401
        # Valid calls whose paths and bodies carry the person.
        con = new_consultant(database_url, caseload=[seeker["id"]])
        seen.add(con["token"])
        assert (
            await c.get(f"/v1/jobseekers/{seeker['id']}", headers=auth(con["token"]))
        ).status_code == 200
        r = await c.patch(
            "/v1/jobseekers/me",
            json={"display_name": name + " II", "birth_date": "not a date"},
            headers=auth(seeker["token"]),
        )
        assert r.status_code == 422
        r = await c.post("/v1/jobseekers/me/token", headers=auth(seeker["token"]))
        seen.add(r.json()["token"])
        # A malformed body, and a query string with the token in it.
        r = await c.post(
            "/v1/jobseekers",
            content=b'{"display_name": "' + name.encode() + b'"',
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400
        await c.get("/v1/jobseekers/me", params={"token": seeker["token"]})
    # Everything this server wrote in this module's tests (at DEBUG), errors
    # included; the tee thread writes lines as they come, so wait for the last error.
    deadline = time.monotonic() + 5
    while dup.status_code >= 500 and "leak_probe" not in defaults_server.log_text():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    text = defaults_server.log_text()
    assert '"level":"error"' in text, text[-3000:]  # errors were logged
    seen |= MUST_NOT_BE_LOGGED  # and whatever the other tests here created
    leaked = [line[:300] for line in text.splitlines() if leaks_in(line, seen)]
    assert leaked == [], leaked[:3]
    if dup.status_code >= 500:  # the error and its PostgreSQL detail were logged, masked
        assert "Key (display_name, birth_date)=([redacted])" in text
    # What made it into the log is still useful: the route templates are there.
    assert "/v1/jobseekers/{jobseeker_id}" in text
