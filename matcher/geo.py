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
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import profile
from matcher.eligibility import EligibilityColumns
from matcher.scoring import CandidateBatch

_POINT = "ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography"

_OPEN = "v.status = 'open' AND (v.expires_at IS NULL OR v.expires_at > now())"

_VACANCY_CARD = f"""
SELECT v.id, v.title, v.job_type::text AS job_type, v.hours_per_week, v.walk_in,
       v.opening_hours, v.min_age, v.start_date, v.expires_at, v.openings, v.address,
       v.location_precision,
       o.preferred_label AS occupation_label, e.name AS employer_name,
       ST_X(v.location::geometry) AS lon, ST_Y(v.location::geometry) AS lat,
       ST_Distance(v.location, {_POINT}, false) AS distance_m
FROM vacancies v
JOIN employers e ON e.id = v.employer_id
LEFT JOIN occupations o ON o.id = v.occupation_id
"""

NEARBY_SQL = f"""{_VACANCY_CARD}
WHERE {_OPEN} AND ST_DWithin(v.location, {_POINT}, $3, false)
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
       v.work_profile, v.job_type::text AS job_type, v.hours_per_week,
       (v.start_date - current_date) AS start_in_days,
       v.walk_in, v.min_age,
       (EXTRACT(EPOCH FROM v.shift_start) / 60)::float8 AS shift_start_min,
       (EXTRACT(EPOCH FROM v.shift_end) / 60)::float8 AS shift_end_min,
       v.hazardous, v.light_work,
       v.required_certificates <@ $3::varchar[] AS certificates_ok"""
_N_CANDIDATE_COLUMNS = 16
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


@dataclass(frozen=True, slots=True)
class NearbyVacancy:
    id: uuid.UUID
    title: str
    job_type: str
    hours_per_week: float
    walk_in: bool
    opening_hours: dict[str, list[list[str]]] | None
    min_age: int
    start_date: dt.date | None
    expires_at: dt.datetime | None
    openings: int
    address: str | None
    location_precision: str
    occupation_label: str | None
    employer_name: str
    lon: float
    lat: float
    distance_m: float


async def raw_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's transaction.

    SQLAlchemy's asyncpg adapter opens the database transaction lazily, on its
    own first statement; a statement sent straight to asyncpg before that would
    run (and commit) on its own. So we make sure the transaction is open first.
    """
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
    if not driver.is_in_transaction():
        await conn.exec_driver_sql("SELECT 1")
    return driver


async def nearby_open_vacancies(
    session: AsyncSession, lat: float, lon: float, radius_m: float, limit: int
) -> list[NearbyVacancy]:
    conn = await raw_connection(session)
    rows = await conn.fetch(NEARBY_SQL, lon, lat, radius_m, limit)
    return [NearbyVacancy(**dict(r)) for r in rows]


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
    return {r["id"]: NearbyVacancy(**dict(r)) for r in rows}


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
    required = frozenset(row["required_certificates"] or ())
    return batch_from_rows([row]), row["lat"], row["lon"], required


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
    """Turn candidate rows into the columnar batch the scorer wants."""
    n = len(rows)
    cols = list(zip(*rows, strict=True))[:_N_CANDIDATE_COLUMNS] if n else [()] * 16
    (ids, dist, req, req_w, opt, profiles, job_types, hours, start_days,
     walk_in, min_age, s_start, s_end, hazardous, light, certs_ok) = cols  # fmt: skip
    req_ids, req_off = _flatten(list(req), np.int32)
    req_weights, _ = _flatten(list(req_w), np.float32)
    opt_ids, opt_off = _flatten(list(opt), np.int32)
    prof = np.full((n, profile.SIZE), np.nan, dtype=np.float32)
    for i, p in enumerate(profiles):
        if p is not None:
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
        eligibility=EligibilityColumns(
            min_age=np.asarray(min_age, dtype=np.int16),
            hours_per_week=np.asarray(hours, dtype=np.float32),
            shift_start_min=_nan_if_none(list(s_start)),
            shift_end_min=_nan_if_none(list(s_end)),
            hazardous=np.asarray(hazardous, dtype=bool),
            light_work=np.asarray(light, dtype=bool),
            certificates_ok=np.asarray(certs_ok, dtype=bool),
        ),
        job_types=np.asarray(job_types, dtype=object),
        hours_per_week=np.asarray(hours, dtype=np.float32),
        start_in_days=_nan_if_none(list(start_days)),
        walk_in=np.asarray(walk_in, dtype=bool),
    )
