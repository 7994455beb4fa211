"""What a small business sees about its own vacancies: the list, and how many
young people nearby the vacancy would reach right now (a count, never who).

Reach counts the jobseekers who would be *told* about the vacancy: their stored
position (`push_streams.last_position`, kept only while their app is connected)
lies within their own radius of the vacancy, and the one push policy
(matcher/matching/push_policy.py `may_tell`, the same rule the websocket session and
Web Push apply) lets it through: the hard rules, their wishes, their own
threshold, not paused. A "not now" that time or a walk lifts (quiet hours, a
walk-in place that is closed or still far) still counts: they are the
vacancy's audience and will be told. Who was told already counts too (reach
is the audience, not the next pushes). It is scored exactly as push scores it:
one row fetched once, scored for every nearby seeker at once (`scoring.score`,
seekers x one vacancy).

Small counts could point at a person ("one 16-year-old barista near my shop"),
so a count below `REACH_FLOOR` is reported as "fewer than 3" and never exactly
(`Reach.shown`); this includes zero, so 0 and 1 cannot be told apart either.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import NotFound
from matcher.matching import geo, push_policy
from matcher.matching import matches as matching
from matcher.matching.eligibility import eligible_mask
from matcher.matching.geo import lat_lon
from matcher.matching.matches import SkillLookup
from matcher.matching.scoring import score
from matcher.models import Jobseeker, Vacancy, VacancyStatus

REACH_FLOOR = 3
# Seekers looked at per count, nearest first. Far above a neighbourhood's
# connected young people; it bounds the cost of a count in a dense city.
REACH_CAP = 2000

# The first ST_DWithin, with the largest radius anyone may have, lets the GiST
# index on push_streams.last_position do the work; the second applies each seeker's radius.
NEARBY_SEEKERS_SQL = """
SELECT j.id, ST_Distance(s.last_position, v.location, false) AS distance_m
FROM vacancies v
JOIN push_streams s ON ST_DWithin(s.last_position, v.location, $2, false)
JOIN jobseekers j
  ON j.id = s.jobseeker_id
 AND ST_DWithin(s.last_position, v.location, j.radius_m, false)
WHERE v.id = $1 AND s.last_position IS NOT NULL AND NOT j.push_paused
LIMIT $3
"""


@dataclass(frozen=True, slots=True)
class Reach:
    matching: int  # exact; stays on the server
    floor: int = REACH_FLOOR

    @property
    def shown(self) -> int | None:
        """The count to show an employer, or None for "fewer than `floor`"."""
        return self.matching if self.matching >= self.floor else None


async def owned_vacancy(
    session: AsyncSession, employer_id: uuid.UUID, vacancy_id: uuid.UUID
) -> Vacancy:
    """The vacancy if this employer owns it, for reading (no row lock, unlike
    `vacancies.get_owned`); another employer's is reported as missing."""
    vacancy = await session.get(Vacancy, vacancy_id)
    if vacancy is None or vacancy.employer_id != employer_id:
        raise NotFound("vacancy not found")
    return vacancy


async def owned_vacancies(
    session: AsyncSession, employer_id: uuid.UUID, limit: int = 100
) -> list[Vacancy]:
    """An employer's vacancies, open ones first, newest first."""
    rows = await session.scalars(
        select(Vacancy)
        .where(Vacancy.employer_id == employer_id)
        .order_by((Vacancy.status != VacancyStatus.OPEN), Vacancy.created_at.desc())
        .limit(limit)
    )
    return list(rows)


async def reach(
    session: AsyncSession,
    taxonomy: SkillLookup,
    vacancy: Vacancy,
    max_radius_m: float,
    cap: int = REACH_CAP,
    walk_in_m: float = 300.0,
) -> Reach:
    if vacancy.status != VacancyStatus.OPEN or vacancy.hidden_at is not None:
        return Reach(0)  # hidden pending review reaches no one (matcher/posting/reports.py)
    raw = await geo.raw_connection(session)
    nearby = await raw.fetch(NEARBY_SEEKERS_SQL, vacancy.id, max_radius_m, cap)
    if not nearby:
        return Reach(0)
    distance = {r["id"]: float(r["distance_m"]) for r in nearby}
    seekers = list(await session.scalars(select(Jobseeker).where(Jobseeker.id.in_(list(distance)))))
    # One row fetched once (at the vacancy's own point, certificates unchecked);
    # each seeker gets their distance and their certificates patched in.
    lat, lon = lat_lon(vacancy.location)
    base = await geo.fetch_candidates_by_id(session, [vacancy.id], lat, lon, [])
    if len(base) == 0:
        return Reach(0)
    required = frozenset(vacancy.required_certificates)
    today = matching.today_in_denmark()
    ctxs = [
        matching.seeker_context(
            s, taxonomy, matching.usable_radius(s.radius_m, max_radius_m), today
        )
        for s in seekers
    ]
    at = np.array([[distance[s.id]] for s in seekers], dtype=np.float64)
    scores = score(ctxs, base, at).column(0)
    pushable = matching.pushable(scores)
    now = dt.datetime.now(dt.UTC)
    count = 0
    for i, (seeker, ctx) in enumerate(zip(seekers, ctxs, strict=True)):
        cols = dataclasses.replace(
            base.eligibility,
            certificates_ok=np.array([required <= set(seeker.certificates)], dtype=bool),
        )
        why = push_policy.may_tell(
            eligible=bool(eligible_mask(cols, ctx)[0]),
            pushable=bool(pushable[i]),
            score=float(scores.total[i]),
            wishes=push_policy.Wishes.of(seeker),
            told=False,
            now=now,
            walk_in=vacancy.walk_in,
            distance_m=distance[seeker.id],
            walk_in_m=walk_in_m,
            opening_hours=vacancy.opening_hours,
        )
        if why is None or why.later:
            count += 1
    return Reach(count)
