"""The write side's unit of work (matcher/posting/unit_of_work.py), through every path
that closes a vacancy, against a real server, a real PostgreSQL and real phones.

- Closing records `withdrawn` exactly once per person who was pushed the match,
  whichever path closes it (the API, a hide by reports and then a moderator's
  close; the importer's sweep is tests/test_jobnet_search.py).
- A change is announced only after its commit: a listener on another
  connection that hears the doorbell can read the row (and its withdrawals).
- A transaction that rolls back announces nothing and records nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.models import Vacancy, VacancyStatus
from matcher.posting import events
from matcher.posting import vacancies as vacancy_service
from matcher.posting.events import VacancyEvent
from matcher.posting.unit_of_work import UnitOfWork
from push import write_side
from push.bus import channel_name
from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    occupation,
)
from tests.conftest import ServerProcess, _libpq
from tests.push_client import Phone, push_spot


async def watcher(client: httpx.AsyncClient, server: ServerProcess, lat: float, lon: float) -> Any:
    """A seeker whose phone stands at (lat, lon), ready to be pushed."""
    s = await new_seeker(
        client, birth_date=birth_date_for_age(19), skills=occupation("barista")["essential"][:3],
        preferences={"radius_m": 600},
    )  # fmt: skip
    phone = await Phone.connect(server.base_url, s["token"])
    await phone.move(lat, lon)
    return s, phone


async def deliveries(database_url: str, vacancy_id: str) -> list[tuple[str, str]]:
    """(seeker, kind) of every delivery of a vacancy."""
    conn = await asyncpg.connect(_libpq(database_url))
    try:
        rows = await conn.fetch(
            "SELECT jobseeker_id::text, kind FROM push_deliveries"
            " WHERE vacancy_id = $1 ORDER BY seq",
            uuid.UUID(vacancy_id),
        )
    finally:
        await conn.close()
    return [(r[0], r[1]) for r in rows]


def withdrawn(rows: list[tuple[str, str]]) -> list[str]:
    return sorted(s for s, kind in rows if kind == "withdrawn")


async def no_more_withdrawn(phone: Phone, quiet: float = 1.0) -> None:
    assert [m for m in await phone.drain(quiet) if m["type"] == "withdrawn"] == []


async def test_closing_over_the_api_withdraws_once_from_everyone_pushed(
    server: ServerProcess, client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = push_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    people = [await watcher(client, server, lat, lon) for _ in range(2)]
    try:
        for _, phone in people:
            assert (await phone.wait_for("match", within=10))["vacancy"]["id"] == v["id"]
        for _ in range(2):  # closing a closed vacancy changes nothing
            r = await client.delete(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
            assert r.status_code == 200 and r.json()["status"] == "closed"
        for _, phone in people:
            assert (await phone.wait_for("withdrawn", within=10))["vacancy_id"] == v["id"]
            await no_more_withdrawn(phone)
    finally:
        for _, phone in people:
            await phone.close()
    assert withdrawn(await deliveries(database_url, v["id"])) == sorted(s["id"] for s, _ in people)


async def test_hidden_by_reports_then_closed_by_a_moderator_withdraws_once(
    server: ServerProcess, client: httpx.AsyncClient, database_url: str
) -> None:
    from tests.test_employer_trust import report

    lat, lon = push_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    s, phone = await watcher(client, server, lat, lon)
    try:
        assert (await phone.wait_for("match", within=10))["vacancy"]["id"] == v["id"]
        for _ in range(3):  # JOTR_REPORTS_HIDE_AT (3): hidden at the third
            who = await new_seeker(client, birth_date=birth_date_for_age(20))
            assert (await report(client, who["token"], v["id"])).status_code == 201
        assert (await phone.wait_for("withdrawn", within=10))["vacancy_id"] == v["id"]
        assert withdrawn(await deliveries(database_url, v["id"])) == [s["id"]]

        con = new_consultant(database_url)
        r = await client.post(
            f"/v1/consultants/me/moderation/{v['id']}", json={"decision": "close"},
            headers=auth(con["token"]),
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["status"] == "closed", r.text
        await no_more_withdrawn(phone)
    finally:
        await phone.close()
    assert withdrawn(await deliveries(database_url, v["id"])) == [s["id"]]


@pytest.fixture
async def doorbells(database_url: str) -> AsyncIterator[asyncio.Queue[str]]:
    """The server's vacancy doorbells, heard on a connection of our own (the
    session's server rings on the PostgreSQL bus with the default prefix)."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(_libpq(database_url))
    await conn.add_listener(channel_name("jotr"), lambda *a: heard.put_nowait(str(a[-1])))
    try:
        yield heard
    finally:
        await conn.close()


async def until(done: Any, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_doorbell_rings_only_once_the_change_can_be_read(
    server: ServerProcess,
    client: httpx.AsyncClient,
    database_url: str,
    doorbells: asyncio.Queue[str],
) -> None:
    """Read on another connection the moment the doorbell is heard: the new
    vacancy is there; the closed one is closed and its withdrawals are there
    (they were written in the closing transaction)."""
    lat, lon = push_spot()
    emp = await new_employer(client)
    reader = await asyncpg.connect(_libpq(database_url))
    seen: dict[str, tuple[str | None, int]] = {}  # doorbell -> (status, withdrawn) then

    async def listen() -> None:
        while True:
            payload = await doorbells.get()
            if payload.startswith("deliver:"):  # "seeker has deliveries": not ours
                continue
            vid = VacancyEvent.decode(payload).vacancy_id
            row = await reader.fetchrow(
                "SELECT (SELECT status::text FROM vacancies WHERE id = $1),"
                " (SELECT count(*) FROM push_deliveries"
                "  WHERE vacancy_id = $1 AND kind = 'withdrawn')",
                vid,
            )
            seen[payload] = (row[0], row[1])

    listening = asyncio.create_task(listen())
    try:
        v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
        await until(lambda: f"created:{v['id']}" in seen)
        assert seen[f"created:{v['id']}"] == ("open", 0)

        _, phone = await watcher(client, server, lat, lon)
        try:
            assert (await phone.wait_for("match", within=10))["vacancy"]["id"] == v["id"]
        finally:
            await phone.close()
        r = await client.delete(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
        assert r.status_code == 200
        await until(lambda: f"closed:{v['id']}" in seen)
        assert seen[f"closed:{v['id']}"] == ("closed", 1)
    finally:
        listening.cancel()
        await reader.close()


# --- the unit of work in process, on the real database ---------------------------


class Recorder:
    def __init__(self, veto: bool = False) -> None:
        self.veto = veto
        self.closed: list[list[uuid.UUID]] = []
        self.announced: list[VacancyEvent] = []

    async def in_transaction(self, session: AsyncSession, closed: list[uuid.UUID]) -> None:
        self.closed.append(closed)
        if self.veto:
            raise RuntimeError("vetoed")

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        self.announced += events


async def open_vacancy_with_a_match(
    client: httpx.AsyncClient, server: ServerProcess
) -> tuple[str, str]:
    lat, lon = push_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    s, phone = await watcher(client, server, lat, lon)
    try:
        assert (await phone.wait_for("match", within=10))["vacancy"]["id"] == v["id"]
    finally:
        await phone.close()
    return v["id"], s["id"]


async def close_in(uow: UnitOfWork, vacancy_id: str) -> None:
    async with uow.transaction() as session:
        vacancy = await session.get(Vacancy, uuid.UUID(vacancy_id), with_for_update=True)
        assert vacancy is not None
        await vacancy_service.close(session, vacancy)


async def status_of(sessionmaker: async_sessionmaker[AsyncSession], vacancy_id: str) -> str:
    async with sessionmaker() as session:
        vacancy = await session.get(Vacancy, uuid.UUID(vacancy_id))
        assert vacancy is not None
        return vacancy.status.value


async def test_a_rolled_back_close_announces_nothing_and_withdraws_nothing(
    server: ServerProcess,
    client: httpx.AsyncClient,
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    vid, seeker_id = await open_vacancy_with_a_match(client, server)
    push, recorder = write_side.over_bus(None), Recorder()
    uow = UnitOfWork(sessionmaker, [push, recorder])

    # The block raises after the close: rolled back, the hooks never ran.
    with pytest.raises(LookupError):
        async with uow.transaction() as session:
            vacancy = await session.get(Vacancy, uuid.UUID(vid), with_for_update=True)
            assert vacancy is not None
            await vacancy_service.close(session, vacancy)
            raise LookupError("the route failed after closing")
    assert (recorder.closed, recorder.announced) == ([], [])

    # A hook vetoes in the transaction: the withdrawals push had recorded
    # before it roll back with the close, and nothing is announced.
    vetoed = UnitOfWork(sessionmaker, [push, Recorder(veto=True), recorder])
    with pytest.raises(RuntimeError, match="vetoed"):
        await close_in(vetoed, vid)
    assert push.withdrawals == 1  # recorded, then rolled back
    assert recorder.announced == []
    assert await status_of(sessionmaker, vid) == VacancyStatus.OPEN.value
    assert withdrawn(await deliveries(database_url, vid)) == []

    # Committed: withdrawn once, announced once; a second close adds nothing.
    await close_in(uow, vid)
    await close_in(uow, vid)
    assert recorder.closed == [[uuid.UUID(vid)], []]
    assert recorder.announced == [VacancyEvent(uuid.UUID(vid), "closed")]
    assert await status_of(sessionmaker, vid) == VacancyStatus.CLOSED.value
    assert withdrawn(await deliveries(database_url, vid)) == [seeker_id]


async def test_closing_several_in_one_transaction_withdraws_each_from_each_once(
    server: ServerProcess,
    client: httpx.AsyncClient,
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """As an import batch or a sweep does: two vacancies, two people pushed both."""
    lat, lon = push_spot()
    emp = await new_employer(client)
    ids = [
        (await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False))["id"] for _ in range(2)
    ]
    people = []
    for _ in range(2):
        s, phone = await watcher(client, server, lat, lon)
        try:
            got = {(await phone.wait_for("match", within=10))["vacancy"]["id"] for _ in ids}
        finally:
            await phone.close()
        assert got == set(ids)
        people.append(s["id"])
    push = write_side.over_bus(None)
    uow = UnitOfWork(sessionmaker, [push])
    async with uow.transaction() as session:
        for vid in ids:
            vacancy = await session.get(Vacancy, uuid.UUID(vid), with_for_update=True)
            assert vacancy is not None
            await vacancy_service.close(session, vacancy)
    assert push.withdrawals == 4
    for vid in ids:
        assert withdrawn(await deliveries(database_url, vid)) == sorted(people)


async def test_events_of_a_failed_commit_are_dropped(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A commit the database refuses (the row is flushed at commit and breaks
    a constraint) announces nothing either."""
    recorder = Recorder()
    uow = UnitOfWork(sessionmaker, [recorder])
    with pytest.raises(IntegrityError):
        async with uow.transaction() as session:
            events.emit(session, VacancyEvent(uuid.uuid4(), "created"))
            session.add(Vacancy(employer_id=uuid.uuid4(), title="nobody's"))
    assert recorder.announced == []


async def test_an_operator_verifying_from_the_cli_rings_for_the_open_vacancies(
    client: httpx.AsyncClient, database_url: str, doorbells: asyncio.Queue[str]
) -> None:
    """`jotr employer verify` writes through a unit of work too: the running
    servers hear that the employer's open vacancies changed (who they reach)."""
    from typer.testing import CliRunner

    from api.cli import app

    lat, lon = push_spot()
    emp = await new_employer(client, verified=False)
    v = await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False)
    env = {"DATABASE_URL": database_url, "JOTR_PUSH_BUS": "postgres"}
    done = await asyncio.to_thread(
        CliRunner().invoke, app, ["employer", "verify", emp["id"]], env=env
    )
    assert done.exit_code == 0, done.output
    deadline = asyncio.get_running_loop().time() + 10
    while (await asyncio.wait_for(doorbells.get(), 10)) != f"updated:{v['id']}":
        assert asyncio.get_running_loop().time() < deadline, "no doorbell"


async def test_a_match_recorded_while_the_vacancy_closes_is_withdrawn_or_not_recorded(
    client: httpx.AsyncClient, database_url: str
) -> None:
    from push import delivery

    lat, lon = push_spot()
    emp = await new_employer(client)
    v = uuid.UUID((await new_vacancy(client, emp["api_key"], lat, lon, walk_in=False))["id"])
    s = uuid.UUID((await new_seeker(client, birth_date=birth_date_for_age(19)))["id"])
    closer = await asyncpg.connect(_libpq(database_url))
    pusher = await asyncpg.connect(_libpq(database_url))
    try:
        # The importer's close (an UPDATE) with its withdrawals, not yet committed ...
        tx = closer.transaction()
        await tx.start()
        await closer.execute("UPDATE vacancies SET status = 'closed' WHERE id = $1", v)
        assert await delivery.record_withdrawals(closer, [v]) == 0  # no one was pushed it yet
        # ... while a worker that still holds the vacancy as open records a match.
        recording = asyncio.create_task(
            delivery.record(pusher, s, delivery.MATCH, [(v, {"type": "match"}, 0.9)])
        )
        pid = pusher.get_server_pid()

        async def settled() -> bool:  # recorded, or waiting for the closer's lock
            waiting = await closer.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
            )
            return recording.done() or bool(waiting)

        deadline = asyncio.get_running_loop().time() + 10
        while not await settled():
            assert asyncio.get_running_loop().time() < deadline, "the match never settled"
            await asyncio.sleep(0.02)
        await tx.commit()
        await recording
        kinds = {r[0] for r in await pusher.fetch(
            "SELECT kind FROM push_deliveries WHERE jobseeker_id = $1 AND vacancy_id = $2", s, v
        )}  # fmt: skip
    finally:
        await closer.close()
        await pusher.close()
    # Either it was not pushed at all, or the person is told it is gone.
    assert kinds in (set(), {"match", "withdrawn"}), kinds


async def test_a_workers_own_announcement_is_queued_once_and_its_bus_echo_dropped(
    database_url: str,
) -> None:
    """`PushHub.announce` queues a change for the worker's own consumer and
    publishes it; the bus (real LISTEN/NOTIFY) brings it back to the same
    worker, which drops that echo instead of handling the change twice. The
    same message from another worker still counts. A marker published last
    shows the echo has arrived (NOTIFY keeps commit order on a channel)."""
    from matcher.settings import Settings
    from push.bus import PgBus
    from push.hub import PushHub

    prefix = f"echo_{uuid.uuid4().hex[:8]}"
    dsn = _libpq(database_url)
    bus, other = PgBus(dsn, prefix), PgBus(dsn, prefix)
    hub = PushHub(None, None, Settings(), bus)  # type: ignore[arg-type]  # no reads here
    await bus.start(hub.ring)
    try:
        event = VacancyEvent(uuid.uuid4(), "created").encode()
        await hub.announce([VacancyEvent.decode(event)])
        await other.publish([event, "marker"])  # another worker: not an echo
        queued = []
        while "marker" not in queued:
            queued.append(await asyncio.wait_for(hub._inbox.get(), 5.0))
        assert queued == [event, event, "marker"]
    finally:
        await bus.close()
        await other.close()
