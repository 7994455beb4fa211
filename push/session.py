"""One person's push state on one connection, sans-I/O.

`SeekerSession` decides; the hub (push/hub.py) does the I/O. Nothing here
touches a socket or the database, sleeps or reads a clock: time comes in as
arguments (`now`, a wall-clock datetime for quiet and opening hours; `now_m`,
monotonic seconds for the allowance and freshness), and every method answers
with what the shell should do next. The rule "may this person be told this
vacancy now" is `matcher/push_policy.may_tell`, shared with Web Push and reach.

A location update is a short conversation:

    step = s.on_location(point, now_m)       # LocationStep: store? load what?
    (shell) step.load_state -> s.use_state(state, pushed, now_m)
    (shell) step.load_area  -> s.use_area(area, point, now_m)
    picks = s.choose(now, now_m)             # the allowance's choice, tokens spent
    (shell) cards for the picks, open only
    items = s.confirm(picks, cards, now)     # payloads to record (policy applied)
    (shell) record them, then s.told(ids)

A vacancy change arrives already scored for this person (the consumer scores
connections x changed vacancies in one call): `on_vacancy` patches the
candidate cache and returns a pick to confirm, or defers it to the allowance.
`fan_out` runs a batch of such changes over every session near them (a
person's connections share their allowance) and `settle` gives back the
tokens of picks that were not sent. `on_closed`, `on_settings` and
`next_wake` (when the allowance's refill lets what waits go) complete it.

Why per connection, not per person: each connection has its own allowance and
candidate cache around its own phone's position (a phone and a tablet of one
person stand in different places). What is shared across a person's
connections (their deliveries, "once per vacancy") is in the database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.esco.taxonomy import Taxonomy
from matcher.matching import geo
from matcher.matching import matches as matching
from matcher.matching.matches import SkillLookup
from matcher.matching.push_policy import Why, Wishes, in_quiet_hours, may_tell, walk_in_now
from matcher.matching.scoring import (
    CandidateBatch,
    Scores,
    SeekerContext,
    SheddableFit,
    static_total,
    weak_rows,
)
from matcher.settings import Settings
from push import candidates
from push.allowance import Allowance
from push.areas import Area
from push.payloads import match_payload
from push.rules import haversine_m

Point = tuple[float, float]
# How many of the best matches one location update considers.
MATCHES_PER_UPDATE = 50


@dataclass(slots=True)
class SeekerState:
    """The person as the session last read them (refreshed with the cache)."""

    ctx: SeekerContext
    certificates: frozenset[str]
    radius_m: float
    min_score: float
    paused: bool
    quiet_from: dt.time | None
    quiet_until: dt.time | None
    walk_in_interest: bool

    @property
    def wishes(self) -> Wishes:
        return Wishes(
            self.min_score, self.paused, self.quiet_from, self.quiet_until, self.walk_in_interest
        )


@dataclass(frozen=True, slots=True)
class Knobs:
    """The settings a session reads (matcher/settings.py)."""

    move_threshold_m: float = 25.0
    position_write_s: float = 60.0
    position_write_m: float = 100.0
    walk_in_m: float = 300.0
    matches_per_update: int = MATCHES_PER_UPDATE
    shed_fits: bool = True  # an idle session lets its seeker's occupation fit go (`shed`)

    @classmethod
    def of(cls, settings: Settings) -> Knobs:
        return cls(
            move_threshold_m=settings.push_move_threshold_m,
            position_write_s=settings.position_write_s,
            position_write_m=settings.position_write_m,
            walk_in_m=settings.push_walk_in_m,
            shed_fits=settings.push_shed_fits,
        )


@dataclass(slots=True)
class LocationStep:
    """What the shell must do for one location update."""

    store: Point | None = None  # queue this position for the database
    skipped: bool = False  # moved less than the threshold: nothing more to do
    load_state: bool = False  # read the person and what they were told, then `use_state`
    load_area: bool = False  # an area around the point, then `use_area`
    look: bool = False  # something may be sent: `choose`, then the cards, then `confirm`


@dataclass(frozen=True, slots=True)
class ScoredVacancy:
    """A new or changed open vacancy, scored for this session's person."""

    vacancy_id: uuid.UUID
    lat: float
    lon: float
    batch: CandidateBatch  # the vacancy as a one-row batch
    # One row: this person's score. None when the hard rules or the push filter
    # rule the vacancy out for them (`scored_for` checks a whole column at once).
    scores: Scores | None
    eligible: bool  # the hard rules, certificates included
    distance_m: float  # from this connection's last point


@dataclass(slots=True)
class VacancyStep:
    """What a vacancy change means for this session."""

    pick: candidates.Pick | None = None  # confirm with its card, then record
    deferred: bool = False  # waits in the allowance: arm the timer


@dataclass(slots=True, eq=False)  # by identity: a person may have several
class SeekerSession:
    seeker_id: uuid.UUID
    bucket: Allowance[uuid.UUID]
    knobs: Knobs = field(default_factory=Knobs)
    state: SeekerState | None = None
    state_at: float = 0.0  # monotonic time the person was read
    cache: candidates.CandidateCache | None = None
    # Vacancies this person was already told (read with the state, then kept up).
    pushed: set[uuid.UUID] = field(default_factory=set)
    last_point: Point | None = None
    # Where and when (monotonic) the position was last stored.
    written_point: Point | None = None
    written_at: float = 0.0
    # The first batch of a connection (sign-up, reconnect) is announced as one.
    first_batch: bool = True

    # --- location ------------------------------------------------------------

    def on_location(self, point: Point, now_m: float, still: bool = False) -> LocationStep:
        """A position from the phone (`still`: the timer asking again at the
        last point, so what waits in the allowance may go)."""
        step = LocationStep()
        if self.last_point is not None and not still:
            moved = haversine_m(*self.last_point, *point)
            if moved < self.knobs.move_threshold_m:
                step.skipped = True
                if now_m - self.written_at >= self.knobs.position_write_s:
                    step.store = self._stored(point, now_m)
                return step
        self.last_point = point
        if self._position_due(point, now_m):
            step.store = self._stored(point, now_m)
        step.load_state = self.state is None or now_m - self.state_at > candidates.TTL_S
        step.load_area = (
            step.load_state or self.cache is None or not self.cache.valid_at(*point, now_m)
        )
        return step

    def _position_due(self, point: Point, now_m: float) -> bool:
        if self.written_point is None or now_m - self.written_at >= self.knobs.position_write_s:
            return True
        return haversine_m(*self.written_point, *point) >= self.knobs.position_write_m

    def _stored(self, point: Point, now_m: float) -> Point:
        self.written_point, self.written_at = point, now_m
        return point

    def use_state(self, state: SeekerState, pushed: set[uuid.UUID], now_m: float) -> None:
        """The person as read now, and every vacancy they were already told."""
        self.state, self.state_at, self.pushed = state, now_m, pushed

    @property
    def reach_m(self) -> float:
        """How far around the phone the candidate cache reads."""
        assert self.state is not None
        return self.state.radius_m + candidates.MARGIN_M

    def use_area(self, area: Area, point: Point, now_m: float) -> None:
        """Score everything within radius + margin of the phone for this person
        and keep what could be pushed (push/candidates.py). In memory."""
        state = self.state
        assert state is not None
        lat, lon = point
        batch, within = area.for_seeker(lat, lon, self.reach_m, state.certificates)
        # Only rows within reach that could ever be pushed are scored: a weak row
        # (required skills listed, none the person earns credit for) never is,
        # and it is most of a dense area (central Copenhagen: tens of thousands).
        weak = weak_rows(state.ctx, batch.req_ids, batch.req_weights, batch.req_offsets)
        rows = np.flatnonzero(within & ~weak)
        batch = batch.take(rows)
        scored = matching.score(state.ctx, batch)
        self.cache = candidates.CandidateCache.build(
            state.ctx, batch, scored.scores, scored.eligible, area.lats[rows], area.lons[rows],
            point, state.min_score, capped=not area.complete_within(lat, lon, self.reach_m),
        )  # fmt: skip
        self.cache.built_at = now_m

    def _picks(self, now: dt.datetime) -> list[candidates.Pick]:
        """What the cache says may be pushed at the last point now, best first:
        walk-in places within walking distance, then by score. A vectorised
        first pass of the policy; `confirm` applies it in full."""
        state, cache, point = self.state, self.cache, self.last_point
        if state is None or cache is None or point is None or state.paused:
            return []
        if in_quiet_hours(now, state.quiet_from, state.quiet_until):
            return []
        return cache.picks(
            *point, self.pushed, state.walk_in_interest, self.knobs.walk_in_m,
            self.knobs.matches_per_update,
        )  # fmt: skip

    def _ranked(self, picks: list[candidates.Pick]) -> list[tuple[uuid.UUID, float]]:
        """Picks as the allowance ranks them: walk-in places near enough first."""
        walk_in = self.state is not None and self.state.walk_in_interest
        return [
            (pk.candidate.vacancy_id, pk.score + (1.0 if walk_in and pk.candidate.walk_in else 0.0))
            for pk in picks
        ]

    def worth_a_look(self, now: dt.datetime, now_m: float) -> bool:
        """With a fresh cache: is the database worth asking (something to push
        and a token for it)? Without a token, what could go waits in the
        allowance and `next_wake` says when to try again."""
        picks = self._picks(now)
        if not picks:
            self.bucket.offer([], now_m)  # nothing may wait either
            return False
        if self.bucket.available(now_m) < 1:
            self.bucket.offer(self._ranked(picks), now_m)
            return False
        return True

    def choose(self, now: dt.datetime, now_m: float) -> list[candidates.Pick]:
        """The best picks the allowance lets go now (tokens spent); the rest wait."""
        picks = self._picks(now)
        if not picks:
            self.bucket.offer([], now_m)
            return []
        send = set(self.bucket.offer(self._ranked(picks), now_m))
        return [pk for pk in picks if pk.candidate.vacancy_id in send]

    def confirm(
        self,
        picks: list[candidates.Pick],
        cards: dict[uuid.UUID, geo.NearbyVacancy],
        now: dt.datetime,
        taxonomy: SkillLookup,
        spent: bool = True,
    ) -> list[tuple[uuid.UUID, dict[str, Any], float]]:
        """The picks whose vacancy is still open (`cards`, open only) and that the
        policy lets through now, as delivery items (vacancy, payload, score).
        `spent`: the picks took allowance tokens, refunded for what does not go."""
        state = self.state
        assert state is not None
        items: list[tuple[uuid.UUID, dict[str, Any], float]] = []
        for pk in picks:
            vid = pk.candidate.vacancy_id
            card = cards.get(vid)
            if card is None:  # closed since the cache was built
                if self.cache is not None:
                    self.cache.discard(vid)
                self.bucket.refund(1 if spent else 0)
                continue
            why = may_tell(
                eligible=True, pushable=True, score=pk.score, wishes=state.wishes,
                told=vid in self.pushed, now=now, walk_in=card.walk_in,
                distance_m=pk.distance_m, walk_in_m=self.knobs.walk_in_m,
                opening_hours=card.opening_hours,
            )  # fmt: skip
            if why is not None:  # e.g. near a walk-in place, but it is closed: not now
                self.bucket.refund(1 if spent else 0)
                continue
            now_walk_in = walk_in_now(
                card.walk_in, pk.distance_m, card.opening_hours, now, self.knobs.walk_in_m
            )
            explanation = pk.explanation(taxonomy, state.ctx)
            payload = match_payload(card, pk.score, pk.distance_m, now_walk_in, explanation)
            items.append((vid, payload, round(pk.score, 4)))
        return items

    def told(self, vacancy_ids: list[uuid.UUID]) -> None:
        """Recorded (or already recorded by another worker): never again."""
        self.pushed.update(vacancy_ids)
        for vid in vacancy_ids:
            self.bucket.discard(vid)

    def announce_batch(self, count: int) -> bool:
        """Whether `count` first deliveries of this connection go under one
        `batch` frame (the app raises one notification instead of several)."""
        if not count or not self.first_batch:
            return False
        self.first_batch = False
        return count > 1

    # --- vacancies -----------------------------------------------------------

    def on_vacancy(self, change: ScoredVacancy, now: dt.datetime, token: bool) -> VacancyStep:
        """A new or changed open vacancy scored for this person: patch the cache
        and say whether to push it now (`token`: this connection or a peer of
        the same person has an allowance token; the shell knows the peers)."""
        state, cache = self.state, self.cache
        step = VacancyStep()
        if state is None:
            return step
        vid = change.vacancy_id
        scores = change.scores
        if not change.eligible or scores is None or not matching.pushable(scores)[0]:
            # Not for this person (wherever it is): out of the cache and the allowance.
            if cache is not None:
                cache.discard(vid)
            self.bucket.discard(vid)
            return step
        covers = cache is not None and cache.covers(change.lat, change.lon)
        within = change.distance_m <= state.radius_m
        if not covers and not within:
            return step
        total = float(scores.total[0])
        cand = candidates.Candidate(
            vacancy_id=vid,
            lat=change.lat,
            lon=change.lon,
            static=float(static_total(scores)[0]),
            walk_in=bool(change.batch.walk_in[0]),
            batch=change.batch,  # one row, read for this change only and never changed
            scores=scores,
            row=0,
        )
        if cache is not None and covers:
            cache.put(cand)
        if not within:
            return step
        # Opening hours are checked by `confirm`, with the card.
        why = may_tell(
            eligible=True, pushable=True, score=total, wishes=state.wishes,
            told=vid in self.pushed, now=now, walk_in=cand.walk_in,
            distance_m=change.distance_m, walk_in_m=self.knobs.walk_in_m,
            opening_hours=None, hours_known=False,
        )  # fmt: skip
        if why is not None and why is not Why.WALK_IN_FAR:
            return step
        if not token:
            # Throttled: it waits for the allowance's refill (the cache holds it too).
            self.bucket.defer(vid, total)
            step.deferred = True
            return step
        if why is Why.WALK_IN_FAR:
            return step  # held back until the person is near (the cache has it)
        step.pick = candidates.Pick(cand, total, change.distance_m)
        return step

    def on_closed(self, vacancy_id: uuid.UUID) -> None:
        if self.cache is not None:
            self.cache.discard(vacancy_id)
        self.bucket.discard(vacancy_id)

    # --- settings, consent, time -----------------------------------------------

    def on_settings(self) -> None:
        """Settings changed: the next update reads the person afresh and looks
        again at everything (new settings may make new matches eligible)."""
        self.last_point = None
        self.state = None
        self.cache = None
        self.pushed.clear()

    def shed(self, now_m: float) -> bool:
        """Drop a candidate cache past its TTL. The next location rebuilds it anyway
        (`valid_at`), and a vacancy change needs no cache to be pushed (`on_vacancy`
        tests the radius), so an idle phone's cache only cost memory: tens of KiB
        a connection (bench/idle_phones.py).

        The seeker's occupation fit (scoring.SheddableFit, ~57 KiB at full ESCO)
        goes at the first sweep that finds it unread since the one before (every
        `JOTR_PUSH_PRESENCE_REFRESH_S`, 20 s): a phone idle for two sweeps holds
        none. Scoring a vacancy for the person later computes it again (~150 us;
        a new vacancy near 1,000 such phones took 194 ms to score instead of 8 ms,
        once per sweep), and it stays while it is read; `JOTR_PUSH_SHED_FITS=false`
        keeps every fit instead. Returns whether anything was dropped."""
        dropped = False
        if self.cache is not None and now_m - self.cache.built_at > candidates.TTL_S:
            self.cache = None
            dropped = True
        occ = self.state.ctx.occupations if self.state is not None else None
        if self.knobs.shed_fits and isinstance(occ, SheddableFit):
            dropped = occ.shed(idle_only=True) or dropped
        return dropped

    def forget_position(self) -> None:
        """Location consent given or withdrawn: start from no position."""
        self.last_point = self.written_point = None

    def next_wake(self, now_m: float) -> float | None:
        """Seconds until the allowance has a token for what waits (None: nothing
        waits, or no position to push at)."""
        if self.last_point is None:
            return None
        return self.bucket.next_in(now_m)


def fan_out(
    changes: Iterable[tuple[SeekerSession, ScoredVacancy]],
    peers: Mapping[uuid.UUID, Sequence[SeekerSession]],
    now: dt.datetime,
    now_m: float,
) -> tuple[list[tuple[SeekerSession, candidates.Pick]], list[SeekerSession]]:
    """A batch of vacancy changes, each scored for a session near it: every
    session decides (`on_vacancy`), and what is picked goes once per person and
    vacancy. `peers`: each person's sessions on this worker, which share the
    person's allowance here: a pick needs a token on any of them and takes one
    from all at once, so a burst of vacancies never exceeds it; the shell
    gives back what it could not send (`settle`). Returns the picks to confirm
    and the sessions that now have something waiting (arm their timers)."""
    picks: list[tuple[SeekerSession, candidates.Pick]] = []
    deferred: dict[int, SeekerSession] = {}
    chosen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for sess, change in changes:
        mine = peers.get(sess.seeker_id) or (sess,)
        # A change cut out for nobody (`scored_for`) only clears: no token asked.
        token = change.scores is not None and any(s.bucket.available(now_m) >= 1 for s in mine)
        step = sess.on_vacancy(change, now, token)
        if step.deferred:
            deferred[id(sess)] = sess
        key = (sess.seeker_id, change.vacancy_id)
        if step.pick is not None and key not in chosen:
            chosen.add(key)
            picks.append((sess, step.pick))
            for s in mine:
                s.bucket.take(1)
    return picks, list(deferred.values())


def settle(
    peers: Mapping[uuid.UUID, Sequence[SeekerSession]],
    picked: Mapping[uuid.UUID, int],
    sent: Mapping[uuid.UUID, int],
) -> None:
    """After `fan_out`'s picks were confirmed and recorded: each person's
    sessions get back the tokens of picks that did not go out (closed, not
    open now, or told by another worker first)."""
    for seeker_id, n in picked.items():
        for s in peers.get(seeker_id, ()):
            s.bucket.refund(n - sent.get(seeker_id, 0))


def scored_for(
    sessions: Sequence[object],
    batch: CandidateBatch,
    vacancy_id: uuid.UUID,
    vlat: float,
    vlon: float,
    distance_m: np.ndarray,
    scores: Scores,
    eligible: np.ndarray,
) -> list[ScoredVacancy]:
    """Row k of a many-seekers x one-vacancy scoring, as session k's change.
    Most of the people near a new vacancy may not be pushed it: the hard rules
    and the push filter are checked for the column at once, and only the rows
    that pass are cut out of it (hundreds of sessions share one vacancy)."""
    open_to = (eligible & matching.pushable(scores)).tolist()
    return [
        ScoredVacancy(
            vacancy_id,
            vlat,
            vlon,
            batch,
            scores.take(np.array([k])) if open_to[k] else None,
            bool(eligible[k]),
            float(distance_m[k]),
        )
        for k in range(len(sessions))
    ]


def state_of(seeker: Any, taxonomy: Taxonomy, max_radius_m: float) -> SeekerState:
    """The session state of a person row (matcher.models.Jobseeker)."""
    radius_m = matching.usable_radius(seeker.radius_m, max_radius_m)
    return SeekerState(
        ctx=matching.seeker_context(seeker, taxonomy, radius_m),
        certificates=frozenset(seeker.certificates),
        radius_m=radius_m,
        min_score=seeker.push_min_score,
        paused=seeker.push_paused,
        quiet_from=seeker.quiet_from,
        quiet_until=seeker.quiet_until,
        walk_in_interest=seeker.walk_in_interest,
    )
