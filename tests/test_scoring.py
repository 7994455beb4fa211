"""The vectorised scorer: parts, weights, neutral values, and agreement with a
plain per-pair reference implementation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from matcher import profile
from matcher.matching.eligibility import build_columns
from matcher.matching.scoring import (
    WEIGHTS,
    CandidateBatch,
    SeekerContext,
    SkillCredit,
    score_batch,
)

N_SKILLS = 50


def make_batch(rows: list[dict[str, object]]) -> CandidateBatch:
    n = len(rows)

    def flat(key: str, dtype: type) -> tuple[np.ndarray, np.ndarray]:
        lists = [list(r.get(key, [])) for r in rows]  # type: ignore[call-overload]
        offsets = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
        return np.asarray([v for x in lists for v in x], dtype=dtype), offsets

    req, req_off = flat("req", np.int32)
    req_w = np.asarray(
        [w for r in rows for w in r.get("req_w", [1.0] * len(r.get("req", [])))], dtype=np.float32
    )  # type: ignore[arg-type]
    opt, opt_off = flat("opt", np.int32)
    profiles = np.full((n, profile.SIZE), np.nan, dtype=np.float32)
    for i, r in enumerate(rows):
        if r.get("profile") is not None:
            profiles[i] = r["profile"]
    return CandidateBatch(
        ids=list(range(n)),
        distance_m=np.asarray([r.get("distance", 0.0) for r in rows], dtype=np.float64),
        req_ids=req,
        req_weights=req_w,
        req_offsets=req_off,
        opt_ids=opt,
        opt_offsets=opt_off,
        profiles=profiles,
        eligibility=build_columns(
            min_age=[15] * n,
            hours_per_week=[r.get("hours", 10.0) for r in rows],
            schedules=[None] * n,
            shift_start_min=[None] * n,
            shift_end_min=[None] * n,
            kinds=["other"] * n,
            alcohol=[False] * n,
            alone=[False] * n,
            hazards=[[]] * n,
            light_work=[False] * n,
            job_types=[r.get("job_type", "fritidsjob") for r in rows],
            certificates_ok=[True] * n,
            employer_verified=[True] * n,
        ),
        job_types=np.asarray([r.get("job_type", "fritidsjob") for r in rows], dtype=object),
        hours_per_week=np.asarray([r.get("hours", 10.0) for r in rows], dtype=np.float32),
        start_in_days=np.asarray([r.get("start_in", np.nan) for r in rows], dtype=np.float32),
        walk_in=np.zeros(n, dtype=bool),
    )


def seeker(credit: dict[int, float] | None = None, **kw: object) -> SeekerContext:
    vec = np.zeros(N_SKILLS, dtype=np.float32)
    for k, v in (credit or {}).items():
        vec[k] = v
    args: dict[str, object] = {
        "age": 20,
        "credit": SkillCredit.from_dense(vec),
        "certificates": frozenset(),
        "work_profile": None,
        "radius_m": 5000.0,
        "today": dt.date(2026, 11, 23),
    }
    args.update(kw)
    return SeekerContext(**args)  # type: ignore[arg-type]


def test_weights_sum_to_one() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_required_coverage_is_weighted_and_uses_partial_credit() -> None:
    batch = make_batch([{"req": [1, 2, 3], "req_w": [2.0, 1.0, 1.0]}])
    s = score_batch(seeker({1: 1.0, 3: 0.5}), batch)
    assert s.parts["required"][0] == pytest.approx((2 * 1.0 + 0 + 0.5) / 4)


def test_empty_skill_lists_are_full_and_neutral() -> None:
    s = score_batch(seeker(), make_batch([{}]))
    assert s.parts["required"][0] == 1.0
    assert s.parts["optional"][0] == 0.5
    assert s.parts["profile"][0] == 0.5


def test_empty_rows_between_full_rows_do_not_shift_segments() -> None:
    batch = make_batch([{"req": [1]}, {}, {"req": [2, 3]}, {}])
    s = score_batch(seeker({2: 1.0}), batch)
    assert s.parts["required"].tolist() == [0.0, 1.0, 0.5, 1.0]


def test_profile_fit_and_distance() -> None:
    me = np.full(profile.SIZE, 0.2, dtype=np.float32)
    batch = make_batch(
        [
            {"profile": np.full(profile.SIZE, 0.2), "distance": 0.0},
            {"profile": np.full(profile.SIZE, 0.7), "distance": 2500.0},
            {"profile": None, "distance": 9000.0},
        ]
    )
    s = score_batch(seeker(work_profile=me), batch)
    # Centred on "no answer": 0.5 + 0.5 * mean of 4 (a - .5)(b - .5) over the
    # dimensions where both lean: the same mild lean 0.5 + 0.5 * 0.36, leaning
    # opposite ways 0.5 - 0.5 * 0.24, no vacancy profile neutral.
    assert s.parts["profile"].tolist() == pytest.approx([0.68, 0.38, 0.5])
    assert s.parts["distance"].tolist() == pytest.approx([1.0, 0.5, 0.0])


def test_work_profile_calibration_opposite_below_skipped_below_matching() -> None:
    """The calibration docs/matching.md states: with every other part equal,
    opposite answers < a skipped quiz < matching answers, by a clear margin;
    strong identical answers give the whole part."""
    answers = np.array([1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1], dtype=np.float32)
    batch = make_batch([{"profile": answers}])
    opposite = score_batch(seeker(work_profile=1 - answers), batch)
    skipped = score_batch(seeker(work_profile=None), batch)
    matching = score_batch(seeker(work_profile=answers), batch)
    assert opposite.parts["profile"][0] == pytest.approx(0.0)
    assert skipped.parts["profile"][0] == pytest.approx(0.5)
    assert matching.parts["profile"][0] == pytest.approx(1.0)
    gap = WEIGHTS["profile"] * 0.5
    assert opposite.total[0] == pytest.approx(skipped.total[0] - gap)
    assert matching.total[0] == pytest.approx(skipped.total[0] + gap)
    # Answering only two questions, the opposite way: still below skipping.
    few = np.full(profile.SIZE, 0.5, dtype=np.float32)
    few[[6, 7]] = 1 - answers[[6, 7]]
    assert score_batch(seeker(work_profile=few), batch).total[0] < skipped.total[0]


def test_practical_fit_hours_job_type_and_start() -> None:
    batch = make_batch(
        [
            {"hours": 10, "job_type": "fritidsjob", "start_in": 3},
            {"hours": 25, "job_type": "fritidsjob"},  # 5 h above the wish
            {"hours": 10, "job_type": "ordinary"},  # not a wished type
            {"hours": 10, "job_type": "fritidsjob", "start_in": 180},
        ]
    )
    s = score_batch(
        seeker(hours_min=5.0, hours_max=20.0, job_types=frozenset({"fritidsjob"})), batch
    )
    assert s.parts["practical"].tolist() == pytest.approx(
        [1.0, (0.5 + 1 + 1) / 3, (1 + 0.3 + 1) / 3, (1 + 1 + 0.5) / 3]
    )


def test_matches_per_pair_reference() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(300):
        k = int(rng.integers(0, 6))
        rows.append(
            {
                "req": rng.choice(N_SKILLS, k, replace=False).tolist(),
                "req_w": rng.uniform(0.5, 2, k).tolist(),
                "opt": rng.choice(N_SKILLS, int(rng.integers(0, 4)), replace=False).tolist(),
                "profile": rng.random(profile.SIZE) if rng.random() < 0.8 else None,
                "distance": float(rng.uniform(0, 6000)),
                "hours": float(rng.uniform(2, 37)),
            }
        )
    credit = {int(i): float(rng.choice([0.4, 0.8, 1.0])) for i in rng.choice(N_SKILLS, 15)}
    me = seeker(credit, work_profile=rng.random(profile.SIZE).astype(np.float32))
    got = score_batch(me, make_batch(rows)).total

    def reference(r: dict) -> float:  # type: ignore[type-arg]
        c = lambda i: credit.get(i, 0.0)  # noqa: E731
        req = (
            sum(w * c(i) for i, w in zip(r["req"], r["req_w"], strict=True)) / sum(r["req_w"])
            if r["req"]
            else 1.0
        )
        opt = sum(c(i) for i in r["opt"]) / len(r["opt"]) if r["opt"] else 0.5
        fit = 0.5
        if r["profile"] is not None:
            lean, answered = 0.0, 0
            for a, b in zip(r["profile"].astype(np.float32), me.work_profile, strict=True):
                if abs(a - 0.5) >= 0.1 and abs(b - 0.5) >= 0.1:
                    lean += 4 * (a - 0.5) * (b - 0.5)
                    answered += 1
            fit = 0.5 + 0.5 * lean / max(answered, 3)
        practical = 1.0
        dist = max(0.0, 1 - r["distance"] / 5000)
        occupation = 0.5  # no occupation on these rows: nothing to compare
        w = WEIGHTS
        return (
            w["required"] * req
            + w["optional"] * opt
            + w["occupation"] * occupation
            + w["profile"] * fit
            + w["practical"] * practical
            + w["distance"] * dist
        )

    assert got == pytest.approx([reference(r) for r in rows], abs=1e-5)


def test_one_vacancy_for_many_seekers_equals_scoring_each() -> None:
    from matcher.matching.scoring import score_for_seekers

    rng = np.random.default_rng(3)
    rows = [
        {"req": [1, 2, 7], "req_w": [1.0, 0.5, 2.0], "opt": [3, 9], "hours": 12.0,
         "profile": rng.random(profile.SIZE).tolist(), "start_in": 60.0},
        {"req": [], "opt": [], "hours": 35.0, "job_type": "ordinary"},
    ]  # fmt: skip
    for row in rows:
        batch = make_batch([row])
        seekers = [
            seeker(
                {int(k): float(rng.random()) for k in rng.choice(N_SKILLS, 8, replace=False)},
                work_profile=None if i % 3 == 0 else rng.random(profile.SIZE).astype(np.float32),
                hours_min=float(rng.integers(0, 20)) if i % 2 else None,
                hours_max=float(rng.integers(20, 40)) if i % 2 else None,
                job_types=frozenset({"fritidsjob"}) if i % 4 == 1 else frozenset(),
                radius_m=float(rng.integers(500, 5000)),
            )
            for i in range(12)
        ]
        dist = rng.uniform(0, 6000, len(seekers))
        got = score_for_seekers(seekers, batch, dist)
        for i, s in enumerate(seekers):
            batch.distance_m = np.array([dist[i]])
            want = score_batch(s, batch)
            assert got.total[i] == pytest.approx(float(want.total[0]), abs=1e-6)
            for part in WEIGHTS:
                assert got.parts[part][i] == pytest.approx(float(want.parts[part][0]), abs=1e-6)
