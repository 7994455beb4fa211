"""Push hardening end to end: auth without the URL, acks and replay per device,
frames in sequence order, presence across workers (connection cap, position
TTL after a SIGKILL, erasure after a database outage), the inbound rate limit.

One real server with two worker processes and short timings (TTL 3 s, presence
refresh 1 s; the defaults are 60 s and 20 s), real websocket clients, real
PostGIS; the outage test starts a private PostgreSQL cluster it can stop.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from alembic import command
from ops.embedded_pg import EmbeddedCluster
from tests.builders import birth_date_for_age, new_employer, new_seeker, new_vacancy
from tests.conftest import ServerProcess, _free_port, _libpq, alembic_config
from tests.push_client import Phone, new_device, push_spot
from tests.test_api_vacancies import offset

TTL_S = 3.0
MAX_CONNECTIONS = 3
ENV = {
    "JOTR_POSITION_TTL_S": str(TTL_S),
    "JOTR_PUSH_PRESENCE_REFRESH_S": "1",
    "JOTR_PUSH_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "JOTR_PUSH_AUTH_TIMEOUT_S": "1",
    "JOTR_PUSH_PER_MINUTE": "1000",  # bursts of pushes on purpose
    "JOTR_LOG_LEVEL": "INFO",
}
# Every token this module uses; none may appear in the server's log.
TOKENS: list[str] = []


@pytest.fixture(scope="module")
def log_file() -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="jotr-push-devices-", suffix=".log")
    os.close(fd)
    yield Path(name)
    Path(name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def srv(database_url: str, esco_loaded: object, log_file: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, workers=2, env=ENV, log_level="info", stderr=log_file)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def api(srv: ServerProcess) -> Any:
    async with httpx.AsyncClient(base_url=srv.base_url, timeout=20.0) as c:
        yield c


async def seeker(api: httpx.AsyncClient, **kw: Any) -> dict[str, Any]:
    body = {"birth_date": birth_date_for_age(19), "preferences": {"radius_m": 800}, **kw}
    s = await new_seeker(api, **body)
    TOKENS.append(s["token"])
    return s


def sql(database_url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        return conn.execute(query, args).fetchall()  # type: ignore[arg-type]


def has_position(database_url: str, seeker_id: str) -> bool:
    (row,) = sql(
        database_url,
        "SELECT last_position IS NOT NULL FROM jobseekers j"
        " LEFT JOIN push_streams s ON s.jobseeker_id = j.id WHERE j.id = %s",
        seeker_id,
    )
    return bool(row[0])


async def until(check: Callable[[], Any], within: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + within
    while True:
        if value := check():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)


async def barrier(phone: Phone) -> list[dict[str, Any]]:
    """Everything queued to the phone before the reply to a no-op `resume`
    (the outbox is FIFO). Not `settings`: that makes the server forget the
    connection's position until its next location."""
    await phone.send(type="resume", after_seq=0)
    out = []
    while (msg := await phone.recv(10))["type"] != "resumed":
        out.append(msg)
    return out


def ws_url(srv: ServerProcess, query: str = "") -> str:
    return srv.base_url.replace("http://", "ws://") + "/v1/push" + query


# --- devices ------------------------------------------------------------------------


async def test_each_device_is_replayed_what_it_has_not_acked(srv: ServerProcess, api: Any) -> None:
    lat, lon = push_spot()
    s = await seeker(api)
    a = await Phone.connect(srv.base_url, s["token"])
    b = await Phone.connect(srv.base_url, s["token"], auth="frame")  # as a browser
    await a.move(lat, lon)
    await barrier(a)
    await b.close()  # B misses what comes now, while A acks all of it
    emp = await new_employer(api)
    placed = [
        await new_vacancy(api, emp["api_key"], *offset(lat, lon, 150 + 40 * i, 60 * i),
                          walk_in=False)
        for i in range(3)
    ]  # fmt: skip
    got = [await a.wait_for("match", within=10) for _ in placed]
    seqs = [m["seq"] for m in got]
    assert {m["vacancy"]["id"] for m in got} == {v["id"] for v in placed}
    await a.send(type="ack", seq=seqs[-1])
    await barrier(a)

    b = await b.reconnect(srv.base_url, auth="frame")
    assert b.hello["acked_seq"] < seqs[0] and b.hello["last_seq"] == seqs[-1]
    assert [m["seq"] for m in b.replayed] == seqs  # 0 lost, in order
    await b.send(type="ack", seq=seqs[-1])
    await barrier(b)
    await b.close()
    await a.close()
    # Once acked, nothing comes twice, on either device.
    assert (await b.reconnect(srv.base_url)).replayed == []
    assert (await a.reconnect(srv.base_url)).replayed == []


async def test_device_ids_are_checked(srv: ServerProcess, api: Any) -> None:
    s = await seeker(api)
    for bad in ("short", "x" * 65, "has spaces in it here", "ünïcødé-ünïcødé-ü"):
        with pytest.raises(InvalidStatus) as info:
            await Phone.connect(srv.base_url, s["token"], device=bad)
        assert info.value.response.status_code == 400
        assert b"Jotr-Device" in info.value.response.body
    async with connect(ws_url(srv)) as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": s["token"], "device": "x"}).decode())
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "device" in closed.value.rcvd.reason


async def test_frames_arrive_in_sequence_order_under_a_burst(
    srv: ServerProcess, api: Any, database_url: str
) -> None:
    lat, lon = push_spot()
    s = await seeker(api)
    # Three connections of one person, on either worker; the burst reaches them
    # through local sends, doorbells and (for the mover) location updates at once.
    phones = [await Phone.connect(srv.base_url, s["token"]) for _ in range(MAX_CONNECTIONS)]
    for phone in phones:
        await phone.move(lat, lon)
        await barrier(phone)
    emp = await new_employer(api)
    n = 15

    async def post(i: int) -> Any:
        return await new_vacancy(
            api, emp["api_key"], *offset(lat, lon, 100 + 30 * i, 24 * i), walk_in=False
        )

    async def wander() -> None:
        for i in range(6):
            await phones[0].move(*offset(lat, lon, 40 * (i % 2), 0))
            await asyncio.sleep(0.05)

    await asyncio.gather(wander(), *(post(i) for i in range(n)))
    stored = await until(
        lambda: len(rows := sql(database_url, "SELECT seq FROM push_deliveries"
                                " WHERE jobseeker_id = %s ORDER BY seq", s["id"])) == n and rows,
        within=20, what=f"{n} deliveries recorded",
    )  # fmt: skip
    want = [r[0] for r in stored]
    for phone in phones:
        got: list[dict[str, Any]] = []
        while len(got) < n:
            msg = await phone.recv(10)
            assert msg["type"] != "error", msg  # acks of what was sent are never limited
            if msg["type"] == "match":
                got.append(msg)
                await phone.send(type="ack", seq=msg["seq"])
        got += [m for m in await barrier(phone) if m["type"] == "match"]
        assert [m["seq"] for m in got] == want  # in order, none lost, none twice
    for phone in phones:
        await phone.close()


# --- authentication ---------------------------------------------------------------


async def test_auth_by_header_or_first_frame_never_by_url(srv: ServerProcess, api: Any) -> None:
    s = await seeker(api)
    for how in ("header", "frame"):
        phone = await Phone.connect(srv.base_url, s["token"], auth=how)  # type: ignore[arg-type]
        assert phone.hello["type"] == "hello"
        await phone.close()
    # A token in the URL is refused with a reason, even beside a valid header.
    headers = {"Authorization": f"Bearer {s['token']}", "Jotr-Device": new_device()}
    with pytest.raises(InvalidStatus) as info:
        await connect(ws_url(srv, f"?token={s['token']}"), additional_headers=headers)
    assert info.value.response.status_code == 400
    assert orjson.loads(info.value.response.body)["error"]["code"] == "token_in_url"
    # A browser that sends no auth frame, or a wrong one, is closed with 1008.
    for first in (None, {"type": "location", "lat": 56.1, "lon": 10.2},
                  {"type": "auth", "token": "jotr_js_forged", "device": new_device()}):  # fmt: skip
        async with connect(ws_url(srv)) as ws:
            if first is not None:
                await ws.send(orjson.dumps(first).decode())
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert closed.value.rcvd.reason


async def test_a_rotated_token_closes_the_websockets_opened_with_it(
    srv: ServerProcess, api: Any
) -> None:
    """Both workers: the one that served the rotation closes its sockets at once,
    the other within one presence refresh (1 s here, 20 s by default)."""
    s = await seeker(api)
    other = await seeker(api)
    phones = [
        await Phone.connect(srv.base_url, s["token"], auth=how)  # type: ignore[arg-type]
        for how in ("header", "frame", "header")
    ]
    bystander = await Phone.connect(srv.base_url, other["token"])
    r = await api.post("/v1/jobseekers/me/token", headers={"Authorization": f"Bearer {s['token']}"})
    assert r.status_code == 200, r.text
    new_token = r.json()["token"]
    TOKENS.append(new_token)
    for phone in phones:
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # frames queued before the close may still arrive
                await asyncio.wait_for(phone.ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert closed.value.rcvd.reason == "token revoked; sign in again"
    # The new token connects; the old one is refused; someone else stays connected.
    fresh = await Phone.connect(srv.base_url, new_token)
    with pytest.raises(InvalidStatus) as refused:
        await Phone.connect(srv.base_url, s["token"])
    assert refused.value.response.status_code == 403
    await bystander.send(type="resume", after_seq=0)
    assert (await bystander.recv(5))["type"] == "resumed"
    for phone in (fresh, bystander):
        await phone.close()


# --- limits ---------------------------------------------------------------------------


async def test_at_most_n_connections_per_person_across_workers(
    srv: ServerProcess, api: Any
) -> None:
    s = await seeker(api)
    phones = [await Phone.connect(srv.base_url, s["token"]) for _ in range(MAX_CONNECTIONS)]
    with pytest.raises(ConnectionClosed) as closed:
        await Phone.connect(srv.base_url, s["token"])
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert f"at most {MAX_CONNECTIONS} connections" in closed.value.rcvd.reason
    # Someone else is not affected; and closing one makes room again.
    other = await Phone.connect(srv.base_url, (await seeker(api))["token"])
    await phones[0].close()
    deadline = time.monotonic() + 10
    while True:
        try:
            phones[0] = await Phone.connect(srv.base_url, s["token"])
            break
        except ConnectionClosed:
            assert time.monotonic() < deadline, "no room after a close"
            await asyncio.sleep(0.1)
    for phone in [*phones, other]:
        await phone.close()


async def test_a_frame_flood_is_dropped_then_closed_and_normal_use_is_not(
    srv: ServerProcess, api: Any
) -> None:
    lat, lon = push_spot()
    steady = await Phone.connect(srv.base_url, (await seeker(api))["token"])
    for i in range(24):  # a lively app: ~8 frames a second for 3 s
        await steady.move(*offset(lat, lon, 30 * i, 90))
        await asyncio.sleep(0.12)
    assert [m for m in await barrier(steady) if m["type"] == "error"] == []
    await steady.close()

    flood = await Phone.connect(srv.base_url, (await seeker(api))["token"])
    frame = orjson.dumps({"type": "location", "lat": lat, "lon": lon}).decode()
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(3000):
            await flood.ws.send(frame)
        while True:
            msg = await flood.recv(10)
            assert msg["type"] == "error" and msg["code"] == "rate_limited", msg
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert closed.value.rcvd.reason == "too many messages"
    assert time.monotonic() - started < 10


# --- the log ------------------------------------------------------------------------


def test_no_token_reaches_the_log(srv: ServerProcess, log_file: Path) -> None:
    log = log_file.read_text(errors="replace")
    # The log was on (uvicorn logs every handshake, the refused ?token= one too) ...
    # (uvicorn's lines go through our JSON log handler, so their quotes are escaped.)
    assert re.search(r'WebSocket /v1/push\\?" 400', log) and "[accepted]" in log
    # ... and holds no token, from the URL or anywhere else.
    assert len(TOKENS) >= 5
    assert [t for t in TOKENS if t in log] == []
    assert "jotr_js_" not in log


# --- positions ----------------------------------------------------------------------


async def test_position_lives_with_the_connection_and_dies_with_its_worker(
    srv: ServerProcess, api: Any, database_url: str
) -> None:
    """Runs last against `srv`: it kills one of its workers."""
    lat, lon = push_spot()
    s = await seeker(api)
    phone = await Phone.connect(srv.base_url, s["token"])
    await phone.move(lat, lon)
    await barrier(phone)
    await until(lambda: has_position(database_url, s["id"]), 5, "position stored")
    (first,) = sql(
        database_url, "SELECT last_position_at FROM push_streams WHERE jobseeker_id = %s", s["id"]
    )
    # Kept alive by the connection's refreshes well past the 3 s TTL.
    await until(
        lambda: sql(database_url, "SELECT 1 FROM push_streams WHERE jobseeker_id = %s"
                    " AND last_position IS NOT NULL AND last_position_at > %s + interval '4 s'",
                    s["id"], first[0]),
        within=15, what="position refreshed past its TTL",
    )  # fmt: skip
    ((node,),) = sql(
        database_url, "SELECT node FROM push_presence WHERE jobseeker_id = %s", s["id"]
    )
    pid = int(node.split(":")[-2])
    assert pid != srv.proc.pid  # type: ignore[union-attr]  # a worker, not the supervisor
    os.kill(pid, signal.SIGKILL)  # no close, no cleanup
    killed = time.monotonic()
    await until(lambda: not has_position(database_url, s["id"]), TTL_S + 3, "position erased")
    erased_after = time.monotonic() - killed
    assert erased_after <= TTL_S + 3, erased_after
    await until(
        lambda: not sql(database_url, "SELECT 1 FROM push_presence WHERE node = %s", node),
        within=10, what="the dead worker's presence swept",
    )  # fmt: skip


@pytest.fixture
def private_cluster() -> Iterator[EmbeddedCluster]:
    # A 0755 directory: as root the server runs as `postgres` (tests/test_embedded_pg.py).
    home = Path(tempfile.mkdtemp(prefix="jotr-push-outage-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(data_dir=home / "pg", port=_free_port())
    cluster.start()
    try:
        command.upgrade(alembic_config(cluster.url), "head")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


async def test_a_close_during_a_database_outage_erases_the_position_afterwards(
    private_cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    url = private_cluster.url
    log = tmp_path / "server.log"
    # A long TTL: only the queued erasure can take the position away here.
    server = ServerProcess(url, env={"JOTR_POSITION_TTL_S": "600"}, stderr=log)
    server.start(wait_for="/healthz")  # no ESCO in this cluster: up, never ready
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20.0) as api:
            lat, lon = push_spot()
            s = await new_seeker(api, skills=[])  # this database has no ESCO
            phone = await Phone.connect(server.base_url, s["token"])
            await phone.move(lat, lon)
            await until(lambda: has_position(url, s["id"]), 5, "position stored")
            private_cluster.stop()
            await phone.close()
            await until(lambda: "queued until the database is back" in log.read_text(),
                        10, "the erasure queued")  # fmt: skip
            assert not server.proc.poll()  # type: ignore[union-attr]
            private_cluster.start()
            await until(lambda: not has_position(url, s["id"]), 20, "position erased")
            assert sql(url, "SELECT count(*) FROM push_presence") == [(0,)]
    finally:
        server.stop()


# --- signed-in devices (matcher/people/devices.py) -------------------------------------------


async def test_signing_one_device_out_closes_its_sockets_on_every_worker(
    srv: ServerProcess, api: Any
) -> None:
    """Device A's sockets close wherever they are (the serving worker at once,
    the other within one presence refresh); device B's stays open."""
    from tests.test_devices import second_device

    s = await seeker(api)
    token_b = await second_device(api, s["token"])
    TOKENS.append(token_b)
    a_phones = [await Phone.connect(srv.base_url, s["token"]) for _ in range(2)]
    b_phones = [await Phone.connect(srv.base_url, token_b)]  # 3 a person at most (ENV)
    r = await api.get("/v1/jobseekers/me/devices", headers={"Authorization": f"Bearer {token_b}"})
    a_id = next(d["id"] for d in r.json()["devices"] if not d["current"])
    r = await api.delete(
        f"/v1/jobseekers/me/devices/{a_id}", headers={"Authorization": f"Bearer {token_b}"}
    )
    assert r.status_code == 204, r.text
    for phone in a_phones:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(phone.ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    await asyncio.sleep(2.5)  # over two presence refreshes: B must still be open
    for phone in b_phones:
        await phone.send(type="resume", after_seq=0)
        assert (await phone.recv(5))["type"] == "resumed"
        await phone.close()
