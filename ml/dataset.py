"""Feedback events -> training data: one row per (seeker, vacancy), grouped by seeker.

Labels (graded relevance of a pair, from the strongest thing that happened):

    hired 4 > applied 3 > saved, verdict_good 2 > opened 1 > pushed only 0

and `dismissed` / `verdict_bad` make a pair 0 unless the seeker applied or was
hired: an application is an outcome that a later "not for me" or a consultant's
doubt does not undo, while a save followed by a dismiss is a change of mind.
A pair is *relevant* (the binary label of the classifier, P@5 and AUC) at grade
2 or more: opening a card is curiosity, not evidence of a good match.

Features are the ones stored with the pair's *first* event (usually its push):
that is what the scorer saw when it chose to show the vacancy, which is the
decision the ranker will take. History is never re-scored: vacancies and
profiles change, and a re-score would leak today's state into yesterday's
choice. `FEATURE_NAMES` is append-only, so a shorter vector (written before a
feature was added, e.g. `part_occupation` of scorer hand-v2) is read with the
newer features unknown (NaN); a longer one or infinite values are left out and
counted (NaN, an unknown distance, is kept: the model imputes it).

Groups are seekers: cross-validation never trains on a seeker it tests on, and
metrics are averaged per seeker (ml/metrics.py).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

GRADES: dict[str, int] = {
    "hired": 4,
    "applied": 3,
    "saved": 2,
    "verdict_good": 2,
    "opened": 1,
    "pushed": 0,
}
NEGATIVE: frozenset[str] = frozenset({"dismissed", "verdict_bad"})
# At or above this grade a negative event no longer cancels the outcome.
OUTCOME_GRADE = 3
RELEVANT_GRADE = 2


def grade(kinds: Iterable[str]) -> int:
    """Graded relevance of a pair from the kinds of its events (see the module doc)."""
    kinds = set(kinds)
    best = max((GRADES.get(k, 0) for k in kinds), default=0)
    if best < OUTCOME_GRADE and kinds & NEGATIVE:
        return 0
    return best


@dataclass(slots=True)
class PairEvents:
    """Events aggregated per (seeker, vacancy), as read from match_events."""

    seeker_ids: list[str]
    vacancy_ids: list[str]
    kinds: list[tuple[str, ...]]
    features: list[Sequence[float]]  # of the first event
    first_at: list[dt.datetime]
    n_events: int

    def __len__(self) -> int:
        return len(self.seeker_ids)


@dataclass(slots=True)
class Dataset:
    X: np.ndarray  # float64[n, n_features]
    grades: np.ndarray  # int8[n]
    groups: np.ndarray  # int64[n]: seeker index
    feature_names: tuple[str, ...]
    n_events: int
    seekers: list[str]
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def y(self) -> np.ndarray:
        return (self.grades >= RELEVANT_GRADE).astype(np.int64)

    @property
    def sample_weight(self) -> np.ndarray:
        # An application counts twice and a hire three times as much as a save:
        # the outcomes we care about are the rarer ones.
        return np.where(self.grades >= RELEVANT_GRADE, self.grades - 1, 1).astype(np.float64)

    def __len__(self) -> int:
        return len(self.grades)

    def summary(self) -> dict[str, Any]:
        counts = np.bincount(self.grades, minlength=5) if len(self) else np.zeros(5, int)
        return {
            "n_events": self.n_events,
            "n_pairs": len(self),
            "n_seekers": len(self.seekers),
            "n_relevant": int(self.y.sum()),
            "grades": {str(g): int(c) for g, c in enumerate(counts.tolist())},
            "skipped": dict(self.skipped),
            "first_event": self.first_at.isoformat() if self.first_at else None,
            "last_event": self.last_at.isoformat() if self.last_at else None,
        }


def build_dataset(pairs: PairEvents, feature_names: Sequence[str]) -> Dataset:
    """Label the pairs and stack their feature vectors; bad vectors are skipped."""
    width = len(feature_names)
    skipped: Counter[str] = Counter()
    rows: list[Sequence[float]] = []
    grades: list[int] = []
    seekers: list[str] = []
    times: list[dt.datetime] = []
    for sid, kinds, feats, at in zip(
        pairs.seeker_ids, pairs.kinds, pairs.features, pairs.first_at, strict=True
    ):
        if feats is None or len(feats) > width:
            skipped["feature_length"] += 1
            continue
        if len(feats) < width:  # an older vector: the features added since are unknown
            feats = [*feats, *([math.nan] * (width - len(feats)))]
        values = np.asarray(feats, dtype=np.float64)
        # NaN is a legitimate "unknown" (a distance without a position); inf is a bug.
        if np.isinf(values).any():
            skipped["infinite"] += 1
            continue
        rows.append(feats)
        grades.append(grade(kinds))
        seekers.append(sid)
        times.append(at)
    codes, group = np.unique(np.asarray(seekers, dtype=object), return_inverse=True)
    return Dataset(
        X=np.asarray(rows, dtype=np.float64).reshape(len(rows), width),
        grades=np.asarray(grades, dtype=np.int8),
        groups=group.astype(np.int64),
        feature_names=tuple(feature_names),
        n_events=pairs.n_events,
        seekers=[str(c) for c in codes],
        first_at=min(times, default=None),
        last_at=max(times, default=None),
        skipped=skipped,
    )


# One row per pair: what happened to it, and the features of its first event.
PAIRS_SQL = """
WITH w AS (
    SELECT id, occurred_at, jobseeker_id, vacancy_id, kind, features
    FROM match_events
    WHERE occurred_at >= %(since)s AND occurred_at < %(until)s
), agg AS (
    SELECT jobseeker_id, vacancy_id, array_agg(DISTINCT kind) AS kinds,
           min(occurred_at) AS first_at, count(*) AS n
    FROM w GROUP BY jobseeker_id, vacancy_id
), first AS (
    SELECT DISTINCT ON (jobseeker_id, vacancy_id) jobseeker_id, vacancy_id, features
    FROM w ORDER BY jobseeker_id, vacancy_id, occurred_at, id
)
SELECT agg.jobseeker_id, agg.vacancy_id, agg.kinds, first.features, agg.first_at, agg.n
FROM agg JOIN first USING (jobseeker_id, vacancy_id)
ORDER BY agg.first_at, agg.jobseeker_id, agg.vacancy_id
"""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FOREVER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_pairs(
    database_url: str, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> PairEvents:
    """Events with `since <= occurred_at < until`, aggregated per pair (read-only)."""
    params = {"since": since or EPOCH, "until": until or FOREVER}
    with psycopg.connect(libpq(database_url)) as conn:
        conn.read_only = True
        rows = conn.execute(PAIRS_SQL, params).fetchall()
    return PairEvents(
        seeker_ids=[str(r[0]) for r in rows],
        vacancy_ids=[str(r[1]) for r in rows],
        kinds=[tuple(r[2]) for r in rows],
        features=[r[3] for r in rows],
        first_at=[r[4] for r in rows],
        n_events=sum(int(r[5]) for r in rows),
    )


def load_dataset(
    database_url: str,
    feature_names: Sequence[str],
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Dataset:
    return build_dataset(load_pairs(database_url, since, until), feature_names)
