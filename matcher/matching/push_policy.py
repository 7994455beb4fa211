"""May this person be told this vacancy now? The one answer, for every path.

Three paths tell people about vacancies, and all three must agree:
- the websocket session (push/session.py, driven by push/hub.py);
- Web Push for people whose app is closed (push/offline.py);
- reach, the count an employer sees of whom a vacancy would reach
  (matcher/matching/reach.py).

The rule lives here, in `matcher`, and not in `push`, because `matcher` may
not import `push` (the import-linter layers in pyproject.toml: api -> push ->
matcher) and reach lives in `matcher`. It is pure: no I/O, `now` is passed in.

What it checks, in order (the first "no" is the reason returned):
- the hard rules: age, school, jobcenter marks, certificates (`eligible`,
  from matcher/matching/eligibility.py);
- the person's wishes: hours and job types, and a vacancy covering none of
  its required skills is never pushed (`pushable`, matching.pushable);
- their own threshold (`Wishes.min_score`);
- once per vacancy (`told`);
- paused;
- quiet hours (local Copenhagen time);
- walk-in places, for someone interested in walking in: only when near
  (`walk_in_m`) and open now (the opening hours; no hours, no push).

The last three can change with time and place: a vacancy refused for them may
be told later (`Why.later`); the others are final until the vacancy or the
person changes.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

OpeningHours = dict[str, list[list[str]]]


class Why(enum.StrEnum):
    """Why a person may not be told a vacancy (now)."""

    INELIGIBLE = "ineligible"  # the hard rules
    UNWANTED = "unwanted"  # outside their wished hours/job types, or no required skill
    BELOW_THRESHOLD = "below_threshold"
    TOLD = "told"  # once per vacancy
    PAUSED = "paused"
    QUIET_HOURS = "quiet_hours"
    WALK_IN_FAR = "walk_in_far"
    WALK_IN_CLOSED = "walk_in_closed"

    @property
    def later(self) -> bool:
        """A "no" that time or a walk may turn into a "yes" for the same vacancy."""
        return self in _LATER


_LATER = frozenset({Why.QUIET_HOURS, Why.WALK_IN_FAR, Why.WALK_IN_CLOSED})


class PushSettingsRow(Protocol):
    """The person's push settings as stored (matcher.models.Jobseeker)."""

    push_min_score: float
    push_paused: bool
    quiet_from: dt.time | None
    quiet_until: dt.time | None
    walk_in_interest: bool


@dataclass(frozen=True, slots=True)
class Wishes:
    """The person's own push settings, as the policy reads them."""

    min_score: float = 0.5
    paused: bool = False
    quiet_from: dt.time | None = None
    quiet_until: dt.time | None = None
    walk_in_interest: bool = False

    @classmethod
    def of(cls, seeker: PushSettingsRow) -> Wishes:
        return cls(
            min_score=seeker.push_min_score,
            paused=seeker.push_paused,
            quiet_from=seeker.quiet_from,
            quiet_until=seeker.quiet_until,
            walk_in_interest=seeker.walk_in_interest,
        )


def in_quiet_hours(
    now: dt.datetime, quiet_from: dt.time | None, quiet_until: dt.time | None
) -> bool:
    """Quiet hours are local (Copenhagen) times; 22:00-07:00 spans midnight."""
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return False
    t = now.astimezone(COPENHAGEN).time()
    if quiet_from < quiet_until:
        return quiet_from <= t < quiet_until
    return t >= quiet_from or t < quiet_until


def open_now(opening_hours: OpeningHours | None, now: dt.datetime) -> bool:
    """Whether a walk-in place is open at `now` (local time). No hours given:
    we cannot tell, so we say no rather than send someone to a closed door."""
    if not opening_hours:
        return False
    local = now.astimezone(COPENHAGEN)
    hhmm = local.strftime("%H:%M")
    return any(start <= hhmm < end for start, end in opening_hours.get(_DAYS[local.weekday()], []))


def walk_in_now(
    walk_in: bool,
    distance_m: float,
    opening_hours: OpeningHours | None,
    now: dt.datetime,
    walk_in_m: float,
) -> bool:
    """A walk-in place near enough to walk to and open now: the match payload's
    `walk_in_now`, whatever the person's interest in walking in."""
    return walk_in and distance_m <= walk_in_m and open_now(opening_hours, now)


def may_tell(
    *,
    eligible: bool,
    pushable: bool,
    score: float,
    wishes: Wishes,
    told: bool,
    now: dt.datetime,
    walk_in: bool,
    distance_m: float,
    walk_in_m: float,
    opening_hours: OpeningHours | None,
    hours_known: bool = True,
) -> Why | None:
    """None if the person may be told the vacancy now, else the first reason not
    (see the module docstring for the order). `hours_known=False`: the caller
    has not read the opening hours yet and asks again with them before telling."""
    if not eligible:
        return Why.INELIGIBLE
    if not pushable:
        return Why.UNWANTED
    if score < wishes.min_score:
        return Why.BELOW_THRESHOLD
    if told:
        return Why.TOLD
    if wishes.paused:
        return Why.PAUSED
    if in_quiet_hours(now, wishes.quiet_from, wishes.quiet_until):
        return Why.QUIET_HOURS
    if walk_in and wishes.walk_in_interest:
        if distance_m > walk_in_m:
            return Why.WALK_IN_FAR
        if hours_known and not open_now(opening_hours, now):
            return Why.WALK_IN_CLOSED
    return None


def may_push(
    score: float,
    min_score: float,
    already_pushed: bool,
    paused: bool,
    quiet_from: dt.time | None,
    quiet_until: dt.time | None,
    now: dt.datetime,
) -> bool:
    """The person's own rules alone (threshold, once, paused, quiet hours), for a
    caller that has applied the hard rules and wishes already: `may_tell` with
    those passed and no walk-in question."""
    return (
        may_tell(
            eligible=True,
            pushable=True,
            score=score,
            wishes=Wishes(min_score, paused, quiet_from, quiet_until),
            told=already_pushed,
            now=now,
            walk_in=False,
            distance_m=0.0,
            walk_in_m=0.0,
            opening_hours=None,
        )
        is None
    )
