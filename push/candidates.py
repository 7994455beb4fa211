"""What one connection remembers between location updates, so most updates
never touch the database.

A phone reports its position every few seconds, and at walking pace it moves a
few metres each time. Before this cache every update ran the full candidate
query (2,000 rows in a dense city, ~24 ms of PostgreSQL), although almost
nothing about those candidates had changed. Only one of the five score parts
depends on where the phone is (`distance`), so the scorer splits the score:

    total(p) = scoring.with_distance(static, distance(p, v), radius)

`static` (`scoring.static_total`: skills, profile, practical) and the hard
rules are computed once, at an *anchor* point, over the radius plus a margin.
Candidates that cannot reach the seeker's threshold even at the door
(`scoring.best_with_distance(static) < min_score`)
are dropped at once: what remains is small (tens of rows), and re-ranking it at
a new position is a few NumPy operations on a handful of floats.

The cache is exact while the phone stays within the margin of the anchor and
the candidate query was not capped: every open vacancy within the radius of
the phone lies within radius + margin of the anchor. In places so dense that
the query hits its cap, the cache is the nearest `cap` candidates around an
anchor at most `DENSE_MARGIN_M` away: the same kind of approximation the
capped query itself makes (matcher/matching/matches.py CANDIDATE_CAP).

It is refreshed when the phone leaves the margin, after `TTL_S` (profile
edits made over REST, start dates, expiry), and when the seeker's settings
change. New, changed and closed vacancies are patched in by the hub from the
vacancy events, so nothing waits for a refresh to be seen.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.matching.matches import SkillLookup, explain, pushable
from matcher.matching.scoring import (
    CandidateBatch,
    Scores,
    SeekerContext,
    best_with_distance,
    distance_part,
    static_total,
    with_distance,
)

_EARTH_RADIUS_M = 6_371_008.8

# How far beyond the radius the anchor query reaches; the phone may walk this
# far before the cache is rebuilt (~6 minutes of walking).
MARGIN_M = 500.0
# Where the query was capped, the distance the phone may move before a rebuild.
DENSE_MARGIN_M = 250.0
# Candidates fetched for the cache: twice matching's cap, since the cache
# serves a whole walk around the anchor rather than one point.
CACHE_CAP = 4000
# Rebuilt at least this often, so profile edits and start dates are seen.
TTL_S = 120.0


def haversine_many(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances from one point to many, in metres (the sphere, as
    the geo query measures them)."""
    p1 = np.radians(lat)
    p2 = np.radians(lats)
    dp = p2 - p1
    dl = np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))  # type: ignore[no-any-return]


@dataclass(slots=True)
class Candidate:
    """A vacancy this seeker might be pushed, and where to find why.

    `batch`/`scores`/`row` point into a small batch of only the kept rows, shared
    by the candidates of one build; the explanation is written only for what is
    actually pushed."""

    vacancy_id: uuid.UUID
    lat: float
    lon: float
    static: float
    walk_in: bool
    batch: CandidateBatch
    scores: Scores
    row: int


def candidates_from(
    batch: CandidateBatch,
    scores: Scores,
    rows: np.ndarray,
    lats: np.ndarray,
    lons: np.ndarray,
) -> list[Candidate]:
    """Candidates for the given rows of a scored batch, as a compact copy."""
    static = static_total(scores)[rows]
    sub, sub_scores = batch.take(rows), scores.take(rows)
    return [
        Candidate(
            vacancy_id=sub.ids[i],  # type: ignore[arg-type]
            lat=float(lats[r]),
            lon=float(lons[r]),
            static=float(static[i]),
            walk_in=bool(sub.walk_in[i]),
            batch=sub,
            scores=sub_scores,
            row=i,
        )
        for i, r in enumerate(rows.tolist())
    ]


@dataclass(slots=True)
class Pick:
    candidate: Candidate
    score: float
    distance_m: float

    def explanation(self, taxonomy: SkillLookup, ctx: SeekerContext) -> dict[str, Any]:
        c = self.candidate
        exp = explain(taxonomy, ctx, c.batch, c.scores, c.row)
        part = float(distance_part(self.distance_m, ctx.radius_m))
        exp["parts"]["distance"] = round(part, 4)
        return exp


@dataclass(slots=True)
class CandidateCache:
    anchor: tuple[float, float]
    reach_m: float  # valid while the phone is within this distance of the anchor
    min_score: float
    radius_m: float
    built_at: float = field(default_factory=time.monotonic)
    by_id: dict[uuid.UUID, Candidate] = field(default_factory=dict)
    # Columns of by_id's values, rebuilt lazily after a patch.
    _ids: list[uuid.UUID] = field(default_factory=list)
    _lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _static: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _walk_in: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    _dirty: bool = True

    @classmethod
    def build(
        cls,
        ctx: SeekerContext,
        batch: CandidateBatch,
        scores: Scores,
        eligible: np.ndarray,
        lats: np.ndarray,
        lons: np.ndarray,
        anchor: tuple[float, float],
        min_score: float,
        capped: bool,
    ) -> CandidateCache:
        cache = cls(
            anchor=anchor,
            reach_m=DENSE_MARGIN_M if capped else MARGIN_M,
            min_score=min_score,
            radius_m=float(ctx.radius_m),
        )
        ok = eligible & pushable(scores)  # never pushed: outside wishes, no required skill
        keep = np.flatnonzero(ok & (best_with_distance(static_total(scores)) >= min_score))
        for c in candidates_from(batch, scores, keep, lats, lons):
            cache.by_id[c.vacancy_id] = c
        return cache

    def valid_at(self, lat: float, lon: float, now: float, ttl_s: float = TTL_S) -> bool:
        if now - self.built_at > ttl_s:
            return False
        moved = haversine_many(self.anchor[0], self.anchor[1], np.array([lat]), np.array([lon]))
        return bool(moved[0] <= self.reach_m)

    def covers(self, lat: float, lon: float) -> bool:
        """Whether a vacancy at this place belongs in the cache's area."""
        d = haversine_many(self.anchor[0], self.anchor[1], np.array([lat]), np.array([lon]))
        return bool(d[0] <= self.radius_m + self.reach_m)

    def put(self, candidate: Candidate) -> None:
        """A new or changed vacancy; dropped if it can no longer reach the threshold."""
        if best_with_distance(candidate.static) >= self.min_score:
            self.by_id[candidate.vacancy_id] = candidate
        else:
            self.by_id.pop(candidate.vacancy_id, None)
        self._dirty = True

    def discard(self, vacancy_id: uuid.UUID) -> None:
        if self.by_id.pop(vacancy_id, None) is not None:
            self._dirty = True

    def __len__(self) -> int:
        return len(self.by_id)

    def _columns(self) -> None:
        if not self._dirty:
            return
        cands = list(self.by_id.values())
        self._ids = [c.vacancy_id for c in cands]
        self._lat = np.fromiter((c.lat for c in cands), dtype=np.float64, count=len(cands))
        self._lon = np.fromiter((c.lon for c in cands), dtype=np.float64, count=len(cands))
        self._static = np.fromiter((c.static for c in cands), dtype=np.float64, count=len(cands))
        self._walk_in = np.fromiter((c.walk_in for c in cands), dtype=bool, count=len(cands))
        self._dirty = False

    def picks(
        self,
        lat: float,
        lon: float,
        skip: set[uuid.UUID],
        walk_in_interest: bool,
        walk_in_m: float,
        limit: int,
    ) -> list[Pick]:
        """Candidates above the threshold within the radius of (lat, lon), not in
        `skip`: walk-in places within walking distance first, then best score.
        Walk-in places farther away are held back until the seeker is near."""
        self._columns()
        if not self._ids:
            return []
        dist = haversine_many(lat, lon, self._lat, self._lon)
        total = with_distance(self._static, dist, self.radius_m)
        ok = (dist <= self.radius_m) & (total >= self.min_score)
        walk_in = self._walk_in & walk_in_interest
        ok &= ~(walk_in & (dist > walk_in_m))
        rows = np.flatnonzero(ok)
        if skip and len(rows):
            rows = rows[[self._ids[r] not in skip for r in rows.tolist()]]
        if not len(rows):
            return []
        rows = rows[np.lexsort((dist[rows], -total[rows], ~walk_in[rows]))][:limit]
        return [
            Pick(self.by_id[self._ids[r]], float(total[r]), float(dist[r])) for r in rows.tolist()
        ]
