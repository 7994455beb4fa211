"""Beyond one machine: two server processes on different ports are two nodes,
each with its own hub (and its own in-memory state of the open vacancies),
sharing PostgreSQL and a Redis bus.

- A vacancy posted on node A is pushed to a phone connected to node B.
- With the bus down (a private redis-server stopped; never the machine's), a
  vacancy posted on A is still matched over REST on B and pushed on B within
  the catch-up period, and one closed on A is withdrawn on B.
- After the bus returns, both nodes converge: the same matches from each.
- A node that was killed and started again while vacancies were posted on the
  other one has them all (it loads from the database, not from the bus).

Only the public API is used (the matches endpoint and the websocket), so these
tests hold for whatever serves the matches behind it. Timers are short via the
environment; every wait is a deadline on what should happen.

The other node faults are in tests/test_push_faults.py: a lost NOTIFY, a
PostgreSQL restart, a Redis restart and a killed subscriber (CLIENT KILL), and a
worker SIGKILLed under a walking phone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest

from tests.builders import auth, new_employer
from tests.conftest import ServerProcess
from tests.push_client import Phone, push_spot
from tests.test_api_vacancies import offset
from tests.test_push_faults import (
    PrivateRedis,
    Tracker,
    clients,
    counter,
    post_vacancy,
    seeker,
    started,
)

CATCHUP_S = 1.0
# Short timers for every node: push catch-up from the change numbers, and the
# sync timer of the in-memory replica of open vacancies (once it exists; an
# unknown setting is ignored). Rate limits in memory: the test's Redis is the bus.
FAST = {
    "JOTR_PUSH_CATCHUP_S": str(CATCHUP_S),
    "JOTR_REPLICA_SYNC_S": "0.5",
    "JOTR_RATE_LIMIT_STORAGE": "memory",
}


@pytest.fixture
def bus_redis() -> Iterator[PrivateRedis]:
    """A redis-server of our own on a free port, which the test stops and starts."""
    r = PrivateRedis()
    r.start()
    yield r
    r.stop()


async def until(what: str, check: Callable[[], Awaitable[bool]], within: float) -> float:
    """Poll `check` until it holds; returns how long it took."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < within, f"{what}: not within {within} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def match_ids(api: httpx.AsyncClient, token: str, lat: float, lon: float) -> list[str]:
    r = await api.get(
        "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    return [m["vacancy"]["id"] for m in r.json()["matches"]]


def bus_up(base_url: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await asyncio.to_thread(counter, base_url, "jotr_push_bus_up") == 1

    return check


def bus_down(base_url: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await asyncio.to_thread(counter, base_url, "jotr_push_bus_up") == 0

    return check


async def test_two_nodes_push_across_and_converge_after_a_bus_outage(
    database_url: str, esco_loaded: object, bus_redis: PrivateRedis
) -> None:
    env = {**FAST, "JOTR_PUSH_BUS": "redis", "JOTR_REDIS_URL": bus_redis.url,
           "JOTR_BUS_PREFIX": f"nodes_{uuid.uuid4().hex[:8]}"}  # fmt: skip
    a, b = await started(ServerProcess(database_url, env=env), ServerProcess(database_url, env=env))
    try:
        async with clients(a, b) as (api_a, api_b):
            lat, lon = push_spot()
            s = await seeker(api_b)
            phone = Tracker(await Phone.connect(b.base_url, s["token"]))
            await phone.stand(lat, lon)
            key = (await new_employer(api_a))["api_key"]

            async def matches_on(api: httpx.AsyncClient) -> list[str]:
                return await match_ids(api, s["token"], lat, lon)

            # Posted on A, pushed on B over the bus.
            v1, posted = await post_vacancy(api_a, key, *offset(lat, lon, 200, 0))
            across = await phone.expect(v1["id"], within=2) - posted
            assert v1["id"] in await matches_on(api_b)

            # The bus goes down; both nodes notice.
            bus_redis.stop()
            for node in (a, b):
                await until("the node sees the bus down", bus_down(node.base_url), 15)

            # Posted on A meanwhile: matched over REST on B, and pushed on B by
            # catch-up from the database, within its period.
            v2, posted = await post_vacancy(api_a, key, *offset(lat, lon, 250, 90))
            rest_s, pushed_at = await asyncio.gather(
                until("matched on B", lambda: _has(matches_on(api_b), v2["id"]), CATCHUP_S + 5),
                phone.expect(v2["id"], within=CATCHUP_S + 3),
            )
            pushed_s = pushed_at - posted
            # Closed on A meanwhile: gone from B's matches, withdrawn from B's phone.
            r = await api_a.delete(f"/v1/vacancies/{v1['id']}", headers=auth(key))
            assert r.status_code == 200, r.text
            await until(
                "unmatched on B", lambda: _lacks(matches_on(api_b), v1["id"]), CATCHUP_S + 5
            )
            gone = await phone.phone.wait_for("withdrawn", within=CATCHUP_S + 3)
            assert gone["vacancy_id"] == v1["id"]
            await phone.phone.send(type="ack", seq=gone["seq"])
            phone.acked = max(phone.acked, gone["seq"])

            # The bus returns (empty: a restarted Redis remembers nothing).
            bus_redis.start()
            for node in (a, b):
                await until("the node's bus is back", bus_up(node.base_url), 15)
            v3, posted = await post_vacancy(api_a, key, *offset(lat, lon, 300, 180))
            after = await phone.expect(v3["id"], within=2) - posted
            v4, _ = await post_vacancy(api_b, key, *offset(lat, lon, 350, 270))
            await phone.expect(v4["id"], within=2)

            # Both nodes answer the same, and what they answer is right.
            async def same() -> bool:
                return await matches_on(api_a) == await matches_on(api_b)

            await until("the nodes agree", same, CATCHUP_S + 5)
            listed = await matches_on(api_a)
            assert {v2["id"], v3["id"], v4["id"]} <= set(listed)
            assert v1["id"] not in listed
            print(
                f"\nacross nodes {across * 1000:.0f} ms; bus down: matched on B in"
                f" {rest_s * 1000:.0f} ms, pushed on B in {pushed_s * 1000:.0f} ms"
                f" (catch-up every {CATCHUP_S:g} s); bus back: {after * 1000:.0f} ms"
            )
            phone.assert_once_each([v1["id"], v2["id"], v3["id"], v4["id"]])
            await phone.nothing_pending(b.base_url)
            await phone.phone.close()
    finally:
        a.stop()
        b.stop()


async def _has(listed: Awaitable[list[str]], vacancy_id: str) -> bool:
    return vacancy_id in await listed


async def _lacks(listed: Awaitable[list[str]], vacancy_id: str) -> bool:
    return vacancy_id not in await listed


async def test_a_node_killed_while_vacancies_were_posted_elsewhere_has_them_all(
    database_url: str, esco_loaded: object
) -> None:
    """Node B dies (SIGKILL) and vacancies are posted and closed on node A
    while it is down: no bus reaches a dead node. Started again, B matches and
    pushes the open ones and never the closed one."""
    env = {**FAST, "JOTR_BUS_PREFIX": f"nodes_{uuid.uuid4().hex[:8]}"}
    a, b = await started(ServerProcess(database_url, env=env), ServerProcess(database_url, env=env))
    try:
        async with clients(a, b) as (api_a, api_b):
            lat, lon = push_spot()
            s = await seeker(api_a)
            key = (await new_employer(api_a))["api_key"]
            before, _ = await post_vacancy(api_a, key, *offset(lat, lon, 200, 0))
            # B has it (its replica caught up on the doorbell or its timer) ...
            await until(
                "B matches the vacancy posted on A",
                lambda: _has(match_ids(api_b, s["token"], lat, lon), before["id"]),
                CATCHUP_S + 5,
            )
            assert b.proc is not None
            os.kill(b.proc.pid, signal.SIGKILL)
            b.proc.wait()
            # ... then misses everything that happens meanwhile.
            while_down = []
            for bearing in (90, 180):
                v, _ = await post_vacancy(api_a, key, *offset(lat, lon, 250, bearing))
                while_down.append(v["id"])
            r = await api_a.delete(f"/v1/vacancies/{before['id']}", headers=auth(key))
            assert r.status_code == 200, r.text

            await asyncio.to_thread(b.start, 60.0)
            listed = await match_ids(api_b, s["token"], lat, lon)
            assert set(while_down) <= set(listed) and before["id"] not in listed
            phone = Tracker(await Phone.connect(b.base_url, s["token"]))
            await phone.phone.move(lat, lon)
            for vid in while_down:
                await phone.expect(vid, within=5)
            phone.assert_once_each(while_down)
            await phone.nothing_pending(b.base_url)
            await phone.phone.close()
    finally:
        a.stop()
        b.stop()
