"""Feedback events for the ml tests, inserted straight into match_events with SQL.

The people in them follow a rule the hand-set weights do not: a match is good when
it is near (distance part > 0.6) and fits the work profile (profile part > 0.4),
whatever the skills say. A learned ranker can find that rule; the hand-set
scorer, which gives skills 40 % of the score, can only partly.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass

import numpy as np
import psycopg

from matcher.analytics.feedback import FEATURE_NAMES
from tests.conftest import _libpq

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Inserted:
    seekers: list[uuid.UUID]
    n_events: int
    n_pairs: int
    first: dt.datetime
    last: dt.datetime


def features(rng: np.random.Generator) -> list[float]:
    req, opt, prof, pract, dist = rng.random(5).round(4).tolist()
    values = {
        "part_required": req,
        "part_optional": opt,
        "part_profile": prof,
        "part_practical": pract,
        "part_distance": dist,
        "distance_km": round((1 - dist) * 5.0, 3),
        "n_required": 4.0,
        "n_matched_required": float(round(req * 4)),
        "n_optional": 2.0,
        "n_matched_optional": float(round(opt * 2)),
        "walk_in": float(rng.random() < 0.3),
        "hours_per_week": 10.0,
        "starts_in_days": 0.0,
        "eligible": 1.0,
        "part_occupation": 0.5,
    }
    return [values[n] for n in FEATURE_NAMES]


def good(f: list[float]) -> bool:
    col = dict(zip(FEATURE_NAMES, f, strict=True))
    return col["part_distance"] > 0.6 and col["part_profile"] > 0.4


def insert_feedback(
    database_url: str,
    n_seekers: int = 40,
    per_seeker: int = 12,
    seed: int = 0,
    start: dt.datetime = START,
) -> Inserted:
    """Seekers, vacancies and their events (one day per seeker from `start`)."""
    rng = np.random.default_rng(seed)
    seekers = [uuid.uuid4() for _ in range(n_seekers)]
    employer = uuid.uuid4()
    rows = []
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO employers (id, name, api_key_hash) VALUES (%s, 'ML test', %s)",
            (employer, os.urandom(32)),
        )
        for s, seeker in enumerate(seekers):
            conn.execute(
                "INSERT INTO jobseekers (id, birth_date) VALUES (%s, '2006-05-01')",
                (seeker,),
            )
            day = start + dt.timedelta(days=s)
            for v in range(per_seeker):
                vacancy = uuid.uuid4()
                conn.execute(
                    "INSERT INTO vacancies (id, employer_id, title, location, job_type, "
                    "hours_per_week) VALUES (%s, %s, 'Test job', "
                    "'SRID=4326;POINT(10.2 56.15)', 'fritidsjob', 10)",
                    (vacancy, employer),
                )
                f = features(rng)
                kinds = ["pushed"]
                if good(f):
                    kinds += ["opened", "saved"]
                    if rng.random() < 0.5:
                        kinds.append("applied")
                else:
                    if rng.random() < 0.4:
                        kinds.append("opened")
                    if rng.random() < 0.5:
                        kinds.append("dismissed")
                for k, kind in enumerate(kinds):
                    at = day + dt.timedelta(minutes=10 * v + k)
                    rows.append((at, seeker, vacancy, kind, f, float(np.mean(f[:5]))))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO match_events (occurred_at, jobseeker_id, vacancy_id, kind, actor, "
                "score, features, scorer, age_band) "
                "VALUES (%s, %s, %s, %s, 'seeker', %s, %s, 'hand-v1', '18-24')",
                [(at, s, v, k, score, f) for at, s, v, k, f, score in rows],
            )
    times = [r[0] for r in rows]
    return Inserted(seekers, len(rows), n_seekers * per_seeker, min(times), max(times))
