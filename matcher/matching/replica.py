"""The open vacancies in memory: one replica per worker, serving the hot reads.

PostgreSQL stays the system of record (issue #11). Each worker holds the open
vacancies as columns (matcher/matching/replica_store.py, the CandidateBatch layout) with
a grid index over their places (matcher/matching/spatial.py), and answers "the
candidates within r of p, nearest first" from memory, exact distances and no
candidate cap. `within` is CANDIDATES_SQL (matcher/matching/geo.py) without its LIMIT:

- which rows: `status = 'open' AND hidden_at IS NULL` decides who is held;
  "not expired" (`expires_at > now()`) and `min_age <= age` are evaluated per
  query, as in SQL, from an epoch-seconds column and the min-age column;
- the columns: the same SELECT fills them (`geo._CANDIDATE_SELECT`), through the
  same `geo.sound_rows`, so poison rows are skipped and counted exactly as on
  the SQL path; `start_in_days` is recomputed per query from the start day and
  today's date in the database's time zone (an absurd one reads as unknown);
  `required_certificates <@ seeker's` is evaluated per query over the distinct
  certificate sets held (a few dozen at most), not per row.

Keeping current: every vacancy write takes a number from the change sequence
(migration 0008; deletes too, via the deletion log of migration 0019). `sync`
reads the numbers past the floor (an index-only scan), fetches the full rows
of the ones not applied yet (`matcher/matching/change_log.py` keeps the lookback for slow
transactions) and applies them: an open row is upserted, anything else (closed,
hidden, expired, a poison row) is removed. It runs when the bus rings and on a
timer (`JOTR_REPLICA_SYNC_S`), so a lost NOTIFY costs at most one period.

Rows are appended, never overwritten: an upsert marks the old row dead and
appends the new version; dead rows (and rows that expired meanwhile) are
compacted away once they are a quarter of the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import math
import time
import uuid
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher import metrics, offers
from matcher.matching import geo
from matcher.matching.change_log import ChangeLog
from matcher.matching.eligibility import eligible_mask
from matcher.matching.replica_store import ColumnStore
from matcher.matching.scoring import (
    CandidateBatch,
    Outline,
    SeekerContext,
    head_earns,
    weak_rows,
)
from matcher.matching.spatial import GridIndex

log = logging.getLogger("jotr.replica")

# Rows decoded per round trip while loading: bounded memory for the raw rows.
LOAD_CHUNK = 5_000
# Change numbers read per sync round; a full round is followed at once by another.
SYNC_BATCH = 5_000
# After a load, the change numbers this far below the high water are watched
# too: a transaction that took its number before the load's snapshot and
# commits after it is still found (those that are visible are claimed at once).
LOAD_MARGIN = 2_000
# Compact once dead rows are this share of the store (and at least COMPACT_MIN).
COMPACT_SHARE = 0.25
COMPACT_MIN = 1_000

# Extras the replica keeps per row besides the candidate columns.
_EXTRA = {
    "lat": np.float64,
    "lon": np.float64,
    "expires": np.float64,  # epoch seconds; +inf: never expires
    "start_day": np.float64,  # days since 1970-01-01; NaN: none or not finite
    "cert_set": np.int32,  # index into VacancyReplica.cert_sets
    "job_type": np.int16,  # index into VacancyReplica.job_type_names
    "alive": np.bool_,
}

_EPOCH_DAY = dt.date(1970, 1, 1)

# The candidate columns (the same SELECT as CANDIDATES_SQL; its distance and
# certificate columns are placeholders here, filled per query, so the database
# does not compute them for every row) and the extras.
_DISTANCE = f"ST_Distance(v.location, {geo._POINT}, false) AS distance_m"
_CERTIFICATES = "v.required_certificates <@ $3::varchar[] AS certificates_ok"
if _DISTANCE not in geo._CANDIDATE_SELECT or _CERTIFICATES not in geo._CANDIDATE_SELECT:
    raise ImportError("geo._CANDIDATE_SELECT changed: update the replica's placeholders")
_CANDIDATE_COLUMNS = geo._CANDIDATE_SELECT.replace(
    _DISTANCE, "($1::float8 * 0 + $2::float8 * 0) AS distance_m"
).replace(_CERTIFICATES, "(cardinality($3::varchar[]) < 0) AS certificates_ok")
_REPLICA_SELECT = f"""{_CANDIDATE_COLUMNS}{geo._POINT_COLUMNS}, v.required_certificates,
       CASE WHEN isfinite(v.start_date) THEN (v.start_date - DATE '1970-01-01')::float8
       END AS start_day,
       CASE WHEN v.expires_at IS NULL OR v.expires_at = 'infinity' THEN 'Infinity'::float8
            WHEN v.expires_at = '-infinity' THEN '-Infinity'::float8
            ELSE EXTRACT(EPOCH FROM v.expires_at)::float8 END AS expires_epoch,
       v.change_no,
       ({geo._OPEN}) AS open
FROM vacancies v"""

# Rows held: open and not hidden; already expired ones are not worth the memory
# (an update that extends the expiry bumps change_no and brings the row back).
LOAD_SQL = f"{_REPLICA_SELECT}\nWHERE {geo._OPEN}"
ROWS_BY_CHANGE_SQL = f"{_REPLICA_SELECT}\nWHERE v.change_no = ANY($4::bigint[])"
# The change numbers past the floor: both an index-only scan. Each branch is
# ordered and limited itself: the server runs generic plans
# (matcher/db.py SERVER_SETTINGS), and a generic `change_no > $1` is estimated
# at a third of the table, so the unlimited form was a scan and a sort of every
# vacancy (~10 ms at 100k, on every sync) where this reads only what is new.
NUMBERS_SQL = """
(SELECT change_no, false AS deleted FROM vacancies WHERE change_no > $1
 ORDER BY change_no LIMIT $2)
UNION ALL
(SELECT change_no, true FROM vacancy_deletions WHERE change_no > $1
 ORDER BY change_no LIMIT $2)
ORDER BY 1 LIMIT $2
"""
DELETED_SQL = "SELECT vacancy_id, change_no FROM vacancy_deletions WHERE change_no = ANY($1)"
HIGH_WATER_SQL = """
SELECT greatest((SELECT coalesce(max(change_no), 0) FROM vacancies),
                (SELECT coalesce(max(change_no), 0) FROM vacancy_deletions)),
       current_setting('TimeZone')
"""
HIGH_SQL = """
SELECT greatest((SELECT coalesce(max(change_no), 0) FROM vacancies),
                (SELECT coalesce(max(change_no), 0) FROM vacancy_deletions))
"""
# The placeholder point and certificates of the candidate SELECT.
_NO_POINT: tuple[float, float, list[str]] = (0.0, 0.0, [])


@dataclass(frozen=True, slots=True)
class Hits:
    """Candidates near a point: the batch (nearest first, exact distances,
    certificates and start days evaluated for the caller), their places and
    which certificates each requires."""

    batch: CandidateBatch
    lats: np.ndarray
    lons: np.ndarray
    cert_set: np.ndarray  # per row, an index into `cert_sets`
    cert_sets: list[frozenset[str]]

    def __len__(self) -> int:
        return len(self.batch)

    @property
    def required(self) -> list[frozenset[str]]:
        """Per row, the certificates it requires (built on demand: matches do
        not need it, push areas do)."""
        return [self.cert_sets[s] for s in self.cert_set.tolist()]


class VacancyReplica:
    """The open vacancies of one worker (see the module docstring)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessionmaker = sessionmaker
        self._store = ColumnStore(_EXTRA)
        self._index: GridIndex | None = None
        self._row_of: dict[uuid.UUID, int] = {}
        self._dead = 0
        self.cert_sets: list[frozenset[str]] = []
        self._cert_set_of: dict[frozenset[str], int] = {}
        # The job types seen, coded per row (a bound compares small ints, not strings).
        self.job_type_names: list[str] = []
        self._job_type_of: dict[str, int] = {}
        self.changes = ChangeLog()
        self.tz: dt.tzinfo = dt.UTC
        self.loaded = False
        self.loaded_at: float | None = None  # monotonic
        self.synced_at: float | None = None  # monotonic start of the last good sync
        # The highest change number this replica has read (load or sync): a
        # reader compares it with the database's to know whether to sync first.
        self.high_seen = 0
        self.load_seconds: float | None = None
        self.skipped = 0  # rows left out as unusable (also counted by geo)
        self._lock = asyncio.Lock()

    # --- reads -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, vacancy_id: object) -> bool:
        return vacancy_id in self._row_of

    def within(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        *,
        age: int,
        certificates: Sequence[str] | frozenset[str] = (),
        kinds: Sequence[str] | None = None,
        now: dt.datetime | None = None,
    ) -> Hits:
        """Every open, unexpired vacancy within `radius_m` of (lat, lon) whose
        min_age is at most `age` (and of the given offer kinds), nearest first,
        with exact great-circle distances: CANDIDATES_SQL without its LIMIT."""
        now = now or dt.datetime.now(dt.UTC)
        rows, dist = self.circle(lat, lon, radius_m, age=age, kinds=kinds, now=now)
        if len(rows) == 0:
            return self._empty()
        order = np.lexsort((rows, dist))
        return self.hits(rows[order], dist[order], certificates, now)

    def circle(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        *,
        age: int,
        kinds: Sequence[str] | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows `within` returns and their distances in metres, in no
        particular order (a dense circle holds tens of thousands: sorting them
        costs more than the caller that prunes them needs)."""
        if self._index is None or self._store.n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        rows, dist = self._index.within(lat, lon, radius_m, nearest_first=False)
        now = now or dt.datetime.now(dt.UTC)
        keep = self._store.column("expires")[rows] > now.timestamp()
        keep &= self._store.view().eligibility.min_age[rows] <= age
        if kinds is not None:
            codes = [offers.OFFER_KIND_CODE[k] for k in kinds if k in offers.OFFER_KIND_CODE]
            keep &= np.isin(self._store.view().eligibility.offer_kind[rows], codes)
        if not keep.all():
            rows, dist = rows[keep], dist[keep]
        return rows, dist

    def outline(self, rows: np.ndarray, dist: np.ndarray, now: dt.datetime) -> Outline:
        """The columns `scoring.ceiling` reads, for rows of `circle`."""
        view = self._store.view()
        req_ids, req_weights, req_offsets = self._store.required(rows)
        opt_ids, opt_offsets = self._store.optional(rows)
        return Outline(
            distance_m=np.asarray(dist, dtype=np.float64),
            req_ids=req_ids,
            req_weights=req_weights,
            req_offsets=req_offsets,
            opt_ids=opt_ids,
            opt_offsets=opt_offsets,
            occupation_ids=None if view.occupation_ids is None else view.occupation_ids[rows],
            hours_per_week=view.hours_per_week[rows],
            start_in_days=self._start_in_days(rows, now),
            job_type_codes=self._store.column("job_type")[rows],
            job_type_names=self.job_type_names,
            profiles=np.take(view.profiles, rows, axis=0),
        )

    def required(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The required skills of rows of `circle`: (ids, weights, offsets), flattened."""
        return self._store.required(rows)

    def weak(self, seeker: SeekerContext, rows: np.ndarray) -> np.ndarray:
        """`scoring.weak_rows` for rows of `circle`: on the fixed-width heads of
        their required skills (one gather), the segments only for rows listing
        more than the head holds and none of those earning."""
        head, complete = self._store.required_head(rows)
        listed = (head[:, 0] >= 0) | ~complete  # an incomplete head lists some
        weak = listed & ~head_earns(seeker, head, self._store.req_id_bound)
        unsure = weak & ~complete
        if unsure.any():
            weak[unsure] = weak_rows(seeker, *self._store.required(rows[unsure]))
        return weak  # type: ignore[no-any-return]

    def eligible(self, seeker: SeekerContext, rows: np.ndarray) -> np.ndarray:
        """The hard rules (`eligibility.eligible_mask`, as `score` applies them)
        for rows of `circle`, without building the rest of a batch."""
        cols = dataclasses.replace(
            self._store.eligibility(rows),
            certificates_ok=self._certificates_ok(rows, frozenset(seeker.certificates)),
        )
        return eligible_mask(cols, seeker)

    def rows_of(self, vacancy_ids: Iterable[uuid.UUID]) -> np.ndarray:
        """The rows holding these vacancies (those held)."""
        found = [r for v in vacancy_ids if (r := self._row_of.get(v)) is not None]
        return np.asarray(found, dtype=np.int64)

    def candidate_for_all(
        self, vacancy_id: uuid.UUID, now: dt.datetime | None = None
    ) -> tuple[CandidateBatch, float, float, frozenset[str]] | None:
        """What `geo.fetch_open_candidate_for_all` returns, from memory: the
        vacancy as a one-row batch (distance 0, certificates unchecked), its
        place and the certificates it requires; None when it is not open."""
        row = self._row_of.get(vacancy_id)
        now = now or dt.datetime.now(dt.UTC)
        if row is None or not self._store.column("expires")[row] > now.timestamp():
            return None
        # Certificates as the SQL reads them with none held: callers check each
        # seeker's against the required set returned alongside.
        hits = self._hits(np.array([row]), np.zeros(1), frozenset(), now)
        return hits.batch, float(hits.lats[0]), float(hits.lons[0]), hits.required[0]

    def hits(
        self,
        rows: np.ndarray,
        dist: np.ndarray,
        certificates: Sequence[str] | frozenset[str],
        now: dt.datetime,
    ) -> Hits:
        """These rows (of `circle`) as candidates, in the order given."""
        if len(rows) == 0:
            return self._empty()
        return self._hits(rows, dist, frozenset(certificates), now)

    def _start_in_days(self, rows: np.ndarray, now: dt.datetime) -> np.ndarray:
        """start_in_days as the SQL computes it today; an absurd one is unknown
        (geo.sound_rows; it was reported when the row was read)."""
        today = now.astimezone(self.tz).date()
        start = self._store.column("start_day")[rows] - (today - _EPOCH_DAY).days
        with np.errstate(invalid="ignore"):
            start[np.abs(start) > geo.MAX_START_DAYS] = np.nan
        return start.astype(np.float32)

    def _hits(
        self,
        rows: np.ndarray,
        dist: np.ndarray,
        certificates: frozenset[str],
        now: dt.datetime,
    ) -> Hits:
        store = self._store
        batch = store.take(rows)
        batch.distance_m = np.asarray(dist, dtype=np.float64)
        sets = store.column("cert_set")[rows]
        ok = self._certificates_ok(rows, certificates)
        batch.eligibility = dataclasses.replace(batch.eligibility, certificates_ok=ok)
        batch.start_in_days = self._start_in_days(rows, now)
        lats, lons = store.column("lat")[rows], store.column("lon")[rows]
        return Hits(batch, lats, lons, sets, self.cert_sets)

    def _certificates_ok(self, rows: np.ndarray, certificates: frozenset[str]) -> np.ndarray:
        """Per row: whether the certificates held cover those it requires."""
        ok_by_set = np.fromiter(
            (s <= certificates for s in self.cert_sets), dtype=bool, count=len(self.cert_sets)
        )
        return ok_by_set[self._store.column("cert_set")[rows]]  # type: ignore[no-any-return]

    def _empty(self) -> Hits:
        empty = geo.batch_from_rows([])
        return Hits(empty, np.empty(0), np.empty(0), np.empty(0, dtype=np.int32), [])

    # --- changes -----------------------------------------------------------

    def apply_rows(self, rows: Sequence[asyncpg.Record | Any]) -> tuple[int, int]:
        """Apply current vacancy rows (the replica SELECT): open ones are
        upserted, the others removed. Returns (upserted, removed)."""
        if not rows:
            return 0, 0
        removed = 0
        for r in rows:  # every row read replaces what was held for its id
            removed += self._remove(r["id"])
        opened = [r for r in rows if r["open"]]
        kept, batch = _sound(opened)
        self.skipped += len(opened) - len(kept)
        if kept:
            self._append(kept, batch)
        return len(kept), removed

    def remove(self, vacancy_ids: Sequence[uuid.UUID]) -> int:
        return sum(self._remove(v) for v in vacancy_ids)

    def _remove(self, vacancy_id: uuid.UUID) -> int:
        row = self._row_of.pop(vacancy_id, None)
        if row is None:
            return 0
        self._store.column("alive")[row] = False
        if self._index is not None:
            self._index.remove([row])
        self._dead += 1
        return 1

    def _append(self, rows: list[Any], batch: CandidateBatch, index: bool = True) -> None:
        extra: dict[str, np.ndarray] = {
            "lat": np.fromiter((r["lat"] for r in rows), np.float64, len(rows)),
            "lon": np.fromiter((r["lon"] for r in rows), np.float64, len(rows)),
            "expires": np.fromiter((r["expires_epoch"] for r in rows), np.float64, len(rows)),
            "start_day": np.array(
                [np.nan if r["start_day"] is None else r["start_day"] for r in rows], np.float64
            ),
            "cert_set": np.fromiter(
                (self._cert_set(r["required_certificates"]) for r in rows), np.int32, len(rows)
            ),
            "job_type": np.fromiter(
                (self._job_type(t) for t in batch.job_types), np.int16, len(rows)
            ),
            "alive": np.ones(len(rows), dtype=bool),
        }
        new = self._store.append(batch, extra)
        for vid, row in zip(batch.ids, new.tolist(), strict=True):
            old = self._row_of.get(vid)  # type: ignore[call-overload]
            if old is not None:  # the same id twice in one batch: the later wins
                self._store.column("alive")[old] = False
                self._dead += 1
                if self._index is not None:
                    self._index.remove([old])
            self._row_of[vid] = row  # type: ignore[index]
        if not index:  # a load: the index is built once at its end
            return
        if self._index is None:
            self._index = GridIndex(self._store.column("lat"), self._store.column("lon"))
            # An id given twice in this first batch left its earlier row dead.
            self._index.remove(np.flatnonzero(~self._store.column("alive")))
        else:
            self._index.set_coordinates(self._store.column("lat"), self._store.column("lon"))
            self._index.add(new)
        self._maybe_compact()

    def _reorder(self, rows: np.ndarray | None = None) -> None:
        """Keep `rows` (default: every live one), stored in the grid's cell order: a query's
        rows then lie close together in memory, and gathering tens of thousands
        of them (a dense circle) costs about half as much as from rows in
        arrival order. Rebuilds the index and the id map."""
        store = self._store
        if rows is None:  # the live ones (an id twice in a load leaves a dead row)
            rows = np.flatnonzero(store.column("alive"))
        if len(rows) < store.n:
            store = store.compacted(rows)
        if store.n:
            order = GridIndex(store.column("lat"), store.column("lon")).cell_order()
            store = store.compacted(order)
        self._store = store
        self._row_of = {vid: i for i, vid in enumerate(store.ids)}  # type: ignore[misc]
        self._dead = 0
        self._index = GridIndex(store.column("lat"), store.column("lon")) if store.n else None

    def _cert_set(self, required: Sequence[str] | None) -> int:
        key = frozenset(required or ())
        found = self._cert_set_of.get(key)
        if found is None:
            found = self._cert_set_of[key] = len(self.cert_sets)
            self.cert_sets.append(key)
        return found

    def _job_type(self, name: object) -> int:
        key = str(name or "")
        found = self._job_type_of.get(key)
        if found is None:
            found = self._job_type_of[key] = len(self.job_type_names)
            self.job_type_names.append(key)
        return found

    def _maybe_compact(self, force: bool = False, now: float | None = None) -> None:
        n = self._store.n
        if not force and self._dead < max(COMPACT_MIN, COMPACT_SHARE * n):
            return
        now = time.time() if now is None else now
        store = self._store
        alive = store.column("alive") & (store.column("expires") > now)
        rows = np.flatnonzero(alive)
        self._reorder(rows)

    def compact(self, now: dt.datetime | None = None) -> None:
        """Drop dead and expired rows now (the sync does it when they pile up)."""
        self._maybe_compact(force=True, now=None if now is None else now.timestamp())

    # --- talking to the database -------------------------------------------

    async def load(self, conn: asyncpg.Connection | None = None) -> None:
        """Read every open vacancy, streaming, in one snapshot; replaces what is held."""
        if conn is None:
            async with self._session_conn() as raw:
                return await self.load(raw)
        started = time.perf_counter()
        fresh = VacancyReplica(self.sessionmaker)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            high, tz = await conn.fetchrow(HIGH_WATER_SQL)
            cursor = await conn.cursor(LOAD_SQL, *_NO_POINT)
            while True:
                chunk = await cursor.fetch(LOAD_CHUNK)
                if not chunk:
                    break
                kept, batch = _sound(chunk)
                fresh.skipped += len(chunk) - len(kept)
                if kept:
                    fresh._append(kept, batch, index=False)
            floor = max(int(high) - LOAD_MARGIN, 0)
            seen = await conn.fetch(NUMBERS_SQL, floor, 10 * LOAD_MARGIN)
        fresh.changes.floor = floor
        fresh.high_seen = int(high)
        fresh._reorder()
        for r in seen:  # visible in the snapshot: applied by this load
            fresh.changes.claim(r["change_no"])
        async with self._lock:
            self._adopt(fresh)
            self.tz = _zone(tz)
            self.loaded = True
            self.loaded_at = self.synced_at = time.monotonic()
            self.load_seconds = time.perf_counter() - started
        metrics.REPLICA_ROWS.set(len(self))
        metrics.REPLICA_LAST_SYNC.set(time.time())
        metrics.REPLICA_LOAD_SECONDS.observe(self.load_seconds)
        log.info(
            "replica loaded",
            extra={"rows": len(self), "seconds": round(self.load_seconds, 3), "mib": self.mib()},
        )

    def _adopt(self, other: VacancyReplica) -> None:
        for name in ("_store", "_index", "_row_of", "_dead", "cert_sets", "_cert_set_of",
                     "job_type_names", "_job_type_of"):  # fmt: skip
            setattr(self, name, getattr(other, name))
        self.changes = other.changes
        self.skipped = other.skipped
        self.high_seen = other.high_seen

    async def sync(self, conn: asyncpg.Connection | None = None, fresh_after: float = 0.0) -> int:
        """Apply the changes committed since the last sync; returns how many.
        With `fresh_after` (monotonic), returns at once if a sync that started
        after it has completed meanwhile (coalescing callers who queued up)."""
        if not self.loaded:
            await self.load(conn)
            return len(self)
        async with self._lock:
            if self.synced_at is not None and self.synced_at >= fresh_after > 0:
                return 0
            if conn is None:
                async with self._session_conn() as raw:
                    return await self._sync_locked(raw)
            return await self._sync_locked(conn)

    async def sync_if_behind(self, conn: asyncpg.Connection, fresh_after: float) -> int:
        """Read after commit for a request: one index-only read of the database's
        highest change number; a sync only if it is past what this replica has
        read. (A slow transaction that commits a number below one already read
        is left to the doorbell and the timer, as the ChangeLog's lookback is.)"""
        if not self.loaded:
            return await self.sync(conn)
        high = await conn.fetchval(HIGH_SQL)
        if int(high) <= self.high_seen:
            return 0
        return await self.sync(conn, fresh_after=fresh_after)

    async def _sync_locked(self, conn: asyncpg.Connection) -> int:
        started, t0 = time.monotonic(), time.perf_counter()
        applied = 0
        assert self.changes.floor is not None
        after = self.changes.floor
        while True:
            # Pages past the floor; the floor itself only moves by the lookback.
            numbers = await conn.fetch(NUMBERS_SQL, after, SYNC_BATCH)
            fresh = [r for r in numbers if self.changes.claim(r["change_no"])]
            try:
                applied += await self._apply_numbers(conn, fresh)
            except BaseException:
                for r in fresh:  # the next sync tries them again
                    self.changes.release(r["change_no"])
                raise
            if numbers:
                self.high_seen = max(self.high_seen, int(numbers[-1]["change_no"]))
            if len(numbers) < SYNC_BATCH:
                break
            after = int(numbers[-1]["change_no"])
        self.changes.prune(started)
        self.synced_at = started
        seconds = time.perf_counter() - t0
        metrics.REPLICA_SYNC_SECONDS.observe(seconds)
        metrics.REPLICA_ROWS.set(len(self))
        metrics.REPLICA_LAST_SYNC.set(time.time())
        metrics.REPLICA_LAG_CHANGES.set(applied)
        if applied:
            metrics.REPLICA_CHANGES.inc(applied)
        return applied

    async def _apply_numbers(self, conn: asyncpg.Connection, numbers: list[Any]) -> int:
        if not numbers:
            return 0
        kept = [int(r["change_no"]) for r in numbers if not r["deleted"]]
        gone = [int(r["change_no"]) for r in numbers if r["deleted"]]
        applied = 0
        if kept:
            rows = await conn.fetch(ROWS_BY_CHANGE_SQL, *_NO_POINT, kept)
            self.apply_rows(rows)
            applied += len(rows)
        if gone:
            deleted = await conn.fetch(DELETED_SQL, gone)
            self.remove([r["vacancy_id"] for r in deleted])
            applied += len(deleted)
        return applied

    async def sync_quietly(self) -> None:
        """`sync`, for a caller that must go on regardless (the bus doorbell):
        a failure is logged and the timer tries again."""
        try:
            await self.sync()
        except Exception as exc:
            log.debug(
                "replica sync on a doorbell failed; the timer retries",
                extra={"error": type(exc).__name__},
            )

    async def sync_forever(self, every_s: float) -> None:
        """Run for the life of the worker: load if not loaded, then sync every
        `every_s`, so a lost doorbell costs at most that long."""
        failing = False
        while True:
            try:
                await self.sync()
            except Exception as exc:
                # Once per outage, not every round (the database may be away for
                # minutes); /readyz says it meanwhile.
                if not failing:
                    log.warning("replica sync failed", extra={"error": type(exc).__name__})
                failing = True
            else:
                if failing:
                    log.warning("replica sync works again")
                failing = False
            await asyncio.sleep(every_s if self.loaded else min(every_s * 5, 5.0))

    def _session_conn(self) -> Any:
        if self.sessionmaker is None:
            raise RuntimeError("no database: pass a connection")
        return _SessionConn(self.sessionmaker)

    # --- health ------------------------------------------------------------

    def sync_age_s(self, now: float | None = None) -> float:
        """Seconds since the start of the last good sync (inf before the load)."""
        if self.synced_at is None:
            return math.inf
        return (time.monotonic() if now is None else now) - self.synced_at

    def mib(self) -> float:
        return round((self._store.nbytes() + len(self._row_of) * 100) / 2**20, 1)


class _SessionConn:
    """`async with` a raw asyncpg connection from the sessionmaker's pool,
    outside any transaction of SQLAlchemy's (the replica opens its own)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def __aenter__(self) -> asyncpg.Connection:
        self._session = self._sessionmaker()
        conn = await self._session.connection()
        raw = await conn.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
        return driver

    async def __aexit__(self, *exc: object) -> None:
        await self._session.close()


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("database time zone %r unknown here; dates read in UTC", name)
        return dt.UTC


def _sound(rows: Sequence[Any]) -> tuple[list[Any], CandidateBatch]:
    """`geo.sound_rows`, and one row at a time if a chunk fails in a way it
    does not foresee: one bad row never breaks a load or a sync."""
    try:
        kept, batch = geo.sound_rows(list(rows))
        return kept, batch
    except Exception as exc:
        # sound_rows reported the rows it could not build before the rebuild
        # failed (on TypeError/ValueError): skip those without counting twice.
        reported = isinstance(exc, (TypeError, ValueError))
        kept = []
        for r in rows:
            if reported and geo._unbuildable(r) is not None:
                continue
            try:
                one, _ = geo.sound_rows([r])
            except Exception:
                geo.report_unusable(r["id"], "row")
                continue
            kept += one
        return kept, geo.batch_from_rows(kept)


async def open_candidate_for_all(
    replica: VacancyReplica | None, conn: asyncpg.Connection, vacancy_id: uuid.UUID
) -> tuple[CandidateBatch, float, float, frozenset[str]] | None:
    """One open vacancy for scoring against many seekers: from the replica when
    it is loaded, else by SQL (`geo.fetch_open_candidate_for_all`, same result).

    A change the caller learnt of before this replica synced it (push catch-up
    reads the change numbers on its own timer) is not here yet: when the replica
    does not hold the vacancy it syncs once, on the caller's connection, and
    looks again, so a new vacancy is never taken for a closed one."""
    if replica is None or not replica.loaded:
        return await geo.fetch_open_candidate_for_all(conn, vacancy_id)
    found = replica.candidate_for_all(vacancy_id)
    if found is None:
        await replica.sync(conn)
        found = replica.candidate_for_all(vacancy_id)
    return found
