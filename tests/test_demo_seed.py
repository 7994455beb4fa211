"""Demo data: real ESCO, real Aarhus places, and jobs that their own minimum age may take.

Each test seeds inside a transaction that is rolled back, so the shared test
database never sees demo vacancies (other tests search near their own spots).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import psycopg
import pytest

from matcher.matching.eligibility import SUBSIDISED_TYPES, Seeker, columns_of, eligible_mask
from ops.demo_catalogue import AARHUS_POSTCODES, DEMO_OCCUPATIONS
from ops.demo_seed import DemoSeedError, seed_into
from tests.conftest import _libpq

NOW = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)
CITY_HALL = "ST_SetSRID(ST_MakePoint(10.2039, 56.1535), 4326)::geography"


@pytest.fixture
def conn(database_url: str, esco_loaded: object) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(_libpq(database_url)) as c:
        try:
            yield c
        finally:
            c.rollback()


def test_seeds_real_esco_occupations_and_skills(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction(force_rollback=True):
        report = seed_into(conn, 150, 7, now=NOW)
        assert report.vacancies == 150
        assert report.employers >= 25
        assert report.missing_occupations == []  # the full ESCO has every demo occupation
        n_demo = conn.execute("SELECT count(*) FROM vacancies WHERE source_ref LIKE 'demo-%'")
        assert n_demo.fetchone() == (150,)
        # Required skills are 3-6 of the occupation's own essential skills, weight 1.
        bad = conn.execute(
            """
            SELECT v.title FROM vacancies v
             WHERE v.source_ref LIKE 'demo-%' AND (
                   cardinality(v.required_skill_ids) NOT BETWEEN 3 AND 6
                OR v.required_skill_weights
                   <> array_fill(1.0::real, ARRAY[cardinality(v.required_skill_ids)])
                OR EXISTS (SELECT 1 FROM unnest(v.required_skill_ids) s
                            WHERE NOT EXISTS (SELECT 1 FROM occupation_skills os
                                               WHERE os.occupation_id = v.occupation_id
                                                 AND os.skill_id = s
                                                 AND os.relation_type = 'essential'))
                OR EXISTS (SELECT 1 FROM unnest(v.optional_skill_ids) s
                            WHERE NOT EXISTS (SELECT 1 FROM occupation_skills os
                                               WHERE os.occupation_id = v.occupation_id
                                                 AND os.skill_id = s)))
            """
        ).fetchall()
        assert bad == []
        labels = {
            r[0]
            for r in conn.execute(
                "SELECT o.preferred_label FROM vacancies v JOIN occupations o "
                "ON o.id = v.occupation_id WHERE v.source_ref LIKE 'demo-%'"
            )
        }
        assert labels <= set(DEMO_OCCUPATIONS) and len(labels) >= 15
        # Titles use ESCO's Danish labels.
        titles = [
            r[0] for r in conn.execute("SELECT title FROM vacancies WHERE source_ref LIKE 'demo-%'")
        ]
        assert any(t.startswith("Fritidsjob som ") for t in titles)
        assert any("butiksassistent" in t.lower() or "barista" in t.lower() for t in titles)


def test_places_dates_and_profiles_are_plausible(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction(force_rollback=True):
        seed_into(conn, 150, 11, now=NOW)
        rows = conn.execute(
            f"""
            SELECT ST_Distance(location, {CITY_HALL}), ST_Y(location::geometry),
                   start_date, expires_at, work_profile, opening_hours, walk_in, address
              FROM vacancies WHERE source_ref LIKE 'demo-%'
            """
        ).fetchall()
    distances = np.array([r[0] for r in rows])
    assert distances.max() < 25_000  # all in the Aarhus area
    assert np.median(distances) < 8_000  # and mostly in and around the city
    for _, _, start, expires, profile, hours, walk_in, address in rows:
        assert expires > NOW and start <= expires.date()
        assert len(profile) == 12 and all(0.0 <= v <= 1.0 for v in profile)
        assert address[:4] in AARHUS_POSTCODES
        if walk_in:
            assert hours and set(hours) <= {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
            assert all(len(span) == 2 for spans in hours.values() for span in spans)
    assert sum(r[6] for r in rows) >= 10  # shops and cafés welcome walk-ins


def test_every_vacancy_is_legal_at_its_own_minimum_age(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction(force_rollback=True):
        report = seed_into(conn, 300, 3, now=NOW)
        rows = conn.execute(
            """
            SELECT min_age, hours_per_week, shift_start, shift_end, hazardous, light_work, job_type
              FROM vacancies WHERE source_ref LIKE 'demo-%'
            """
        ).fetchall()
    youth_like = sum(report.by_job_type.get(t, 0) for t in ("fritidsjob", "smaajob", "ordinary"))
    assert youth_like >= 0.7 * report.vacancies
    assert any(r[0] < 18 for r in rows) and any(r[0] == 18 for r in rows)

    for age in sorted({r[0] for r in rows}):
        jobs = [
            SimpleNamespace(
                min_age=r[0], hours_per_week=r[1], shift_start=r[2], shift_end=r[3],
                schedule=None, workplace_kind="other", alcohol_served=False,
                may_work_alone=False, hazards=["other"] if r[4] else [], light_work=r[5],
                job_type=r[6],
            )
            for r in rows
            if r[0] == age
        ]  # fmt: skip
        # The most favourable school status for the age (out of school from 15), and
        # marked for every subsidised type: the youth rules are what is checked here.
        marks = frozenset(SUBSIDISED_TYPES)
        who = Seeker(age=age, in_school=age < 15, today=NOW.date(), subsidy_types=marks)
        ok = eligible_mask(columns_of(jobs), who)
        assert ok.all(), f"a vacancy for {age}-year-olds breaks the rules"


def test_same_seed_same_data_and_no_double_seeding(conn: psycopg.Connection[Any]) -> None:
    def snapshot(seed: int) -> list[tuple[Any, ...]]:
        with conn.transaction(force_rollback=True):
            seed_into(conn, 40, seed, now=NOW)
            return conn.execute(
                "SELECT id, title, ST_AsText(location), required_skill_ids, min_age "
                "FROM vacancies WHERE source_ref LIKE 'demo-%' ORDER BY source_ref"
            ).fetchall()

    assert snapshot(5) == snapshot(5)
    assert snapshot(5) != snapshot(6)

    with conn.transaction(force_rollback=True):
        seed_into(conn, 20, 1, now=NOW)
        with pytest.raises(DemoSeedError, match="already there"):
            seed_into(conn, 20, 1, now=NOW)
        replaced = seed_into(conn, 30, 2, now=NOW, replace=True)
        assert replaced.replaced == 20
        count = conn.execute("SELECT count(*) FROM vacancies WHERE source_ref LIKE 'demo-%'")
        assert count.fetchone() == (30,)


def test_the_demo_has_a_few_leisure_and_volunteering_offers(conn: psycopg.Connection[Any]) -> None:
    """Offers beyond jobs (ops/demo_offers.py): in Aarhus, posted by foreninger,
    clubs and a volunteer centre, and replaced with the rest of the demo."""
    with conn.transaction(force_rollback=True):
        report = seed_into(conn, 20, 5, now=NOW)
        rows = conn.execute(
            f"""
            SELECT v.kind, v.job_type, e.org_kind, ST_Distance(v.location, {CITY_HALL}),
                   v.min_age, v.max_age, v.volunteering_is_work
              FROM vacancies v JOIN employers e ON e.id = v.employer_id
             WHERE v.source_ref LIKE 'demo:offer-%'
            """
        ).fetchall()
        assert report.offers == len(rows) >= 5
        assert {r[0] for r in rows} == {"leisure", "volunteering"}
        assert all(r[1] is None and r[2] != "business" and r[3] < 25_000 for r in rows)
        assert any(r[6] for r in rows) and not all(r[6] for r in rows if r[0] == "volunteering")
        seed_into(conn, 20, 6, now=NOW, replace=True)
        again = conn.execute("SELECT count(*) FROM vacancies WHERE source_ref LIKE 'demo:offer-%'")
        assert again.fetchone() == (len(rows),)
