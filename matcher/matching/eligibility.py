"""Hard rules that decide whether a seeker may take a vacancy at all.

They run before scoring, over a whole candidate batch at once: every rule in
force on the match date that binds the seeker (matcher/youth_rules.py, the
rules as data) becomes one boolean mask over the batch, and a row is eligible
when no mask excludes it. `exclusions` keeps the masks apart by rule id, so a
consultant can be told which rules keep a vacancy from a person.

How a vacancy's times are judged (docs/matching.md):
- Its week is `day_start`/`day_end`, minutes after midnight per weekday
  (Mon..Sun), NaN on a day off; a span past midnight ends after 1440. A
  schedule says which days; a shift only says the hours of any working day,
  so it is laid on every day for the time-of-day rules, while the weekly
  hours come from `hours_per_week` and days off are judged from a schedule
  only (`days_known`). A vacancy with neither is `timed == False`: it is
  judged by its weekly hours alone, except where a rule cannot be judged
  without times (alone in the evening, alcohol), which then excludes it.
- A vacancy has no calendar, so a seeker still in school is judged by the
  school-week limits: Mon-Fri are school days, Sat-Sun days without school.
  The holiday-week limits are in the table too but never bind more.
- An under-18 who has not said whether they finished 9th grade is judged as
  still in school (the stricter rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from matcher import offers, youth_rules
from matcher.youth_rules import HAZARDS, WORKPLACE_KINDS, Rule

MIN_WORKING_AGE = 13
ADULT_AGE = 18
DAY_MIN = 24 * 60
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKEND_COLS = np.array([False] * 5 + [True] * 2)

# Job types that need a jobcenter decision: only people their consultant has
# marked eligible for that type may see them.
SUBSIDISED_TYPES: tuple[str, ...] = ("fleksjob", "igu", "loentilskud", "virksomhedspraktik")

KIND_CODE = {k: i for i, k in enumerate(WORKPLACE_KINDS)}
HAZARD_BIT = {h: 1 << i for i, h in enumerate(HAZARDS)}
SUBSIDY_CODE = {t: i + 1 for i, t in enumerate(SUBSIDISED_TYPES)}  # 0: not subsidised

# Rule ids of the hard rules that are not youth rules.
MIN_AGE_RULE = "vacancy.min_age"
CERTIFICATES_RULE = "vacancy.certificates"
SUBSIDY_RULE = "subsidy.not_marked_eligible"
# Employer trust (docs/security.md): until a consultant, an operator or the CVR
# register has verified the employer, no one under 18 sees its vacancies. This
# mask is the one place that rule lives; every path that judges a vacancy for a
# person (matches, push, reach, guidance, the consultant's view) runs it here.
UNVERIFIED_EMPLOYER_RULE = "employer.unverified"
# Offer kinds (matcher/offers.py): the seeker has not opted in to this kind;
# the offer's upper age is below the seeker's age.
OFFER_KIND_RULE = "seeker.offer_kinds"
MAX_AGE_RULE = "vacancy.max_age"
NO_MAX_AGE = 999


class SeekerRules(Protocol):
    """What the hard rules need to know about a seeker (scoring.SeekerContext)."""

    @property
    def age(self) -> int: ...
    @property
    def in_school(self) -> bool: ...
    @property
    def today(self) -> dt.date: ...
    @property
    def subsidy_types(self) -> frozenset[str]: ...
    @property
    def offer_kinds(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Seeker:
    """A plain SeekerRules, for callers without a scoring context."""

    age: int
    in_school: bool = True
    today: dt.date = dt.date(2026, 1, 1)
    subsidy_types: frozenset[str] = frozenset()
    offer_kinds: frozenset[str] = frozenset(offers.DEFAULT_OFFER_KINDS)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def in_school(age: int, finished_compulsory_school: bool | None) -> bool:
    """Whether the school rules bind: under 18 and not (known to be) past 9th grade."""
    return age < ADULT_AGE and finished_compulsory_school is not True


@dataclass(frozen=True, slots=True)
class EligibilityColumns:
    """The columns of a candidate batch that the hard rules read."""

    min_age: np.ndarray  # int16
    hours_per_week: np.ndarray  # float32
    day_start: np.ndarray  # float32[n, 7] minutes after midnight, NaN: not working that day
    day_end: np.ndarray  # float32[n, 7], > day_start (past 1440 when the span runs overnight)
    timed: np.ndarray  # bool: the vacancy states its working times
    days_known: np.ndarray  # bool: ... and on which weekdays (a schedule, not just a shift)
    kind: np.ndarray  # int8: index into youth_rules.WORKPLACE_KINDS
    alcohol: np.ndarray  # bool: alcohol is served where the work is done
    alone: np.ndarray  # bool: may work alone
    hazards: np.ndarray  # int32 bit set over youth_rules.HAZARDS
    light_work: np.ndarray  # bool
    subsidy: np.ndarray  # int8: SUBSIDY_CODE of the job type, 0 if not subsidised
    certificates_ok: np.ndarray  # bool: required certificates held by the seeker
    employer_verified: np.ndarray  # bool: the employer is verified (employer trust)
    offer_kind: np.ndarray  # int8: index into offers.OFFER_KINDS
    youth_work: np.ndarray  # bool: the youth work rules bind the row (offers.youth_rules_apply)
    max_age: np.ndarray  # int16: the offer's upper age, NO_MAX_AGE if none

    def __len__(self) -> int:
        return len(self.min_age)


def week_of(
    schedule: list[dict[str, object]] | None,
    shift_start_min: float | None,
    shift_end_min: float | None,
) -> tuple[list[float], list[float]]:
    """A vacancy's week as (start, end) minutes per weekday; NaN on days off.

    The schedule wins; a shift is shorthand for the same hours every day; an
    end at or before the start runs past midnight (18:00-02:00 ends at 1560).
    """
    nan = float("nan")
    start, end = [nan] * 7, [nan] * 7
    spans: list[tuple[tuple[str, ...], float, float]] = []
    if schedule:
        for entry in schedule:
            days = tuple(str(d) for d in entry["days"])  # type: ignore[attr-defined]
            spans.append((days, float(_minutes(entry["start"])), float(_minutes(entry["end"]))))
    elif shift_start_min is not None and shift_end_min is not None:
        spans.append((DAY_NAMES, float(shift_start_min), float(shift_end_min)))
    for days, s, e in spans:
        stop = e + DAY_MIN if e <= s else e
        for d in days:
            i = DAY_NAMES.index(d)
            start[i], end[i] = s, stop
    return start, end


def _minutes(value: object) -> int:
    if isinstance(value, dt.time):
        return value.hour * 60 + value.minute
    h, m = str(value).split(":")[:2]
    return int(h) * 60 + int(m)


def _weeks(
    schedules: Sequence[list[dict[str, Any]] | None],
    shift_start_min: Sequence[float | None],
    shift_end_min: Sequence[float | None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every row's week: a shift laid on all seven days in one array operation;
    only the (few) rows with a schedule are read one by one (week_of)."""
    n = len(schedules)
    s = np.asarray([np.nan if x is None else x for x in shift_start_min], dtype=np.float32)
    e = np.asarray([np.nan if x is None else x for x in shift_end_min], dtype=np.float32)
    e = np.where(e <= s, e + DAY_MIN, e)
    start = np.repeat(s.reshape(n, 1), 7, axis=1)
    end = np.repeat(e.reshape(n, 1), 7, axis=1)
    days_known = np.zeros(n, dtype=bool)
    for i, sched in enumerate(schedules):
        if sched:
            start[i], end[i] = week_of(sched, None, None)
            days_known[i] = True
    timed = days_known | (~np.isnan(s) & ~np.isnan(e))
    return start, end, timed, days_known


def _hazard_bits(hazards: list[str]) -> int:
    return sum(HAZARD_BIT.get(h, HAZARD_BIT["other"]) for h in set(hazards))


def build_columns(
    *,
    min_age: list[int],
    hours_per_week: Sequence[float | None],
    schedules: Sequence[list[dict[str, Any]] | None],
    shift_start_min: Sequence[float | None],
    shift_end_min: Sequence[float | None],
    kinds: list[str | None],
    alcohol: list[bool],
    alone: list[bool],
    hazards: list[list[str] | None],
    light_work: list[bool],
    job_types: Sequence[str | None],
    certificates_ok: list[bool],
    employer_verified: Sequence[bool],
    offer_kinds: Sequence[str | None] | None = None,
    volunteering_is_work: Sequence[bool | None] | None = None,
    max_age: Sequence[int | None] | None = None,
) -> EligibilityColumns:
    """Columns from per-row values (the candidate query, an ORM row, a test).
    Without offer kinds every row is a job (what rows from before 0013 are)."""
    other = KIND_CODE["other"]
    n = len(min_age)
    start, end, timed, days_known = _weeks(schedules, shift_start_min, shift_end_min)
    kinds_of = [k or offers.JOB for k in offer_kinds] if offer_kinds is not None else None
    offer_kind = kinds_of or [offers.JOB] * n
    is_work = volunteering_is_work if volunteering_is_work is not None else [False] * n
    return EligibilityColumns(
        min_age=np.asarray(min_age, dtype=np.int16),
        # No hours (a leisure or volunteering offer) is NaN: no weekly limit breaks.
        hours_per_week=np.asarray(
            [np.nan if h is None else h for h in hours_per_week], dtype=np.float32
        ),
        day_start=start,
        day_end=end,
        timed=timed,
        days_known=days_known,
        kind=np.asarray([KIND_CODE.get(k or "other", other) for k in kinds], dtype=np.int8),
        alcohol=np.asarray(alcohol, dtype=bool),
        alone=np.asarray(alone, dtype=bool),
        hazards=np.asarray(
            [_hazard_bits(hs) if hs else 0 for hs in hazards],
            dtype=np.int32,
        ),
        light_work=np.asarray(light_work, dtype=bool),
        subsidy=np.asarray([SUBSIDY_CODE.get(t or "", 0) for t in job_types], dtype=np.int8),
        certificates_ok=np.asarray(certificates_ok, dtype=bool),
        employer_verified=np.asarray(employer_verified, dtype=bool),
        offer_kind=np.asarray([offers.OFFER_KIND_CODE.get(k, 0) for k in offer_kind], np.int8),
        youth_work=np.asarray(
            [
                offers.youth_rules_apply(k, bool(w))
                for k, w in zip(offer_kind, is_work, strict=True)
            ],
            dtype=bool,
        ),
        max_age=np.asarray(
            [NO_MAX_AGE if a is None else a for a in (max_age or [None] * n)], dtype=np.int16
        ),
    )


class VacancyLike(Protocol):
    """A vacancy's own fields the rules read (the ORM row has them)."""

    min_age: int
    hours_per_week: float | None
    schedule: list[dict[str, Any]] | None
    shift_start: dt.time | None
    shift_end: dt.time | None
    workplace_kind: str
    alcohol_served: bool
    may_work_alone: bool
    hazards: list[str]
    light_work: bool

    @property
    def job_type(self) -> str | None: ...


def columns_of(
    vacancies: Sequence[VacancyLike], employer_verified: Sequence[bool] | None = None
) -> EligibilityColumns:
    """Columns for vacancies at hand (one being shown, a test's), certificates held.

    `employer_verified` per vacancy (the ORM row's `employer_verified`); None
    judges the vacancy's own fields only, as if its employer were verified
    (what the demo seed's age limits and the rule tables are about)."""

    def minutes(t: dt.time | None) -> float | None:
        return None if t is None else float(_minutes(t))

    return build_columns(
        min_age=[v.min_age for v in vacancies],
        hours_per_week=[v.hours_per_week for v in vacancies],
        schedules=[v.schedule for v in vacancies],
        shift_start_min=[minutes(v.shift_start) for v in vacancies],
        shift_end_min=[minutes(v.shift_end) for v in vacancies],
        kinds=[v.workplace_kind for v in vacancies],
        alcohol=[v.alcohol_served for v in vacancies],
        alone=[v.may_work_alone for v in vacancies],
        hazards=[list(v.hazards) for v in vacancies],
        light_work=[v.light_work for v in vacancies],
        job_types=[None if v.job_type is None else str(v.job_type) for v in vacancies],
        certificates_ok=[True] * len(vacancies),
        employer_verified=[True] * len(vacancies) if employer_verified is None
        else employer_verified,
        offer_kinds=[getattr(v, "kind", None) for v in vacancies],
        volunteering_is_work=[getattr(v, "volunteering_is_work", False) for v in vacancies],
        max_age=[getattr(v, "max_age", None) for v in vacancies],
    )  # fmt: skip


# Everything about a seeker the hard rules read: seekers with equal keys get
# equal `eligible_mask`s, so callers checking one vacancy for many seekers
# (push fan-out) evaluate the rules once per key. Kept next to `_exclusions`:
# a rule that reads a new seeker field must add it here.
RuleKey = tuple[int, bool, dt.date, frozenset[str], frozenset[str]]


def rule_key(seeker: SeekerRules) -> RuleKey:
    return (seeker.age, seeker.in_school, seeker.today, seeker.subsidy_types, seeker.offer_kinds)


def eligible_mask(cols: EligibilityColumns, seeker: SeekerRules) -> np.ndarray:
    """True where the seeker may legally (and by their jobcenter status) take the vacancy."""
    ok = np.ones(len(cols), dtype=bool)
    for mask in _exclusions(cols, seeker):
        ok &= ~mask[1]
    return ok


def exclusions(cols: EligibilityColumns, seeker: SeekerRules) -> dict[str, np.ndarray]:
    """Each rule id that binds the seeker -> True where it excludes the row."""
    return dict(_exclusions(cols, seeker))


def _exclusions(cols: EligibilityColumns, seeker: SeekerRules) -> list[tuple[str, np.ndarray]]:
    # A lookup table, not np.isin: this runs for every candidate batch.
    wanted = np.zeros(len(offers.OFFER_KINDS), dtype=bool)
    wanted[
        [offers.OFFER_KIND_CODE[k] for k in seeker.offer_kinds if k in offers.OFFER_KIND_CODE]
    ] = True
    out = [
        (OFFER_KIND_RULE, ~wanted[cols.offer_kind]),
        (MIN_AGE_RULE, cols.min_age > seeker.age),
        (MAX_AGE_RULE, cols.max_age < seeker.age),
        (CERTIFICATES_RULE, ~cols.certificates_ok),
    ]
    allowed = [SUBSIDY_CODE[t] for t in seeker.subsidy_types if t in SUBSIDY_CODE]
    out.append((SUBSIDY_RULE, (cols.subsidy > 0) & ~np.isin(cols.subsidy, allowed)))
    if seeker.age >= ADULT_AGE:
        return out
    out.append((UNVERIFIED_EMPLOYER_RULE, ~cols.employer_verified))
    week = _Week(cols)
    for rule in youth_rules.binding(seeker.today, seeker.age, seeker.in_school):
        out.append((rule.id, rule_mask(rule, cols, week)))
    return out


_OTHER_RULES = {
    OFFER_KIND_RULE: (
        "A kind of offer the person has not asked for (leisure, volunteering)",
        "the person's own settings",
    ),
    MAX_AGE_RULE: ("Older than the offer's upper age", "the poster's max_age"),
    MIN_AGE_RULE: ("Younger than the vacancy's own minimum age", "the employer's min_age"),
    CERTIFICATES_RULE: ("A required certificate is missing", "the vacancy's certificates"),
    SUBSIDY_RULE: (
        "A subsidised job type the person is not marked eligible for",
        "a jobcenter decision, recorded by the consultant",
    ),
    UNVERIFIED_EMPLOYER_RULE: (
        "Under 18: the employer is not verified yet",
        "employer trust (docs/security.md): a consultant, an operator or the CVR register "
        "verifies the employer",
    ),
}


def describe_rule(rule_id: str) -> dict[str, str]:
    """Id, title and source of a hard rule, for the consultant's "why not"."""
    if rule_id in _OTHER_RULES:
        title, source = _OTHER_RULES[rule_id]
        return {"id": rule_id, "title": title, "source": source}
    rule = youth_rules.by_id(rule_id)
    return {"id": rule.id, "title": rule.title, "source": rule.source}


class _Week:
    """Derived per-row views of the week, computed once per batch and seeker."""

    def __init__(self, cols: EligibilityColumns) -> None:
        self.start, self.end = cols.day_start, cols.day_end
        self.works = ~np.isnan(self.start)
        self.length = np.where(self.works, self.end - self.start, 0.0)
        # Rows the youth work rules bind (offers.youth_rules_apply); None when all do,
        # the usual batch of jobs, which then costs nothing more.
        self.work: np.ndarray | None = None if cols.youth_work.all() else cols.youth_work


def rule_mask(rule: Rule, cols: EligibilityColumns, week: _Week | None = None) -> np.ndarray:
    """True where `rule` excludes the row. Comparisons with NaN (a day off) are
    False, so days off never break a time rule. Rows the youth work rules do not
    bind (leisure, volunteering that is not work) are never excluded."""
    w = week or _Week(cols)
    p = rule.params
    n = len(cols)
    applies = np.ones(n, dtype=bool)
    if rule.workplace_kinds is not None:
        applies = np.isin(cols.kind, [KIND_CODE[k] for k in rule.workplace_kinds])
    timed = cols.timed
    with np.errstate(invalid="ignore"):
        match rule.check:
            case "no_work":
                bad = np.ones(n, dtype=bool)
            case "light_work_only":
                bad = ~cols.light_work
            case "max_hours_day":
                on = np.array([d in rule.days for d in DAY_NAMES])
                bad = timed & (w.length[:, on] > p["hours"] * 60).any(axis=1)
            case "max_hours_week":
                bad = (cols.hours_per_week > p["hours"]) | (
                    cols.days_known & (w.length.sum(axis=1) > p["hours"] * 60)
                )
            case "window":
                outside = (w.start < p["from"]) | (w.end > p["until"])
                bad = timed & outside.any(axis=1)
            case "min_rest":
                # Rest from each day's end to the next day's start (Sun -> Mon wraps).
                rest = np.roll(w.start, -1, axis=1) + DAY_MIN - w.end
                bad = timed & (rest < p["hours"] * 60).any(axis=1)
            case "days_off":
                off = ~w.works
                if p["consecutive"]:
                    bad = cols.days_known & ~(off & np.roll(off, -1, axis=1)).any(axis=1)
                else:
                    bad = cols.days_known & (off.sum(axis=1) < p["days"])
            case "not_alone":
                evening = np.where(_WEEKEND_COLS, p["weekend_from"], p["weekday_from"])
                late = (w.end > evening) | (w.start < p["until"])
                bad = cols.alone & (~timed | late.any(axis=1))
            case "alcohol":
                kinds = [KIND_CODE[k] for k in p["allowed_kinds"]]
                ok = np.isin(cols.kind, kinds) & timed & ~cols.alone
                if "from" in p:
                    outside = (w.start < p["from"]) | (w.end > p["until"])
                    ok &= ~outside.any(axis=1)
                bad = cols.alcohol & ~ok
            case "hazards":
                bits = sum(HAZARD_BIT[h] for h in p["forbidden"])
                bad = (cols.hazards & bits) != 0
    out = applies & bad
    return out if w.work is None else out & w.work  # type: ignore[no-any-return]


def implied_min_age(cols: EligibilityColumns, day: dt.date) -> np.ndarray:
    """The youngest age the youth rules let take each row (18 if none), judged for
    the most favourable school status: what public search shows as the age limit."""
    out = np.full(len(cols), ADULT_AGE, dtype=np.int16)
    week = _Week(cols)
    ok = np.ones(len(cols), dtype=bool)  # every age from here to 17 may take the row
    for age in range(ADULT_AGE - 1, MIN_WORKING_AGE - 1, -1):
        for rule in youth_rules.binding(day, age, age < 15):
            ok &= ~rule_mask(rule, cols, week)
        out[ok] = age
    out[~cols.employer_verified] = ADULT_AGE  # UNVERIFIED_EMPLOYER_RULE
    return np.maximum(out, cols.min_age)
