"""Hard rules: minimum age, certificates and the Danish youth rules, as data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from matcher.eligibility import YOUTH_RULES, EligibilityColumns, age_on, eligible_mask, rule_for


def cols(**overrides: object) -> EligibilityColumns:
    base: dict[str, object] = {
        "min_age": np.array([15], dtype=np.int16),
        "hours_per_week": np.array([10.0], dtype=np.float32),
        "shift_start_min": np.array([np.nan], dtype=np.float32),
        "shift_end_min": np.array([np.nan], dtype=np.float32),
        "hazardous": np.array([False]),
        "light_work": np.array([False]),
        "certificates_ok": np.array([True]),
    }
    for key, value in overrides.items():
        base[key] = np.array([value], dtype=np.asarray(base[key]).dtype)
    return EligibilityColumns(**base)  # type: ignore[arg-type]


def hm(text: str) -> float:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def test_age_on_birthday_boundaries() -> None:
    assert age_on(dt.date(2010, 6, 15), dt.date(2026, 6, 14)) == 15
    assert age_on(dt.date(2010, 6, 15), dt.date(2026, 6, 15)) == 16
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17


def test_rules_cover_every_minor_age_and_no_adult() -> None:
    assert [rule_for(a) is not None for a in range(13, 18)] == [True] * 5
    assert rule_for(18) is None and rule_for(25) is None
    assert all(r.max_age < 18 for r in YOUTH_RULES)


def test_under_13_gets_nothing() -> None:
    assert not eligible_mask(cols(min_age=13, light_work=True), 12).any()


@pytest.mark.parametrize(
    ("age", "min_age", "expected"), [(15, 15, True), (15, 16, False), (30, 18, True)]
)
def test_minimum_age(age: int, min_age: int, expected: bool) -> None:
    assert eligible_mask(cols(min_age=min_age), age)[0] == expected


def test_missing_certificate_excludes() -> None:
    assert not eligible_mask(cols(certificates_ok=False), 25)[0]


def test_13_14_light_work_only_and_12_hours() -> None:
    light = cols(min_age=13, light_work=True, hours_per_week=8.0)
    assert eligible_mask(light, 14)[0]
    assert not eligible_mask(cols(min_age=13, light_work=False, hours_per_week=8.0), 14)[0]
    assert not eligible_mask(cols(min_age=13, light_work=True, hours_per_week=15.0), 14)[0]
    # The same job is fine for a 15-year-old (no light-work rule, 40 h).
    assert eligible_mask(cols(min_age=13, light_work=False, hours_per_week=15.0), 15)[0]


def test_hazardous_work_only_from_18() -> None:
    job = cols(min_age=15, hazardous=True)
    assert not eligible_mask(job, 17)[0]
    assert eligible_mask(job, 18)[0]


@pytest.mark.parametrize(
    ("start", "end", "age", "ok"),
    [
        ("16:00", "21:30", 16, True),
        ("17:00", "22:00", 16, True),  # ends exactly when the night starts
        ("17:00", "22:30", 16, False),
        ("05:30", "12:00", 16, False),
        ("20:00", "02:00", 17, False),  # overnight
        ("16:00", "20:30", 14, False),  # 13-14: no work after 20
        ("16:00", "19:30", 14, True),
        ("17:00", "23:30", 18, True),  # adults: no youth rule
    ],
)
def test_night_work(start: str, end: str, age: int, ok: bool) -> None:
    job = cols(min_age=13, light_work=True, shift_start_min=hm(start), shift_end_min=hm(end))
    assert eligible_mask(job, age)[0] == ok


def test_vectorised_over_many_rows() -> None:
    n = 1000
    rng = np.random.default_rng(1)
    c = EligibilityColumns(
        min_age=rng.integers(13, 19, n).astype(np.int16),
        hours_per_week=rng.uniform(2, 40, n).astype(np.float32),
        shift_start_min=np.full(n, np.nan, dtype=np.float32),
        shift_end_min=np.full(n, np.nan, dtype=np.float32),
        hazardous=rng.random(n) < 0.2,
        light_work=rng.random(n) < 0.5,
        certificates_ok=rng.random(n) < 0.9,
    )
    mask = eligible_mask(c, 16)
    expected = (c.min_age <= 16) & c.certificates_ok & (c.hours_per_week <= 40) & ~c.hazardous
    assert np.array_equal(mask, expected)
