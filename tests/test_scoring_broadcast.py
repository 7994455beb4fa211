"""The broadcasting scorer against per-pair scoring (Hypothesis).

`score` over seekers x vacancies must give, for every pair, what a plain
per-pair reference written here from the rules in docs/matching.md gives, and
exactly what scoring that seeker alone gives (`score_batch`) and what scoring
that vacancy alone for all the seekers gives (`score_for_seekers`). Without a
position the distance part is left for later: adding it for a distance
(`with_distance`) is the full score at that distance, bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import profile
from matcher.matching import scoring
from matcher.matching.scoring import (
    HOURS_TOLERANCE,
    NEUTRAL,
    PARTS,
    PROFILE_MIN_ANSWERS,
    PROFILE_MIN_LEAN,
    STANDIN_SLOTS,
    STANDIN_WEIGHT,
    START_FAR_DAYS,
    START_SOON_DAYS,
    UNWISHED_JOB_TYPE,
    WEIGHTS,
    CandidateBatch,
    OccupationFit,
    SeekerContext,
    SkillCredit,
    best_with_distance,
    combine,
    concat,
    score,
    score_batch,
    score_for_seekers,
    static_total,
    with_distance,
)
from tests.test_scoring import N_SKILLS, make_batch, seeker

N_OCCUPATIONS = 6
JOB_TYPES = ("fritidsjob", "ordinary", "")  # "": an offer without a job type

credits = st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0])
unit = st.floats(0.0, 1.0, allow_nan=False)
profiles = st.none() | st.lists(unit, min_size=profile.SIZE, max_size=profile.SIZE)
nan_or = st.floats(0.0, 1.0, allow_nan=False) | st.just(math.nan)


@st.composite
def occupation_fits(draw: st.DrawFn) -> OccupationFit | None:
    if draw(st.booleans()):
        return None
    n = N_OCCUPATIONS
    part = np.array(draw(st.lists(nan_or, min_size=n, max_size=n)))
    cover = np.array(draw(st.lists(nan_or, min_size=n, max_size=n)))
    return OccupationFit(
        part=part,
        reason=np.zeros(n, dtype=np.int8),
        wished_by=np.full(n, -1, dtype=np.int64),
        cover=cover,
    )


@st.composite
def seekers(draw: st.DrawFn) -> SeekerContext:
    held = draw(st.dictionaries(st.integers(0, N_SKILLS - 1), credits, max_size=12))
    lo = draw(st.none() | st.integers(0, 30))
    hi = draw(st.none() | st.integers(10, 45))
    wp = draw(profiles)
    ctx = seeker(
        held,
        work_profile=None if wp is None else np.asarray(wp, dtype=np.float32),
        hours_min=None if lo is None else float(lo),
        hours_max=None if hi is None else float(hi),
        job_types=frozenset(draw(st.sets(st.sampled_from(JOB_TYPES[:2])))),
        radius_m=float(draw(st.integers(0, 6000))),
        occupations=draw(occupation_fits()),
    )
    if draw(st.booleans()):  # a shorter credit vector: the taxonomy grew since
        ctx = dataclasses.replace(
            ctx, credit=SkillCredit.from_dense(ctx.credit.dense()[: N_SKILLS // 2])
        )
    return ctx


skill_ids = st.integers(0, N_SKILLS - 1)


@st.composite
def vacancies(draw: st.DrawFn) -> dict[str, Any]:
    req = draw(st.lists(skill_ids, max_size=8))
    return {
        "req": req,
        "req_w": draw(
            st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=len(req), max_size=len(req))
        ),
        "opt": draw(st.lists(skill_ids, max_size=5)),
        "profile": draw(profiles),
        "hours": draw(st.sampled_from([5.0, 12.0, 20.0, 37.0, math.nan])),
        "job_type": draw(st.sampled_from(JOB_TYPES)),
        "start_in": draw(st.sampled_from([math.nan, 0.0, 20.0, 90.0, 400.0])),
        "occupation": draw(st.integers(-1, N_OCCUPATIONS)),  # -1 none, N: unknown here
    }


def batch_of(rows: list[dict[str, Any]]) -> CandidateBatch:
    batch = make_batch(rows)
    batch.occupation_ids = np.array([r["occupation"] for r in rows], dtype=np.int64)
    return batch


def reference(s: SeekerContext, v: dict[str, Any], distance_m: float | None) -> dict[str, Any]:
    """One pair, in plain Python, from the rules (docs/matching.md)."""

    def credit(i: int) -> float:
        dense = s.credit.dense()
        return float(dense[i]) if i < len(dense) else 0.0

    req, req_w, opt = v["req"], v["req_w"], v["opt"]
    covered = sum(credit(i) * w for i, w in zip(req, req_w, strict=True))
    weight = float(sum(req_w))
    weak = weight > 0 and covered <= 0
    occupation, cover = NEUTRAL, math.nan
    o = int(v["occupation"])
    if s.occupations is not None and 0 <= o < len(s.occupations.part):
        p = float(s.occupations.part[o])
        occupation = NEUTRAL if math.isnan(p) else p
        cover = float(s.occupations.cover[o])
    if not math.isnan(cover):
        standin = STANDIN_WEIGHT * max(STANDIN_SLOTS - len(req), 0)
        covered += standin * cover
        weight += standin
    required = covered / weight if weight > 0 else 1.0
    optional = sum(credit(i) for i in opt) / len(opt) if opt else NEUTRAL

    fit = NEUTRAL
    vp = v["profile"]
    if s.work_profile is not None and vp is not None:
        lean, answered = 0.0, 0
        for a, b in zip(np.asarray(vp, dtype=np.float32), s.work_profile, strict=True):
            if abs(a - 0.5) >= PROFILE_MIN_LEAN and abs(b - 0.5) >= PROFILE_MIN_LEAN:
                lean += 4 * (float(a) - 0.5) * (float(b) - 0.5)
                answered += 1
        fit = 0.5 + 0.5 * lean / max(answered, PROFILE_MIN_ANSWERS)

    h = float(v["hours"])
    lo = s.hours_min if s.hours_min is not None else 0.0
    hi = s.hours_max if s.hours_max is not None else 80.0
    outside = 0.0 if math.isnan(h) else max(lo - h, 0.0) + max(h - hi, 0.0)
    hours = min(max(1.0 - outside / HOURS_TOLERANCE, 0.0), 1.0)
    jt = v["job_type"]
    wished = not s.job_types or not jt or jt in s.job_types
    days = float(v["start_in"])
    days = 0.0 if math.isnan(days) else days
    late = min(max((days - START_SOON_DAYS) / (START_FAR_DAYS - START_SOON_DAYS), 0.0), 1.0)
    practical = (hours + (1.0 if wished else UNWISHED_JOB_TYPE) + (1.0 - 0.5 * late)) / 3.0

    dist = (
        math.nan
        if distance_m is None
        else min(max(1.0 - distance_m / max(s.radius_m, 1.0), 0.0), 1.0)
    )
    parts = {
        "required": required,
        "optional": optional,
        "occupation": occupation,
        "profile": fit,
        "practical": practical,
        "distance": dist,
    }
    counted = {p: NEUTRAL if math.isnan(x) else x for p, x in parts.items()}
    total = sum(WEIGHTS[p] * counted[p] for p in PARTS)
    return {"total": total, "parts": parts, "fits": outside <= 0 and wished, "weak": weak}


def assert_same(got: object, want: object) -> None:
    """Bit for bit (NaN equal to NaN)."""
    assert np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True)


grid = st.tuples(
    st.lists(seekers(), min_size=1, max_size=5),
    st.lists(vacancies(), min_size=1, max_size=7),
    st.integers(0, 2**31),
)


@settings(max_examples=150, deadline=None)
@given(grid)
def test_the_grid_equals_per_pair_scoring(case: tuple[Any, ...]) -> None:
    people, rows, seed = case
    rng = np.random.default_rng(seed)
    batch = batch_of(rows)
    dist = rng.uniform(0.0, 8000.0, (len(people), len(rows)))
    got = score(people, batch, dist)
    assert got.total.shape == (len(people), len(rows))
    for i, s in enumerate(people):
        for j, v in enumerate(rows):
            want = reference(s, v, float(dist[i, j]))
            # The scorer sums credits in float32, the reference in float64.
            assert math.isclose(got.total[i, j], want["total"], abs_tol=1e-6)
            for p in PARTS:
                assert math.isclose(got.parts[p][i, j], want["parts"][p], abs_tol=1e-6), p
            assert bool(got.fits[i, j]) == want["fits"]
            assert bool(got.weak[i, j]) == want["weak"]

    # One seeker alone, and one vacancy for all: the same numbers, exactly.
    for i, s in enumerate(people):
        batch.distance_m = dist[i]
        alone = score_batch(s, batch)
        assert_same(alone.total, got.total[i])
        for p in PARTS:
            assert_same(alone.parts[p], got.parts[p][i])
        assert_same(alone.fits, got.fits[i])
        assert_same(alone.weak, got.weak[i])
    for j in range(len(rows)):
        one = batch_of([rows[j]])
        column = score_for_seekers(people, one, dist[:, j])
        assert_same(column.total, got.total[:, j])
        for p in PARTS:
            assert_same(column.parts[p], got.parts[p][:, j])
        assert_same(column.fits, got.fits[:, j])


@settings(max_examples=150, deadline=None)
@given(grid)
def test_the_distance_added_later_is_the_full_score(case: tuple[Any, ...]) -> None:
    people, rows, seed = case
    rng = np.random.default_rng(seed)
    batch = batch_of(rows)
    dist = rng.uniform(0.0, 8000.0, (len(people), len(rows)))
    radii = np.array([[s.radius_m] for s in people])
    full = score(people, batch, dist)
    blind = score(people, batch, positioned=False)

    # Without a position the distance part is unknown and counts as neutral ...
    assert np.isnan(blind.parts["distance"]).all()
    for i, s in enumerate(people):
        for j, v in enumerate(rows):
            want = reference(s, v, None)["total"]
            assert math.isclose(blind.total[i, j], want, abs_tol=1e-6)
    assert_same(blind.total, with_distance(static_total(blind), None))
    # ... everything else is what it is with one,
    assert_same(static_total(blind), static_total(full))
    for p in PARTS[:-1]:
        assert_same(blind.parts[p], full.parts[p])
    # and adding the distance for a point is scoring afresh there, bit for bit.
    assert_same(with_distance(static_total(blind), dist, radii), full.total)
    assert (best_with_distance(static_total(full)) >= full.total).all()
    # The parts recombined (the learned ranker's hand-set baseline) give the total.
    assert_same(combine(full.parts), full.total)
    assert_same(combine(blind.parts), blind.total)


def test_one_seeker_broadcasts_to_rows_and_a_sequence_to_a_grid() -> None:
    rows: list[dict[str, object]] = [
        {"req": [1, 2], "opt": [3]},
        {"req": [], "opt": []},
        {"req": [4]},
    ]
    batch = make_batch(rows)
    me = seeker({1: 1.0, 4: 0.5})
    assert score(me, batch).total.shape == (3,)
    assert score([me, me], batch).total.shape == (2, 3)
    assert score([], batch).total.shape == (0, 3)
    assert score(me, make_batch([])).total.shape == (0,)
    # Per row, per seeker (a column), or everything: broadcasting like NumPy.
    per_seeker = score([me, me], batch, np.array([[0.0], [4000.0]]))
    assert per_seeker.parts["distance"][:, 0].tolist() == [1.0, 1.0 - 4000.0 / 5000.0]


@settings(max_examples=100, deadline=None)
@given(grid)
def test_a_batch_of_changed_vacancies_scores_as_each_alone(case: tuple[Any, ...]) -> None:
    """Push scores a batch of changed vacancies (one-row batches, concatenated)
    for every connection near any of them in one call (push/rules.py
    `score_grid`): each column equals scoring that vacancy alone, and the hard
    rules and certificates come out per pair."""
    from push.rules import score_grid, score_states
    from push.session import SeekerState

    people, rows, seed = case
    rng = np.random.default_rng(seed)
    singles = [batch_of([r]) for r in rows]
    joined = concat(singles)
    whole = batch_of(rows)
    columns = ("req_ids", "req_weights", "req_offsets", "opt_ids", "opt_offsets", "profiles",
               "hours_per_week", "start_in_days", "walk_in", "occupation_ids")  # fmt: skip
    for name in columns:
        assert_same(getattr(joined, name), getattr(whole, name))
    assert joined.job_types.tolist() == whole.job_types.tolist()

    def state(s: Any) -> SeekerState:
        held = frozenset(["forklift"] if rng.random() < 0.5 else [])
        return SeekerState(ctx=s, certificates=held, radius_m=s.radius_m, min_score=0.0,
                           paused=False, quiet_from=None, quiet_until=None,
                           walk_in_interest=True)  # fmt: skip

    states = [state(s) for s in people]
    required = [frozenset(["forklift"] if rng.random() < 0.5 else []) for _ in rows]
    dist = rng.uniform(0.0, 8000.0, (len(people), len(rows)))
    scores, eligible = score_grid(states, joined, dist, required)
    for j, one in enumerate(singles):
        alone, ok = score_states(states, one, dist[:, j], required[j])
        assert_same(scores.column(j).total, alone.total)
        for p in PARTS:
            assert_same(scores.column(j).parts[p], alone.parts[p])
        assert_same(eligible[:, j], ok)
        for i, st_ in enumerate(states):
            assert not ok[i] or required[j] <= st_.certificates


# --- The sparse credit against the dense vector it came from (the oracle) ------


def dense_credits(vectors: list[np.ndarray], ids: np.ndarray) -> np.ndarray:
    """The scorer's gather before credits were kept sparse: index each seeker's
    dense vector, nothing for ids outside it."""
    got = np.zeros((len(vectors), len(ids)), dtype=np.float32)
    for i, v in enumerate(vectors):
        if len(v) == 0:
            continue
        known = (ids >= 0) & (ids < len(v))
        got[i] = np.where(known, v[np.where(known, ids, 0)], 0.0)
    return got


dense_vectors = st.integers(0, 3 * N_SKILLS).flatmap(
    lambda n: st.lists(st.sampled_from([0.0, 0.2, 0.4, 0.5, 0.8, 1.0]), min_size=n, max_size=n)
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(dense_vectors, min_size=1, max_size=6),
    st.lists(st.integers(-2, 4 * N_SKILLS), max_size=40),
    st.integers(0, 3000),
)
def test_the_sparse_credit_gathers_what_the_dense_vector_holds(
    vectors: list[list[float]], ids: list[int], many: int
) -> None:
    dense = [np.asarray(v, dtype=np.float32) for v in vectors]
    sparse = [SkillCredit.from_dense(v) for v in dense]
    query = np.asarray(ids, dtype=np.int32)
    for d, s in zip(dense, sparse, strict=True):
        assert_same(s.dense(), d)
        assert len(s) == len(d)
        assert_same(s.at(query), dense_credits([d], query)[0])
        # Thousands of entries take the dense path: the same numbers.
        big = np.resize(query, many) if len(query) else np.zeros(0, dtype=np.int32)
        assert_same(s.at(big), dense_credits([d], big)[0])
    # One search over every seeker at once (the fan-out), and one at a time.
    assert_same(scoring._credits(sparse, query), dense_credits(dense, query))
    for i, s in enumerate(sparse):
        assert_same(scoring._credits([s], query), dense_credits([dense[i]], query))


@settings(max_examples=100, deadline=None)
@given(grid)
def test_scoring_sparse_credit_equals_scoring_the_dense_vector(case: tuple[Any, ...]) -> None:
    """The whole score, with the credit gathered sparse (as served) and with the
    dense vectors gathered the old way: the same numbers, bit for bit."""
    people, rows, seed = case
    rng = np.random.default_rng(seed)
    batch = batch_of(rows)
    dist = rng.uniform(0.0, 8000.0, (len(people), len(rows)))
    got = score(people, batch, dist)
    vectors = [s.credit.dense() for s in people]
    ids = np.concatenate([batch.req_ids, batch.opt_ids])
    try:
        scoring._credits = lambda _credits, ids: dense_credits(vectors, ids)  # type: ignore[assignment]
        want = score(people, batch, dist)
    finally:
        scoring._credits = SPARSE_CREDITS  # type: ignore[assignment]
    assert_same(scoring._credits([s.credit for s in people], ids), dense_credits(vectors, ids))
    assert_same(got.total, want.total)
    for p in PARTS:
        assert_same(got.parts[p], want.parts[p])
    assert_same(got.fits, want.fits)
    assert_same(got.weak, want.weak)


SPARSE_CREDITS = scoring._credits
