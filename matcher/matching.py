"""Matching a seeker at a place: geo query, hard rules, vectorised score, top-k.

This is the one path every feature uses (the matches endpoint, consultants'
view, push on movement and on new vacancies), so they all agree on what a
match is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import metrics, profile, ranking
from matcher.eligibility import age_on, eligible_mask, exclusions, in_school
from matcher.geo import fetch_candidates, fetch_candidates_by_id
from matcher.scoring import PARTS, WEIGHTS, CandidateBatch, Scores, SeekerContext, score_batch

# Candidates considered per request, nearest first. At 100k vacancies over
# Denmark a 5 km radius in central Copenhagen holds tens of thousands; fetching
# and scoring costs ~5 us a row, so the cap bounds a request to ~10 ms. The
# benchmark (docs/benchmarks.md) measures what a smaller cap costs in quality:
# the nearest 2,000 keep ~98 % of the top 20 at 1 km and ~80 % in the densest
# 5 km circles, where the missed ones are farther away by construction.
CANDIDATE_CAP = 2000


class SkillLookup(Protocol):
    """The part of the taxonomy that matching needs (matcher.taxonomy.Taxonomy)."""

    def credit_vector(self, skill_ids: Any) -> np.ndarray: ...
    def skill_uri(self, skill_id: int) -> str: ...
    def skill_label(self, skill_id: int, lang: str = "en") -> str: ...


class SeekerLike(Protocol):
    birth_date: dt.date
    skill_ids: list[int]
    certificates: list[str]
    work_profile: list[float] | None
    job_types: list[str]
    hours_min: float | None
    hours_max: float | None
    walk_in_interest: bool
    finished_compulsory_school: bool | None
    subsidy_eligibility: list[str]


@dataclass(frozen=True, slots=True)
class Match:
    vacancy_id: uuid.UUID
    score: float
    distance_m: float
    explanation: dict[str, Any]


def today_in_denmark() -> dt.date:
    # Ages and start dates are Danish calendar days; a UTC date is wrong after 23:00 CET.
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Copenhagen")).date()


def usable_radius(stored: float, limit: float) -> float:
    """A seeker's stored radius, kept within the server's limit. The API bounds it,
    but a row written some other way must not make the seeker's own requests fail
    (or a push area query cover the country)."""
    return stored if math.isfinite(stored) and 0 < stored <= limit else limit


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _usable_profile(wp: list[float] | None) -> np.ndarray | None:
    """The seeker's stored work profile, or None (neutral) if it is not
    `profile.SIZE` numbers in [0, 1]."""
    if wp is None or len(wp) != profile.SIZE or None in wp:
        return None
    vec = np.asarray(wp, dtype=np.float32)
    return vec if bool(((vec >= 0) & (vec <= 1)).all()) else None


def seeker_context(
    seeker: SeekerLike, taxonomy: SkillLookup, radius_m: float, today: dt.date | None = None
) -> SeekerContext:
    today = today or today_in_denmark()
    # Stored values are read defensively: see usable_radius.
    age = age_on(seeker.birth_date, today)
    return SeekerContext(
        age=age,
        credit=taxonomy.credit_vector(s for s in seeker.skill_ids or () if s is not None),
        certificates=frozenset(c for c in seeker.certificates or () if c is not None),
        work_profile=_usable_profile(seeker.work_profile),
        radius_m=radius_m,
        job_types=frozenset(t for t in seeker.job_types or () if t is not None),
        hours_min=_finite_or_none(seeker.hours_min),
        hours_max=_finite_or_none(seeker.hours_max),
        walk_in_interest=seeker.walk_in_interest,
        today=today,
        # Jobseeker rows have a language; other seeker-likes (benchmarks) read English.
        lang=getattr(seeker, "language", None) or "en",
        in_school=in_school(age, seeker.finished_compulsory_school),
        subsidy_types=frozenset(t for t in seeker.subsidy_eligibility or () if t is not None),
    )


@dataclass(slots=True)
class Scored:
    """A scored candidate batch: what every caller picks its matches from."""

    ctx: SeekerContext
    batch: CandidateBatch
    scores: Scores
    eligible: np.ndarray  # bool, the hard rules

    def match(self, taxonomy: SkillLookup, row: int) -> Match:
        return Match(
            vacancy_id=self.batch.ids[row],  # type: ignore[arg-type]
            score=round(float(self.scores.total[row]), 4),
            distance_m=round(float(self.batch.distance_m[row]), 1),
            explanation=explain(taxonomy, self.ctx, self.batch, self.scores, row),
        )


def score(ctx: SeekerContext, batch: CandidateBatch) -> Scored:
    return Scored(ctx, batch, score_batch(ctx, batch), eligible_mask(batch.eligibility, ctx))


def rank(scored: Scored, limit: int, min_score: float = 0.0) -> np.ndarray:
    """Rows of the best eligible candidates with at least `min_score`, best first.

    A learned ranker (matcher/ranking.py) re-orders the best RERANK_K by hand score."""
    if len(scored.batch) == 0:
        return np.zeros(0, dtype=np.int64)
    ranker = ranking.active()
    pool = limit if ranking.is_hand_set(ranker) else max(limit, ranking.RERANK_K)
    ok = scored.eligible & (scored.scores.total >= min_score)
    total = np.where(ok, scored.scores.total, -1.0)
    k = min(pool, int(ok.sum()))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-total, k - 1)[:k]
    # Ties broken by distance so the order is stable and sensible.
    order = np.lexsort((scored.batch.distance_m[top], -total[top]))
    return ranking.rerank(scored, top[order], ranker)[:limit]


def explain(
    taxonomy: SkillLookup, ctx: SeekerContext, batch: CandidateBatch, scores: Scores, row: int
) -> dict[str, Any]:
    req = slice(batch.req_offsets[row], batch.req_offsets[row + 1])
    opt = slice(batch.opt_offsets[row], batch.opt_offsets[row + 1])
    return {
        "parts": {p: round(float(scores.parts[p][row]), 4) for p in PARTS},
        "weights": WEIGHTS,
        "required_skills": _skill_split(taxonomy, ctx, batch.req_ids[req]),
        "optional_skills": _skill_split(taxonomy, ctx, batch.opt_ids[opt]),
        "practical": {
            "hours_per_week": round(float(batch.hours_per_week[row]), 1),
            "job_type": str(batch.job_types[row]),
            "starts_in_days": _int_or_none(batch.start_in_days[row]),
        },
        "walk_in": bool(batch.walk_in[row]),
    }


def _int_or_none(x: float) -> int | None:
    return None if np.isnan(x) else int(x)


def _skill_split(taxonomy: SkillLookup, ctx: SeekerContext, ids: np.ndarray) -> dict[str, Any]:
    matched, missing = [], []
    for sid in ids.tolist():
        credit = float(ctx.credit[sid]) if sid < len(ctx.credit) else 0.0
        item = {"uri": taxonomy.skill_uri(sid), "label": taxonomy.skill_label(sid, ctx.lang)}
        if credit > 0:
            matched.append({**item, "credit": round(credit, 2)})
        else:
            missing.append(item)
    return {"matched": matched, "missing": missing}


async def score_nearby(
    session: AsyncSession,
    taxonomy: SkillLookup,
    seeker: SeekerLike,
    lat: float,
    lon: float,
    radius_m: float,
    today: dt.date | None = None,
) -> Scored:
    """The one indexed geo query, the hard rules and the score, for every
    candidate within the radius (up to CANDIDATE_CAP, nearest first)."""
    started = time.perf_counter()
    ctx = seeker_context(seeker, taxonomy, radius_m, today)
    batch = await fetch_candidates(
        session, lat, lon, radius_m, ctx.age, sorted(ctx.certificates), CANDIDATE_CAP
    )
    scored = score(ctx, batch)
    metrics.MATCH_SECONDS.observe(time.perf_counter() - started)
    metrics.CANDIDATES_SCORED.inc(len(batch))
    return scored


async def find_matches(
    session: AsyncSession,
    taxonomy: SkillLookup,
    seeker: SeekerLike,
    lat: float,
    lon: float,
    radius_m: float,
    limit: int,
    min_score: float = 0.0,
    today: dt.date | None = None,
    exclude: frozenset[uuid.UUID] = frozenset(),
) -> list[Match]:
    """The best matches near a point; `exclude` (what the person dismissed) never
    takes a place in the list."""
    scored = await score_nearby(session, taxonomy, seeker, lat, lon, radius_m, today)
    if exclude and len(scored.batch):
        kept = np.fromiter((i not in exclude for i in scored.batch.ids), bool, len(scored.batch))
        scored = dataclasses.replace(scored, eligible=scored.eligible & kept)
    matches = [scored.match(taxonomy, int(r)) for r in rank(scored, limit, min_score)]
    metrics.MATCHES_RETURNED.inc(len(matches))
    return matches


async def score_vacancies(
    session: AsyncSession,
    taxonomy: SkillLookup,
    seeker: SeekerLike,
    vacancy_ids: list[uuid.UUID],
    lat: float,
    lon: float,
    radius_m: float,
    today: dt.date | None = None,
) -> dict[uuid.UUID, tuple[Match, bool]]:
    """Score given vacancies for a seeker at a point, eligible or not.

    Returns {vacancy id: (match, eligible)}; ids that do not exist are absent.
    """
    ctx = seeker_context(seeker, taxonomy, radius_m, today)
    batch = await fetch_candidates_by_id(session, vacancy_ids, lat, lon, sorted(ctx.certificates))
    scored = score(ctx, batch)
    return {
        batch.ids[r]: (scored.match(taxonomy, r), bool(scored.eligible[r]))  # type: ignore[misc]
        for r in range(len(batch))
    }


async def why_not(
    session: AsyncSession,
    taxonomy: SkillLookup,
    seeker: SeekerLike,
    vacancy_id: uuid.UUID,
    today: dt.date | None = None,
) -> list[str] | None:
    """The ids of the hard rules that keep this vacancy from this seeker ([] if
    none do); None if the vacancy does not exist."""
    ctx = seeker_context(seeker, taxonomy, 0.0, today)
    batch = await fetch_candidates_by_id(session, [vacancy_id], 0.0, 0.0, sorted(ctx.certificates))
    if len(batch) == 0:
        return None
    return [rid for rid, mask in exclusions(batch.eligibility, ctx).items() if mask[0]]
