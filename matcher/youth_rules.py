"""Danish rules on young people's work, as dated and sourced data.

Each `Rule` names who it binds (an age band, a school status, kinds of
workplace), one limit (`check` with its `params`), the text it comes from and
the day it applies from. `matcher/matching/eligibility.py` turns every rule in force on
the match date into a mask over a candidate batch; nothing here is code the
matcher branches on by name, so a change in the law is a change to `RULES`
(a new row with a later `applies_from`, the old one given `applies_until`).

Sources (fetched and read 2026-12-03):
- the order: bekendtgørelse om unges arbejde, as in force from 1 January 2025
  (Arbejdstilsynet). Its number and date were NOT verified here; the review's
  "BEK nr 2269 af 29/12/2023" could not be confirmed, so the order is cited by
  name and in-force date only. The section numbers below are therefore left out
  rather than guessed.
- Arbejdstilsynet's guidance "Unges arbejdstid, hviletid og fridøgn"
  (AT_HOURS) for hours, rest, days off and the 20-06 evening limit.
- the evening/early-morning exceptions for those who finished 9th grade, as
  summarised by ungmedjob.dk (AT_WINDOWS), which quotes the order.
- not alone in kiosks and similar shops in the evening: BFA Handel's summary
  of the order (AT_ALONE).
- alcohol: lov om restaurationsvirksomhed og alkoholbevilling (restaurationsloven)
  § 27, stk. 2 as amended in 2017 (ALCOHOL): no work in serving rooms where strong
  drink is served, except 15-17-year-olds out of school, 06-22, supervised by an
  adult, where serving food is the main purpose.

Time is in minutes after midnight; a window's `until` may be 1440 (24:00).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, Literal

ORDER = "bekendtgørelse om unges arbejde (Arbejdstilsynet), as in force from 1 Jan 2025"
AT_HOURS = "https://arbejdstilsynet.dk/da/regler/unge/unges-arbejdstid-hviletid-og-fridogn"
AT_WINDOWS = "https://www.ungmedjob.dk/love-og-regler/arbejdstid"
AT_ALONE = (
    "https://bfahandel.dk/materialer/fakta-unge/"
    "fakta-om-unges-arbejde-arbejdstid-hviletid-og-alenearbejde"
)
ALCOHOL = "restaurationsloven § 27, stk. 2 (https://erhvervsstyrelsen.dk/restaurationsloven)"
IN_FORCE = dt.date(2025, 1, 1)

# What a vacancy can say about its workplace. Grill bars, theatres and concert
# venues are kinds of their own because the order names them; a bar (where
# serving drink is the main purpose) is one because restaurationsloven treats
# it apart from a restaurant. A warehouse, a factory or a care home is 'other'.
WORKPLACE_KINDS: tuple[str, ...] = (
    "shop", "office", "service_station", "kiosk", "restaurant", "hotel", "grill_bar",
    "cinema", "theatre", "concert_venue", "bar", "bakery", "farm_stable",
    "newspaper_delivery", "other",
)  # fmt: skip

# The hazard checklist: kinds of work the order's annexes keep from everyone
# under 18 (dangerous machines and tools, hazardous substances, loads beyond the
# limits for young people, and the other listed exposures). 'other' records an
# employer's "hazardous" without details (the API's old boolean).
HAZARDS: tuple[str, ...] = (
    "machines", "chemicals", "heavy_lifting", "heights", "heat_cold", "noise_vibration",
    "radiation", "biological", "violence_risk", "confined_spaces", "animals", "other",
)  # fmt: skip

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
WEEKEND = ("sat", "sun")

School = Literal["in_school", "left_school", "any"]
Check = Literal[
    "no_work",
    "light_work_only",
    "max_hours_day",
    "max_hours_week",
    "window",
    "min_rest",
    "days_off",
    "not_alone",
    "alcohol",
    "hazards",
]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str  # one line, English, for the docs table and the consultant
    min_age: int
    max_age: int
    school: School
    check: Check
    params: dict[str, Any]
    source: str
    # None: every kind of workplace.
    workplace_kinds: frozenset[str] | None = None
    applies_from: dt.date = IN_FORCE
    applies_until: dt.date | None = None  # exclusive
    # Weekdays the limit is about (max_hours_day): school days vs days off.
    days: tuple[str, ...] = field(default=WEEKDAYS + WEEKEND)

    def binds(self, age: int, in_school: bool) -> bool:
        if not self.min_age <= age <= self.max_age:
            return False
        if self.school == "in_school":
            return in_school
        if self.school == "left_school":
            return not in_school
        return True

    def in_force(self, day: dt.date) -> bool:
        return self.applies_from <= day and (self.applies_until is None or day < self.applies_until)


def _hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


_LATE_22 = frozenset({"shop", "office", "service_station", "kiosk"})
_LATE_24 = frozenset({"restaurant", "hotel", "grill_bar", "cinema", "theatre", "concert_venue"})
_EARLY_04 = frozenset({"bakery", "farm_stable"})
_EARLY_05 = frozenset({"newspaper_delivery"})
_DEFAULT_WINDOW = frozenset(WORKPLACE_KINDS) - _LATE_22 - _LATE_24 - _EARLY_04 - _EARLY_05
_ALONE_KINDS = frozenset({"kiosk", "bakery", "grill_bar", "service_station"})
# Where serving food is the main purpose (restaurationsloven § 27, stk. 2).
_FOOD_LED = frozenset({"restaurant", "hotel", "grill_bar"})

# 13-14-year-olds follow the school rules whatever their school status; from
# 15 it is the school status that decides (has the person finished 9th grade).
RULES: tuple[Rule, ...] = (
    Rule("youth.under_13", "Under 13: no work for an employer", 0, 12, "any",
         "no_work", {}, f"{ORDER}; {AT_HOURS}"),
    # -- 13-14, and 15-17 still in compulsory school ---------------------------
    Rule("youth.13_14.light_work", "13-14: light work only", 13, 14, "any",
         "light_work_only", {}, f"{ORDER}, annex of light work; {AT_HOURS}"),
    Rule("youth.13_14.school_day", "13-14: at most 2 h on a school day (Mon-Fri)", 13, 14,
         "any", "max_hours_day", {"hours": 2}, f"{ORDER}; {AT_HOURS}", days=WEEKDAYS),
    Rule("youth.13_14.free_day", "13-14: at most 7 h on a day without school (Sat-Sun)",
         13, 14, "any", "max_hours_day", {"hours": 7}, f"{ORDER}; {AT_HOURS}", days=WEEKEND),
    Rule("youth.13_14.school_week", "13-14: at most 12 h in a school week", 13, 14, "any",
         "max_hours_week", {"hours": 12}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.13_14.free_week", "13-14: at most 35 h in a week without school", 13, 14,
         "any", "max_hours_week", {"hours": 35}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.13_14.window", "13-14: only between 06:00 and 20:00", 13, 14, "any",
         "window", {"from": _hm("06:00"), "until": _hm("20:00")}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.13_14.rest", "13-14: 14 h unbroken rest a day", 13, 14, "any",
         "min_rest", {"hours": 14}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.13_14.days_off", "13-14: 2 consecutive days off a week", 13, 14, "any",
         "days_off", {"days": 2, "consecutive": True}, f"{ORDER}; {AT_WINDOWS}"),
    Rule("youth.school.light_work", "15-17 in school: light work only", 15, 17, "in_school",
         "light_work_only", {}, f"{ORDER}, annex of light work; {AT_HOURS}"),
    Rule("youth.school.school_day", "15-17 in school: at most 2 h on a school day (Mon-Fri)",
         15, 17, "in_school", "max_hours_day", {"hours": 2}, f"{ORDER}; {AT_HOURS}",
         days=WEEKDAYS),
    Rule("youth.school.free_day", "15-17 in school: at most 8 h on a day without school",
         15, 17, "in_school", "max_hours_day", {"hours": 8}, f"{ORDER}; {AT_HOURS}",
         days=WEEKEND),
    Rule("youth.school.school_week", "15-17 in school: at most 12 h in a school week",
         15, 17, "in_school", "max_hours_week", {"hours": 12}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.school.free_week", "15-17 in school: at most 40 h in a week without school",
         15, 17, "in_school", "max_hours_week", {"hours": 40}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.school.window", "15-17 in school: only between 06:00 and 20:00", 15, 17,
         "in_school", "window", {"from": _hm("06:00"), "until": _hm("20:00")},
         f"{ORDER}; {AT_HOURS}"),
    Rule("youth.school.rest", "15-17 in school: 14 h unbroken rest a day", 15, 17,
         "in_school", "min_rest", {"hours": 14}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.school.days_off", "15-17 in school: 2 consecutive days off a week", 15, 17,
         "in_school", "days_off", {"days": 2, "consecutive": True}, f"{ORDER}; {AT_WINDOWS}"),
    # -- 15-17 who have finished 9th grade -------------------------------------
    Rule("youth.left.day", "15-17 out of school: at most 8 h a day", 15, 17, "left_school",
         "max_hours_day", {"hours": 8}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.left.week", "15-17 out of school: at most 40 h a week", 15, 17,
         "left_school", "max_hours_week", {"hours": 40}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.left.window", "15-17 out of school: 06:00-20:00 (other workplaces)", 15, 17,
         "left_school", "window", {"from": _hm("06:00"), "until": _hm("20:00")},
         f"{ORDER}; {AT_HOURS}", workplace_kinds=_DEFAULT_WINDOW),
    Rule("youth.left.window_shop", "15-17 out of school: until 22:00 in shops, offices, "
         "service stations", 15, 17, "left_school", "window",
         {"from": _hm("06:00"), "until": _hm("22:00")}, f"{ORDER}; {AT_WINDOWS}",
         workplace_kinds=_LATE_22),
    Rule("youth.left.window_hospitality", "15-17 out of school: until 24:00 in hotels, "
         "restaurants, grill bars, cinemas, theatres, concert venues", 15, 17, "left_school",
         "window", {"from": _hm("06:00"), "until": _hm("24:00")}, f"{ORDER}; {AT_WINDOWS}",
         workplace_kinds=_LATE_24),
    Rule("youth.left.window_early", "15-17 out of school: from 04:00 in bakeries and stable "
         "work", 15, 17, "left_school", "window", {"from": _hm("04:00"), "until": _hm("20:00")},
         f"{ORDER}; {AT_WINDOWS}", workplace_kinds=_EARLY_04),
    Rule("youth.left.window_newspaper", "15-17 out of school: from 05:00 delivering "
         "newspapers", 15, 17, "left_school", "window",
         {"from": _hm("05:00"), "until": _hm("20:00")}, f"{ORDER}; {AT_HOURS}",
         workplace_kinds=_EARLY_05),
    Rule("youth.left.rest", "15-17 out of school: 12 h unbroken rest a day", 15, 17,
         "left_school", "min_rest", {"hours": 12}, f"{ORDER}; {AT_HOURS}"),
    Rule("youth.left.days_off", "15-17 out of school: 2 days off a week", 15, 17,
         "left_school", "days_off", {"days": 2, "consecutive": False}, f"{ORDER}; {AT_WINDOWS}"),
    # -- everyone under 18 -----------------------------------------------------
    Rule("youth.alone_evening", "Under 18: not alone in kiosks, bakery shops, grill bars, "
         "service stations on weekdays 18-06 and weekends 14-06", 13, 17, "any", "not_alone",
         {"weekday_from": _hm("18:00"), "weekend_from": _hm("14:00"), "until": _hm("06:00")},
         f"{ORDER}; {AT_ALONE}", workplace_kinds=_ALONE_KINDS),
    Rule("youth.alcohol.school", "13-14 and in school: no work where alcohol is served",
         13, 14, "any", "alcohol", {"allowed_kinds": frozenset()}, ALCOHOL),
    Rule("youth.alcohol.school_15", "15-17 in school: no work where alcohol is served",
         15, 17, "in_school", "alcohol", {"allowed_kinds": frozenset()}, ALCOHOL),
    Rule("youth.alcohol.left", "15-17 out of school: where alcohol is served only if food is "
         "the main purpose, 06-22, never alone", 15, 17, "left_school", "alcohol",
         {"allowed_kinds": _FOOD_LED, "from": _hm("06:00"), "until": _hm("22:00")}, ALCOHOL),
    Rule("youth.hazards", "Under 18: none of the hazardous work on the checklist", 13, 17,
         "any", "hazards", {"forbidden": frozenset(HAZARDS)}, f"{ORDER}, annexes"),
)  # fmt: skip


@functools.lru_cache(maxsize=64)
def rules_in_force(day: dt.date) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.in_force(day))


def binding(day: dt.date, age: int, in_school: bool) -> tuple[Rule, ...]:
    """The rules that bind a person of `age` (and school status) on `day`."""
    return tuple(r for r in rules_in_force(day) if r.binds(age, in_school))


def by_id(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)
