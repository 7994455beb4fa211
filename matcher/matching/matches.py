"""Matching a seeker at a place: geo query, hard rules, vectorised score, top-k.

This is the one path every feature uses (the matches endpoint, consultants'
view, push on movement and on new vacancies), so they all agree on what a
match is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from matcher import metrics, offers, profile
from matcher.matching import geo, ranking
from matcher.matching.eligibility import age_on, eligible_mask, exclusions, in_school
from matcher.matching.geo import fetch_candidates, fetch_candidates_by_id
from matcher.matching.replica import VacancyReplica
from matcher.matching.scoring import (
    PARTS,
    REASONS,
    CandidateBatch,
    OccupationFit,
    Scores,
    SeekerContext,
    SheddableFit,
    SkillCredit,
    ceiling,
    fit_of,
    occupation_fit,
    weights,
)
from matcher.matching.scoring import score as score_seekers

# Candidates considered per request, nearest first. At 100k vacancies over
# Denmark a 5 km radius in central Copenhagen holds tens of thousands; fetching
# and scoring costs ~5 us a row, so the cap bounds a request to ~10 ms. The
# benchmark (docs/benchmarks.md) measures what a smaller cap costs in quality:
# the nearest 2,000 keep ~98 % of the top 20 at 1 km and ~80 % in the densest
# 5 km circles, where the missed ones are farther away by construction.
CANDIDATE_CAP = 2000


class SkillLookup(Protocol):
    """The part of the taxonomy that matching needs (matcher.esco.taxonomy.Taxonomy)."""

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
    skill_ids = [s for s in seeker.skill_ids or () if s is not None]
    credit = taxonomy.credit_vector(skill_ids)
    return SeekerContext(
        age=age,
        credit=SkillCredit.from_dense(credit),
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
        # Seekers without the column (benchmarks, old callers) want jobs only.
        offer_kinds=offers.wanted_kinds(getattr(seeker, "offer_kinds", None)),
        occupations=_occupations(taxonomy, skill_ids, credit, getattr(seeker, "interests", None)),
    )


def _occupations(
    taxonomy: SkillLookup, skill_ids: Any, credit: np.ndarray, interests: Any
) -> SheddableFit | None:
    """The occupation part per occupation for this seeker; None for a lookup
    without occupations (a bare test double). Wishes whose occupation ESCO
    retired are passed over.

    The same person asks again and again (the app refreshing, push on every
    move), so the result is kept per (skills, wishes) on the index itself: a
    new taxonomy brings a new, empty cache, and it is bounded. A push session
    may let the arrays go while its phone is idle (`SheddableFit`); they come
    back from that cache or are computed again from the skills and wishes."""
    index = getattr(taxonomy, "occupation_index", None)
    if index is None:
        return None
    lookup: Any = taxonomy
    ids = [lookup.occupation_id(u) for u in interests or () if isinstance(u, str)]
    wishes = tuple(i for i in ids if i is not None)
    key = (tuple(sorted(set(skill_ids))), wishes)
    fit = _fit_for(taxonomy, key, credit)
    return SheddableFit(compute=functools.partial(_fit_for, taxonomy, key), fit=fit)


def _fit_for(
    taxonomy: Any, key: tuple[tuple[int, ...], tuple[int, ...]], credit: np.ndarray | None = None
) -> OccupationFit:
    """The fit for (skills, wishes), from the per-process cache or computed
    (`credit`: the skills' credit vector if at hand; the same as computing it)."""
    index = taxonomy.occupation_index
    cache = index.fit_cache
    fit: OccupationFit | None = cache.get(key)
    if fit is None:
        if credit is None:
            credit = taxonomy.credit_vector(key[0])
        fit = occupation_fit(index, credit, key[1])
        if len(cache) >= OCCUPATION_CACHE:
            cache.pop(next(iter(cache)))  # the oldest entry
        cache[key] = fit
    return fit


# Seekers' occupation parts kept per process (each ~90 kB at full ESCO: ~12 MB).
OCCUPATION_CACHE = 128


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


def score(ctx: SeekerContext, batch: CandidateBatch, positioned: bool = True) -> Scored:
    """The batch scored for this seeker, with the hard rules; `positioned=False`:
    no position is known (the distance part unknown, counted as neutral)."""
    scores = score_seekers(ctx, batch, positioned=positioned)
    return Scored(ctx, batch, scores, eligible_mask(batch.eligibility, ctx))


def rank(
    scored: Scored, limit: int, min_score: float = 0.0, include_weak: bool = False
) -> np.ndarray:
    """Rows of the best eligible candidates with at least `min_score`, best first.

    Candidates outside the seeker's wished hours or job types come after every
    one that fits, whatever their score (`Scores.fits`); candidates covering none
    of their listed required skills (`Scores.weak`) are left out unless
    `include_weak`. A learned ranker (matcher/matching/ranking.py) re-orders the best
    RERANK_K by hand score, within the fitting and the non-fitting apart."""
    if len(scored.batch) == 0:
        return np.zeros(0, dtype=np.int64)
    ranker = ranking.active()
    pool = _pool(limit, ranker)
    # Every fitting candidate before every other one (Scores.fits), each ranked
    # by score; the learned ranker re-orders within each.
    s = scored.scores
    ok = scored.eligible & (s.total >= min_score)
    if not include_weak:
        ok &= ~s.weak
    fitting = _best(scored, np.flatnonzero(ok & s.fits), pool)
    others = _best(scored, np.flatnonzero(ok & ~s.fits), pool - len(fitting))
    return np.concatenate(
        [ranking.rerank(scored, fitting, ranker), ranking.rerank(scored, others, ranker)]
    )[:limit]


def _pool(limit: int, ranker: ranking.Ranker | None = None) -> int:
    """How many of the best by hand score `rank` takes from each group: the
    list itself, or what the learned ranker re-orders."""
    ranker = ranking.active() if ranker is None else ranker
    return limit if ranking.is_hand_set(ranker) else max(limit, ranking.RERANK_K)


def _best(scored: Scored, rows: np.ndarray, k: int) -> np.ndarray:
    """The k best of `rows` by score, best first; ties go to the nearer vacancy."""
    if k <= 0 or len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    total = scored.scores.total
    if len(rows) > k:
        rows = rows[np.argpartition(-total[rows], k - 1)[:k]]
    return rows[np.lexsort((scored.batch.distance_m[rows], -total[rows]))]


def pushable(scores: Scores) -> np.ndarray:
    """The one push filter beyond the hard rules: never push a vacancy outside the
    seeker's wished hours or job types, nor one covering none of its required skills."""
    return scores.fits & ~scores.weak  # type: ignore[no-any-return]


def explain(
    taxonomy: SkillLookup, ctx: SeekerContext, batch: CandidateBatch, scores: Scores, row: int
) -> dict[str, Any]:
    req = slice(batch.req_offsets[row], batch.req_offsets[row + 1])
    opt = slice(batch.opt_offsets[row], batch.opt_offsets[row + 1])
    return {
        # An unknown part (the distance without a position) is null.
        "parts": {p: _part(float(scores.parts[p][row])) for p in PARTS},
        "weights": weights(),
        "required_skills": _skill_split(taxonomy, ctx, batch.req_ids[req]),
        "optional_skills": _skill_split(taxonomy, ctx, batch.opt_ids[opt]),
        "practical": {
            # None for an offer without hours or job type (leisure, volunteering).
            "hours_per_week": _round_or_none(float(batch.hours_per_week[row])),
            "job_type": str(batch.job_types[row]) or None,
            "starts_in_days": _int_or_none(batch.start_in_days[row]),
        },
        "walk_in": bool(batch.walk_in[row]),
        "occupation": _occupation(taxonomy, ctx, batch, row),
        "fits_preferences": bool(scores.fits[row]),
        "preference_misses": _misses(ctx, batch, row),
        "weak": bool(scores.weak[row]),
    }


def _part(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)


def _round_or_none(x: float) -> float | None:
    return None if np.isnan(x) else round(x, 1)


def _misses(ctx: SeekerContext, batch: CandidateBatch, row: int) -> list[str]:
    """Which of the seeker's wishes this vacancy is outside of: "hours", "job_type"."""
    h = float(batch.hours_per_week[row])
    out = []
    if (ctx.hours_min is not None and h < ctx.hours_min) or (
        ctx.hours_max is not None and h > ctx.hours_max
    ):
        out.append("hours")
    job_type = batch.job_types[row]
    # An offer without a job type (leisure, volunteering) is never outside the wish.
    if ctx.job_types and job_type and str(job_type) not in ctx.job_types:
        out.append("job_type")
    return out


def _occupation(
    taxonomy: SkillLookup, ctx: SeekerContext, batch: CandidateBatch, row: int
) -> dict[str, Any] | None:
    """The vacancy's occupation and why the occupation part is what it is:
    reason "wished" (one of the seeker's interests), "same_group" (an interest's
    ISCO unit group), "close" (close to an interest by shared skills), "skills"
    (what the seeker's skills point to), or null."""
    ids, occ = batch.occupation_ids, fit_of(ctx)
    if ids is None or not hasattr(taxonomy, "occupation_uri"):
        return None
    o = int(ids[row])
    if o < 0:
        return None
    lookup: Any = taxonomy
    out: dict[str, Any] = {
        "uri": lookup.occupation_uri(o),
        "label": lookup.occupation_label(o, ctx.lang),
        "reason": None,
    }
    if occ is not None and o < len(occ.reason):
        out["reason"] = REASONS[int(occ.reason[o])]
        wish = int(occ.wished_by[o])
        if out["reason"] in ("same_group", "close") and wish >= 0:
            out["interest"] = {
                "uri": lookup.occupation_uri(wish),
                "label": lookup.occupation_label(wish, ctx.lang),
            }
    return out


def _int_or_none(x: float) -> int | None:
    return None if np.isnan(x) else int(x)


def _skill_split(taxonomy: SkillLookup, ctx: SeekerContext, ids: np.ndarray) -> dict[str, Any]:
    matched, missing = [], []
    for sid, got in zip(ids.tolist(), ctx.credit.at(ids).tolist(), strict=True):
        credit = float(got)
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
    replica: VacancyReplica | None = None,
) -> Scored:
    """The candidates within the radius, the hard rules and the score. From the
    worker's replica of open vacancies when it is loaded: every candidate, no
    cap (matcher/matching/replica.py); otherwise the one indexed geo query, up to
    CANDIDATE_CAP nearest first (also the benchmarks' baseline)."""
    started, asked = time.perf_counter(), time.monotonic()
    ctx = seeker_context(seeker, taxonomy, radius_m, today)
    if replica is not None and replica.loaded:
        # Read after commit: what was committed before this request began is in
        # the answer, doorbell or not. One index-only read of the highest change
        # number; a sync only when the replica is behind it, shared by requests
        # that queue up meanwhile (`fresh_after`).
        await replica.sync_if_behind(await geo.raw_connection(session), fresh_after=asked)
        batch = replica.within(lat, lon, radius_m, age=ctx.age, certificates=ctx.certificates).batch
    else:
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
    include_weak: bool = False,
    exclude: frozenset[uuid.UUID] = frozenset(),
    replica: VacancyReplica | None = None,
) -> list[Match]:
    """The best matches near a point; `exclude` (what the person dismissed) never
    takes a place in the list."""
    if replica is not None and replica.loaded:
        started, asked = time.perf_counter(), time.monotonic()
        ctx = seeker_context(seeker, taxonomy, radius_m, today)
        # Read after commit, as in `score_nearby`.
        await replica.sync_if_behind(await geo.raw_connection(session), fresh_after=asked)
        scored = best_in_circle(ctx, replica, lat, lon, limit, min_score, include_weak, exclude)
        metrics.MATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.CANDIDATES_SCORED.inc(len(scored.batch))
    else:
        scored = await score_nearby(session, taxonomy, seeker, lat, lon, radius_m, today)
        if exclude and len(scored.batch):
            ids = scored.batch.ids
            kept = np.fromiter((i not in exclude for i in ids), bool, len(ids))
            scored = dataclasses.replace(scored, eligible=scored.eligible & kept)
    rows = rank(scored, limit, min_score, include_weak)
    matches = [scored.match(taxonomy, int(r)) for r in rows]
    metrics.MATCHES_RETURNED.inc(len(matches))
    return matches


# A dense circle (tens of thousands of candidates within 5 km of central
# Copenhagen) is scored in full only where it can matter: by `scoring.ceiling`
# (the total itself, from a few columns), the PRUNE_FIRST most promising rows
# first, PRUNE_GROWTH times as many each round, until no row left could take a
# place in `rank`'s answer. The rows no rule excludes, ordered by their exact
# total, settle in the first round unless ties straddle its edge: 128 is a
# few times the pool of a page, and scoring it is ~0.2 ms.
PRUNE_FIRST = 128
PRUNE_GROWTH = 4


def best_in_circle(
    ctx: SeekerContext,
    replica: VacancyReplica,
    lat: float,
    lon: float,
    limit: int,
    min_score: float = 0.0,
    include_weak: bool = False,
    exclude: frozenset[uuid.UUID] = frozenset(),
    now: dt.datetime | None = None,
    first: int = PRUNE_FIRST,
) -> Scored:
    """The candidates within the seeker's radius scored for them, holding at
    least every row `rank(..., limit, min_score, include_weak)` would pick from
    all of them, and so the same answer (every candidate, no cap).

    `rank` takes the best `pool` of the fitting rows (by total, exactly), then
    of the others; a row is left unscored only when the hard rules exclude it,
    when it is weak (and weak rows are not asked for), or when its ceiling is
    below the pool-th best score already found in its group, so it could not
    enter."""
    now = now or dt.datetime.now(dt.UTC)
    rows, dist = replica.circle(lat, lon, ctx.radius_m, age=ctx.age, now=now)
    if exclude and len(rows):
        keep = ~np.isin(rows, replica.rows_of(exclude))
        rows, dist = rows[keep], dist[keep]
    if not include_weak and len(rows):
        # Most of a dense circle lists required skills the seeker has none of:
        # set aside on those columns alone.
        keep = ~replica.weak(ctx, rows)
        rows, dist = rows[keep], dist[keep]
    if len(rows):
        # Rows the hard rules exclude are never listed: set aside before any
        # round, or a seeker who may take none of them would have every one scored.
        keep = replica.eligible(ctx, rows)
        rows, dist = rows[keep], dist[keep]
    if len(rows) == 0:
        return score(ctx, replica.hits(rows, dist, ctx.certificates, now).batch)
    top, fits = ceiling(ctx, replica.outline(rows, dist, now))
    can = top >= min_score  # the others could never pass min_score
    rows, dist, top, fits = rows[can], dist[can], top[can], fits[can]
    # Every fitting row before every other (rank's order), each by its ceiling.
    key = top + 2.0 * fits
    pool = _pool(limit)
    m = max(first, 1)
    while True:
        if m >= len(rows):
            return score(ctx, replica.hits(rows, dist, ctx.certificates, now).batch)
        chosen = np.argpartition(-key, m - 1)[:m]
        scored = score(ctx, replica.hits(rows[chosen], dist[chosen], ctx.certificates, now).batch)
        rest = np.ones(len(rows), dtype=bool)
        rest[chosen] = False
        if _settled(scored, top[rest], fits[rest], pool, min_score, include_weak):
            return scored
        m *= PRUNE_GROWTH


def _settled(
    scored: Scored,
    rest_top: np.ndarray,
    rest_fits: np.ndarray,
    pool: int,
    min_score: float,
    include_weak: bool,
) -> bool:
    """Whether no row left (by its ceiling) could enter `rank`'s pick from the
    rows scored: its group's pool is full with scores above every ceiling left."""
    s = scored.scores
    ok = scored.eligible & (s.total >= min_score)
    if not include_weak:
        ok &= ~s.weak
    fitting, others = s.total[ok & s.fits], s.total[ok & ~s.fits]

    def full(got: np.ndarray, need: int, rival: float) -> bool:
        if need <= 0 or rival == -np.inf:
            return True
        if len(got) < need:
            return False
        return bool(np.partition(got, len(got) - need)[len(got) - need] > rival)

    if not full(fitting, pool, float(np.max(rest_top[rest_fits], initial=-np.inf))):
        return False
    rival = float(np.max(rest_top[~rest_fits], initial=-np.inf))
    return full(others, pool - len(fitting), rival)


async def score_vacancies(
    session: AsyncSession,
    taxonomy: SkillLookup,
    seeker: SeekerLike,
    vacancy_ids: list[uuid.UUID],
    lat: float,
    lon: float,
    radius_m: float,
    today: dt.date | None = None,
    positioned: bool = True,
) -> dict[uuid.UUID, tuple[Match, bool]]:
    """Score given vacancies for a seeker at a point, eligible or not;
    `positioned=False`: the point is no position (`score`).

    Returns {vacancy id: (match, eligible)}; ids that do not exist are absent.
    """
    ctx = seeker_context(seeker, taxonomy, radius_m, today)
    batch = await fetch_candidates_by_id(session, vacancy_ids, lat, lon, sorted(ctx.certificates))
    scored = score(ctx, batch, positioned)
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
