"""Pruning a dense circle (matcher/matching/matches.py `best_in_circle`) against
scoring every candidate: Hypothesis, with the full score as the oracle.

- `scoring.ceiling` is never below a row's total, its `fits` is `Scores.fits`,
  and `scoring.weak_rows` (and the replica's `weak`, on fixed-width heads of
  the required skills) is `Scores.weak`, for random seekers and vacancies;
- `rank` over the rows `best_in_circle` scored picks the same list (scores and
  distances, in order) as `rank` over every candidate in the circle, for any
  limit, minimum score, weak rows asked for or not, and dismissed vacancies.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import profile
from matcher.matching import matches as matching
from matcher.matching.replica import VacancyReplica
from matcher.matching.replica_store import REQ_HEAD, required_head
from matcher.matching.scoring import OccupationFit, SeekerContext, SkillCredit, ceiling, weak_rows
from tests.test_replica import _COLUMNS, NOW, Row

CPH = (55.6761, 12.5683)
N_SKILLS = 12  # a small vocabulary, so seekers and vacancies share skills often
N_OCCUPATIONS = 5
JOB_TYPES = ("", "ordinary", "student_job", "flexjob")
TODAY = float((NOW.date() - dt.date(1970, 1, 1)).days)  # a start day, as the replica holds it


def vacancy_row(rnd: random.Random, spec: Any) -> Row:
    (dlat, dlon), req, opt, job_type, hours, start, occupation, has_profile = spec
    values: dict[str, Any] = dict.fromkeys(_COLUMNS)
    values.update(
        id=uuid.uuid4(), distance_m=0.0,
        required_skill_ids=list(req),
        required_skill_weights=[rnd.choice([0.5, 1.0, 2.0]) for _ in req],
        optional_skill_ids=list(opt),
        work_profile=[rnd.random() for _ in range(profile.SIZE)] if has_profile else None,
        job_type=job_type, hours_per_week=hours, start_in_days=0, walk_in=False, min_age=15,
        light_work=False, workplace_kind="other", alcohol_served=False, may_work_alone=False,
        hazards=[], kind="job", volunteering_is_work=False, certificates_ok=False,
        employer_verified=True, occupation_id=occupation, lat=CPH[0] + dlat, lon=CPH[1] + dlon,
        required_certificates=[], start_day=start, expires_epoch=float("inf"), change_no=1,
        open=True,
    )  # fmt: skip
    return Row(tuple(values[c] for c in _COLUMNS))


def seeker(rnd: random.Random, spec: Any) -> SeekerContext:
    held, partial, job_types, hours, has_profile, with_occupations, radius = spec
    credit = np.zeros(N_SKILLS, dtype=np.float32)
    credit[list(partial)] = np.float32(0.4)
    credit[list(held)] = 1.0
    occupations = None
    if with_occupations:
        part = np.array([rnd.choice([np.nan, 0.0, 0.3, 0.7, 1.0]) for _ in range(N_OCCUPATIONS)])
        cover = np.array([rnd.choice([np.nan, 0.0, 0.5, 1.0]) for _ in range(N_OCCUPATIONS)])
        occupations = OccupationFit(
            part=part, reason=np.zeros(N_OCCUPATIONS, dtype=np.int8),
            wished_by=np.full(N_OCCUPATIONS, -1, dtype=np.int16), cover=cover,
        )  # fmt: skip
    wp = np.array([rnd.random() for _ in range(profile.SIZE)], np.float32) if has_profile else None
    return SeekerContext(
        age=19, credit=SkillCredit.from_dense(credit), certificates=frozenset(),
        work_profile=wp, radius_m=radius,
        job_types=frozenset(job_types), hours_min=hours[0], hours_max=hours[1],
        today=NOW.date(), occupations=occupations,
    )  # fmt: skip


skills = st.lists(st.integers(0, N_SKILLS - 1), max_size=4, unique=True)
# Up to 11 required: past the replica's fixed-width head of 8 (replica_store.REQ_HEAD).
required_skills = st.lists(st.integers(0, N_SKILLS - 1), max_size=11, unique=True)
vacancy_specs = st.tuples(
    st.tuples(st.floats(-0.03, 0.03), st.floats(-0.05, 0.05)), required_skills, skills,
    st.sampled_from(JOB_TYPES), st.sampled_from([float("nan"), 8.0, 20.0, 37.0]),
    st.sampled_from([None, TODAY, TODAY + 60.0]),
    st.sampled_from([None, *range(N_OCCUPATIONS)]), st.booleans(),
)  # fmt: skip
seeker_specs = st.tuples(
    skills, skills, st.lists(st.sampled_from(JOB_TYPES[1:]), max_size=2, unique=True),
    st.sampled_from([(None, None), (10.0, 25.0), (30.0, None)]), st.booleans(), st.booleans(),
    st.sampled_from([500.0, 2_000.0, 5_000.0]),
)  # fmt: skip


def replica_of(rows: list[Row]) -> VacancyReplica:
    replica = VacancyReplica()
    replica.apply_rows(rows)
    return replica


@settings(max_examples=80, deadline=None)
@given(st.lists(vacancy_specs, min_size=1, max_size=60), seeker_specs, st.randoms())
def test_the_ceiling_bounds_the_score_and_weak_rows_are_weak(
    specs: list[Any], who: Any, rnd: random.Random
) -> None:
    replica = replica_of([vacancy_row(rnd, s) for s in specs])
    ctx = seeker(rnd, who)
    rows, dist = replica.circle(*CPH, ctx.radius_m, age=ctx.age, now=NOW)
    full = matching.score(ctx, replica.hits(rows, dist, ctx.certificates, NOW).batch)
    top, fits = ceiling(ctx, replica.outline(rows, dist, NOW))
    assert np.all(top >= full.scores.total)
    assert fits.tolist() == full.scores.fits.tolist()
    assert weak_rows(ctx, *replica.required(rows)).tolist() == full.scores.weak.tolist()
    # The same test on the fixed-width heads of the required skills.
    assert replica.weak(ctx, rows).tolist() == full.scores.weak.tolist()


def test_a_skill_past_the_head_still_makes_a_row_not_weak() -> None:
    rnd = random.Random(7)
    spec = ((0.0, 0.0), list(range(REQ_HEAD + 2)), [], "", float("nan"), None, None, False)
    replica = replica_of([vacancy_row(rnd, spec)])
    rows, _ = replica.circle(*CPH, 1_000.0, age=19, now=NOW)
    no_profile = ([], [], [], (None, None), False, False, 1_000.0)
    last_only = seeker(rnd, ([REQ_HEAD + 1], *no_profile[1:]))
    none_of_them = seeker(rnd, ([N_SKILLS - 1], *no_profile[1:]))
    assert replica.weak(last_only, rows).tolist() == [False]
    assert replica.weak(none_of_them, rows).tolist() == [True]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 2**31 + 2), max_size=12), max_size=20))
def test_the_required_head_holds_a_rows_first_ids_and_says_when_that_is_all(
    lists: list[list[int]],
) -> None:
    ids = np.array([i for ls in lists for i in ls], dtype=np.int64)
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum([len(ls) for ls in lists], out=offsets[1:])
    head, complete = required_head(ids, offsets)
    assert head.shape == (len(lists), REQ_HEAD)
    for row, ls in enumerate(lists):
        usable = all(0 <= i < 2**31 for i in ls)
        assert bool(complete[row]) == (usable and len(ls) <= REQ_HEAD)
        if usable:
            first = ls[:REQ_HEAD]
            assert head[row].tolist() == first + [-1] * (REQ_HEAD - len(first))
        else:  # such a row is checked on its segment; its head claims nothing
            assert head[row].tolist() == [-1] * REQ_HEAD


@settings(max_examples=120, deadline=None)
@given(
    st.lists(vacancy_specs, min_size=0, max_size=120),
    seeker_specs,
    st.integers(1, 25),
    st.sampled_from([0.0, 0.3, 0.5]),
    st.booleans(),
    st.lists(st.integers(0, 119), max_size=5),
    st.randoms(),
)
def test_pruning_picks_what_scoring_every_candidate_picks(
    specs: list[Any], who: Any, limit: int, min_score: float, include_weak: bool,
    dismissed: list[int], rnd: random.Random,
) -> None:  # fmt: skip
    rows = [vacancy_row(rnd, s) for s in specs]
    replica = replica_of(rows)
    ctx = seeker(rnd, who)
    exclude = frozenset(rows[k]["id"] for k in dismissed if k < len(rows))
    # Few rows in the first round, so the rounds and the stopping rule are exercised.
    pruned = matching.best_in_circle(
        ctx, replica, *CPH, limit, min_score, include_weak, exclude, now=NOW, first=2
    )
    full = matching.score(ctx, replica.within(*CPH, ctx.radius_m, age=ctx.age, now=NOW).batch)
    kept = np.fromiter((i not in exclude for i in full.batch.ids), bool, len(full.batch))
    full.eligible &= kept

    def picked(scored: matching.Scored) -> list[tuple[float, float]]:
        got = matching.rank(scored, limit, min_score, include_weak)
        return [(float(scored.scores.total[r]), float(scored.batch.distance_m[r])) for r in got]

    assert picked(pruned) == picked(full)
    assert not exclude & set(pruned.batch.ids)
