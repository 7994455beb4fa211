"""The replica in a real server: a lost NOTIFY loses no vacancy.

A vacancy written straight into the database (as by a writer whose process died
between its commit and its NOTIFY, or any write around the API) never rings the
bus. The server's replica must still find it through its sync timer
(`JOTR_REPLICA_SYNC_S`), and matches over REST must list it within that period;
a hard delete must leave them as quickly (the deletion log, migration 0019).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.builders import auth, new_employer, new_seeker, new_vacancy, next_spot, occupation
from tests.conftest import ServerProcess, _libpq

SYNC_S = 0.5


@pytest.fixture(scope="module")
def replica_server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    # Push catch-up far away: only the replica's own timer may find the change.
    srv = ServerProcess(
        database_url, env={"JOTR_REPLICA_SYNC_S": str(SYNC_S), "JOTR_PUSH_CATCHUP_S": "600"}
    )
    srv.start()
    yield srv
    srv.stop()


async def _listed(c: httpx.AsyncClient, token: str, lat: float, lon: float) -> set[str]:
    r = await c.get(
        "/v1/jobseekers/me/matches",
        params={"lat": lat, "lon": lon, "include_weak": "true"},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    return {m["vacancy"]["id"] for m in r.json()["matches"]}


async def _wait_for(cond: object, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if await cond():  # type: ignore[operator]
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s")


async def test_a_vacancy_committed_without_notify_is_matched_within_the_sync_period(
    replica_server: ServerProcess, database_url: str
) -> None:
    lat, lon = next_spot()
    async with httpx.AsyncClient(base_url=replica_server.base_url, timeout=10) as c:
        r = await c.get("/readyz")
        assert r.status_code == 200, r.text
        assert "replica" in r.text
        emp = await new_employer(c)
        barista = occupation("barista")
        # A template posted through the API far away, copied by SQL next to the seeker.
        template = await new_vacancy(c, emp["api_key"], lat + 0.5, lon)
        seeker = await new_seeker(c, skills=barista["essential"][:3])
        assert template["id"] not in await _listed(c, seeker["token"], lat, lon)
        with psycopg.connect(_libpq(database_url), autocommit=True) as db:
            silent = db.execute(
                """INSERT INTO vacancies (id, employer_id, title, location, occupation_id,
                       required_skill_ids, required_skill_weights, job_type, hours_per_week,
                       min_age)
                   SELECT gen_random_uuid(), employer_id, 'Silent barista',
                          ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, occupation_id,
                          required_skill_ids, required_skill_weights, job_type,
                          hours_per_week, min_age
                   FROM vacancies WHERE id = %s RETURNING id""",
                (lon + 0.001, lat, template["id"]),
            ).fetchone()
            assert silent is not None
            silent_id = str(silent[0])

            async def listed() -> bool:
                return silent_id in await _listed(c, seeker["token"], lat, lon)

            took = await _wait_for(listed, 10 * SYNC_S)
            # The timer period plus a request's worth; generous on a busy machine.
            assert took <= SYNC_S + 1.5, took

            db.execute("DELETE FROM vacancies WHERE id = %s", (silent_id,))

            async def gone() -> bool:
                return silent_id not in await _listed(c, seeker["token"], lat, lon)

            assert await _wait_for(gone, 10 * SYNC_S) <= SYNC_S + 1.5
        r = await c.get("/metrics")
        assert "jotr_replica_rows" in r.text and "jotr_replica_sync_seconds" in r.text
