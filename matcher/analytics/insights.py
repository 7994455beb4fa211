"""Consultants' figures over their caseload: outcomes, and fairness with small
cells suppressed.

Everything is computed from `match_events` joined to the consultant's caseload,
over the last `days` Danish calendar days (today included), so a consultant sees
only aggregates of the people they already follow. Definitions (docs/api.md):

- outcomes per day: events of each kind, by Danish calendar day;
- score histogram: the scores of `pushed` events, ten bins of 0.1 (1.0 falls in
  the last);
- verdict agreement: the share of consultant verdicts where the matcher agreed:
  a `verdict_good` on a match the matcher would show (it passes the hard rules
  and scores at least the seeker's *current* push threshold), or a `verdict_bad`
  on one it would not. `null` without verdicts.

Fairness (by the seeker's age band, and by the vacancy's area) suppresses every
cell with fewer than `MIN_CELL` seekers: all its numbers become `null`. If that
leaves exactly one suppressed cell, the next smallest is suppressed too, because
the day totals of the outcomes would otherwise give the hidden cell away by
subtraction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from matcher.analytics.feedback import FEATURE_NAMES, age_band_sql
from matcher.matching import geo
from matcher.matching.matches import today_in_denmark
from matcher.models import AGE_BANDS

MIN_CELL = 5
COUNTED: tuple[str, ...] = ("pushed", "opened", "dismissed", "saved", "applied", "hired")
HISTOGRAM_BINS = 10

# Events of the caseload since the start of the window's first Danish day.
_CASELOAD_EVENTS = """
FROM match_events e
JOIN caseload c ON c.jobseeker_id = e.jobseeker_id AND c.consultant_id = $1
WHERE e.occurred_at >= ($2::date)::timestamp AT TIME ZONE 'Europe/Copenhagen'
"""
_COUNTS = ", ".join(f"count(*) FILTER (WHERE e.kind = '{k}') AS {k}" for k in COUNTED)

_DAYS_SQL = f"""
WITH ev AS (
    SELECT (e.occurred_at AT TIME ZONE 'Europe/Copenhagen')::date AS day, e.kind
    {_CASELOAD_EVENTS}
)
SELECT d::date AS day,
       {", ".join(f"count(ev.kind) FILTER (WHERE ev.kind = '{k}') AS {k}" for k in COUNTED)}
FROM generate_series($2::date, $3::date, interval '1 day') AS d
LEFT JOIN ev ON ev.day = d::date
GROUP BY d
ORDER BY d
"""

_HISTOGRAM_SQL = f"""
SELECT least(greatest(width_bucket(e.score, 0.0, 1.0, {HISTOGRAM_BINS}), 1), {HISTOGRAM_BINS})
       AS bin, count(*) AS n
{_CASELOAD_EVENTS} AND e.kind = 'pushed'
GROUP BY 1
"""

_VERDICTS_SQL = f"""
SELECT count(*) FILTER (WHERE e.kind = 'verdict_good') AS good,
       count(*) FILTER (WHERE e.kind = 'verdict_bad') AS bad,
       avg(CASE WHEN (e.kind = 'verdict_good')
                   = (e.score >= j.push_min_score AND coalesce(e.features[$3], 1) = 1)
                THEN 1.0 ELSE 0.0 END) AS agreement
{_CASELOAD_EVENTS.replace("WHERE", "JOIN jobseekers j ON j.id = e.jobseeker_id WHERE")}
  AND e.kind IN ('verdict_good', 'verdict_bad')
"""

# Seekers per band: the caseload as it is, by today's age.
_BAND_SEEKERS_SQL = f"""
SELECT {age_band_sql("j.birth_date")} AS cell, count(*) AS seekers
FROM jobseekers j JOIN caseload c ON c.jobseeker_id = j.id AND c.consultant_id = $1
GROUP BY 1
"""
# Events per band: by the age band recorded with each event.
_BAND_EVENTS_SQL = f"SELECT e.age_band AS cell, {_COUNTS} {_CASELOAD_EVENTS} GROUP BY 1"
_AREA_EVENTS_SQL = f"""
SELECT e.area AS cell, count(DISTINCT e.jobseeker_id) AS seekers, {_COUNTS}
{_CASELOAD_EVENTS}
GROUP BY 1
"""


@dataclass
class Outcomes:
    days: list[dict[str, Any]]
    edges: list[float]
    counts: list[int]
    good: int
    bad: int
    agreement: float | None


@dataclass
class Cell:
    """One row of a fairness table; `values` are all None once suppressed."""

    label: str | None
    seekers: int
    counts: dict[str, int] = field(default_factory=dict)
    suppressed: bool = False

    def values(self) -> dict[str, int | float | None]:
        if self.suppressed:
            return {"seekers": None, **{k: None for k in COUNTED}, **_RATES_NONE}
        pushed = self.counts.get("pushed", 0)
        return {
            "seekers": self.seekers,
            **{k: self.counts.get(k, 0) for k in COUNTED},
            "push_rate": _ratio(pushed, self.seekers),
            "apply_rate": _ratio(self.counts.get("applied", 0), pushed),
            "hire_rate": _ratio(self.counts.get("hired", 0), self.seekers),
        }


_RATES_NONE: dict[str, None] = {"push_rate": None, "apply_rate": None, "hire_rate": None}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def window(days: int, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    end = today or today_in_denmark()
    return end - dt.timedelta(days=days - 1), end


async def outcomes(session: AsyncSession, consultant_id: uuid.UUID, days: int) -> Outcomes:
    start, end = window(days)
    conn = await geo.raw_connection(session)
    day_rows = await conn.fetch(_DAYS_SQL, consultant_id, start, end)
    bins = dict(await conn.fetch(_HISTOGRAM_SQL, consultant_id, start))  # type: ignore[arg-type]
    eligible = FEATURE_NAMES.index("eligible") + 1  # SQL arrays count from 1
    v = await conn.fetchrow(_VERDICTS_SQL, consultant_id, start, eligible)
    assert v is not None  # an aggregate always answers one row
    return Outcomes(
        days=[{"day": r["day"], **{k: r[k] for k in COUNTED}} for r in day_rows],
        edges=[round(i / HISTOGRAM_BINS, 2) for i in range(HISTOGRAM_BINS + 1)],
        counts=[int(bins.get(b, 0)) for b in range(1, HISTOGRAM_BINS + 1)],
        good=v["good"],
        bad=v["bad"],
        agreement=round(float(v["agreement"]), 4) if v["agreement"] is not None else None,
    )


def suppress(cells: Sequence[Cell], min_cell: int = MIN_CELL) -> None:
    """Suppress small cells, and one more if a single hidden cell could be derived."""
    small = [c for c in cells if c.seekers < min_cell]
    for c in small:
        c.suppressed = True
    if len(small) == 1:
        rest = sorted((c for c in cells if not c.suppressed), key=lambda c: c.seekers)
        if rest:
            rest[0].suppressed = True


async def fairness(
    session: AsyncSession, consultant_id: uuid.UUID, days: int
) -> tuple[list[Cell], list[Cell]]:
    """(by age band, by area): every band in a fixed order, areas by seekers."""
    start, _ = window(days)
    conn = await geo.raw_connection(session)
    seekers = dict(await conn.fetch(_BAND_SEEKERS_SQL, consultant_id))  # type: ignore[arg-type]
    band_events = {r["cell"]: r for r in await conn.fetch(_BAND_EVENTS_SQL, consultant_id, start)}
    bands = [Cell(b, int(seekers.get(b, 0)), _counts(band_events.get(b))) for b in AGE_BANDS]
    areas = [
        Cell(r["cell"], r["seekers"], _counts(r))
        for r in await conn.fetch(_AREA_EVENTS_SQL, consultant_id, start)
    ]
    areas.sort(key=lambda c: (-c.seekers, c.label is None, c.label or ""))
    suppress(bands)
    suppress(areas)
    return bands, areas


def _counts(row: Any) -> dict[str, int]:
    return {k: int(row[k]) for k in COUNTED} if row is not None else {}
