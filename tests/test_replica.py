"""The replica of open vacancies against a brute-force scan and against PostGIS.

- Hypothesis: `within` (after loads, upserts, removals, compaction) equals a
  scan of the rows it was given, filtered and ordered the same way.
- The oracle: in a seeded database (Copenhagen-dense, with closed, hidden,
  expired, unverified walk-in, certificate and min-age rows) `within` returns
  what CANDIDATES_SQL returns without its LIMIT: the same ids in the same order
  up to ties, distances within 1 cm, the same columns.
- Incremental apply after insert / update / close / hide / verify the employer /
  delete equals a fresh load; poison rows are skipped and counted, never fatal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import asyncpg
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.readiness import check_replica
from matcher import metrics, profile
from matcher.matching import geo
from matcher.matching.replica import VacancyReplica
from matcher.matching.scoring import CandidateBatch
from matcher.matching.spatial import haversine_m
from matcher.settings import Settings
from push.areas import AreaCache
from tests.conftest import _libpq, migrated_database

CPH = (55.6761, 12.5683)
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

# --- rows without a database (for Hypothesis) ------------------------------------

_COLUMNS = (  # noqa: SIM905 (the candidate SELECT's names, then the replica's)
    "id distance_m required_skill_ids required_skill_weights optional_skill_ids work_profile "
    "job_type hours_per_week start_in_days walk_in min_age shift_start_min shift_end_min "
    "light_work schedule workplace_kind alcohol_served may_work_alone hazards kind "
    "volunteering_is_work max_age certificates_ok employer_verified occupation_id lat lon "
    "required_certificates start_day expires_epoch change_no open"
).split()


class Row(tuple):  # type: ignore[type-arg]
    """An asyncpg.Record stand-in: by position (geo's batch build) and by name."""

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, _COLUMNS.index(key))
        return tuple.__getitem__(self, key)


def make_row(
    vid: uuid.UUID, lat: float, lon: float, *, min_age: int = 15, certs: tuple[str, ...] = (),
    expires: float = float("inf"), start_day: float | None = None, kind: str = "job",
    is_open: bool = True, skills: tuple[int, ...] = (1, 2),
) -> Row:  # fmt: skip
    return Row((
        vid, 0.0, list(skills), [1.0] * len(skills), [3], None, "ordinary", 20.0, 0, False,
        min_age, None, None, False, None, "other", False, False, [], kind, False, None, False,
        True, None, lat, lon, list(certs), start_day, expires, 1, is_open,
    ))  # fmt: skip


def brute(
    rows: dict[uuid.UUID, Row], p: tuple[float, float], r: float, age: int, certs: frozenset[str]
) -> list[tuple[uuid.UUID, float, bool]]:
    out = []
    for vid, row in rows.items():
        d = float(haversine_m(p[0], p[1], np.array([row["lat"]]), np.array([row["lon"]]))[0])
        if d <= r and row["min_age"] <= age and row["expires_epoch"] > NOW.timestamp():
            out.append((vid, d, set(row["required_certificates"]) <= certs))
    return sorted(out, key=lambda t: (t[1], str(t[0])))


points = st.tuples(st.floats(55.55, 55.80), st.floats(12.35, 12.75))
row_specs = st.tuples(
    points, st.integers(13, 18), st.sampled_from([(), ("forklift",), ("first_aid", "forklift")]),
    st.sampled_from([float("inf"), NOW.timestamp() - 10, NOW.timestamp() + 10]),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    first=st.lists(row_specs, max_size=80),
    later=st.lists(row_specs, max_size=40),
    moves=st.lists(st.tuples(st.integers(0, 119), points), max_size=20),
    closes=st.lists(st.integers(0, 119), max_size=20),
    queries=st.lists(
        st.tuples(points, st.floats(0, 15_000), st.integers(13, 20), st.booleans()), max_size=4
    ),
    compact=st.booleans(),
)
def test_within_equals_brute_force(
    first: list[Any], later: list[Any], moves: list[Any], closes: list[int],
    queries: list[Any], compact: bool,
) -> None:  # fmt: skip
    rnd = random.Random(len(first) * 1000 + len(later))
    replica = VacancyReplica()
    held: dict[uuid.UUID, Row] = {}
    ids: list[uuid.UUID] = []

    def spec_row(spec: Any, vid: uuid.UUID | None = None) -> Row:
        (lat, lon), age, certs, expires = spec
        vid = vid or uuid.UUID(int=rnd.getrandbits(128))
        return make_row(vid, lat, lon, min_age=age, certs=certs, expires=expires)

    rows = [spec_row(s) for s in first]
    replica.apply_rows(rows)
    held.update((r["id"], r) for r in rows)
    ids += [r["id"] for r in rows]
    rows = [spec_row(s) for s in later]
    replica.apply_rows(rows)
    held.update((r["id"], r) for r in rows)
    ids += [r["id"] for r in rows]
    for k, p in moves:  # an update that moves the vacancy
        if k < len(ids) and ids[k] in held:
            old = held[ids[k]]
            needs = tuple(old["required_certificates"])
            new = make_row(ids[k], *p, min_age=old["min_age"], certs=needs)
            replica.apply_rows([new])
            held[ids[k]] = new
    for k in closes:
        if k < len(ids):
            replica.apply_rows([make_row(ids[k], *CPH, is_open=False)])
            held.pop(ids[k], None)
    if compact:
        replica.compact(NOW)
    assert len(replica) <= len(held)  # compaction drops the expired ones
    for p, r, age, has_cert in queries:
        certs = frozenset({"forklift"}) if has_cert else frozenset()
        hits = replica.within(p[0], p[1], r, age=age, certificates=certs, now=NOW)
        want = brute(held, p, r, age, certs)
        got = list(zip(hits.batch.ids, hits.batch.distance_m.tolist(), strict=True))
        assert sorted(map(str, (v for v, _ in got))) == sorted(str(v) for v, _, _ in want)
        assert np.all(np.diff(hits.batch.distance_m) >= 0)  # nearest first
        d_want = {v: d for v, d, _ in want}
        for v, d in got:
            assert abs(d - d_want[v]) < 1e-3  # type: ignore[index]
        ok_want: dict[object, bool] = {v: ok for v, _, ok in want}
        assert hits.batch.eligibility.certificates_ok.tolist() == [
            ok_want[v]
            for v in hits.batch.ids  # type: ignore[index]
        ]
        for k, v in enumerate(hits.batch.ids):
            assert (hits.lats[k], hits.lons[k]) == (held[v]["lat"], held[v]["lon"])  # type: ignore[index]


def test_an_id_given_twice_is_held_once() -> None:
    """The later row of an id wins, also in the first rows a replica is given
    (before its index exists) and after it reorders them."""
    vid = uuid.uuid4()
    replica = VacancyReplica()
    replica.apply_rows([make_row(vid, *CPH), make_row(vid, CPH[0] + 0.001, CPH[1])])
    for _ in range(2):
        hits = replica.within(*CPH, 5_000, age=18, now=NOW)
        assert hits.batch.ids == [vid] and len(replica) == 1
        assert hits.lats.tolist() == [CPH[0] + 0.001]
        replica._reorder()


def test_start_in_days_is_evaluated_at_query_time() -> None:
    replica = VacancyReplica()
    day = (NOW.date() - dt.date(1970, 1, 1)).days
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    replica.apply_rows([
        make_row(a, *CPH, start_day=day + 10),
        make_row(b, *CPH, start_day=day + 10_000),  # absurd: unknown
        make_row(c, *CPH, start_day=None),
    ])  # fmt: skip
    hits = replica.within(*CPH, 10, age=18, now=NOW)
    got = dict(zip(hits.batch.ids, hits.batch.start_in_days.tolist(), strict=True))
    assert got[a] == 10 and np.isnan(got[b]) and np.isnan(got[c])
    later = replica.within(*CPH, 10, age=18, now=NOW + dt.timedelta(days=3))
    assert dict(zip(later.batch.ids, later.batch.start_in_days.tolist(), strict=True))[a] == 7


def test_a_poison_row_is_skipped_and_counted_not_fatal() -> None:
    replica = VacancyReplica()
    good, bad, worse = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    poison = list(make_row(bad, *CPH))
    poison[2] = [1, None]  # a NULL inside the skill ids
    broken = list(make_row(worse, *CPH))
    broken[14] = "{not json"  # a schedule that is not JSON at all
    before = metrics.UNUSABLE_VACANCY_ROWS.labels("required_skill_ids")._value.get()
    replica.apply_rows([make_row(good, *CPH), Row(poison), Row(broken)])
    assert list(replica.within(*CPH, 100, age=18).batch.ids) == [good]
    assert replica.skipped == 2
    after = metrics.UNUSABLE_VACANCY_ROWS.labels("required_skill_ids")._value.get()
    assert after == before + 1


# --- the PostGIS oracle -------------------------------------------------------------


@pytest.fixture(scope="module")
def replica_db() -> Iterator[str]:
    with migrated_database("jotr_replica") as url:
        yield _libpq(url)


@pytest.fixture
async def conn(replica_db: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(replica_db)
    await c.execute("TRUNCATE vacancies, employers CASCADE; TRUNCATE vacancy_deletions")
    try:
        yield c
    finally:
        await c.close()


async def new_employer(conn: asyncpg.Connection, verified: bool) -> uuid.UUID:
    eid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO employers (id, name, cvr, api_key_hash, verification_status)"
        " VALUES ($1, 'E', $2, $3, $4)",
        eid, str(10_000_000 + random.randrange(89_999_999)), hashlib.sha256(eid.bytes).digest(),
        "verified" if verified else "unverified",
    )  # fmt: skip
    return eid


SCHEDULE = '[{"days": ["mon", "tue"], "start": "09:00", "end": "15:00"}]'


async def seed(conn: asyncpg.Connection, n: int, seed: int = 1) -> list[uuid.UUID]:
    """n vacancies, half within ~3 km of Copenhagen's city hall, of every kind."""
    rng = random.Random(seed)
    employers = [await new_employer(conn, v) for v in (True, False, True)]
    rows = []
    for i in range(n):
        if i % 2:
            lat, lon = CPH[0] + rng.gauss(0, 0.02), CPH[1] + rng.gauss(0, 0.035)
        else:
            lat, lon = rng.uniform(54.8, 57.5), rng.uniform(8.2, 12.6)
        if i % 17 == 0:  # exact duplicates of a place: ties
            lat, lon = CPH
        status = "closed" if i % 23 == 0 else "open"
        soon = dt.timedelta(days=rng.randint(-3, 30))
        expires = None if i % 5 else dt.datetime.now(dt.UTC) + soon
        start = None if i % 3 else dt.date.today() + dt.timedelta(days=rng.randint(-30, 900))
        schedule = SCHEDULE if i % 7 == 0 else None
        kind = rng.choice(["job", "job", "leisure", "volunteering"])
        job = kind == "job"
        rows.append((
            uuid.uuid4(), employers[i % 3], f"V{i}", f"SRID=4326;POINT({lon} {lat})",
            [rng.randint(1, 500) for _ in range(rng.randint(0, 6))],
            rng.choice([[], ["forklift"], ["first_aid", "forklift"]]) if i % 4 == 0 else [],
            None if i % 2 else [round(rng.random(), 2) for _ in range(profile.SIZE)],
            rng.choice(["ordinary", "fritidsjob", "fleksjob"]) if job else None,
            rng.choice([10.0, 37.0]) if job else rng.choice([None, 4.0]),
            rng.choice([13, 15, 16, 18]), i % 6 == 0,
            start, expires, status, kind,
            schedule, rng.choice([None, dt.time(8, 0)]), rng.choice([None, dt.time(22, 0)]),
            rng.choice([None, 25]), rng.choice([None, 1234]),
        ))  # fmt: skip
    await conn.executemany(
        """INSERT INTO vacancies (id, employer_id, title, location, required_skill_ids,
               required_skill_weights, required_certificates, work_profile, job_type,
               hours_per_week, min_age, walk_in, start_date, expires_at, status, kind,
               schedule, shift_start, shift_end, max_age, occupation_id)
           VALUES ($1, $2, $3, $4::geography, $5::int[],
               array_fill(1.0::real, ARRAY[cardinality($5::int[])]), $6::varchar[], $7::real[],
               $8::job_type, $9, $10, $11, $12, $13, $14::vacancy_status, $15, $16::jsonb,
               $17, $18, $19, (SELECT id FROM occupations WHERE id = $20))""",
        rows,
    )
    # Hidden after enough reports: only rows this call made (another test holds a
    # row of an earlier seed under a lock while seeding again).
    ids = [r[0] for r in rows]
    await conn.execute(
        "UPDATE vacancies SET hidden_at = now() WHERE title LIKE 'V%3' AND id = ANY($1)", ids
    )
    return ids


UNCAPPED = 10_000_000


async def sql_candidates(
    conn: asyncpg.Connection, p: tuple[float, float], r: float, age: int, certs: list[str]
) -> CandidateBatch:
    rows = await conn.fetch(geo.CANDIDATES_SQL, p[1], p[0], certs, r, age, UNCAPPED)
    return geo.batch_from_rows(rows)


def assert_same(replica_batch: CandidateBatch, sql_batch: CandidateBatch) -> None:
    """Same ids in the same order up to ties, distances within 1 cm, same columns."""
    assert len(replica_batch) == len(sql_batch)
    np.testing.assert_allclose(replica_batch.distance_m, sql_batch.distance_m, rtol=0, atol=0.01)

    # Up to ties: order both by (rounded distance, id) and compare every column.
    def order(b: CandidateBatch) -> np.ndarray:
        keys = [(round(float(d), 2), str(i)) for d, i in zip(b.distance_m, b.ids, strict=True)]
        return np.array(sorted(range(len(b)), key=keys.__getitem__), dtype=np.int64)

    a, b = replica_batch.take(order(replica_batch)), sql_batch.take(order(sql_batch))
    assert a.ids == b.ids
    for f in dataclasses.fields(CandidateBatch):
        if f.name in ("ids", "distance_m", "eligibility"):
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x is None or y is None:
            assert x is None and y is None, f.name
            continue
        np.testing.assert_array_equal(x, y, err_msg=f.name)
    for f in dataclasses.fields(a.eligibility):
        np.testing.assert_array_equal(
            getattr(a.eligibility, f.name), getattr(b.eligibility, f.name), err_msg=f.name
        )


QUERIES = [
    (CPH, 1_000.0, 18, []),
    (CPH, 5_000.0, 15, ["forklift"]),
    (CPH, 10_000.0, 16, ["first_aid", "forklift"]),
    ((55.70, 12.55), 3_000.0, 13, []),
    ((56.15, 10.20), 100_000.0, 18, ["forklift"]),
    ((55.0, 9.0), 500_000.0, 17, []),
]


async def test_within_equals_candidates_sql_without_limit(conn: asyncpg.Connection) -> None:
    await seed(conn, 1500)
    replica = VacancyReplica()
    await replica.load(conn)
    assert len(replica) > 0
    for p, r, age, certs in QUERIES:
        hits = replica.within(*p, r, age=age, certificates=certs)
        assert_same(hits.batch, await sql_candidates(conn, p, r, age, certs))


async def test_incremental_apply_equals_a_fresh_load(conn: asyncpg.Connection) -> None:
    ids = await seed(conn, 600, seed=2)
    replica = VacancyReplica()
    await replica.load(conn)
    unverified = await conn.fetchval(
        "SELECT employer_id FROM vacancies WHERE NOT employer_verified LIMIT 1"
    )
    more = await seed(conn, 200, seed=3)  # insert (and new employers)
    await conn.execute(  # update: move some into the centre, change skills
        "UPDATE vacancies SET location = 'SRID=4326;POINT(12.57 55.68)'::geography,"
        " required_skill_ids = '{7,8}', required_skill_weights = '{1,2}' WHERE id = ANY($1)",
        ids[:40],
    )
    await conn.execute("UPDATE vacancies SET status = 'closed' WHERE id = ANY($1)", ids[40:80])
    await conn.execute("UPDATE vacancies SET hidden_at = now() WHERE id = ANY($1)", ids[80:120])
    await conn.execute(  # reopen some closed ones, extend an expired one
        "UPDATE vacancies SET status = 'open', expires_at = now() + interval '1 day'"
        " WHERE id = ANY($1)",
        ids[120:200],
    )
    await conn.execute(
        "UPDATE employers SET verification_status = 'verified' WHERE id = $1", unverified
    )
    await conn.execute("DELETE FROM vacancies WHERE id = ANY($1)", ids[200:260] + more[:20])
    applied = await replica.sync(conn)
    assert applied > 0
    fresh = VacancyReplica()
    await fresh.load(conn)
    assert sorted(map(str, replica._row_of)) == sorted(map(str, fresh._row_of))
    for p, r, age, certs in QUERIES:
        got = replica.within(*p, r, age=age, certificates=certs)
        assert_same(got.batch, fresh.within(*p, r, age=age, certificates=certs).batch)
        assert_same(got.batch, await sql_candidates(conn, p, r, age, certs))
    assert await replica.sync(conn) == 0  # nothing more to apply


async def test_a_slow_transaction_below_the_floor_is_still_found(
    conn: asyncpg.Connection, replica_db: str
) -> None:
    """A change number taken before others but committed after them is applied
    on a later sync (the ChangeLog's lookback)."""
    await seed(conn, 50, seed=4)
    replica = VacancyReplica()
    await replica.load(conn)
    slow = await asyncpg.connect(replica_db)
    try:
        tx = slow.transaction()
        await tx.start()
        vid = await slow.fetchval(
            "UPDATE vacancies SET min_age = 13, status = 'open', hidden_at = NULL,"
            " expires_at = NULL WHERE id = (SELECT id FROM vacancies ORDER BY id LIMIT 1)"
            " RETURNING id"
        )
        await seed(conn, 10, seed=5)  # later numbers, committed first
        await replica.sync(conn)
        await tx.commit()
    finally:
        await slow.close()
    await replica.sync(conn)
    hits = replica.candidate_for_all(vid)
    assert hits is not None and int(hits[0].eligibility.min_age[0]) == 13


async def test_poison_rows_in_the_database_are_skipped(conn: asyncpg.Connection) -> None:
    ids = await seed(conn, 100, seed=6)
    await conn.execute("UPDATE vacancies SET status = 'open', hidden_at = NULL, expires_at = NULL")
    # Written around the API: a profile of the wrong length, a negative skill id.
    await conn.execute("UPDATE vacancies SET work_profile = '{0.5,0.5}' WHERE id = $1", ids[0])
    await conn.execute(
        "UPDATE vacancies SET required_skill_ids = '{-4}', required_skill_weights = '{1}'"
        " WHERE id = $1",
        ids[1],
    )
    replica = VacancyReplica()
    await replica.load(conn)
    assert ids[0] not in replica and ids[1] not in replica
    assert len(replica) == 98 and replica.skipped == 2
    await conn.execute("UPDATE vacancies SET work_profile = NULL WHERE id = $1", ids[0])
    await conn.execute("UPDATE vacancies SET work_profile = '{2,2}' WHERE id = $1", ids[2])
    await replica.sync(conn)
    assert ids[0] in replica and ids[2] not in replica  # healed; poisoned by an update


async def test_candidate_for_all_matches_the_sql(conn: asyncpg.Connection) -> None:
    ids = await seed(conn, 200, seed=7)
    replica = VacancyReplica()
    await replica.load(conn)
    for vid in ids:
        want = await geo.fetch_open_candidate_for_all(conn, vid)
        got = replica.candidate_for_all(vid)
        assert (want is None) == (got is None), vid
        if want is None or got is None:
            continue
        assert (got[1], got[2], got[3]) == (pytest.approx(want[1]), pytest.approx(want[2]), want[3])
        # The SQL's "distance" is from (0, 0); callers measure their own.
        want[0].distance_m[:] = 0.0
        assert_same(got[0], want[0])


async def test_push_areas_from_the_replica_equal_the_uncapped_sql(conn: asyncpg.Connection) -> None:
    """push/areas.py: an area read from the replica holds what the SQL area
    would without its cap, and serves each seeker's certificates the same."""
    await seed(conn, 800, seed=8)
    replica = VacancyReplica()
    await replica.load(conn)
    from_replica = AreaCache(replica=replica)
    from_sql = AreaCache(cap=UNCAPPED)
    for p, radius in ((CPH, 2_000.0), ((55.70, 12.55), 5_000.0)):
        a = await from_replica.get(conn, *p, radius)
        b = await from_sql.get(conn, *p, radius)
        assert a.ids == b.ids and a.reach_m == b.reach_m
        for certs in (frozenset(), frozenset({"forklift"})):
            va, wa = a.for_seeker(*p, radius, certs)
            vb, wb = b.for_seeker(*p, radius, certs)
            got = dict(zip(va.ids, va.eligibility.certificates_ok.tolist(), strict=True))
            want = dict(zip(vb.ids, vb.eligibility.certificates_ok.tolist(), strict=True))
            assert got == want
            assert sorted(map(str, np.asarray(va.ids, dtype=object)[wa])) == sorted(
                map(str, np.asarray(vb.ids, dtype=object)[wb])
            )


async def test_readiness_reports_the_replica(conn: asyncpg.Connection) -> None:
    settings = Settings(replica_stale_s=5.0)
    state = SimpleNamespace(replica=VacancyReplica(), settings=settings)
    assert not (await check_replica(state)).ok  # not loaded
    await state.replica.load(conn)
    check = await check_replica(state)
    assert check.ok, check.detail
    state.replica.synced_at -= 10  # as if the database had been away for 10 s
    check = await check_replica(state)
    assert not check.ok and "not synced" in check.detail
    await state.replica.sync(conn)
    assert (await check_replica(state)).ok
