"""The per-connection candidate cache: re-ranking in memory must give what
scoring afresh at the new position gives."""

from __future__ import annotations

import dataclasses
import math
import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.matching.eligibility import eligible_mask
from matcher.matching.matches import explain
from matcher.matching.scoring import score_batch
from push import candidates as c
from push.areas import Area, AreaCache
from push.rules import haversine_m
from tests.test_scoring import N_SKILLS, make_batch, seeker

AARHUS = (56.1567, 10.2108)
M_PER_DEG = 111_195.0


class Labels:
    def credit_vector(self, skill_ids: object) -> np.ndarray:
        return np.zeros(N_SKILLS, dtype=np.float32)

    def skill_uri(self, skill_id: int) -> str:
        return f"skill/{skill_id}"

    def skill_label(self, skill_id: int, lang: str = "en") -> str:
        return f"skill {skill_id} ({lang})"


def around(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / M_PER_DEG,
        lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))),
    )


def random_scene(n: int, seed: int) -> tuple[object, object, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        rows.append(
            {
                "req": rng.choice(N_SKILLS, size=rng.integers(0, 5), replace=False).tolist(),
                "opt": rng.choice(N_SKILLS, size=rng.integers(0, 4), replace=False).tolist(),
                "hours": float(rng.integers(4, 40)),
                "job_type": str(rng.choice(["fritidsjob", "ordinary"])),
            }
        )
    batch = make_batch(rows)
    batch.ids = [uuid.uuid4() for _ in range(n)]
    batch.walk_in = rng.random(n) < 0.2
    batch.eligibility = dataclasses.replace(
        batch.eligibility, min_age=rng.choice([15, 18], size=n).astype(np.int16)
    )
    pts = [around(*AARHUS, rng.uniform(-1500, 1500), rng.uniform(-1500, 1500)) for _ in range(n)]
    lats = np.array([p[0] for p in pts])
    lons = np.array([p[1] for p in pts])
    return batch, rows, lats, lons


def test_haversine_many_agrees_with_the_scalar_one() -> None:
    rng = np.random.default_rng(1)
    lats = 55 + rng.random(50) * 2
    lons = 8 + rng.random(50) * 4
    got = c.haversine_many(56.0, 10.0, lats, lons)
    want = [haversine_m(56.0, 10.0, a, b) for a, b in zip(lats, lons, strict=True)]
    assert np.allclose(got, want, rtol=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_picks_at_a_new_position_equal_scoring_afresh_there(seed: int) -> None:
    batch, _, lats, lons = random_scene(400, seed)
    rng = np.random.default_rng(seed)
    credit = {int(k): 1.0 for k in rng.choice(N_SKILLS, size=20, replace=False)}
    ctx = seeker(credit, radius_m=800.0, age=16, in_school=False)
    anchor = AARHUS
    batch.distance_m = c.haversine_many(*anchor, lats, lons)
    scores = score_batch(ctx, batch)
    eligible = eligible_mask(batch.eligibility, ctx)
    min_score = 0.55
    cache = c.CandidateCache.build(
        ctx, batch, scores, eligible, lats, lons, anchor, min_score, capped=False
    )
    assert 0 < len(cache) < eligible.sum()  # dropped what cannot reach the threshold

    here = around(*anchor, 220.0, -310.0)
    picks = cache.picks(*here, set(), walk_in_interest=False, walk_in_m=300.0, limit=10_000)

    # The reference: score every candidate at `here` from scratch.
    batch.distance_m = c.haversine_many(*here, lats, lons)
    fresh = score_batch(ctx, batch)
    ok = eligible & (batch.distance_m <= ctx.radius_m) & (fresh.total >= min_score)
    want = {batch.ids[r]: fresh.total[r] for r in np.flatnonzero(ok)}
    assert {pk.candidate.vacancy_id for pk in picks} == set(want)
    for pk in picks:
        assert pk.score == pytest.approx(want[pk.candidate.vacancy_id], abs=1e-9)
    assert [pk.score for pk in picks] == sorted((pk.score for pk in picks), reverse=True)

    # The explanation written at push time is the one scoring afresh would write.
    pk = picks[0]
    row = batch.ids.index(pk.candidate.vacancy_id)
    labels = Labels()
    assert pk.explanation(labels, ctx) == explain(labels, ctx, batch, fresh, row)


def test_walk_in_places_come_first_and_only_when_near() -> None:
    batch, _, lats, lons = random_scene(200, 7)
    for i in range(6):  # a few places close by, half of them walk-in
        lats[i], lons[i] = around(*AARHUS, 40.0 * i, -30.0 * i)
        batch.walk_in[i] = i % 2 == 0
    # Holding every skill: no candidate is held back for covering none (pushable).
    ctx = seeker({i: 1.0 for i in range(N_SKILLS)}, radius_m=1500.0)
    batch.distance_m = c.haversine_many(*AARHUS, lats, lons)
    scores = score_batch(ctx, batch)
    eligible = eligible_mask(batch.eligibility, ctx)
    cache = c.CandidateCache.build(ctx, batch, scores, eligible, lats, lons, AARHUS, 0.0, False)
    picks = cache.picks(*AARHUS, set(), walk_in_interest=True, walk_in_m=300.0, limit=10_000)
    flags = [pk.candidate.walk_in for pk in picks]
    assert any(flags) and not all(flags)
    assert flags == sorted(flags, reverse=True)  # walk-in first
    assert all(pk.distance_m <= 300.0 for pk in picks if pk.candidate.walk_in)
    skip = {picks[0].candidate.vacancy_id}
    again = cache.picks(*AARHUS, skip, walk_in_interest=True, walk_in_m=300.0, limit=10_000)
    assert len(again) == len(picks) - 1 and picks[0].candidate.vacancy_id not in {
        pk.candidate.vacancy_id for pk in again
    }


def test_never_pushed_outside_wishes_or_without_a_required_skill() -> None:
    batch, _, lats, lons = random_scene(200, 9)
    ctx = seeker({0: 1.0, 1: 1.0, 2: 1.0}, radius_m=3000.0, hours_max=20.0,
                 job_types=frozenset({"fritidsjob"}))  # fmt: skip
    batch.distance_m = c.haversine_many(*AARHUS, lats, lons)
    scores = score_batch(ctx, batch)
    ok = np.ones(200, dtype=bool)
    cache = c.CandidateCache.build(ctx, batch, scores, ok, lats, lons, AARHUS, 0.0, False)
    picks = cache.picks(*AARHUS, set(), walk_in_interest=True, walk_in_m=1e9, limit=10_000)
    rows = {v: i for i, v in enumerate(batch.ids)}
    got = [rows[pk.candidate.vacancy_id] for pk in picks]
    assert got, "some candidates fit"
    for i in got:
        assert batch.hours_per_week[i] <= 20.0 and batch.job_types[i] == "fritidsjob"
        assert not scores.weak[i]
    fitting = scores.fits & ~scores.weak & (batch.distance_m <= 3000.0)
    assert len(got) == int(fitting.sum())


def test_validity_by_distance_time_and_density() -> None:
    batch, _, lats, lons = random_scene(10, 3)
    ctx = seeker({}, radius_m=600.0)
    scores = score_batch(ctx, batch)
    ok = np.ones(10, dtype=bool)
    open_area = c.CandidateCache.build(ctx, batch, scores, ok, lats, lons, AARHUS, 0.0, False)
    dense = c.CandidateCache.build(ctx, batch, scores, ok, lats, lons, AARHUS, 0.0, True)
    t = open_area.built_at
    assert open_area.valid_at(*around(*AARHUS, 0, c.MARGIN_M - 5), t)
    assert not open_area.valid_at(*around(*AARHUS, 0, c.MARGIN_M + 5), t)
    assert not dense.valid_at(*around(*AARHUS, 0, c.DENSE_MARGIN_M + 5), dense.built_at)
    assert not open_area.valid_at(*AARHUS, t + c.TTL_S + 1)
    assert open_area.covers(*around(*AARHUS, 600 + c.MARGIN_M - 5, 0))
    assert not open_area.covers(*around(*AARHUS, 600 + c.MARGIN_M + 5, 0))


def test_put_and_discard_patch_the_cache() -> None:
    batch, _, lats, lons = random_scene(30, 4)
    ctx = seeker({}, radius_m=2500.0)
    batch.distance_m = c.haversine_many(*AARHUS, lats, lons)
    scores = score_batch(ctx, batch)
    ok = np.ones(30, dtype=bool)
    cache = c.CandidateCache.build(ctx, batch, scores, ok, lats, lons, AARHUS, 0.0, False)
    first = cache.picks(*AARHUS, set(), False, 300.0, 100)
    gone = first[0].candidate.vacancy_id
    cache.discard(gone)
    assert gone not in {
        pk.candidate.vacancy_id for pk in cache.picks(*AARHUS, set(), False, 300.0, 100)
    }
    newcomer = c.candidates_from(batch, scores, np.array([0]), lats, lons)[0]
    newcomer.vacancy_id = uuid.uuid4()
    cache.put(newcomer)
    assert newcomer.vacancy_id in {
        pk.candidate.vacancy_id for pk in cache.picks(*AARHUS, set(), False, 300.0, 100)
    }
    hopeless = c.CandidateCache.build(ctx, batch, scores, ok, lats, lons, AARHUS, 2.0, False)
    hopeless.put(newcomer)  # can never reach a threshold of 2: not kept
    assert len(hopeless) == 0


def test_take_keeps_rows_and_their_skill_segments() -> None:
    batch, rows, _, _ = random_scene(50, 5)
    pick = np.array([3, 0, 17, 49])
    sub = batch.take(pick)
    assert sub.ids == [batch.ids[r] for r in pick]
    for i, r in enumerate(pick):
        got = sub.req_ids[sub.req_offsets[i] : sub.req_offsets[i + 1]].tolist()
        assert got == rows[r]["req"]
        got_opt = sub.opt_ids[sub.opt_offsets[i] : sub.opt_offsets[i + 1]].tolist()
        assert got_opt == rows[r]["opt"]
    assert np.array_equal(sub.eligibility.min_age, batch.eligibility.min_age[pick])


def test_an_area_serves_each_seeker_their_own_distances_and_certificates() -> None:
    batch, _, _, _ = random_scene(3, 9)
    lats = np.array([around(*AARHUS, 0, d)[0] for d in (300, 100, 2000)])
    lons = np.array([around(*AARHUS, 0, d)[1] for d in (300, 100, 2000)])
    area = Area(
        batch=batch,
        lats=lats,
        lons=lons,
        needs_certificates=np.array([True, False, False]),
        required={0: frozenset({"truck"})},
        ids=frozenset(batch.ids),  # type: ignore[arg-type]
        centre=AARHUS,
        reach_m=3000.0,
    )
    view, within = area.for_seeker(*AARHUS, 1000.0, frozenset())
    assert within.tolist() == [True, True, False]  # the one 2 km away is out of reach
    assert view.ids == batch.ids
    assert view.distance_m == pytest.approx([300.0, 100.0, 2000.0], rel=1e-3)
    assert view.eligibility.certificates_ok.tolist() == [False, True, True]
    view, _ = area.for_seeker(*AARHUS, 1000.0, frozenset({"truck", "first aid"}))
    assert view.eligibility.certificates_ok.tolist() == [True, True, True]
    assert area.needs_certificates.tolist() == [True, False, False]  # the area is not changed
    assert area.complete_within(*AARHUS, 2500.0)
    assert not area.complete_within(*around(*AARHUS, 1000, 0), 2500.0)


def test_vacancy_events_drop_the_areas_they_fall_in() -> None:
    cache = AreaCache()
    batch, _, lats, lons = random_scene(2, 11)

    def area(centre: tuple[float, float]) -> Area:
        return Area(batch, lats, lons, np.zeros(2, dtype=bool), {}, frozenset(batch.ids),  # type: ignore[arg-type]
                    centre, 2000.0)  # fmt: skip

    far = around(*AARHUS, 0, 20_000)
    cache._areas = {(1, 1, 1.0): area(AARHUS), (2, 2, 1.0): area(far)}
    assert cache.peek(*AARHUS, 1.0) is None  # another key: not there
    cache.changed(uuid.uuid4(), *around(*AARHUS, 500, 0))
    assert list(cache._areas) == [(2, 2, 1.0)]  # the near one dropped
    cache.changed(batch.ids[0], None, None)  # type: ignore[arg-type]
    assert len(cache) == 0  # closed: every area holding it dropped


@settings(max_examples=100, deadline=None)
@given(
    places=st.lists(
        st.tuples(
            st.floats(-8_000, 8_000), st.floats(-8_000, 8_000),
            st.floats(100.0, 12_000.0), st.booleans(),
        ),
        min_size=0, max_size=30,
    ),
    at=st.one_of(st.none(), st.tuples(st.floats(-8_000, 8_000), st.floats(-8_000, 8_000))),
)  # fmt: skip
def test_a_vacancy_event_drops_exactly_the_areas_one_at_a_time_would(
    places: list[tuple[float, float, float, bool]], at: tuple[float, float] | None
) -> None:
    """`AreaCache.changed` checks every area at once; the oracle asks each area
    on its own: does it hold the vacancy, or is the vacancy within its reach."""
    batch, _, lats, lons = random_scene(2, 5)
    vacancy_id = uuid.uuid4()
    cache = AreaCache()
    for k, (north, east, reach, holds) in enumerate(places):
        ids = frozenset(batch.ids) | ({vacancy_id} if holds else set())  # type: ignore[attr-defined]
        cache._areas[(k, k, 1.0)] = Area(batch, lats, lons, np.zeros(2, dtype=bool), {}, ids,  # type: ignore[arg-type]
                                         around(*AARHUS, north, east), reach)  # fmt: skip
    point = around(*AARHUS, *at) if at is not None else (None, None)
    want = [
        key for key, a in cache._areas.items()
        if not (vacancy_id in a.ids or (at is not None and
                haversine_m(*a.centre, *point) <= a.reach_m))  # type: ignore[misc]
    ]  # fmt: skip
    cache.changed(vacancy_id, *point)
    assert list(cache._areas) == want
