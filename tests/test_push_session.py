"""The sans-I/O push session (push/session.py) and the one push policy
(matcher/matching/push_policy.py): plain values in, effects out, time passed in. No
sockets, no database, no sleeps; the scorer and the candidate cache are the
real ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.matching import geo
from matcher.matching.eligibility import eligible_mask, rule_key
from matcher.matching.push_policy import OpeningHours, Why, Wishes, may_tell, walk_in_now
from matcher.matching.scoring import CandidateBatch, score_batch
from push import candidates
from push.allowance import Allowance
from push.areas import Area
from push.session import Knobs, ScoredVacancy, SeekerSession, SeekerState, fan_out, settle
from tests.test_push_candidates import AARHUS, Labels, around, random_scene
from tests.test_scoring import N_SKILLS, make_batch, seeker

# A Tuesday, 12:00 in Copenhagen (11:00 UTC in winter).
NOON = dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.UTC)
OPEN_ALL_DAY = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ALL_SKILLS = {i: 1.0 for i in range(N_SKILLS)}


def state(**kw: object) -> SeekerState:
    args: dict[str, object] = {
        "ctx": seeker(ALL_SKILLS, radius_m=1500.0),
        "certificates": frozenset(),
        "radius_m": 1500.0,
        "min_score": 0.0,
        "paused": False,
        "quiet_from": None,
        "quiet_until": None,
        "walk_in_interest": False,
    }
    args.update(kw)
    return SeekerState(**args)  # type: ignore[arg-type]


def session(per_window: int = 3, window_s: float = 60.0, **kw: object) -> SeekerSession:
    s = SeekerSession(uuid.uuid4(), Allowance(per_window, window_s), Knobs())
    s.on_location(AARHUS, 0.0)
    s.use_state(state(**kw), set(), 0.0)
    # An empty cache around the phone: vacancies arrive as changes.
    s.cache = candidates.CandidateCache(
        anchor=AARHUS, reach_m=candidates.MARGIN_M, min_score=s.state.min_score,  # type: ignore[union-attr]
        radius_m=1500.0, built_at=0.0,
    )  # fmt: skip
    return s


def one_vacancy(walk_in: bool = False) -> CandidateBatch:
    batch = make_batch([{"req": [1, 2], "opt": [3], "hours": 10.0, "job_type": "fritidsjob"}])
    batch.ids = [uuid.uuid4()]
    batch.walk_in = np.array([walk_in])
    return batch


def change(s: SeekerSession, north_m: float, walk_in: bool = False) -> ScoredVacancy:
    """A vacancy `north_m` north of the phone, scored for the session's person."""
    batch = one_vacancy(walk_in)
    lat, lon = around(*AARHUS, north_m, 0.0)
    d = float(candidates.haversine_many(*AARHUS, np.array([lat]), np.array([lon]))[0])
    batch.distance_m = np.array([d])
    assert s.state is not None
    scores = score_batch(s.state.ctx, batch)
    eligible = bool(eligible_mask(batch.eligibility, s.state.ctx)[0])
    return ScoredVacancy(batch.ids[0], lat, lon, batch, scores, eligible, d)  # type: ignore[arg-type]


def card_for(v: ScoredVacancy, hours: OpeningHours | None = None) -> geo.NearbyVacancy:
    return geo.NearbyVacancy(
        id=v.vacancy_id, title="Opvasker", kind="job", job_type="fritidsjob", hours_per_week=10.0,
        walk_in=bool(v.batch.walk_in[0]), opening_hours=hours, min_age=13, start_date=None,
        expires_at=None, openings=1, address=None, pay=None, location_precision="exact",
        max_age=None, cost_dkk=None, cost_note=None, org_kind="business",
        occupation_label=None, employer_name="Café", lon=v.lon, lat=v.lat,
        distance_m=v.distance_m,
    )  # fmt: skip


# --- the policy --------------------------------------------------------------------


def ask(**kw: object) -> Why | None:
    args: dict[str, object] = {
        "eligible": True, "pushable": True, "score": 0.8, "wishes": Wishes(min_score=0.5),
        "told": False, "now": NOON, "walk_in": False, "distance_m": 100.0, "walk_in_m": 300.0,
        "opening_hours": None,
    }  # fmt: skip
    args.update(kw)
    return may_tell(**args)  # type: ignore[arg-type]


def test_the_policy_says_yes_and_names_the_first_reason_for_no() -> None:
    assert ask() is None
    assert ask(eligible=False, score=0.1) is Why.INELIGIBLE
    assert ask(pushable=False) is Why.UNWANTED
    assert ask(score=0.4) is Why.BELOW_THRESHOLD
    assert ask(told=True) is Why.TOLD
    assert ask(wishes=Wishes(min_score=0.5, paused=True)) is Why.PAUSED
    quiet = Wishes(quiet_from=dt.time(11, 0), quiet_until=dt.time(13, 0))
    assert ask(wishes=quiet) is Why.QUIET_HOURS
    walker = Wishes(walk_in_interest=True)
    assert ask(walk_in=True, wishes=walker, opening_hours=OPEN_ALL_DAY) is None
    assert ask(walk_in=True, wishes=walker, distance_m=400.0) is Why.WALK_IN_FAR
    assert ask(walk_in=True, wishes=walker, opening_hours=None) is Why.WALK_IN_CLOSED
    assert ask(walk_in=True, wishes=walker, hours_known=False) is None  # asked again with hours
    # Not interested in walking in: a walk-in place is an ordinary vacancy.
    assert ask(walk_in=True, distance_m=4000.0) is None
    assert {w for w in Why if w.later} == {Why.QUIET_HOURS, Why.WALK_IN_FAR, Why.WALK_IN_CLOSED}


def test_walk_in_now_needs_near_and_open() -> None:
    assert walk_in_now(True, 100.0, OPEN_ALL_DAY, NOON, 300.0)
    assert not walk_in_now(True, 400.0, OPEN_ALL_DAY, NOON, 300.0)
    assert not walk_in_now(True, 100.0, None, NOON, 300.0)
    assert not walk_in_now(False, 100.0, OPEN_ALL_DAY, NOON, 300.0)


def test_rule_key_is_what_the_hard_rules_read() -> None:
    batch = make_batch([{"hours": 30.0}] * 3)
    batch.eligibility = dataclasses.replace(
        batch.eligibility, min_age=np.array([13, 16, 18], dtype=np.int16)
    )
    a = seeker(age=15, in_school=True)
    b = seeker(ALL_SKILLS, age=15, in_school=True, radius_m=900.0)  # other skills, same rules
    c = seeker(age=17, in_school=True)
    assert rule_key(a) == rule_key(b)
    assert (eligible_mask(batch.eligibility, a) == eligible_mask(batch.eligibility, b)).all()
    assert rule_key(a) != rule_key(c)


# --- the session ---------------------------------------------------------------------


def test_a_small_move_does_nothing_but_keeps_the_position_fresh() -> None:
    s = SeekerSession(uuid.uuid4(), Allowance(3), Knobs(move_threshold_m=25.0))
    first = s.on_location(AARHUS, 0.0)
    assert first.store == AARHUS and first.load_state and first.load_area
    step = s.on_location(around(*AARHUS, 10.0, 0.0), 5.0)
    assert step.skipped and step.store is None
    later = s.on_location(around(*AARHUS, 10.0, 0.0), 61.0)  # the position's rewrite is due
    assert later.skipped and later.store is not None


def test_a_new_vacancy_goes_out_once_with_one_payload() -> None:
    s = session()
    v = change(s, 200.0)
    step = s.on_vacancy(v, NOON, token=True)
    assert step.pick is not None and not step.deferred
    items = s.confirm([step.pick], {v.vacancy_id: card_for(v)}, NOON, Labels(), spent=False)
    ((vid, payload, score),) = items
    assert vid == v.vacancy_id and payload["type"] == "match"
    assert payload["vacancy"]["id"] == str(vid) and payload["distance_m"] == round(v.distance_m, 1)
    assert payload["walk_in_now"] is False and score == round(step.pick.score, 4)
    s.told([vid])
    assert s.on_vacancy(v, NOON, token=True).pick is None  # once per vacancy


def test_outside_the_radius_or_below_the_threshold_is_not_pushed() -> None:
    s = session()
    assert s.on_vacancy(change(s, 1800.0), NOON, token=True).pick is None
    strict = session(min_score=0.99)
    assert strict.on_vacancy(change(strict, 200.0), NOON, token=True).pick is None


def test_quiet_hours_and_pause_hold_everything() -> None:
    quiet = session(quiet_from=dt.time(11, 0), quiet_until=dt.time(13, 0))
    v = change(quiet, 200.0)
    assert quiet.on_vacancy(v, NOON, token=True).pick is None
    assert quiet.choose(NOON, 1.0) == []  # the cache holds it...
    assert len(quiet.choose(NOON + dt.timedelta(hours=2), 2.0)) == 1  # ...until the hours end
    paused = session(paused=True)
    assert paused.on_vacancy(change(paused, 200.0), NOON, token=True).pick is None


def test_a_walk_in_place_waits_until_near_and_open() -> None:
    s = session(walk_in_interest=True)
    far = change(s, 800.0, walk_in=True)
    assert s.on_vacancy(far, NOON, token=True).pick is None  # held back, in the cache
    near = change(s, 100.0, walk_in=True)
    step = s.on_vacancy(near, NOON, token=True)
    assert step.pick is not None
    closed = s.confirm([step.pick], {near.vacancy_id: card_for(near)}, NOON, Labels())
    assert closed == []  # no opening hours: a closed door
    opened = s.confirm([step.pick], {near.vacancy_id: card_for(near, OPEN_ALL_DAY)}, NOON, Labels())
    assert opened and opened[0][1]["walk_in_now"] is True


def test_without_a_token_a_match_waits_and_goes_at_the_refill() -> None:
    s = session(per_window=1, window_s=60.0)
    a, b = change(s, 100.0), change(s, 300.0)
    assert s.on_vacancy(a, NOON, token=True).pick is not None
    s.bucket.take(1)  # the shell took the token for it
    s.told([a.vacancy_id])
    step = s.on_vacancy(b, NOON, token=False)
    assert step.deferred and step.pick is None
    assert s.next_wake(0.0) == 60.0
    assert s.choose(NOON, 30.0) == []  # not yet
    (pick,) = s.choose(NOON, 60.0)
    assert pick.candidate.vacancy_id == b.vacancy_id


def test_a_closed_vacancy_no_longer_waits() -> None:
    s = session(per_window=1)
    s.bucket.take(1)
    v = change(s, 100.0)
    assert s.on_vacancy(v, NOON, token=False).deferred
    s.on_closed(v.vacancy_id)
    assert s.next_wake(0.0) is None and s.choose(NOON, 600.0) == []


def test_new_settings_start_afresh() -> None:
    s = session()
    s.told([uuid.uuid4()])
    s.on_settings()
    assert s.state is None and s.cache is None and not s.pushed and s.last_point is None
    assert s.on_location(AARHUS, 10.0).load_state


# --- properties ------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    per_window=st.integers(min_value=1, max_value=5),
    arrivals=st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=300.0), st.floats(0.0, 1400.0)),
        min_size=1,
        max_size=25,
    ),
)
def test_the_allowance_never_exceeds_its_budget_and_never_loses_a_match(
    per_window: int, arrivals: list[tuple[float, float]]
) -> None:
    """Vacancies arrive at random times and places within the radius; the phone
    stands still and the shell wakes the session when `next_wake` says. Every
    vacancy is told exactly once in the end, and within any window no more go
    out than the allowance's budget (per_window now, plus its refill)."""
    window_s = 60.0
    s = session(per_window=per_window, window_s=window_s)
    sent: list[tuple[float, uuid.UUID]] = []
    pending = sorted(arrivals)
    wanted: set[uuid.UUID] = set()

    def send(picks: list[candidates.Pick], at: float) -> None:
        for pk in picks:
            sent.append((at, pk.candidate.vacancy_id))
        s.told([pk.candidate.vacancy_id for pk in picks])

    t = 0.0
    while pending or s.next_wake(t) is not None:
        wake = s.next_wake(t)
        if pending and (wake is None or pending[0][0] <= t + wake):
            t, north = pending.pop(0)
            v = change(s, north)
            wanted.add(v.vacancy_id)
            step = s.on_vacancy(v, NOON, token=s.bucket.available(t) >= 1)
            if step.pick is not None:
                s.bucket.take(1)
                send([step.pick], t)
        else:
            assert wake is not None
            t += wake
            assert not s.on_location(AARHUS, t, still=True).skipped
            send(s.choose(NOON, t), t)
    ids = [v for _, v in sent]
    assert len(ids) == len(set(ids)), "a vacancy went out twice"
    assert set(ids) == wanted, "a match was lost"
    times = [at for at, _ in sent]
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            elapsed = times[j] - start
            budget = per_window + elapsed * per_window / window_s + 1e-6
            assert j - i + 1 <= budget, "more pushes than the allowance allows"


@settings(max_examples=60, deadline=None)
@given(
    tokens=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=3),
    vacancies=st.lists(st.floats(0.0, 1400.0), min_size=1, max_size=12),
    sent_share=st.floats(0.0, 1.0),
)
def test_a_batch_fanned_out_to_one_persons_connections_keeps_the_allowance(
    tokens: list[int], vacancies: list[float], sent_share: float
) -> None:
    """One person with a connection per entry of `tokens` (each with that many
    tokens left of 4); a batch of vacancies near all of them. Each vacancy is
    picked at most once for the person, never more than the best connection's
    tokens are picked, and every vacancy not picked waits in an allowance:
    none is lost. Settling gives back exactly the tokens of what was not sent."""
    person = uuid.uuid4()
    conns = []
    for left in tokens:
        s = session(per_window=4)
        s.seeker_id = person
        s.bucket.available(0.0)  # the allowance's clock starts now
        s.bucket.take(4 - left)
        conns.append(s)
    batch = [change(conns[0], north) for north in vacancies]
    pairs = [(s, v) for v in batch for s in conns]
    peers = {person: conns}
    picks, deferred = fan_out(pairs, peers, NOON, 0.0)

    picked = [pk.candidate.vacancy_id for _, pk in picks]
    assert len(picked) == len(set(picked)), "a vacancy picked twice for one person"
    assert len(picked) <= max(tokens), "more picks than the allowance had"
    waiting = {vid for s in deferred for vid in s.bucket.waiting}
    assert {v.vacancy_id for v in batch} <= set(picked) | waiting, "a match was lost"
    for s, left in zip(conns, tokens, strict=True):
        assert s.bucket.available(0.0) == max(0, left - len(picked))

    sent = round(len(picked) * sent_share)
    settle(peers, {person: len(picked)}, {person: sent})
    for s, left in zip(conns, tokens, strict=True):
        assert s.bucket.available(0.0) == min(4, max(0, left - len(picked)) + len(picked) - sent)


def test_an_idle_phones_expired_cache_is_shed_and_nothing_is_lost() -> None:
    s = session()
    assert not s.shed(candidates.TTL_S) and s.cache is not None  # still fresh: kept
    assert s.shed(candidates.TTL_S + 1.0) and s.cache is None
    # The next location rebuilds it, as it would an expired cache...
    assert s.on_location(AARHUS, candidates.TTL_S + 2.0, still=True).load_area
    # ...and a new vacancy within the radius is pushed without one.
    v = change(s, 200.0)
    step = s.on_vacancy(v, NOON, token=True)
    assert step.pick is not None and step.pick.candidate.vacancy_id == v.vacancy_id


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([0.0, 0.4, 0.6]))
def test_a_cache_built_from_an_area_keeps_what_scoring_all_of_it_keeps(
    seed: int, min_score: float
) -> None:
    """`use_area` scores only the rows within reach that could ever be pushed
    (not weak): the cache equals the one built from scoring the whole area."""
    from matcher.matching import matches as matching

    batch, _, lats, lons = random_scene(300, seed)
    rng = np.random.default_rng(seed)
    held = rng.choice(N_SKILLS, size=int(rng.integers(0, 6)), replace=False)
    credit = {int(k): float(rng.choice([0.4, 1.0])) for k in held}
    person = state(ctx=seeker(credit, radius_m=800.0), radius_m=800.0, min_score=min_score)
    area = Area(
        batch=batch, lats=lats, lons=lons, needs_certificates=np.zeros(len(lats), dtype=bool),
        required={}, ids=frozenset(batch.ids), centre=AARHUS, reach_m=3000.0,  # type: ignore[arg-type]
    )  # fmt: skip
    s = SeekerSession(uuid.uuid4(), Allowance(3, 60.0), Knobs())
    s.on_location(AARHUS, 0.0)
    s.use_state(person, set(), 0.0)
    s.use_area(area, AARHUS, 0.0)
    assert s.cache is not None

    view, within = area.for_seeker(*AARHUS, s.reach_m, frozenset())
    scored = matching.score(person.ctx, view)
    want = candidates.CandidateCache.build(
        person.ctx, view, scored.scores, scored.eligible & within, lats, lons, AARHUS,
        min_score, capped=not area.complete_within(*AARHUS, s.reach_m),
    )  # fmt: skip
    assert set(s.cache.by_id) == set(want.by_id)
    for vid, got in s.cache.by_id.items():
        assert (got.static, got.lat, got.lon) == (
            want.by_id[vid].static,
            want.by_id[vid].lat,
            want.by_id[vid].lon,
        )


def test_an_idle_phone_lets_its_occupation_fit_go_and_scores_the_same() -> None:
    """A sweep that finds the seeker's occupation fit unread since the last one
    lets it go; a vacancy scored for the person later gets it computed again,
    the same numbers, and it stays while it is read."""
    from matcher.matching.scoring import OccupationFit, SheddableFit

    s = session()
    assert s.state is not None
    fit = OccupationFit(
        part=np.array([0.9, np.nan]), reason=np.zeros(2, dtype=np.int8),
        wished_by=np.full(2, -1, dtype=np.int16), cover=np.array([0.5, np.nan]),
    )  # fmt: skip
    computed: list[int] = []

    def compute() -> OccupationFit:
        computed.append(1)
        return fit

    occ = SheddableFit(compute=compute, fit=fit)
    s.state.ctx = dataclasses.replace(s.state.ctx, occupations=occ)
    batch = dataclasses.replace(make_batch([{}]), occupation_ids=np.array([0]))
    want = score_batch(s.state.ctx, batch).total
    assert not s.shed(1.0) and occ.fit is fit  # read just now: kept
    assert s.shed(2.0) and occ.fit is None  # unread since the last sweep: let go
    assert np.array_equal(score_batch(s.state.ctx, batch).total, want) and computed == [1]
    assert not s.shed(3.0) and occ.fit is not None  # read since: kept
    assert s.shed(4.0) and occ.fit is None  # idle again: let go


def test_freed_memory_can_be_handed_back() -> None:
    """The sweep's malloc_trim (push/memory.py): glibc here, so it runs."""
    from push import memory

    took = memory.trim()
    assert took is not None and took >= 0.0


def test_with_fits_kept_an_idle_session_holds_its_fit() -> None:
    from matcher.matching.scoring import OccupationFit, SheddableFit

    s = session()
    s.knobs = dataclasses.replace(s.knobs, shed_fits=False)
    assert s.state is not None
    fit = OccupationFit(
        part=np.zeros(1), reason=np.zeros(1, dtype=np.int8),
        wished_by=np.full(1, -1, dtype=np.int16), cover=np.zeros(1),
    )  # fmt: skip
    occ = SheddableFit(compute=lambda: fit, fit=fit)
    s.state.ctx = dataclasses.replace(s.state.ctx, occupations=occ)
    assert not s.shed(1.0) and not s.shed(2.0) and occ.fit is fit


@settings(max_examples=40, deadline=None)
@given(
    people=st.lists(
        st.tuples(st.sets(st.integers(0, N_SKILLS - 1), max_size=4), st.integers(13, 29)),
        min_size=1, max_size=12,
    ),
)  # fmt: skip
def test_a_column_scored_for_many_sessions_decides_as_each_scored_alone(
    people: list[tuple[set[int], int]],
) -> None:
    """`scored_for` cuts a row out of a many-seekers x one-vacancy scoring only
    for the people the hard rules and the push filter leave it open to; every
    session still decides exactly as with its own row (pick, cache, allowance)."""
    from push.rules import score_grid
    from push.session import scored_for

    col = [session(ctx=seeker({k: 1.0 for k in skills}, age=age, radius_m=1500.0))
           for skills, age in people]  # fmt: skip
    alone = [session(ctx=seeker({k: 1.0 for k in skills}, age=age, radius_m=1500.0))
             for skills, age in people]  # fmt: skip
    batch = one_vacancy()
    batch.eligibility.min_age[0] = 16  # some of them too young
    lat, lon = around(*AARHUS, 400.0, 0.0)
    d = float(candidates.haversine_many(*AARHUS, np.array([lat]), np.array([lon]))[0])
    batch.distance_m = np.array([d])
    scores, eligible = score_grid(
        [s.state for s in col],
        batch,
        np.full((len(col), 1), d),
        [frozenset()],  # type: ignore[misc]
    )
    changes = scored_for(col, batch, batch.ids[0], lat, lon, np.full(len(col), d),  # type: ignore[arg-type]
                         scores.column(0), eligible[:, 0])  # fmt: skip
    for s, c, a in zip(col, changes, alone, strict=True):
        assert a.state is not None
        own = ScoredVacancy(batch.ids[0], lat, lon, batch, score_batch(a.state.ctx, batch),  # type: ignore[arg-type]
                            bool(eligible_mask(batch.eligibility, a.state.ctx)[0]), d)  # fmt: skip
        got, want = s.on_vacancy(c, NOON, True), a.on_vacancy(own, NOON, True)
        assert (got.pick is None) == (want.pick is None)
        if got.pick is not None and want.pick is not None:
            assert got.pick.score == want.pick.score
        assert s.cache is not None and a.cache is not None
        assert set(s.cache.by_id) == set(a.cache.by_id)
