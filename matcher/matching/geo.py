"""The geo index: open vacancies near a point, as one indexed PostGIS query.

Both queries use the partial GiST index on `vacancies.location` (open rows only):
`ST_DWithin` on geography filters by distance in metres, `<->` orders by
distance through the index (KNN) and stops at the LIMIT.

Distances are on the sphere (`use_spheroid => false`), not the spheroid: about
three times cheaper per row, and within 0.35 % of the WGS84 geodesic at Danish
latitudes (tests check 0.5 % against GeographicLib). The candidate query is the
hot path; every microsecond per row counts thousands of times per request.

The SQL is written out here, not generated, because it is the hot path: we talk
to asyncpg directly and get typed columns back without an ORM layer in between.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np
import orjson
from geoalchemy2.shape import to_shape
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import metrics, profile
from matcher.matching.eligibility import build_columns
from matcher.matching.scoring import CandidateBatch
from matcher.sane_dates import SANE_EXPIRY_SQL, SANE_START_SQL, START_WINDOW_DAYS

log = logging.getLogger("jotr.geo")

_POINT = "ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography"

# Open, not expired, and not hidden pending a consultant's review: a vacancy
# reported by enough different people (matcher/posting/reports.py) is left out of every
# listing, match and push through this one condition.
_NOT_HIDDEN = "v.hidden_at IS NULL"
_OPEN = f"v.status = 'open' AND (v.expires_at IS NULL OR v.expires_at > now()) AND {_NOT_HIDDEN}"

# Employer trust: only a verified employer may invite walk-ins. The API refuses
# the flag from others (matcher/posting/employer_trust.py); reading it through this also
# keeps an imported or older row's flag from showing until the employer is verified.
_WALK_IN = "(v.walk_in AND v.employer_verified)"

# Stored dates are read only within a wide window of today (matcher/sane_dates.py).
_SANE_START = SANE_START_SQL
_SANE_EXPIRY = SANE_EXPIRY_SQL

_VACANCY_CARD = f"""
SELECT v.id, v.title, v.kind, v.job_type::text AS job_type, v.hours_per_week, {_WALK_IN} AS walk_in,
       v.opening_hours, v.min_age, {_SANE_START} AS start_date,
       {_SANE_EXPIRY} AS expires_at, v.openings, v.address, v.pay,
       (v.start_date IS NOT NULL AND {_SANE_START} IS NULL) AS start_date_clamped,
       (v.expires_at IS NOT NULL AND {_SANE_EXPIRY} IS NULL) AS expires_at_clamped,
       v.location_precision, v.max_age, v.cost_dkk, v.cost_note, e.org_kind,
       o.preferred_label AS occupation_label, e.name AS employer_name,
       ST_X(v.location::geometry) AS lon, ST_Y(v.location::geometry) AS lat,
       ST_Distance(v.location, {_POINT}, false) AS distance_m
FROM vacancies v
JOIN employers e ON e.id = v.employer_id
LEFT JOIN occupations o ON o.id = v.occupation_id
"""

NEARBY_SQL = f"""{_VACANCY_CARD}
WHERE {_OPEN} AND ST_DWithin(v.location, {_POINT}, $3, false) AND v.kind = ANY($5::varchar[])
ORDER BY v.location <-> {_POINT}
LIMIT $4
"""

CARDS_BY_ID_SQL = f"""{_VACANCY_CARD}
WHERE v.id = ANY($3::uuid[])
"""

OPEN_CARDS_BY_ID_SQL = f"""{_VACANCY_CARD}
WHERE v.id = ANY($3::uuid[]) AND {_OPEN}
"""

# Candidates for matching: only what scoring and the hard rules read. Certificates
# are checked here (`<@`, array containment) so the rows stay numeric.
_CANDIDATE_SELECT = f"""
SELECT v.id,
       ST_Distance(v.location, {_POINT}, false) AS distance_m,
       v.required_skill_ids, v.required_skill_weights, v.optional_skill_ids,
       v.work_profile, COALESCE(v.job_type::text, '') AS job_type, v.hours_per_week,
       -- An infinite date cannot be subtracted; it reads as absurdly far away
       -- and batch_from_rows treats it as unknown.
       (CASE WHEN NOT isfinite(v.start_date) THEN 2000000000
             ELSE v.start_date - current_date END) AS start_in_days,
       {_WALK_IN} AS walk_in, v.min_age,
       (EXTRACT(EPOCH FROM v.shift_start) / 60)::float8 AS shift_start_min,
       (EXTRACT(EPOCH FROM v.shift_end) / 60)::float8 AS shift_end_min,
       v.light_work, v.schedule::text AS schedule, v.workplace_kind, v.alcohol_served,
       v.may_work_alone, v.hazards, v.kind, v.volunteering_is_work, v.max_age,
       v.required_certificates <@ $3::varchar[] AS certificates_ok,
       -- A copy on the row (kept by triggers, migration 0012) rather than a join
       -- to employers: the candidate query stays one scan of vacancies.
       v.employer_verified, v.occupation_id"""
_N_CANDIDATE_COLUMNS = 25
# Where each candidate is: the push layer re-ranks its cached candidates as the
# phone moves, without asking the database again (push/candidates.py).
_POINT_COLUMNS = ", ST_Y(v.location::geometry) AS lat, ST_X(v.location::geometry) AS lon"
_NEAR = f"""
WHERE {_OPEN} AND ST_DWithin(v.location, {_POINT}, $4, false) AND v.min_age <= $5
ORDER BY v.location <-> {_POINT}
LIMIT $6
"""

CANDIDATES_SQL = f"{_CANDIDATE_SELECT}\nFROM vacancies v{_NEAR}"
# Rows shared by many seekers (push/areas.py): each one's certificates are checked later.
AREA_CANDIDATES_SQL = (
    f"{_CANDIDATE_SELECT}{_POINT_COLUMNS}, v.required_certificates\nFROM vacancies v{_NEAR}"
)

# The same columns for given vacancies, wherever they are (reviews, push on a new vacancy).
CANDIDATES_BY_ID_SQL = f"""{_CANDIDATE_SELECT}
FROM vacancies v
WHERE v.id = ANY($4::uuid[])
"""

# One open vacancy with its place and required certificates, to be scored for
# many connected seekers at once (each with their own certificates).
OPEN_CANDIDATE_FOR_ALL_SQL = f"""{_CANDIDATE_SELECT}{_POINT_COLUMNS}, v.required_certificates
FROM vacancies v
WHERE v.id = $4 AND {_OPEN}
"""


def lat_lon(location: Any) -> tuple[float, float]:
    """(lat, lon) of a stored geography point (a vacancy's location)."""
    p = to_shape(location)
    return float(p.y), float(p.x)


@dataclass(frozen=True, slots=True)
class NearbyVacancy:
    id: uuid.UUID
    title: str
    kind: str  # job | leisure | volunteering (matcher/offers.py)
    job_type: str | None
    hours_per_week: float | None
    walk_in: bool
    opening_hours: dict[str, list[list[str]]] | None
    min_age: int
    start_date: dt.date | None
    expires_at: dt.datetime | None
    openings: int
    address: str | None
    pay: dict[str, Any] | None
    location_precision: str
    max_age: int | None
    cost_dkk: int | None
    cost_note: str | None
    org_kind: str
    occupation_label: str | None
    employer_name: str
    lon: float
    lat: float
    distance_m: float


async def raw_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's transaction.

    SQLAlchemy's asyncpg adapter opens the database transaction lazily, on its
    own first statement; a statement sent straight to asyncpg before that would
    run (and commit) on its own. So we make sure the transaction is open first:
    by the adapter's own start (BEGIN alone, as its first statement would), or,
    should a SQLAlchemy release no longer have it, by a `SELECT 1` through
    SQLAlchemy (BEGIN and a round trip more; ~0.25 ms a request).
    """
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
    if not driver.is_in_transaction():
        adapter = raw.dbapi_connection
        start = getattr(adapter, "_start_transaction", None)
        mutex = getattr(adapter, "_execute_mutex", None)
        if start is not None and mutex is not None and getattr(adapter, "_transaction", 0) is None:
            async with mutex:
                await start()
        else:
            await conn.exec_driver_sql("SELECT 1")
    return driver


async def nearby_open_vacancies(
    session: AsyncSession,
    lat: float,
    lon: float,
    radius_m: float,
    limit: int,
    kinds: tuple[str, ...] = ("job",),
) -> list[NearbyVacancy]:
    """Open offers of the given kinds (jobs unless asked) near a point, nearest first."""
    conn = await raw_connection(session)
    rows = await conn.fetch(NEARBY_SQL, lon, lat, radius_m, limit, list(kinds))
    return [_card(r) for r in rows]


async def vacancy_cards(
    session: AsyncSession,
    vacancy_ids: list[uuid.UUID],
    lat: float,
    lon: float,
    open_only: bool = False,
) -> dict[uuid.UUID, NearbyVacancy]:
    """Display fields of given vacancies, with their distance from a point."""
    conn = await raw_connection(session)
    sql = OPEN_CARDS_BY_ID_SQL if open_only else CARDS_BY_ID_SQL
    rows = await conn.fetch(sql, lon, lat, vacancy_ids)
    return {r["id"]: _card(r) for r in rows}


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAYS = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"})


def sound_opening_hours(value: object) -> bool:
    """The shape the API accepts: {"mon": [["09:00", "17:00"], ...], ...}."""
    if not isinstance(value, dict):
        return False
    for day, spans in value.items():
        if day not in _DAYS or not isinstance(spans, list):
            return False
        for span in spans:
            if not (
                isinstance(span, list)
                and len(span) == 2
                and all(isinstance(t, str) and _HHMM.match(t) for t in span)
            ):
                return False
    return True


def _card(row: asyncpg.Record) -> NearbyVacancy:
    """A card. Absurd dates came back as NULL (counted here), and stored opening
    hours of another shape are dropped: push reads them to tell whether a walk-in
    place is open now, and a wrong shape must not fail it."""
    card = dict(row)
    for column in ("start_date", "expires_at"):
        if card.pop(f"{column}_clamped"):
            report_unusable(card["id"], column, skipped=False)
    hours = card["opening_hours"]
    if hours is not None and not sound_opening_hours(hours):
        report_unusable(card["id"], "opening_hours", skipped=False)
        card["opening_hours"] = None
    return NearbyVacancy(**card)


async def fetch_candidates(
    session: AsyncSession,
    lat: float,
    lon: float,
    radius_m: float,
    age: int,
    certificates: list[str],
    cap: int,
) -> CandidateBatch:
    conn = await raw_connection(session)
    rows = await conn.fetch(CANDIDATES_SQL, lon, lat, certificates, radius_m, age, cap)
    return batch_from_rows(rows)


async def fetch_open_candidate_for_all(
    conn: asyncpg.Connection, vacancy_id: uuid.UUID
) -> tuple[CandidateBatch, float, float, frozenset[str]] | None:
    """One open vacancy as a one-row batch (distance 0, certificates unchecked),
    its place and the certificates it requires; None when it is not open."""
    row = await conn.fetchrow(OPEN_CANDIDATE_FOR_ALL_SQL, 0.0, 0.0, [], vacancy_id)
    if row is None:
        return None
    rows, batch = sound_rows([row])
    if not rows:
        return None
    required = frozenset(row["required_certificates"] or ())
    return batch, row["lat"], row["lon"], required


def points_of(rows: list[asyncpg.Record]) -> tuple[np.ndarray, np.ndarray]:
    lat = np.fromiter((r["lat"] for r in rows), dtype=np.float64, count=len(rows))
    lon = np.fromiter((r["lon"] for r in rows), dtype=np.float64, count=len(rows))
    return lat, lon


async def fetch_candidates_by_id(
    session: AsyncSession,
    vacancy_ids: list[uuid.UUID],
    lat: float,
    lon: float,
    certificates: list[str],
) -> CandidateBatch:
    conn = await raw_connection(session)
    rows = await conn.fetch(CANDIDATES_BY_ID_SQL, lon, lat, certificates, vacancy_ids)
    return batch_from_rows(rows)


def _flatten(
    lists: list[list[int]] | list[list[float]], dtype: type
) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = [v for x in lists for v in x]
    return np.asarray(flat, dtype=dtype), offsets


def _nan_if_none(values: list[Any]) -> np.ndarray:
    return np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float32)


def batch_from_rows(rows: list[asyncpg.Record]) -> CandidateBatch:
    """Turn candidate rows into the columnar batch the scorer wants, without the
    rows it cannot use (`sound_rows`)."""
    return sound_rows(rows)[1]


def sound_rows(rows: list[asyncpg.Record]) -> tuple[list[asyncpg.Record], CandidateBatch]:
    """The usable rows and their batch.

    The hot path never trusts what is stored: a row written around the API (by
    hand, an old bug, a bad import) with NULL or negative skill ids, non-finite
    weights, a profile of the wrong length or out of [0, 1], or a non-finite
    distance is left out, so that it cannot fail or skew everyone else's
    matches. An absurd start date (infinite, or years away) reads as unknown.
    Each bad vacancy is counted and logged once per process, by id only.

    Clean rows, the normal case, cost a few vectorised checks; only when the
    columnar build itself fails are the rows inspected one by one.
    """
    try:
        batch = _build_batch(rows)
    except (TypeError, ValueError):
        keep = []
        for r in rows:
            reason = _unbuildable(r)
            if reason:
                report_unusable(r["id"], reason)
            else:
                keep.append(r)
        rows = keep
        batch = _build_batch(rows)
    bad = _unsound(batch)
    if bad is not None:
        for i in np.flatnonzero(bad).tolist():
            report_unusable(batch.ids[i], _unsound_reason(batch, i))
        good = np.flatnonzero(~bad)
        rows = [rows[i] for i in good.tolist()]
        batch = batch.take(good)
    absurd = np.abs(batch.start_in_days) > MAX_START_DAYS
    if absurd.any():
        for i in np.flatnonzero(absurd).tolist():
            report_unusable(batch.ids[i], "start_date", skipped=False)
        batch.start_in_days[absurd] = np.nan
    return rows, batch


# A stored start date further than this from today is treated as unknown: the
# API accepts at most a year back and two years ahead (matcher/posting/vacancies.py).
MAX_START_DAYS = float(START_WINDOW_DAYS)

_reported: set[object] = set()


def report_unusable(vacancy_id: object, reason: str, skipped: bool = True) -> None:
    metrics.UNUSABLE_VACANCY_ROWS.labels(reason).inc()
    if vacancy_id in _reported:
        return
    if len(_reported) > 10_000:  # bounded: a flood of bad rows must not grow memory
        _reported.clear()
    _reported.add(vacancy_id)
    log.warning(
        "vacancy row %s by the hot path",
        "skipped" if skipped else "clamped",
        extra={"vacancy_id": str(vacancy_id), "reason": reason},
    )


def _unbuildable(row: asyncpg.Record) -> str | None:
    """Why a row cannot go into a columnar batch at all (None elements, wrong shapes)."""
    for column in ("required_skill_ids", "required_skill_weights", "optional_skill_ids"):
        values = row[column]
        if values is None or None in values:
            return column
    if len(row["required_skill_ids"]) != len(row["required_skill_weights"]):
        return "required_skill_weights"
    wp = row["work_profile"]
    if wp is not None and (len(wp) != profile.SIZE or None in wp):
        return "work_profile"
    # hours_per_week may be NULL: a leisure or volunteering offer (NaN in the batch).
    for column in ("distance_m", "min_age", "job_type"):
        if row[column] is None:
            return column
    return None


def _row_flags(batch: CandidateBatch) -> dict[str, np.ndarray]:
    """Per row, True where a column holds something the scorer must not see."""
    n = len(batch)

    def per_row(bad_entries: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        seg = np.repeat(np.arange(n), np.diff(offsets))
        return np.bincount(seg, weights=bad_entries, minlength=n) > 0

    prof = batch.profiles
    with np.errstate(invalid="ignore"):
        prof_bad = (np.isinf(prof) | (prof < 0) | (prof > 1)).any(axis=1)
    hours = batch.hours_per_week
    return {
        "required_skill_ids": per_row(batch.req_ids < 0, batch.req_offsets),
        "required_skill_weights": per_row(
            ~np.isfinite(batch.req_weights) | (batch.req_weights <= 0), batch.req_offsets
        ),
        "optional_skill_ids": per_row(batch.opt_ids < 0, batch.opt_offsets),
        "work_profile": prof_bad,
        "distance_m": ~np.isfinite(batch.distance_m) | (batch.distance_m < 0),
        "hours_per_week": np.isinf(hours) | (hours <= 0) | (hours > 80),
    }


def _unsound(batch: CandidateBatch) -> np.ndarray | None:
    """Rows to leave out, or None. A few whole-array checks first (microseconds);
    the per-row flags only when one of them finds something."""
    if len(batch) == 0:
        return None
    w, prof, dist, hours = batch.req_weights, batch.profiles, batch.distance_m, batch.hours_per_week
    with np.errstate(invalid="ignore"):
        suspect = (
            bool((batch.req_ids < 0).any() or (batch.opt_ids < 0).any())
            or not bool(np.isfinite(w).all() and (w > 0).all())
            or bool(np.isinf(prof).any() or (prof < 0).any() or (prof > 1).any())
            or not bool(np.isfinite(dist).all() and (dist >= 0).all())
            or not bool((np.isnan(hours) | ((hours > 0) & (hours <= 80))).all())
        )
    if not suspect:
        return None
    bad = np.logical_or.reduce(list(_row_flags(batch).values()))
    return bad if bad.any() else None


def _unsound_reason(batch: CandidateBatch, row: int) -> str:
    return next(k for k, v in _row_flags(batch).items() if v[row])


def _build_batch(rows: list[asyncpg.Record]) -> CandidateBatch:
    n = len(rows)
    cols = list(zip(*rows, strict=True))[:_N_CANDIDATE_COLUMNS] if n else [()] * 25
    (ids, dist, req, req_w, opt, profiles, job_types, hours, start_days, walk_in, min_age,
     s_start, s_end, light, schedules, kinds, alcohol, alone, hazards, offer_kinds, is_work,
     max_age, certs_ok, verified, occ) = cols  # fmt: skip
    req_ids, req_off = _flatten(list(req), np.int32)
    req_weights, _ = _flatten(list(req_w), np.float32)
    if len(req_weights) != len(req_ids):
        raise ValueError("required skills and weights differ in length")
    opt_ids, opt_off = _flatten(list(opt), np.int32)
    prof = np.full((n, profile.SIZE), np.nan, dtype=np.float32)
    for i, p in enumerate(profiles):
        if p is not None:
            # Checked, not assigned blindly: NumPy would broadcast a one-element
            # profile over all twelve answers and the row would pass as sound.
            if len(p) != profile.SIZE:
                raise ValueError("work profile of the wrong length")
            prof[i] = p
    return CandidateBatch(
        ids=list(ids),
        distance_m=np.asarray(dist, dtype=np.float64),
        req_ids=req_ids,
        req_weights=req_weights,
        req_offsets=req_off,
        opt_ids=opt_ids,
        opt_offsets=opt_off,
        profiles=prof,
        eligibility=build_columns(
            min_age=list(min_age),
            hours_per_week=list(hours),
            # Most rows have no schedule: only those pay for decoding JSON.
            schedules=[orjson.loads(sc) if sc else None for sc in schedules],
            shift_start_min=list(s_start),
            shift_end_min=list(s_end),
            kinds=list(kinds),
            alcohol=list(alcohol),
            alone=list(alone),
            hazards=list(hazards),
            light_work=list(light),
            job_types=list(job_types),
            certificates_ok=list(certs_ok),
            employer_verified=list(verified),
            offer_kinds=list(offer_kinds),
            volunteering_is_work=list(is_work),
            max_age=list(max_age),
        ),
        job_types=np.asarray(job_types, dtype=object),
        hours_per_week=_nan_if_none(list(hours)),
        start_in_days=_nan_if_none(list(start_days)),
        walk_in=np.asarray(walk_in, dtype=bool),
        occupation_ids=np.asarray([-1 if o is None else o for o in occ], dtype=np.int64),
    )
