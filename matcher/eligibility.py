"""Hard rules that decide whether a seeker may take a vacancy at all.

They run before scoring, over a whole candidate batch at once. Danish rules on
young people's work (Arbejdstilsynet, bekendtgørelse om unges arbejde) are kept
as data in `YOUTH_RULES`, so a rule change is a data change, not new code.

Simplifications, on purpose and documented in docs/matching.md:
- The school-week limits are applied (12 h/week for 13-14-year-olds), since we
  cannot know whether a given week is a holiday week.
- 15-17-year-olds are treated as past compulsory schooling (40 h/week, no work
  22-06); a job with no fixed shift is trusted to the employer's minimum age.
- Under 13: no job is eligible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

MIN_WORKING_AGE = 13


@dataclass(frozen=True, slots=True)
class YouthRule:
    min_age: int
    max_age: int
    max_hours_per_week: float
    # Work is forbidden from `night_from` until `night_until` (minutes after midnight).
    night_from: int
    night_until: int
    light_work_only: bool
    hazardous_allowed: bool


YOUTH_RULES: tuple[YouthRule, ...] = (
    YouthRule(13, 14, 12.0, 20 * 60, 6 * 60, light_work_only=True, hazardous_allowed=False),
    YouthRule(15, 17, 40.0, 22 * 60, 6 * 60, light_work_only=False, hazardous_allowed=False),
)


def rule_for(age: int) -> YouthRule | None:
    for rule in YOUTH_RULES:
        if rule.min_age <= age <= rule.max_age:
            return rule
    return None


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True, slots=True)
class EligibilityColumns:
    """The columns of a candidate batch that the hard rules read."""

    min_age: np.ndarray  # int16
    hours_per_week: np.ndarray  # float32
    shift_start_min: np.ndarray  # float32 minutes after midnight, NaN if not fixed
    shift_end_min: np.ndarray  # float32, NaN if not fixed; end < start means overnight
    hazardous: np.ndarray  # bool
    light_work: np.ndarray  # bool
    certificates_ok: np.ndarray  # bool: required certificates held by the seeker


def eligible_mask(cols: EligibilityColumns, age: int) -> np.ndarray:
    """True where the seeker of `age` may legally take the vacancy."""
    n = len(cols.min_age)
    if age < MIN_WORKING_AGE:
        return np.zeros(n, dtype=bool)
    ok = (cols.min_age <= age) & cols.certificates_ok
    rule = rule_for(age)
    if rule is None:
        return ok
    ok &= cols.hours_per_week <= rule.max_hours_per_week
    if not rule.hazardous_allowed:
        ok &= ~cols.hazardous
    if rule.light_work_only:
        ok &= cols.light_work
    ok &= ~_touches_night(cols.shift_start_min, cols.shift_end_min, rule)
    return ok


def _touches_night(start: np.ndarray, end: np.ndarray, rule: YouthRule) -> np.ndarray:
    """Whether a shift overlaps the forbidden night window [night_from, 24h + night_until).

    Worked example for 15-17 (no work 22:00-06:00): 16:00-21:30 is fine,
    17:00-22:30 is not (ends after 22:00), 05:30-12:00 is not (starts before
    06:00), 20:00-02:00 (overnight, end < start) is not.
    """
    fixed = ~np.isnan(start) & ~np.isnan(end)
    s = np.where(fixed, start, 12 * 60)
    e = np.where(fixed, end, 12 * 60)
    overnight = e <= s
    return fixed & (overnight | (e > rule.night_from) | (s < rule.night_until))
