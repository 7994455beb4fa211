"""Deliveries of a batch recorded in one statement (push/delivery.py
`record_many`), on the sequence streams kept apart from the profile row
(`push_streams`, migration 0020)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.matching import geo
from push import delivery
from tests.builders import auth, new_employer, new_seeker, new_vacancy, next_spot
from tests.conftest import _libpq


async def test_one_statement_records_a_batch_for_many_people_in_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    employer = await new_employer(client)
    vacancies = [
        uuid.UUID((await new_vacancy(client, employer["api_key"], *next_spot()))["id"])
        for _ in range(3)
    ]
    a, b = await new_seeker(client), await new_seeker(client)
    a_id, b_id = uuid.UUID(a["id"]), uuid.UUID(b["id"])
    # b dismissed the second vacancy: never pushed, whichever path records it.
    r = await client.put(
        f"/v1/jobseekers/me/marks/{vacancies[1]}",
        json={"mark": "dismissed"},
        headers=auth(b["token"]),
    )
    assert r.status_code in (200, 204), r.text

    def item(v: uuid.UUID) -> delivery.Item:
        return (v, {"type": "match", "vacancy": {"id": str(v)}, "score": 0.7}, 0.7)

    # (The fixture's transaction is rolled back after the test.)
    raw = await geo.raw_connection(session)
    first = await delivery.record_many(
        raw, delivery.MATCH,
        [(a_id, item(vacancies[0])), (b_id, item(vacancies[0])), (a_id, item(vacancies[1])),
         (b_id, item(vacancies[1])), (b_id, item(vacancies[2]))],
    )  # fmt: skip
    got = {(d.jobseeker_id, d.payload["vacancy"]["id"]): d.seq for d in first}
    assert got == {
        (a_id, str(vacancies[0])): 1,
        (a_id, str(vacancies[1])): 2,
        (b_id, str(vacancies[0])): 1,
        # The dismissed one is left out before numbering: b's numbers stay dense.
        (b_id, str(vacancies[2])): 2,
    }
    # Once per vacancy: the one recorded before is not new and takes no number.
    again = await delivery.record_many(
        raw, delivery.MATCH, [(a_id, item(vacancies[0])), (a_id, item(vacancies[2]))]
    )
    assert [(d.jobseeker_id, d.seq) for d in again] == [(a_id, 3)]
    streams = await raw.fetch(
        "SELECT jobseeker_id, push_seq FROM push_streams WHERE jobseeker_id = ANY($1::uuid[])",
        [a_id, b_id],
    )
    assert {r["jobseeker_id"]: r["push_seq"] for r in streams} == {a_id: 3, b_id: 2}
    # The pushed feedback events came with them, one per new match.
    pushed = await raw.fetchval(
        "SELECT count(*) FROM match_events WHERE kind = 'pushed'"
        " AND jobseeker_id = ANY($1::uuid[])",
        [a_id, b_id],
    )
    assert pushed == 5


async def test_a_race_to_record_the_same_match_leaves_no_gap(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """A location update in one worker and a new-vacancy event in another both
    find the same match: one records it, the other records nothing and takes no
    number (the person's `last_seq` is always a delivery that exists)."""
    employer = await new_employer(client)
    v = uuid.UUID((await new_vacancy(client, employer["api_key"], *next_spot()))["id"])
    s = uuid.UUID((await new_seeker(client))["id"])
    item = (v, {"type": "match", "vacancy": {"id": str(v)}}, 0.5)
    first = await asyncpg.connect(_libpq(database_url))
    second = await asyncpg.connect(_libpq(database_url))
    try:
        tx = first.transaction()
        await tx.start()
        assert [d.seq for d in await delivery.record(first, s, delivery.MATCH, [item])] == [1]
        racing = asyncio.create_task(delivery.record(second, s, delivery.MATCH, [item]))
        pid = second.get_server_pid()
        deadline = asyncio.get_running_loop().time() + 10
        # The second waits for the first's lock on the person's stream.
        while not await first.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        ):
            assert not racing.done(), "the second recorder did not wait for the first"
            assert asyncio.get_running_loop().time() < deadline, "never waited"
            await asyncio.sleep(0.01)
        await tx.commit()
        assert await racing == []
        last = await first.fetchval("SELECT push_seq FROM push_streams WHERE jobseeker_id = $1", s)
    finally:
        await first.close()
        await second.close()
    assert last == 1


async def test_raw_connection_opens_the_sessions_transaction_and_shares_it(
    sessionmaker: Any,
) -> None:
    """`geo.raw_connection` hands out asyncpg inside the session's own
    transaction: what it writes, SQLAlchemy's later statements see (the same
    transaction id, no second BEGIN), and a rollback of the session undoes it."""
    from sqlalchemy import text

    async with sessionmaker() as session:
        raw = await geo.raw_connection(session)
        assert raw.is_in_transaction()
        xid = await raw.fetchval("SELECT txid_current()")
        assert (await session.execute(text("SELECT txid_current()"))).scalar() == xid
        await raw.execute("CREATE TEMP TABLE raw_probe (n int) ON COMMIT DROP")
        await raw.execute("INSERT INTO raw_probe VALUES (1)")
        assert (await session.execute(text("SELECT count(*) FROM raw_probe"))).scalar() == 1
        await session.rollback()
        assert not raw.is_in_transaction()
        raw = await geo.raw_connection(session)  # a new transaction on the same session
        assert await raw.fetchval("SELECT to_regclass('pg_temp.raw_probe')") is None
        assert await raw.fetchval("SELECT txid_current()") != xid
