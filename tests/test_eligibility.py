"""Hard rules: minimum age, certificates, subsidised types and the Danish youth
rules as data; the vectorised masks against a plain per-pair oracle."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import youth_rules
from matcher.matching.eligibility import (
    DAY_NAMES,
    SUBSIDISED_TYPES,
    Seeker,
    age_on,
    columns_of,
    eligible_mask,
    exclusions,
    implied_min_age,
    in_school,
    week_of,
)
from matcher.models import WORKPLACE_KINDS
from matcher.youth_rules import HAZARDS, RULES

DAY = dt.date(2026, 12, 3)
ROOT = Path(__file__).resolve().parents[1]


def job(**overrides: Any) -> SimpleNamespace:
    base: dict[str, Any] = {
        "min_age": 13,
        "hours_per_week": 6.0,
        "schedule": None,
        "shift_start": None,
        "shift_end": None,
        "workplace_kind": "other",
        "alcohol_served": False,
        "may_work_alone": False,
        "hazards": [],
        "light_work": True,
        "job_type": "fritidsjob",
    }
    base.update(overrides)
    return SimpleNamespace(**base)


def t(text: str) -> dt.time:
    return dt.time(int(text[:2]), int(text[3:]))


def shift(start: str, end: str, **overrides: Any) -> SimpleNamespace:
    return job(shift_start=t(start), shift_end=t(end), **overrides)


def week(*entries: tuple[str, str, str], **overrides: Any) -> SimpleNamespace:
    """entries: ("mon,wed", "16:00", "18:00")"""
    sched = [{"days": d.split(","), "start": s, "end": e} for d, s, e in entries]
    return job(schedule=sched, **overrides)


def why_not(v: SimpleNamespace, age: int, school: bool = True, **kw: Any) -> set[str]:
    who = Seeker(age=age, in_school=in_school(age, not school), today=DAY, **kw)
    return {rid for rid, m in exclusions(columns_of([v]), who).items() if m[0]}


# --- the data ------------------------------------------------------------------


def test_rule_ids_unique_sourced_and_dated() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert r.source and r.applies_from == dt.date(2025, 1, 1)
        assert r.workplace_kinds is None or r.workplace_kinds <= set(WORKPLACE_KINDS)


def test_windows_for_school_leavers_cover_each_workplace_kind_once() -> None:
    windows = [r for r in RULES if r.check == "window" and r.school == "left_school"]
    seen = [k for r in windows for k in (r.workplace_kinds or ())]
    assert sorted(seen) == sorted(WORKPLACE_KINDS)


def test_rules_in_force_follow_the_date() -> None:
    assert youth_rules.rules_in_force(dt.date(2024, 12, 31)) == ()
    assert youth_rules.rules_in_force(dt.date(2025, 1, 1)) == RULES


def test_docs_table_lists_every_rule() -> None:
    doc = (ROOT / "docs" / "matching.md").read_text()
    listed = set(re.findall(r"^\| `(youth\.[a-z0-9_.]+)` \|", doc, flags=re.M))
    assert listed == {r.id for r in RULES}


def test_age_on_birthday_boundaries() -> None:
    assert age_on(dt.date(2010, 6, 15), dt.date(2026, 6, 14)) == 15
    assert age_on(dt.date(2010, 6, 15), dt.date(2026, 6, 15)) == 16
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17


def test_week_of_shift_schedule_and_overnight() -> None:
    start, end = week_of([{"days": ["mon", "sat"], "start": "18:00", "end": "02:00"}], None, None)
    assert start[0] == 18 * 60 and end[0] == 26 * 60 and start[5] == 18 * 60
    assert all(math.isnan(x) for x in start[1:5])
    start, end = week_of(None, 16 * 60.0, 20 * 60.0)
    assert start == [960.0] * 7 and end == [1200.0] * 7


# --- the cases the review found ----------------------------------------------


def test_school_status_decides_for_15_to_17() -> None:
    long_job = shift("14:00", "21:45", hours_per_week=30.0, workplace_kind="restaurant")
    assert "youth.school.school_week" in why_not(long_job, 15, school=True)
    assert "youth.school.window" in why_not(long_job, 15, school=True)
    assert why_not(long_job, 17, school=False) == set()


def test_daily_limit() -> None:
    assert "youth.13_14.school_day" in why_not(shift("07:00", "19:00"), 13)


def test_evening_limit_depends_on_the_workplace() -> None:
    assert "youth.left.window" in why_not(shift("14:00", "22:00", hours_per_week=8), 15, False)
    assert why_not(shift("18:00", "22:00", workplace_kind="shop"), 15, False) == set()
    late = shift("17:00", "23:30", workplace_kind="restaurant")
    assert why_not(late, 17, False) == set()
    early = shift("04:00", "08:00", workplace_kind="bakery")
    assert why_not(early, 17, False) == set()
    assert "youth.left.window" in why_not(shift("04:00", "08:00"), 17, False)


def test_alone_and_alcohol() -> None:
    kiosk = week(("mon,tue", "15:00", "19:00"), workplace_kind="kiosk", may_work_alone=True)
    assert "youth.alone_evening" in why_not(kiosk, 17, False)
    assert why_not(kiosk, 18) == set()
    bar = shift("17:00", "21:00", workplace_kind="bar", alcohol_served=True)
    assert "youth.alcohol.left" in why_not(bar, 17, False)
    food = shift("17:00", "21:00", workplace_kind="restaurant", alcohol_served=True)
    assert why_not(food, 17, False) == set()
    assert "youth.alcohol.school_15" in why_not(food, 16, True)


def test_subsidised_types_need_a_consultants_mark() -> None:
    igu = job(job_type="igu", min_age=18, light_work=False)
    assert "subsidy.not_marked_eligible" in why_not(igu, 25)
    assert why_not(igu, 25, subsidy_types=frozenset({"igu"})) == set()
    assert "subsidy.not_marked_eligible" in why_not(igu, 25, subsidy_types=frozenset({"fleksjob"}))


def test_implied_min_age() -> None:
    cols = columns_of(
        [
            job(),  # light, short, no times: 13
            job(light_work=False),  # 15 out of school
            shift("17:00", "23:00", workplace_kind="restaurant", light_work=False),
            shift("17:00", "23:00", light_work=False),  # past 20 in 'other': adults
            job(hazards=["machines"]),
        ]
    )
    assert implied_min_age(cols, DAY).tolist() == [13, 15, 15, 18, 18]


# --- the vectorised masks against a plain per-pair oracle ---------------------


def _minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


def oracle(v: SimpleNamespace, age: int, school: bool, day: dt.date, subsidy: set[str]) -> bool:
    """The rules read one pair at a time, with loops: what the masks must agree with."""
    if v.min_age > age:
        return False
    if v.job_type in SUBSIDISED_TYPES and v.job_type not in subsidy:
        return False
    if age >= 18:
        return True
    spans: dict[int, tuple[int, int]] = {}
    if v.schedule:
        for e in v.schedule:
            for d in e["days"]:
                spans[DAY_NAMES.index(d)] = (_minutes(e["start"]), _minutes(e["end"]))
    elif v.shift_start is not None:
        s, e = v.shift_start, v.shift_end
        for d in range(7):
            spans[d] = (s.hour * 60 + s.minute, e.hour * 60 + e.minute)
    spans = {d: (s, e if e > s else e + 1440) for d, (s, e) in spans.items()}
    timed = bool(spans)
    for r in RULES:
        if not (r.in_force(day) and r.binds(age, school)):
            continue
        if r.workplace_kinds is not None and v.workplace_kind not in r.workplace_kinds:
            continue
        p = r.params
        if r.check == "no_work":
            return False
        if r.check == "light_work_only" and not v.light_work:
            return False
        if r.check == "max_hours_day":
            for d, (s, e) in spans.items():
                if DAY_NAMES[d] in r.days and e - s > p["hours"] * 60:
                    return False
        if r.check == "max_hours_week":
            total = sum(e - s for s, e in spans.values()) if v.schedule else 0
            if v.hours_per_week > p["hours"] or total > p["hours"] * 60:
                return False
        outside = any(s < p.get("from", 0) or e > p.get("until", 9999) for s, e in spans.values())
        if r.check == "window" and outside:
            return False
        if r.check == "min_rest":
            for d, (_, e) in spans.items():
                nxt = spans.get((d + 1) % 7)
                if nxt is not None and nxt[0] + 1440 - e < p["hours"] * 60:
                    return False
        if r.check == "days_off" and v.schedule:
            off = [d not in spans for d in range(7)]
            if p["consecutive"]:
                if not any(off[d] and off[(d + 1) % 7] for d in range(7)):
                    return False
            elif sum(off) < p["days"]:
                return False
        if r.check == "not_alone" and v.may_work_alone:
            if not timed:
                return False
            for d, (s, e) in spans.items():
                evening = p["weekend_from"] if d >= 5 else p["weekday_from"]
                if e > evening or s < p["until"]:
                    return False
        if r.check == "alcohol" and v.alcohol_served:
            if v.workplace_kind not in p["allowed_kinds"] or not timed or v.may_work_alone:
                return False
            if "from" in p and any(s < p["from"] or e > p["until"] for s, e in spans.values()):
                return False
        if r.check == "hazards" and set(v.hazards) & p["forbidden"]:
            return False
    return True


_time = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30]))
_entry = st.fixed_dictionaries(
    {
        "days": st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=3, unique=True),
        "start": _time,
        "end": _time,
    }
).filter(lambda e: e["start"] != e["end"])


@st.composite
def vacancies(draw: st.DrawFn) -> SimpleNamespace:
    kind = draw(st.sampled_from(["schedule", "shift", "none"]))
    schedule = shift_start = shift_end = None
    if kind == "schedule":
        entries, used = [], set()
        for e in draw(st.lists(_entry, min_size=1, max_size=3)):
            e = {**e, "days": [d for d in e["days"] if d not in used]}
            if e["days"]:
                used |= set(e["days"])
                entries.append(e)
        schedule = entries or None
    elif kind == "shift":
        shift_start, shift_end = t(draw(_time)), t(draw(_time))
        if shift_start == shift_end:
            shift_start = shift_end = None
    return job(
        min_age=draw(st.sampled_from([13, 15, 16, 18])),
        hours_per_week=draw(st.sampled_from([2.0, 6.0, 12.0, 20.0, 37.0])),
        schedule=schedule,
        shift_start=shift_start,
        shift_end=shift_end,
        workplace_kind=draw(st.sampled_from(WORKPLACE_KINDS)),
        alcohol_served=draw(st.booleans()),
        may_work_alone=draw(st.booleans()),
        hazards=draw(st.lists(st.sampled_from(HAZARDS), max_size=2, unique=True)),
        light_work=draw(st.booleans()),
        job_type=draw(st.sampled_from(["fritidsjob", "ordinary", "igu", "fleksjob"])),
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(vacancies(), min_size=1, max_size=25),
    st.integers(12, 19),
    st.booleans(),
    st.sets(st.sampled_from(SUBSIDISED_TYPES), max_size=2),
)
def test_vectorised_mask_equals_the_per_pair_oracle(
    jobs: list[SimpleNamespace], age: int, school: bool, subsidy: set[str]
) -> None:
    who = Seeker(
        age=age, in_school=school and age < 18, today=DAY, subsidy_types=frozenset(subsidy)
    )
    got = eligible_mask(columns_of(jobs), who).tolist()
    want = [oracle(v, age, school and age < 18, DAY, subsidy) for v in jobs]
    assert got == want


def test_vectorised_over_many_rows_is_fast_enough() -> None:
    rng = np.random.default_rng(1)
    jobs = [
        shift(f"{int(h):02d}:00", f"{int(h) + 3:02d}:00", workplace_kind=str(k))
        for h, k in zip(rng.integers(4, 20, 2000), rng.choice(WORKPLACE_KINDS, 2000), strict=True)
    ]
    cols = columns_of(jobs)
    import time

    started = time.perf_counter()
    for _ in range(10):
        eligible_mask(cols, Seeker(age=16, in_school=False, today=DAY))
    per_call = (time.perf_counter() - started) / 10
    assert per_call < 0.01, f"{per_call * 1000:.1f} ms for 2,000 rows"


@pytest.mark.parametrize("age", [12, 13, 15, 17])
def test_under_13_nothing_and_hazards_never_for_minors(age: int) -> None:
    assert not eligible_mask(columns_of([job(hazards=["chemicals"])]), Seeker(age, False, DAY))[0]
