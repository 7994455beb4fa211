"""Push heals itself: faults injected into real parts, end to end.

Real server processes, real websocket phones, and, for the faults, a private
PostgreSQL cluster and a private Redis that the tests may restart (never the
machine's shared ones). Every wait is a deadline on what should happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from pydantic import ValidationError
from websockets.exceptions import ConnectionClosed

from matcher.settings import Settings
from ops.embedded_pg import EmbeddedCluster
from push.bus import BusStatus, backoff_s, describe, readiness_problem
from push.catchup import ChangeLog
from tests.builders import auth, birth_date_for_age, new_employer, new_seeker, occupation
from tests.builders import vacancy_body as _vacancy_body
from tests.conftest import ServerProcess, _free_port, _libpq
from tests.push_client import Phone, push_spot
from tests.test_api_vacancies import offset

# Nodes whose catch-up timer is slow, so what heals them is the bus itself.
BUS_ONLY = {"JOTR_PUSH_CATCHUP_S": "300"}


def vacancy_body(lat: float, lon: float, **kw: Any) -> dict[str, Any]:
    return _vacancy_body(lat, lon, walk_in=False, **kw)


async def seeker(api: httpx.AsyncClient, radius: float = 800) -> dict[str, Any]:
    return await new_seeker(
        api, birth_date=birth_date_for_age(19), skills=occupation("barista")["essential"][:3],
        preferences={"radius_m": radius},
    )  # fmt: skip


async def post_vacancy(
    api: httpx.AsyncClient, key: str, lat: float, lon: float, within: float = 15.0
) -> tuple[dict[str, Any], float]:
    """Post until the node can write (it may be reconnecting to the database);
    returns the vacancy and the monotonic time it was committed."""
    deadline = time.monotonic() + within
    while True:
        try:
            r = await api.post("/v1/vacancies", json=vacancy_body(lat, lon), headers=auth(key))
            if r.status_code == 201:
                return r.json(), time.monotonic()
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the node never accepted the vacancy"
        await asyncio.sleep(0.1)


class Tracker:
    """A phone that acks everything it gets, remembering what it got."""

    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.got: list[dict[str, Any]] = []  # every match frame, replays included
        self.acked = 0

    async def expect(self, vacancy_id: str, within: float) -> float:
        """Wait for this vacancy's match; ack it; returns when it arrived."""
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"vacancy {vacancy_id} was not pushed within {within} s"
            try:
                msg = await self.phone.recv(left)
            except TimeoutError:
                continue
            if msg["type"] != "match":
                continue
            self.got.append(msg)
            await self.phone.send(type="ack", seq=msg["seq"])
            self.acked = max(self.acked, msg["seq"])
            if msg["vacancy"]["id"] == vacancy_id:
                return time.monotonic()

    async def stand(self, lat: float, lon: float) -> None:
        """Send a position and wait until the server has handled it (messages
        of one connection are handled in order; a resume is answered)."""
        await self.phone.move(lat, lon)
        await self.sync()

    async def sync(self) -> None:
        """Wait until the server has handled everything sent so far (acks
        included): a resume is answered in order."""
        await self.phone.send(type="resume", after_seq=self.acked)
        resumed = await self.phone.wait_for("resumed", within=10)
        assert resumed["count"] == 0, resumed

    async def nothing_pending(self, base_url: str) -> None:
        """Everything pushed was acked: the device connecting again is replayed nothing."""
        await self.sync()
        again = await self.phone.reconnect(base_url)
        assert again.replayed == [], again.replayed
        await again.close()

    def assert_once_each(self, vacancy_ids: list[str]) -> None:
        seqs = [m["seq"] for m in self.got]
        assert len(seqs) == len(set(seqs)), f"a delivery came twice: {seqs}"
        ids = [m["vacancy"]["id"] for m in self.got]
        assert sorted(ids) == sorted(vacancy_ids), (ids, vacancy_ids)


async def started(*servers: ServerProcess) -> list[ServerProcess]:
    """Start servers side by side (each takes seconds to import and load)."""
    try:
        await asyncio.gather(*(asyncio.to_thread(s.start, 60.0) for s in servers))
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return list(servers)


@contextlib.asynccontextmanager
async def clients(*servers: ServerProcess) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(httpx.AsyncClient(base_url=s.base_url, timeout=10.0))
            for s in servers
        ]


def counter(base_url: str, name: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    return sum(float(m) for m in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


# --- PostgreSQL restarts ------------------------------------------------------


@pytest.fixture(scope="module")
def private_pg(database_url: str, esco_loaded: object) -> Iterator[tuple[EmbeddedCluster, str]]:
    """A PostgreSQL cluster of our own, holding a copy of the test database
    (schema and ESCO), which a test may stop and start."""
    # A 0755 directory in /tmp: as root the server runs as `postgres`.
    home = Path(tempfile.mkdtemp(prefix="jotr-faults-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(data_dir=home / "pg", port=_free_port())
    try:
        cluster.start()
        admin = cluster.url
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE jotr_faults")
        url = admin.rsplit("/", 1)[0] + "/jotr_faults"
        dump = subprocess.Popen(
            ["pg_dump", "-Fc", "--no-owner", _libpq(database_url)], stdout=subprocess.PIPE
        )
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", url],
            stdin=dump.stdout,
            check=True,
        )
        assert dump.wait() == 0
        yield cluster, url
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


async def test_push_comes_back_after_postgres_restarts(
    private_pg: tuple[EmbeddedCluster, str],
) -> None:
    """Two nodes on the PostgreSQL bus; the seeker's phone on node A stands
    still while vacancies are posted on node B. PostgreSQL restarts: the
    listeners must reconnect (and catch up) without anyone moving."""
    cluster, url = private_pg
    a, b = await started(ServerProcess(url, env=BUS_ONLY), ServerProcess(url, env=BUS_ONLY))
    try:
        async with clients(a, b) as (api_a, api_b):
            lat, lon = push_spot()
            s = await seeker(api_a)
            phone = Tracker(await Phone.connect(a.base_url, s["token"]))
            await phone.stand(lat, lon)
            key = (await new_employer(api_b))["api_key"]
            v0, posted = await post_vacancy(api_b, key, *offset(lat, lon, 200, 0))
            before = await phone.expect(v0["id"], within=2) - posted

            cluster.stop()
            cluster.start()
            back = time.monotonic()
            # Posted as soon as node B writes again; reaches A by bus or catch-up.
            v1, posted = await post_vacancy(api_b, key, *offset(lat, lon, 250, 60))
            first = await phone.expect(v1["id"], within=5) - posted
            # Within 5 s of the database returning, push is as fast as before.
            v2, posted = await post_vacancy(api_b, key, *offset(lat, lon, 300, 120))
            after = await phone.expect(v2["id"], within=1) - posted
            assert time.monotonic() - back < 5 + after
            print(f"\npush latency: before {before * 1000:.0f} ms, first after restart "
                  f"{first * 1000:.0f} ms, then {after * 1000:.0f} ms")  # fmt: skip
            assert first < 1.0

            phone.assert_once_each([v0["id"], v1["id"], v2["id"]])
            await phone.nothing_pending(a.base_url)
            await phone.phone.close()
            assert counter(a.base_url, "jotr_push_bus_reconnects_total") >= 1
            assert counter(a.base_url, "jotr_push_bus_up") == 1  # the listener's health
            assert (await api_a.get("/readyz")).status_code == 200
    finally:
        a.stop()
        b.stop()


async def test_a_notify_never_sent_still_reaches_the_seeker(
    database_url: str, esco_loaded: object
) -> None:
    """Two nodes that do not share a bus (different channel prefixes), so every
    doorbell between them is lost: vacancy changes and deliveries still reach
    both of the seeker's phones through catch-up from the database."""
    fast = {"JOTR_PUSH_CATCHUP_S": "0.5"}
    a, b = await started(
        ServerProcess(database_url, env={**fast, "JOTR_BUS_PREFIX": "faults_a"}),
        ServerProcess(database_url, env={**fast, "JOTR_BUS_PREFIX": "faults_b"}),
    )
    try:
        async with clients(a, b) as (api_a, api_b):
            lat, lon = push_spot()
            s = await seeker(api_a)
            on_a = Tracker(await Phone.connect(a.base_url, s["token"]))
            on_b = Tracker(await Phone.connect(b.base_url, s["token"]))
            for t in (on_a, on_b):
                await t.stand(lat, lon)
            key = (await new_employer(api_a))["api_key"]
            posted = []
            for api, bearing in ((api_a, 0), (api_b, 180)):
                v, _ = await post_vacancy(api, key, *offset(lat, lon, 200, bearing))
                posted.append(v["id"])
                for t in (on_a, on_b):
                    await t.expect(v["id"], within=3)
            # The same deliveries (one seq each) on both phones, each once.
            for t in (on_a, on_b):
                t.assert_once_each(posted)
            assert {m["seq"] for m in on_a.got} == {m["seq"] for m in on_b.got}
            for t in (on_a, on_b):
                await t.nothing_pending(a.base_url)
                await t.phone.close()
            assert counter(b.base_url, "jotr_push_caught_up_total") >= 1
    finally:
        a.stop()
        b.stop()


# --- a worker dies ------------------------------------------------------------


def _worker_holding(port: int, client_port: int) -> int:
    """The pid of the server process holding the accepted socket of a client."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} and dport = :{client_port} )"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pids = {int(p) for p in re.findall(r"pid=(\d+)", out)}
    assert len(pids) == 1, out
    return pids.pop()


async def test_a_killed_worker_loses_nothing(database_url: str, esco_loaded: object) -> None:
    """A seeker walks past vacancies; the worker serving their phone is
    SIGKILLed halfway. The phone reconnects and resumes: every vacancy is
    pushed, none twice once acked."""
    (srv,) = await started(
        ServerProcess(database_url, workers=2, env={"JOTR_PUSH_PER_MINUTE": "100"})
    )
    try:
        async with httpx.AsyncClient(base_url=srv.base_url, timeout=10.0) as api:
            lat, lon = push_spot()
            key = (await new_employer(api))["api_key"]
            stops = [offset(lat, lon, 600 * i, 90) for i in range(6)]
            ids = []
            for la, lo in stops:  # one vacancy 150 m north of each stop
                v, _ = await post_vacancy(api, key, *offset(la, lo, 150, 0))
                ids.append(v["id"])
            s = await seeker(api, radius=250)
            track = Tracker(await Phone.connect(srv.base_url, s["token"]))
            for i, (la, lo) in enumerate(stops):
                if i == 3:  # halfway: kill the worker holding this phone
                    await track.sync()  # every ack so far is stored
                    client_port = track.phone.ws.transport.get_extra_info("sockname")[1]
                    os.kill(_worker_holding(srv.port, client_port), signal.SIGKILL)
                    await _until_closed(track.phone)
                    track.phone = await _reconnect(srv.base_url, track.phone)
                    assert track.phone.replayed == []  # nothing acked comes again
                await track.phone.move(la, lo)
                await track.expect(ids[i], within=5)
            track.assert_once_each(ids)
            await track.nothing_pending(srv.base_url)
            await track.phone.close()
    finally:
        srv.stop()


async def _until_closed(phone: Phone, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    with contextlib.suppress(ConnectionClosed):
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await phone.recv(deadline - time.monotonic())
        raise AssertionError("the connection outlived its worker")


async def _reconnect(base_url: str, phone: Phone, within: float = 10.0) -> Phone:
    deadline = time.monotonic() + within
    while True:
        try:
            return await phone.reconnect(base_url)
        except (OSError, ConnectionClosed, TimeoutError):
            assert time.monotonic() < deadline, "could not reconnect"
            await asyncio.sleep(0.1)


# --- Redis restarts -----------------------------------------------------------


class PrivateRedis:
    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if self.client().ping():
                    return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    r = PrivateRedis()
    r.start()
    yield r
    r.stop()


def _channels_heard(rc: redis.Redis, spy: Any) -> set[bytes]:
    """Channels of every message published so far: a sentinel published now
    arrives after all of them."""
    rc.publish("sentinel", "end")
    heard: list[bytes] = []
    deadline = time.monotonic() + 5
    while heard[-1:] != [b"sentinel"]:
        assert time.monotonic() < deadline, heard
        msg = spy.get_message(timeout=0.5)
        if msg and msg["type"] == "pmessage":
            heard.append(msg["channel"])
    return set(heard) - {b"sentinel"}


async def test_redis_bus_heals_after_a_restart_and_a_killed_subscriber(
    database_url: str, esco_loaded: object, private_redis: PrivateRedis
) -> None:
    env = {**BUS_ONLY, "JOTR_PUSH_BUS": "redis", "JOTR_REDIS_URL": private_redis.url,
           "JOTR_BUS_PREFIX": "faults_env1"}  # fmt: skip
    a, b = await started(ServerProcess(database_url, env=env), ServerProcess(database_url, env=env))
    try:
        async with clients(a, b) as (api_a, api_b):
            lat, lon = push_spot()
            s = await seeker(api_a)
            phone = Tracker(await Phone.connect(a.base_url, s["token"]))
            await phone.stand(lat, lon)
            key = (await new_employer(api_b))["api_key"]
            ids = []

            async def across(bearing: float, within: float) -> float:
                v, posted = await post_vacancy(api_b, key, *offset(lat, lon, 200, bearing))
                ids.append(v["id"])
                return await phone.expect(v["id"], within=within) - posted

            # Another environment on this Redis would hear nothing of ours: we
            # listen and publish on our prefix's channel only.
            rc = private_redis.client()
            assert rc.pubsub_channels() == [b"faults_env1_vacancy_events"]
            assert rc.pubsub_numsub("faults_env1_vacancy_events")[0][1] == 2
            spy = rc.pubsub()
            spy.psubscribe("*")
            print(f"\nacross nodes: {await across(0, 2) * 1000:.0f} ms")
            assert _channels_heard(rc, spy) == {b"faults_env1_vacancy_events"}
            spy.close()

            private_redis.stop()
            private_redis.start()  # down for a moment, everything in it gone
            rc = private_redis.client()
            healed = time.monotonic()
            first = await across(60, 5)
            again = await across(120, 1)
            print(f"after a restart: {first * 1000:.0f} ms, then {again * 1000:.0f} ms "
                  f"({time.monotonic() - healed:.1f} s after it)")  # fmt: skip

            # Both nodes' listeners are back (B's may still be backing off) ...
            deadline = time.monotonic() + 5
            while rc.pubsub_numsub("faults_env1_vacancy_events")[0][1] < 2:
                assert time.monotonic() < deadline, "a node's listener did not come back"
                await asyncio.sleep(0.05)
            # ... and are cut off again.
            killed = rc.client_kill_filter(_type="pubsub")
            assert killed == 2
            first = await across(180, 5)
            again = await across(240, 1)
            print(f"after CLIENT KILL: {first * 1000:.0f} ms, then {again * 1000:.0f} ms")
            assert counter(a.base_url, "jotr_push_bus_reconnects_total") >= 2

            phone.assert_once_each(ids)
            await phone.nothing_pending(a.base_url)
            await phone.phone.close()
    finally:
        a.stop()
        b.stop()


# --- the pieces, alone ----------------------------------------------------------


def test_logged_errors_never_show_a_password() -> None:
    exc = OSError("could not connect to postgresql://jotr:s3cret@db.internal:5432/jotr")
    text = describe(exc)
    assert "s3cret" not in text and "OSError" in text and "db.internal" in text


def test_readiness_tolerates_a_reconnect_but_not_an_outage() -> None:
    assert readiness_problem(BusStatus(True, None, None), 10, now=100) is None
    down = BusStatus(False, 95.0, "ConnectionError: listener connection closed")
    assert readiness_problem(down, 10, now=100) is None  # a blip: catch-up covers it
    problem = readiness_problem(down, 10, now=106)
    assert problem is not None and "11 s" in problem and "listener connection closed" in problem


def test_backoff_grows_with_jitter_up_to_the_cap() -> None:
    waits = [backoff_s(n, 0.5) for n in range(8)]
    assert 0.05 <= waits[0] <= 0.1 and all(w <= 0.5 for w in waits)
    assert waits[-1] >= 0.25


def test_change_log_applies_each_change_once_and_keeps_late_commits_findable() -> None:
    log = ChangeLog()
    log.floor = 10
    assert log.claim(12, now=0) and not log.claim(12, now=1)
    assert log.claim(None) and log.claim(None)  # an erased vacancy: always handled
    log.claim(15, now=50)
    log.prune(now=70)  # 12 is older than the lookback: the floor passes it, 15 stays
    assert log.floor == 12 and not log.claim(15, now=71)
    log.release(15)
    assert log.claim(15, now=72)  # applying failed: the next catch-up tries again


def test_the_bus_prefix_is_a_plain_name() -> None:
    assert Settings(bus_prefix="staging_2").bus_prefix == "staging_2"
    with pytest.raises(ValidationError):
        Settings(bus_prefix="a:b")
