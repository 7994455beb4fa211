"""Scoring a seeker against a batch of candidate vacancies, vectorised.

A candidate batch arrives columnar (one NumPy array per field, skills flattened
with offsets), so scoring thousands of candidates is a handful of array
operations rather than a Python loop per pair. The score is a weighted sum of
five parts, each in [0, 1]:

    required   weighted coverage of the vacancy's required skills, with partial
               credit through the ESCO hierarchy and relations (taxonomy.py)
    optional   share of the optional skills covered
    profile    1 - mean absolute difference of the two work profiles
    practical  hours within the seeker's wish, job type wished for, starts soon
    distance   1 at the door, 0 at the seeker's radius

A part with nothing to compare (a vacancy without optional skills, a missing
work profile) is neutral (0.5) for optional/profile and full (1.0) for required:
a job that requires nothing does not hold anything against anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from matcher.eligibility import EligibilityColumns

WEIGHTS: dict[str, float] = {
    "required": 0.40,
    "optional": 0.10,
    "profile": 0.20,
    "practical": 0.15,
    "distance": 0.15,
}
PARTS: tuple[str, ...] = tuple(WEIGHTS)
NEUTRAL = 0.5
# Practical fit: hours outside the wished range lose fit linearly over this many hours.
HOURS_TOLERANCE = 10.0
UNWISHED_JOB_TYPE = 0.3
# A start date this far ahead still counts fully; after that fit fades to 0.5 at 180 days.
START_SOON_DAYS = 30.0
START_FAR_DAYS = 180.0


@dataclass(frozen=True, slots=True)
class SeekerContext:
    """What scoring needs to know about a seeker, prepared once per request."""

    age: int
    credit: np.ndarray  # float32[n_slots]: credit per skill id (taxonomy.credit_vector)
    certificates: frozenset[str]
    work_profile: np.ndarray | None  # float32[profile.SIZE]
    radius_m: float
    job_types: frozenset[str] = frozenset()
    hours_min: float | None = None
    hours_max: float | None = None
    walk_in_interest: bool = True
    today: dt.date = field(default_factory=dt.date.today)
    lang: str = "en"  # the seeker's language: what the explanation's labels are in
    # The hard rules (matcher/eligibility.py): do the school rules bind (under
    # 18, not known to be past 9th grade), and the subsidised job types the
    # person's consultant marked them eligible for.
    in_school: bool = True
    subsidy_types: frozenset[str] = frozenset()
    # The kinds of offer the person opted in to (matcher/offers.py); a hard rule.
    offer_kinds: frozenset[str] = frozenset({"job"})


@dataclass(slots=True)
class CandidateBatch:
    """Candidates in columns. Skill lists are flattened: row i owns
    `req_ids[req_offsets[i]:req_offsets[i+1]]` (likewise optional)."""

    ids: list[object]
    distance_m: np.ndarray  # float64
    req_ids: np.ndarray  # int32
    req_weights: np.ndarray  # float32
    req_offsets: np.ndarray  # int64, len n+1
    opt_ids: np.ndarray  # int32
    opt_offsets: np.ndarray  # int64, len n+1
    profiles: np.ndarray  # float32[n, profile.SIZE]; NaN rows where missing
    eligibility: EligibilityColumns
    job_types: np.ndarray  # object (str)
    hours_per_week: np.ndarray  # float32
    start_in_days: np.ndarray  # float32, NaN if no start date
    walk_in: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: np.ndarray) -> CandidateBatch:
        """The given rows as a batch of their own (a copy: the rest can be freed)."""
        req_ids, req_offsets = _take_segments(self.req_ids, self.req_offsets, rows)
        req_weights, _ = _take_segments(self.req_weights, self.req_offsets, rows)
        opt_ids, opt_offsets = _take_segments(self.opt_ids, self.opt_offsets, rows)
        e = self.eligibility
        return CandidateBatch(
            ids=[self.ids[r] for r in rows.tolist()],
            distance_m=self.distance_m[rows],
            req_ids=req_ids,
            req_weights=req_weights,
            req_offsets=req_offsets,
            opt_ids=opt_ids,
            opt_offsets=opt_offsets,
            profiles=self.profiles[rows],
            eligibility=type(e)(**{f.name: getattr(e, f.name)[rows] for f in fields(e)}),
            job_types=self.job_types[rows],
            hours_per_week=self.hours_per_week[rows],
            start_in_days=self.start_in_days[rows],
            walk_in=self.walk_in[rows],
        )


def _take_segments(
    flat: np.ndarray, offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    # Each kept element's position in `flat`: its row's old start plus its place in the row.
    index = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return flat[index], new_offsets


@dataclass(slots=True)
class Scores:
    """Total score and each part, aligned with the batch rows."""

    total: np.ndarray
    parts: dict[str, np.ndarray]

    def take(self, rows: np.ndarray) -> Scores:
        return Scores(total=self.total[rows], parts={p: v[rows] for p, v in self.parts.items()})


def _segment_ids(offsets: np.ndarray) -> np.ndarray:
    n = len(offsets) - 1
    return np.repeat(np.arange(n), np.diff(offsets))


def _coverage(
    credit: np.ndarray, ids: np.ndarray, weights: np.ndarray | None, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row weighted credit sum and weight sum over a flattened skill column."""
    n = len(offsets) - 1
    seg = _segment_ids(offsets)
    # Skill ids beyond the taxonomy (added after this process loaded it) earn nothing.
    got = np.zeros(len(ids), dtype=np.float32)
    known = ids < len(credit)
    got[known] = credit[ids[known]]
    w = weights if weights is not None else np.ones(len(ids), dtype=np.float32)
    covered = np.bincount(seg, weights=got * w, minlength=n)
    total = np.bincount(seg, weights=w, minlength=n)
    return covered, total


def score_batch(seeker: SeekerContext, batch: CandidateBatch) -> Scores:
    n = len(batch)
    if n == 0:
        empty = np.zeros(0)
        return Scores(total=empty, parts={p: empty for p in PARTS})

    covered, total_w = _coverage(seeker.credit, batch.req_ids, batch.req_weights, batch.req_offsets)
    required = np.where(total_w > 0, covered / np.maximum(total_w, 1e-9), 1.0)

    opt_cov, opt_n = _coverage(seeker.credit, batch.opt_ids, None, batch.opt_offsets)
    optional = np.where(opt_n > 0, opt_cov / np.maximum(opt_n, 1.0), NEUTRAL)

    if seeker.work_profile is None:
        fit = np.full(n, NEUTRAL)
    else:
        diff = np.abs(batch.profiles - seeker.work_profile[None, :]).mean(axis=1)
        fit = np.where(np.isnan(diff), NEUTRAL, 1.0 - diff)

    practical = _practical(seeker, batch)
    distance = np.clip(1.0 - batch.distance_m / max(seeker.radius_m, 1.0), 0.0, 1.0)

    return _weighted(required, optional, fit, practical, distance)


def score_for_seekers(
    seekers: Sequence[SeekerContext], batch: CandidateBatch, distance_m: np.ndarray
) -> Scores:
    """One vacancy (the batch's only row) against many seekers: `score_batch`
    transposed, row i of the result is seeker i. A new vacancy is scored for
    every connected seeker near it at once (push), not seeker by seeker."""
    n = len(seekers)
    if n == 0:
        empty = np.zeros(0)
        return Scores(total=empty, parts={p: empty for p in PARTS})
    req = batch.req_ids[batch.req_offsets[0] : batch.req_offsets[1]]
    req_w = batch.req_weights[batch.req_offsets[0] : batch.req_offsets[1]].astype(np.float64)
    opt = batch.opt_ids[batch.opt_offsets[0] : batch.opt_offsets[1]]

    total_w = float(req_w.sum())
    required = _credits(seekers, req) @ req_w / total_w if total_w > 0 else np.ones(n)
    optional = _credits(seekers, opt).mean(axis=1) if len(opt) else np.full(n, NEUTRAL)

    vacancy_profile = batch.profiles[0]
    fit = np.full(n, NEUTRAL)
    if not np.isnan(vacancy_profile).any():
        for i, s in enumerate(seekers):
            if s.work_profile is not None:
                fit[i] = 1.0 - float(np.abs(vacancy_profile - s.work_profile).mean())

    h = float(batch.hours_per_week[0])
    lo = np.array([s.hours_min if s.hours_min is not None else 0.0 for s in seekers])
    hi = np.array([s.hours_max if s.hours_max is not None else 80.0 for s in seekers])
    outside = np.maximum(lo - h, 0.0) + np.maximum(h - hi, 0.0)
    # An offer without hours or job type (leisure, volunteering) loses nothing for them.
    hours = np.nan_to_num(np.clip(1.0 - outside / HOURS_TOLERANCE, 0.0, 1.0), nan=1.0)
    job_type = str(batch.job_types[0])
    wished = np.array(
        [
            1.0 if not s.job_types or not job_type or job_type in s.job_types else UNWISHED_JOB_TYPE
            for s in seekers
        ]
    )
    days = float(np.nan_to_num(batch.start_in_days[0], nan=0.0))
    start = 1.0 - 0.5 * min(
        max((days - START_SOON_DAYS) / (START_FAR_DAYS - START_SOON_DAYS), 0.0), 1.0
    )
    practical = (hours + wished + start) / 3.0

    radii = np.array([max(s.radius_m, 1.0) for s in seekers])
    distance = np.clip(1.0 - np.asarray(distance_m, dtype=np.float64) / radii, 0.0, 1.0)

    return _weighted(required, optional, fit, practical, distance)


def _weighted(
    required: np.ndarray,
    optional: np.ndarray,
    profile: np.ndarray,
    practical: np.ndarray,
    distance: np.ndarray,
) -> Scores:
    parts = {
        "required": required,
        "optional": optional,
        "profile": profile,
        "practical": practical,
        "distance": distance,
    }
    total = sum(WEIGHTS[p] * parts[p] for p in PARTS)
    return Scores(total=np.clip(total, 0.0, 1.0), parts=parts)


def _credits(seekers: Sequence[SeekerContext], ids: np.ndarray) -> np.ndarray:
    """Each seeker's credit for each of the skill ids (seekers x ids)."""
    out = np.zeros((len(seekers), len(ids)), dtype=np.float64)
    for i, s in enumerate(seekers):
        known = ids < len(s.credit)
        out[i, known] = s.credit[ids[known]]
    return out


def _practical(seeker: SeekerContext, batch: CandidateBatch) -> np.ndarray:
    h = batch.hours_per_week.astype(np.float64)
    lo = seeker.hours_min if seeker.hours_min is not None else 0.0
    hi = seeker.hours_max if seeker.hours_max is not None else 80.0
    outside = np.maximum(lo - h, 0.0) + np.maximum(h - hi, 0.0)
    # An offer without hours or job type (leisure, volunteering) loses nothing for them.
    hours = np.nan_to_num(np.clip(1.0 - outside / HOURS_TOLERANCE, 0.0, 1.0), nan=1.0)

    if seeker.job_types:
        wished = np.isin(batch.job_types, list(seeker.job_types)) | (batch.job_types == "")
        job_type = np.where(wished, 1.0, UNWISHED_JOB_TYPE)
    else:
        job_type = np.ones(len(batch))

    days = np.nan_to_num(batch.start_in_days.astype(np.float64), nan=0.0)
    late = np.clip((days - START_SOON_DAYS) / (START_FAR_DAYS - START_SOON_DAYS), 0.0, 1.0)
    start = 1.0 - 0.5 * late

    return (hours + job_type + start) / 3.0


def parts_for_row(scores: Scores, row: int) -> dict[str, float]:
    return {p: round(float(scores.parts[p][row]), 4) for p in PARTS}
