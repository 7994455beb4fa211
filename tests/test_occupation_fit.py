"""The occupation part on a small hand-built taxonomy (its values follow from the
constants in matcher/matching/scoring.py), and the ranking rules checked against a plain
oracle with Hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.esco.taxonomy import Taxonomy
from matcher.matching import matches as matching
from matcher.matching.scoring import (
    INTEREST_CLOSE,
    INTEREST_SAME_GROUP,
    REASONS,
    SKILLS_BESIDE_WISHES,
    SKILLS_SAME_GROUP,
    Scores,
    SkillCredit,
    occupation_fit,
)
from tests.test_scoring import make_batch, seeker

# Skills 0..9. Occupations 100 (unit group 5132) and 101 (5132), 102 (5223) sharing
# half of 100's essential skills, 103 (2512) sharing nothing.
SKILLS = [(i, f"s{i}", f"skill {i}") for i in range(10)]
OCCUPATIONS = [(100 + i, f"o{i}", f"occupation {i}") for i in range(4)]
ISCO = {100: "5132", 101: "5132", 102: "5223", 103: "2512"}
LINKS = [
    *[(100, s, "essential") for s in (0, 1, 2, 3)],
    *[(101, s, "essential") for s in (4, 5)],
    *[(102, s, "essential") for s in (0, 1, 6, 7)],
    *[(103, s, "essential") for s in (8, 9)],
    (100, 6, "optional"),
]


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy(
        skills=SKILLS, occupations=OCCUPATIONS, occupation_skills=LINKS, occupation_isco=ISCO
    )


def test_wishes_same_group_and_close_occupations(tax: Taxonomy) -> None:
    ix = tax.occupation_index
    fit = occupation_fit(ix, np.zeros(tax.n_slots, dtype=np.float32), [100])
    # cosine of {0,1,2,3} and {0,1,6,7}: 2 / sqrt(4 * 4) = 0.5
    assert fit.part[[100, 101, 102, 103]].tolist() == pytest.approx(
        [1.0, INTEREST_SAME_GROUP, INTEREST_CLOSE * 0.5, 0.0]
    )
    assert [REASONS[r] for r in fit.reason[[100, 101, 102, 103]]] == [
        "wished",
        "same_group",
        None,
        None,
    ]  # fmt: skip  (0.35 is below REASON_MIN: not named)
    assert fit.wished_by[101] == 100


def test_skills_point_to_their_occupation_and_its_group(tax: Taxonomy) -> None:
    ix = tax.occupation_index
    credit = tax.credit_vector([0, 1, 2])  # 3 of occupation 100's 4 essential skills
    fit = occupation_fit(ix, credit)
    point = {100: 0.75, 101: 0.0, 102: 0.5, 103: 0.0}
    top = 0.75
    assert fit.part[100] == pytest.approx(1.0)
    assert fit.part[101] == pytest.approx(SKILLS_SAME_GROUP * point[100] / top)
    assert fit.part[102] == pytest.approx(point[102] / top)
    assert fit.part[103] == pytest.approx(0.0)
    # The profile coverage: essential fully, optional at half weight.
    assert fit.cover[100] == pytest.approx(3 / (4 + 0.5))
    # Beside a wish, the skills' signal counts SKILLS_BESIDE_WISHES of itself.
    both = occupation_fit(ix, credit, [103])
    assert both.part[103] == 1.0
    assert both.part[100] == pytest.approx(SKILLS_BESIDE_WISHES)
    assert REASONS[both.reason[100]] == "skills"
    # Nothing to compare: no skills, no wishes.
    assert np.isnan(occupation_fit(ix, np.zeros(tax.n_slots, dtype=np.float32)).part[100])


def test_batch_rows_read_the_part_by_occupation(tax: Taxonomy) -> None:
    from dataclasses import replace

    from matcher.matching.scoring import score_batch

    ctx = replace(
        seeker(), credit=SkillCredit.from_dense(np.zeros(tax.n_slots, dtype=np.float32)),
        occupations=occupation_fit(tax.occupation_index, np.zeros(tax.n_slots), [100]),
    )  # fmt: skip
    batch = replace(make_batch([{}, {}, {}]), occupation_ids=np.array([100, 101, -1]))
    assert score_batch(ctx, batch).parts["occupation"].tolist() == pytest.approx(
        [1.0, INTEREST_SAME_GROUP, 0.5]
    )


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.floats(0, 1), st.booleans(), st.booleans(), st.booleans(), st.floats(0, 5000)),
        min_size=1,
        max_size=40,
    ),
    limit=st.integers(1, 50),
    include_weak=st.booleans(),
    min_score=st.sampled_from([0.0, 0.3, 0.6]),
)
def test_rank_puts_every_fitting_match_first_and_hides_weak(
    rows: list[tuple[float, bool, bool, bool, float]],
    limit: int,
    include_weak: bool,
    min_score: float,
) -> None:
    n = len(rows)
    total = np.array([r[0] for r in rows])
    fits = np.array([r[1] for r in rows])
    weak = np.array([r[2] for r in rows])
    eligible = np.array([r[3] for r in rows])
    batch = make_batch([{"distance": r[4]} for r in rows])
    scores = Scores(total=total, parts={}, fits=fits, weak=weak)
    scored = matching.Scored(seeker(), batch, scores, eligible)
    got = matching.rank(scored, limit, min_score, include_weak).tolist()

    # The oracle: filter, then sort by (fits, score, nearer) in plain Python.
    ok = [
        i for i in range(n)
        if eligible[i] and total[i] >= min_score and (include_weak or not weak[i])
    ]  # fmt: skip
    want = sorted(ok, key=lambda i: (not fits[i], -total[i], batch.distance_m[i]))[:limit]
    assert [(bool(fits[i]), total[i]) for i in got] == [(bool(fits[i]), total[i]) for i in want]
    assert set(got) <= set(ok)
    pushable = matching.pushable(scores)
    assert pushable.tolist() == [bool(f and not w) for f, w in zip(fits, weak, strict=True)]


def test_a_shed_fit_is_computed_again_to_the_same_numbers(tax: Taxonomy) -> None:
    """An idle push session lets its seeker's fit go (scoring.SheddableFit); the
    next score computes it again, from the skills and wishes alone, bit for bit."""
    import datetime as dt
    from dataclasses import dataclass, field, replace

    from matcher.matching.scoring import SheddableFit, fit_of, score_batch

    @dataclass
    class Person:
        birth_date: dt.date = dt.date(2005, 1, 1)
        skill_ids: list[int] = field(default_factory=lambda: [0, 1, 8])
        certificates: list[str] = field(default_factory=list)
        work_profile: list[float] | None = None
        job_types: list[str] = field(default_factory=list)
        hours_min: float | None = None
        hours_max: float | None = None
        walk_in_interest: bool = True
        finished_compulsory_school: bool | None = True
        subsidy_eligibility: list[str] = field(default_factory=list)
        interests: list[str] = field(default_factory=lambda: ["o3"])

    ctx = matching.seeker_context(Person(), tax, 3000.0, dt.date(2026, 12, 1))
    occ = ctx.occupations
    assert isinstance(occ, SheddableFit) and occ.fit is not None
    before = occ.fit
    batch = replace(make_batch([{}, {"req": [0]}, {}]), occupation_ids=np.array([100, 102, 103]))
    want = score_batch(ctx, batch)

    tax.occupation_index.fit_cache.clear()  # nothing to fall back on: computed afresh
    assert occ.shed() and occ.fit is None and not occ.shed()
    got = score_batch(ctx, batch)
    again = fit_of(ctx)
    assert again is not None and again is not before
    for name in ("part", "reason", "wished_by", "cover"):
        assert np.array_equal(getattr(again, name), getattr(before, name), equal_nan=True)
    assert np.array_equal(got.total, want.total)
    for p, v in want.parts.items():
        assert np.array_equal(got.parts[p], v, equal_nan=True)
