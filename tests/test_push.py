"""Realtime push end to end: real websocket clients, a real server with two
worker processes, real PostGIS (and Redis for the scale-out bus)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.builders import (
    auth,
    birth_date_for_age,
    new_employer,
    new_seeker,
    new_vacancy,
    occupation,
)
from tests.conftest import ServerProcess, _libpq
from tests.push_client import Phone, push_spot
from tests.test_api_vacancies import offset

ALL_DAY = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture(scope="module")
def push_server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    srv = ServerProcess(database_url, workers=2)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
async def api(push_server: ServerProcess) -> Any:
    async with httpx.AsyncClient(base_url=push_server.base_url, timeout=10.0) as c:
        yield c


def barista_skills(n: int = 3) -> list[str]:
    return list(occupation("barista")["essential"][:n])


async def seeker_at(api: httpx.AsyncClient, age: int = 19, radius: float = 600, **kw: Any) -> Any:
    return await new_seeker(
        api, birth_date=birth_date_for_age(age), skills=barista_skills(),
        preferences={"radius_m": radius}, **kw,
    )  # fmt: skip


def matches(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == "match"]


async def test_refuses_connections_without_a_seeker_token(
    push_server: ServerProcess, api: Any
) -> None:
    emp = await new_employer(api)
    for token in ("", "jotr_js_forged", emp["api_key"]):
        with pytest.raises(InvalidStatus) as info:
            await Phone.connect(push_server.base_url, token)
        assert info.value.response.status_code == 403
    # Never in the URL, not even with a valid header besides (tests/test_push_devices.py).
    s = await seeker_at(api)
    from websockets.asyncio.client import connect

    url = push_server.base_url.replace("http://", "ws://") + f"/v1/push?token={s['token']}"
    with pytest.raises(InvalidStatus) as info:
        await connect(url)
    assert info.value.response.status_code == 400


async def test_a_walk_through_town_pushes_each_eligible_match_once(
    push_server: ServerProcess, api: Any
) -> None:
    lat, lon = push_spot()
    emp = await new_employer(api)
    key = emp["api_key"]
    route = [offset(lat, lon, 100 * i, 90) for i in range(21)]  # 2 km east
    software = occupation("software developer")
    placed = {
        "A": await new_vacancy(api, key, *offset(*route[5], 300, 0), title="A", walk_in=False),
        "B": await new_vacancy(api, key, *offset(*route[12], 400, 180), title="B", walk_in=False,
                               min_age=18),
        "C": await new_vacancy(api, key, *offset(*route[8], 100, 0), title="C", walk_in=False,
                               occupation_uri=software["uri"],
                               required_skills=[{"uri": u} for u in software["essential"][:5]],
                               optional_skills=[]),
        "D": await new_vacancy(api, key, *offset(*route[10], 1500, 0), title="D", walk_in=False),
        "E": await new_vacancy(api, key, *offset(*route[15], 200, 0), title="E", walk_in=False),
        "F": await new_vacancy(api, key, *offset(*route[17], 200, 180), title="F", walk_in=True,
                               opening_hours=ALL_DAY),
        "G": await new_vacancy(api, key, *offset(*route[3], 150, 180), title="G", walk_in=True,
                               opening_hours=None),
    }  # fmt: skip
    await api.delete(f"/v1/vacancies/{placed['E']['id']}", headers=auth(key))

    s = await seeker_at(api, age=19, radius=600)
    phone = await Phone.connect(push_server.base_url, s["token"])
    got: list[dict[str, Any]] = []
    for i, (plat, plon) in enumerate(route):
        await phone.move(plat, plon)
        for m in matches(await phone.drain(quiet=0.6)):
            got.append({**m, "step": i})
        await phone.move(*offset(plat, plon, 5, 0))  # barely moved: no work, no push
    await phone.close()

    titles = [m["vacancy"]["title"] for m in got]
    assert sorted(titles) == ["A", "B", "F"], titles
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    by_title = {m["vacancy"]["title"]: m for m in got}
    # The walk-in shop is announced only once the walker is within 300 m.
    assert by_title["F"]["walk_in_now"] is True and by_title["F"]["distance_m"] <= 300
    assert by_title["A"]["walk_in_now"] is False and by_title["A"]["distance_m"] <= 600
    assert by_title["A"]["score"] >= 0.5 and "required_skills" in by_title["A"]["explanation"]


async def test_an_under_18_never_receives_a_job_the_youth_rules_forbid(
    push_server: ServerProcess, api: Any
) -> None:
    lat, lon = push_spot()
    emp = await new_employer(api)
    key = emp["api_key"]
    p = offset(lat, lon, 200, 0)
    common = {"walk_in": False, "hours_per_week": 8}
    await new_vacancy(api, key, *p, title="ok", shift={"start": "16:00", "end": "20:00"}, **common)
    await new_vacancy(
        api, key, *p, title="night", shift={"start": "18:00", "end": "23:00"}, **common
    )
    await new_vacancy(api, key, *p, title="machines", hazardous=True, **common)
    await new_vacancy(api, key, *p, title="adults", min_age=18, **common)
    await new_vacancy(
        api, key, *p, title="long", hours_per_week=45, job_type="ordinary", walk_in=False
    )
    s = await seeker_at(api, age=16, radius=600)
    phone = await Phone.connect(push_server.base_url, s["token"])
    await phone.move(lat, lon)
    got = matches(await phone.drain(quiet=1.0))
    await phone.close()
    assert [m["vacancy"]["title"] for m in got] == ["ok"]


async def test_a_vacancy_posted_over_rest_reaches_a_seeker_standing_nearby(
    push_server: ServerProcess, api: Any
) -> None:
    lat, lon = push_spot()
    s = await seeker_at(api, radius=800)
    phones = [await Phone.connect(push_server.base_url, s["token"]) for _ in range(3)]
    # Three connections of one person (likely spread over both workers).
    for phone in phones:
        await phone.move(lat, lon)
        assert matches(await phone.drain(quiet=0.5)) == []
    emp = await new_employer(api)
    v = await new_vacancy(api, emp["api_key"], *offset(lat, lon, 250, 45), walk_in=False)
    got = [await phone.wait_for("match", within=5) for phone in phones]
    assert {m["vacancy"]["id"] for m in got} == {v["id"]}
    assert len({m["seq"] for m in got}) == 1  # one delivery, seen on every connection

    # Closing it withdraws it from everyone who got it.
    await api.delete(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    for phone in phones:
        w = await phone.wait_for("withdrawn", within=5)
        assert w["vacancy_id"] == v["id"] and w["seq"] > got[0]["seq"]
        await phone.close()


async def test_vacancies_that_appear_nearby_are_found_when_the_seeker_walks_to_them(
    push_server: ServerProcess, api: Any
) -> None:
    """Between cache rebuilds a location update touches no candidate query:
    vacancies created (or closed) meanwhile must still be seen."""
    lat, lon = push_spot()
    s = await seeker_at(api, radius=600)
    phone = await Phone.connect(push_server.base_url, s["token"])
    await phone.move(lat, lon)
    assert matches(await phone.drain(quiet=0.5)) == []
    emp = await new_employer(api)
    key = emp["api_key"]
    ahead = await new_vacancy(api, key, *offset(lat, lon, 900, 90), title="ahead", walk_in=False)
    closed = await new_vacancy(api, key, *offset(lat, lon, 950, 90), title="closed", walk_in=False)
    await api.delete(f"/v1/vacancies/{closed['id']}", headers=auth(key))
    assert matches(await phone.drain(quiet=0.8)) == []  # out of reach for now
    got = []
    for east in (100, 200, 300, 400):  # within the cache's margin: no rebuild
        await phone.move(*offset(lat, lon, east, 90))
        got += matches(await phone.drain(quiet=0.5))
    await phone.close()
    assert [m["vacancy"]["id"] for m in got] == [ahead["id"]]
    assert got[0]["distance_m"] <= 600


async def test_resume_replays_what_was_not_acked_in_order(
    push_server: ServerProcess, api: Any, database_url: str
) -> None:
    lat, lon = push_spot()
    emp = await new_employer(api)
    for i in range(3):
        await new_vacancy(
            api, emp["api_key"], *offset(lat, lon, 100 + 50 * i, 90 * i), walk_in=False
        )
    s = await seeker_at(api)
    phone = await Phone.connect(push_server.base_url, s["token"])
    await phone.move(lat, lon)
    first = matches(await phone.drain(quiet=1.0))
    assert len(first) == 3
    seqs = [m["seq"] for m in first]
    await phone.send(type="ack", seq=seqs[0])
    await phone.send(type="settings")  # answered after the ack is stored
    assert (await phone.wait_for("settings"))["type"] == "settings"
    phone.ws.transport.abort()  # the phone dies: no close handshake

    # The same device comes back: the server replays what it has not acked.
    again = await phone.reconnect(push_server.base_url)
    assert (again.hello["last_seq"], again.hello["acked_seq"]) == (seqs[-1], seqs[0])
    assert [m["seq"] for m in again.replayed] == seqs[1:]
    assert [m["vacancy"]["id"] for m in again.replayed] == [m["vacancy"]["id"] for m in first[1:]]
    await again.send(type="ack", seq=seqs[-1])
    # `resume` (older clients) only acknowledges: the replay happens on connect.
    await again.send(type="resume", after_seq=0)
    assert await again.drain(quiet=1.0) == [{"type": "resumed", "count": 0}]
    await again.close()
    assert (await again.reconnect(push_server.base_url)).replayed == []


async def test_deliveries_survive_a_server_restart(database_url: str, esco_loaded: object) -> None:
    first = ServerProcess(database_url, workers=1)
    first.start()
    try:
        async with httpx.AsyncClient(base_url=first.base_url) as api:
            lat, lon = push_spot()
            emp = await new_employer(api)
            v = await new_vacancy(api, emp["api_key"], *offset(lat, lon, 150, 0), walk_in=False)
            s = await seeker_at(api)
            phone = await Phone.connect(first.base_url, s["token"])
            await phone.move(lat, lon)
            (pushed,) = matches(await phone.drain(quiet=1.0))
    finally:
        first.stop()  # the worker dies before any ack
    second = ServerProcess(database_url, workers=1)
    second.start()
    try:
        phone = await phone.reconnect(second.base_url)
        replay = phone.replayed
        assert [(m["seq"], m["vacancy"]["id"]) for m in replay] == [(pushed["seq"], v["id"])]
        await phone.close()
    finally:
        second.stop()


async def test_bad_messages_get_errors_and_a_flood_closes(
    push_server: ServerProcess, api: Any
) -> None:
    s = await seeker_at(api)
    phone = await Phone.connect(push_server.base_url, s["token"])
    await phone.ws.send("this is not json")
    assert (await phone.recv())["code"] == "malformed"
    await phone.send(type="location", lat=123, lon=10)
    err = await phone.recv()
    assert err["type"] == "error" and "lat" in err["message"]
    await phone.send(type="teleport")
    assert (await phone.recv())["code"] == "unknown_type"
    # Still alive: a good message works.
    await phone.send(type="settings", radius_m=700, quiet_hours={"from": "22:00", "until": "07:00"})
    settings = await phone.recv()
    assert settings == {"type": "settings", "radius_m": 700.0, "paused": False, "min_score": 0.5,
                        "quiet_hours": {"from": "22:00", "until": "07:00"}}  # fmt: skip
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(20):
            await phone.ws.send("{")
            await phone.recv(within=2)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008


async def test_paused_seekers_get_nothing(push_server: ServerProcess, api: Any) -> None:
    lat, lon = push_spot()
    emp = await new_employer(api)
    await new_vacancy(api, emp["api_key"], *offset(lat, lon, 100, 0), walk_in=False)
    s = await seeker_at(api)
    phone = await Phone.connect(push_server.base_url, s["token"])
    await phone.send(type="settings", paused=True)
    assert (await phone.recv())["paused"] is True
    await phone.move(lat, lon)
    assert matches(await phone.drain(quiet=0.8)) == []
    await phone.send(type="settings", paused=False)
    await phone.recv()
    await phone.move(lat, lon)
    assert len(matches(await phone.drain(quiet=0.8))) == 1
    await phone.close()


async def test_position_is_erased_when_the_last_connection_closes(
    push_server: ServerProcess, api: Any, database_url: str
) -> None:
    lat, lon = push_spot()
    s = await seeker_at(api)
    phone = await Phone.connect(push_server.base_url, s["token"])
    await phone.move(lat, lon)
    await phone.drain(quiet=0.5)

    def position() -> Any:
        with psycopg.connect(_libpq(database_url)) as conn:
            row = conn.execute(
                "SELECT last_position IS NOT NULL, last_position_at FROM jobseekers j"
                " LEFT JOIN push_streams s ON s.jobseeker_id = j.id WHERE j.id = %s",
                (s["id"],),
            ).fetchone()
        assert row is not None
        return row

    assert position()[0] is True
    await phone.close()
    for _ in range(50):
        if position() == (False, None):
            break
        await asyncio.sleep(0.1)
    assert position() == (False, None)


async def test_redis_bus_carries_events_between_workers(
    database_url: str, esco_loaded: object
) -> None:
    srv = ServerProcess(database_url, workers=2, env={"JOTR_PUSH_BUS": "redis"})
    srv.start()
    try:
        async with httpx.AsyncClient(base_url=srv.base_url) as api:
            lat, lon = push_spot()
            s = await seeker_at(api)
            phones = [await Phone.connect(srv.base_url, s["token"]) for _ in range(4)]
            for phone in phones:
                await phone.move(lat, lon)
                await phone.drain(quiet=0.3)
            emp = await new_employer(api)
            v = await new_vacancy(api, emp["api_key"], *offset(lat, lon, 200, 0), walk_in=False)
            for phone in phones:
                assert (await phone.wait_for("match", within=5))["vacancy"]["id"] == v["id"]
                await phone.close()
    finally:
        srv.stop()


def test_quiet_hours_window_is_local_time() -> None:
    from push.rules import in_quiet_hours

    q_from, q_until = dt.time(22, 0), dt.time(7, 0)
    winter_23h_local = dt.datetime(2026, 1, 10, 22, 30, tzinfo=dt.UTC)  # 23:30 in Copenhagen
    assert in_quiet_hours(winter_23h_local, q_from, q_until)
    assert not in_quiet_hours(dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC), q_from, q_until)
    assert in_quiet_hours(dt.datetime(2026, 7, 10, 4, 30, tzinfo=dt.UTC), q_from, q_until)
    assert not in_quiet_hours(winter_23h_local, None, None)


async def test_a_laggard_is_dropped_and_others_carry_on(
    database_url: str, esco_loaded: object
) -> None:
    # A tiny outbox and no throttle make one burst overflow it on purpose.
    srv = ServerProcess(
        database_url, workers=1, env={"JOTR_PUSH_OUTBOX": "4", "JOTR_PUSH_PER_MINUTE": "1000"}
    )
    srv.start()
    try:
        async with httpx.AsyncClient(base_url=srv.base_url) as api:
            lat, lon = push_spot()
            emp = await new_employer(api)
            for i in range(12):
                await new_vacancy(api, emp["api_key"], *offset(lat, lon, 50 + 20 * i, 30 * i),
                                  walk_in=False)  # fmt: skip
            slow = await Phone.connect(srv.base_url, (await seeker_at(api))["token"])
            await slow.move(lat, lon)
            with pytest.raises(ConnectionClosed) as info:
                await slow.drain(quiet=2.0)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1013
            # Nothing was lost: everything recorded is replayed on reconnect, in
            # order, paced by the outbox (4 frames) rather than overflowing it.
            back = await slow.reconnect(srv.base_url)
            seqs = [m["seq"] for m in back.replayed]
            assert len(seqs) == back.hello["last_seq"] - back.hello["acked_seq"] >= 10
            assert seqs == sorted(seqs) == list(range(seqs[0], seqs[0] + len(seqs)))
            await back.close()
            # Another phone on the same worker is unaffected.
            other = await Phone.connect(srv.base_url, (await seeker_at(api))["token"])
            await other.send(type="settings", paused=False)
            assert (await other.recv())["type"] == "settings"
            await other.close()
    finally:
        srv.stop()


async def test_a_burst_of_vacancies_is_consumed_as_one_batch_and_reaches_everyone(
    database_url: str, esco_loaded: object
) -> None:
    """The consumer gathers vacancy changes for JOTR_PUSH_BATCH_MS (long here, so
    a burst of posts lands in one batch), scores them for every connection near
    them and records the batch's deliveries together: each person gets every
    vacancy once, in seq order, and the consumer's batch metric saw a batch of
    several messages."""
    srv = ServerProcess(database_url, workers=1, env={"JOTR_PUSH_BATCH_MS": "1500"})
    srv.start()
    try:
        async with httpx.AsyncClient(base_url=srv.base_url, timeout=10.0) as api:
            lat, lon = push_spot()
            people = [await seeker_at(api, radius=800) for _ in range(3)]
            phones = [await Phone.connect(srv.base_url, s["token"]) for s in people]
            for phone in phones:
                await phone.move(lat, lon)
                assert matches(await phone.drain(quiet=0.5)) == []
            emp = await new_employer(api)
            posted = await asyncio.gather(
                *(
                    new_vacancy(
                        api, emp["api_key"], *offset(lat, lon, 100 + 60 * i, 30 * i), walk_in=False
                    )
                    for i in range(4)
                )
            )
            want = {v["id"] for v in posted}
            for phone in phones:
                got = matches(await phone.drain(quiet=2.5))
                assert {m["vacancy"]["id"] for m in got} == want
                assert len(got) == len(want)  # once each
                assert [m["seq"] for m in got] == sorted(m["seq"] for m in got)
                await phone.close()
            text = (await api.get("/metrics")).text
        count = sum_ = 0.0
        for line in text.splitlines():
            if line.startswith("jotr_push_consumer_batch_count"):
                count += float(line.split()[-1])
            elif line.startswith("jotr_push_consumer_batch_sum"):
                sum_ += float(line.split()[-1])
        assert count >= 1 and sum_ > count, (count, sum_)  # some batch held several
    finally:
        srv.stop()
