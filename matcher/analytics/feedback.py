"""Feedback events: what happened to a match, with the match as it was scored.

Every event row (`match_events`, append-only) carries the score and a feature
vector in the order of `FEATURE_NAMES`, taken from the matcher's own output (the
explanation of `matching.Match`) by the scorer's one feature function
(`matcher.matching.scoring.features_from_match`, which the learned ranker reads through
too), so the learned ranker trains on exactly what the hand scorer saw and
nothing here re-derives scoring math:

- `pushed` (the push layer, push/delivery.py): the pushed match itself.
- a seeker's action on a vacancy that was pushed to them: a copy of the latest
  `pushed` event's score and features ("as it was scored" when they saw it).
- anything else (a verdict, a consultant-reported hire, an action on a vacancy
  found through the matches list): scored now, at the point the actor gave,
  else at the seeker's last known position, else without a position (below).

Without any position the distance is unknown: the match is scored without one
(`scoring.score(..., positioned=False)`), so `distance` and `distance_km` are
NaN and the score counts the distance part as neutral, the scorer's own rule for
a part with nothing to compare (matcher/matching/scoring.py).

Statistics get only `age_band` (from the birth date, on the Danish calendar day
of the event) and the vacancy's coarse `area` (matcher/location/areas.py), never a
position of the seeker. Writes run in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import NotFound
from matcher.location.areas import area_of
from matcher.matching import geo
from matcher.matching import matches as matching
from matcher.matching.scoring import FEATURE_NAMES, features_from_match
from matcher.models import Jobseeker
from matcher.people import consent

# The scorer that produced `score`; a learned ranker writes its own version.
HAND_SCORER = "hand-v2"

SEEKER_ACTIONS: tuple[str, ...] = ("opened", "dismissed", "saved", "applied", "hired")
VERDICTS: Mapping[str, str] = {"good": "verdict_good", "bad": "verdict_bad"}


def age_band_sql(birth_date: str) -> str:
    """The SQL for a person's age band today (Danish calendar day), from a birth-date
    column. One definition for recording events and for the statistics on them."""
    age = f"date_part('year', age((now() AT TIME ZONE 'Europe/Copenhagen')::date, {birth_date}))"
    return (
        f"CASE WHEN {age} < 18 THEN '<18' WHEN {age} < 25 THEN '18-24'"
        f" WHEN {age} < 30 THEN '25-29' ELSE '30+' END"
    )


# One statement for one or many events of a seeker. Features arrive flattened
# (asyncpg has no array-of-arrays of varying use here) and are cut back into
# rows by ordinality; the age band is computed from the seeker's row.
_INSERT_SQL = f"""
INSERT INTO match_events
    (jobseeker_id, vacancy_id, kind, actor, actor_id, score, features, scorer, age_band, area)
SELECT j.id, e.vacancy_id, $2, $3, $4, e.score,
       ($6::real[])[(e.ord - 1) * $7 + 1 : e.ord * $7],
       e.scorer, {age_band_sql("j.birth_date")}, e.area
FROM unnest($1::uuid[], $5::uuid[], $8::real[], $9::text[], $10::text[])
        WITH ORDINALITY AS e(jobseeker_id, vacancy_id, score, scorer, area, ord)
JOIN jobseekers j ON j.id = e.jobseeker_id
ORDER BY e.ord
RETURNING id, occurred_at, jobseeker_id, vacancy_id, kind, actor, actor_id, score, features,
          scorer, age_band, area
"""

_LATEST_PUSHED_SQL = """
SELECT score, features, scorer FROM match_events
WHERE jobseeker_id = $1 AND vacancy_id = $2 AND kind = 'pushed'
ORDER BY occurred_at DESC, id DESC
LIMIT 1
"""

# Whether the vacancy exists, is open, and whether this seeker has seen it
# (an event, or a push from before events were recorded).
_VACANCY_REF_SQL = """
SELECT v.id,
       v.status = 'open' AND (v.expires_at IS NULL OR v.expires_at > now()) AS open,
       EXISTS (SELECT 1 FROM match_events e WHERE e.jobseeker_id = $1 AND e.vacancy_id = v.id)
       OR EXISTS (SELECT 1 FROM push_deliveries d
                  WHERE d.jobseeker_id = $1 AND d.vacancy_id = v.id AND d.kind = 'match') AS seen,
       ST_Y(v.location::geometry) AS lat, ST_X(v.location::geometry) AS lon
FROM vacancies v
WHERE v.id = $2
"""


@dataclass(frozen=True, slots=True)
class VacancyRef:
    id: uuid.UUID
    open: bool
    seen: bool  # by this seeker: an event or a push exists
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    occurred_at: dt.datetime
    jobseeker_id: uuid.UUID
    vacancy_id: uuid.UUID
    kind: str
    actor: str
    actor_id: uuid.UUID | None
    score: float
    features: list[float]
    scorer: str
    age_band: str
    area: str | None

    def named_features(self) -> dict[str, float | None]:
        return {
            n: None if math.isnan(v) else v
            for n, v in zip(FEATURE_NAMES, self.features, strict=False)
        }


async def vacancy_ref(
    session: AsyncSession, jobseeker_id: uuid.UUID, vacancy_id: uuid.UUID
) -> VacancyRef | None:
    conn = await geo.raw_connection(session)
    row = await conn.fetchrow(_VACANCY_REF_SQL, jobseeker_id, vacancy_id)
    return VacancyRef(**dict(row)) if row is not None else None


async def score_now(
    session: AsyncSession,
    taxonomy: matching.SkillLookup,
    seeker: Jobseeker,
    vacancy_id: uuid.UUID,
    point: tuple[float, float] | None,
) -> tuple[float, list[float]] | None:
    """(score, features) of the match now, through the matcher's own path
    (`matching.score_vacancies`); None if the vacancy does not exist. Without
    any position it is scored without one (the distance part unknown)."""
    if point is None:
        point = await consent.last_point(session, seeker.id)
    lat, lon = point if point is not None else (0.0, 0.0)
    scored = await matching.score_vacancies(
        session, taxonomy, seeker, [vacancy_id], lat, lon, seeker.radius_m,
        positioned=point is not None,
    )  # fmt: skip
    if vacancy_id not in scored:
        return None
    match, eligible = scored[vacancy_id]
    distance_m = match.distance_m if point is not None else None
    return match.score, features_from_match(match.explanation, distance_m, eligible)


async def latest_pushed(
    conn: asyncpg.Connection, jobseeker_id: uuid.UUID, vacancy_id: uuid.UUID
) -> tuple[float, list[float], str] | None:
    row = await conn.fetchrow(_LATEST_PUSHED_SQL, jobseeker_id, vacancy_id)
    return (row["score"], list(row["features"]), row["scorer"]) if row is not None else None


async def record_event(
    session: AsyncSession,
    taxonomy: matching.SkillLookup,
    seeker: Jobseeker,
    vacancy: VacancyRef,
    kind: str,
    actor: str,
    actor_id: uuid.UUID | None = None,
    point: tuple[float, float] | None = None,
) -> Event:
    """Record one event in the caller's transaction (see the module docstring for
    where its score and features come from). Access is the caller's to check."""
    conn = await geo.raw_connection(session)
    copied = None if point is not None else await latest_pushed(conn, seeker.id, vacancy.id)
    if copied is not None:
        score, features, scorer = copied
        # Features are append-only: a push recorded before a feature existed lacks it.
        features += [math.nan] * (len(FEATURE_NAMES) - len(features))
    else:
        now = await score_now(session, taxonomy, seeker, vacancy.id, point)
        if now is None:  # deleted since the caller looked it up
            raise NotFound("vacancy not found")
        (score, features), scorer = now, HAND_SCORER
    area = area_of(vacancy.lat, vacancy.lon)
    rows = await insert_events(
        conn, seeker.id, kind, actor, actor_id, [(vacancy.id, score, features, scorer, area)]
    )
    return rows[0]


async def record_verdict(
    session: AsyncSession,
    taxonomy: matching.SkillLookup,
    seeker: Jobseeker,
    vacancy_id: uuid.UUID,
    verdict: str,
    consultant_id: uuid.UUID,
    point: tuple[float, float] | None,
) -> Event:
    """A consultant's review as a `verdict_good`/`verdict_bad` event, scored at the
    point they looked from (if given; else as pushed, else as for any event)."""
    ref = await vacancy_ref(session, seeker.id, vacancy_id)
    if ref is None:
        raise NotFound("vacancy not found")
    return await record_event(
        session, taxonomy, seeker, ref, VERDICTS[verdict], "consultant", consultant_id, point
    )


async def insert_events(
    conn: asyncpg.Connection,
    jobseeker_id: uuid.UUID,
    kind: str,
    actor: str,
    actor_id: uuid.UUID | None,
    items: Sequence[tuple[uuid.UUID, float, list[float], str, str | None]],
) -> list[Event]:
    """Insert events of one kind for one seeker: (vacancy id, score, features,
    scorer, area) each. Returns them in the order given."""
    return await _insert(conn, [jobseeker_id] * len(items), kind, actor, actor_id, items)


async def _insert(
    conn: asyncpg.Connection,
    jobseeker_ids: Sequence[uuid.UUID],
    kind: str,
    actor: str,
    actor_id: uuid.UUID | None,
    items: Sequence[tuple[uuid.UUID, float, list[float], str, str | None]],
) -> list[Event]:
    """Events of one kind, item k about `jobseeker_ids[k]`, in one statement."""
    if not items:
        return []
    width = len(FEATURE_NAMES)
    for item in items:
        if len(item[2]) != width:
            raise ValueError(f"features must have {width} values, got {len(item[2])}")
    rows = await conn.fetch(
        _INSERT_SQL,
        list(jobseeker_ids),
        kind,
        actor,
        actor_id,
        [i[0] for i in items],
        [f for i in items for f in i[2]],
        width,
        [i[1] for i in items],
        [i[3] for i in items],
        [i[4] for i in items],
    )
    return [Event(**{**dict(r), "features": list(r["features"])}) for r in rows]


async def record_pushed(
    conn: asyncpg.Connection,
    pushed: Sequence[tuple[uuid.UUID, uuid.UUID, Mapping[str, Any]]],
) -> list[Event]:
    """`pushed` events for match deliveries just recorded, for any number of
    people in one statement: (seeker id, vacancy id, the `match` frame's
    payload) each. Pushed matches passed the hard rules."""
    items = []
    for _, vacancy_id, payload in pushed:
        card = payload.get("vacancy") or {}
        lat, lon = card.get("lat"), card.get("lon")
        area = area_of(float(lat), float(lon)) if lat is not None and lon is not None else None
        features = features_from_match(
            payload.get("explanation") or {}, payload.get("distance_m"), eligible=True
        )
        score = float(payload.get("score") or 0.0)
        items.append((vacancy_id, score, features, str(payload.get("scorer", HAND_SCORER)), area))
    return await _insert(conn, [p[0] for p in pushed], "pushed", "system", None, items)


# The seeker's current state per vacancy: their latest action on it, where
# opening a vacancy again does not undo saving or dismissing it.
_LATEST_ACTIONS_SQL = """
SELECT * FROM (
    SELECT DISTINCT ON (e.vacancy_id)
           e.vacancy_id, e.kind AS action, e.occurred_at, v.title, em.name AS employer_name,
           v.status = 'open' AND (v.expires_at IS NULL OR v.expires_at > now()) AS open
    FROM match_events e
    JOIN vacancies v ON v.id = e.vacancy_id
    JOIN employers em ON em.id = v.employer_id
    WHERE e.jobseeker_id = $1 AND e.kind = ANY($2::text[])
    ORDER BY e.vacancy_id, (e.kind <> 'opened') DESC, e.occurred_at DESC, e.id DESC
) latest
WHERE $3::text IS NULL OR latest.action = $3
ORDER BY latest.occurred_at DESC, latest.vacancy_id
LIMIT $4
"""


@dataclass(frozen=True, slots=True)
class LatestAction:
    vacancy_id: uuid.UUID
    action: str
    occurred_at: dt.datetime
    title: str
    employer_name: str
    open: bool


async def latest_actions(
    session: AsyncSession, jobseeker_id: uuid.UUID, action: str | None, limit: int
) -> list[LatestAction]:
    """Per vacancy the seeker acted on, their latest action (optionally only
    those whose latest action is `action`), most recent first."""
    conn = await geo.raw_connection(session)
    rows = await conn.fetch(_LATEST_ACTIONS_SQL, jobseeker_id, list(SEEKER_ACTIONS), action, limit)
    return [LatestAction(**dict(r)) for r in rows]
