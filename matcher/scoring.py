"""Scoring a seeker against a batch of candidate vacancies, vectorised.

A candidate batch arrives columnar (one NumPy array per field, skills flattened
with offsets), so scoring thousands of candidates is a handful of array
operations rather than a Python loop per pair. The score is a weighted sum of
six parts, each in [0, 1]:

    required   weighted coverage of the vacancy's required skills, with partial
               credit through the ESCO hierarchy and relations (taxonomy.py);
               the vacancy's occupation's ESCO profile stands in, with lower
               weight, for the skills a short ad did not list
    optional   share of the optional skills covered
    occupation how well the vacancy's occupation fits what the seeker wishes
               (interests) and what their skills point to (`occupation_fit`)
    profile    agreement of the two work profiles, centred on "no answer"
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
from matcher.occupations import OccupationIndex

WEIGHTS: dict[str, float] = {
    "required": 0.25,
    "optional": 0.05,
    "occupation": 0.25,
    "profile": 0.15,
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

# --- The occupation part (docs/matching.md, "Occupation part") ----------------
# A wish (interest) scores 1 for the occupation itself, INTEREST_SAME_GROUP for
# the other occupations of its ISCO-08 unit group, INTEREST_CLOSE x cosine for
# occupations close by shared essential skills (matcher/occupations.py).
INTEREST_SAME_GROUP = 0.7
INTEREST_CLOSE = 0.7
# What the skills point to: the share of an occupation's essential skills the
# seeker covers (with taxonomy credit), at least SKILLS_SAME_GROUP x the best
# share in its unit group, divided by the seeker's best share (not below
# SKILLS_NORM_FLOOR, so a thin skill list does not make anything a perfect fit).
SKILLS_SAME_GROUP = 0.7
SKILLS_NORM_FLOOR = 0.3
# With wishes, the skills' signal counts at most this much next to a wish.
SKILLS_BESIDE_WISHES = 0.8
# The occupation's profile stands in for skills an ad did not list: as if the ad
# listed STANDIN_SLOTS skills, the missing ones each worth STANDIN_WEIGHT of a
# listed one, covered as much as the seeker covers the profile (essential
# skills fully, optional ones PROFILE_OPTIONAL).
STANDIN_SLOTS = 6
STANDIN_WEIGHT = 0.5
PROFILE_OPTIONAL = 0.5
# Why an occupation part is what it is, for the explanation (REASONS[code]).
REASONS: tuple[str | None, ...] = (None, "skills", "close", "same_group", "wished")
# A reason is named only where the part is at least this.
REASON_MIN = 0.5

# --- The work-profile part ----------------------------------------------------
# Each dimension leans from neutral (0.5); the part is 0.5 + 0.5 x the mean of
# 4 (a - 0.5)(b - 0.5) over the dimensions where both lean at least
# PROFILE_MIN_LEAN, the mean taken over at least PROFILE_MIN_ANSWERS of them.
# Opposite answers give < 0.5, a skipped quiz exactly 0.5, matching ones > 0.5.
PROFILE_MIN_LEAN = 0.1
PROFILE_MIN_ANSWERS = 3


@dataclass(frozen=True, slots=True)
class OccupationFit:
    """Per occupation id: the occupation part (NaN: nothing to compare), why, and
    the share of its ESCO profile the seeker covers. One per request."""

    part: np.ndarray  # float64[n_occupations]
    reason: np.ndarray  # int8, index into REASONS
    wished_by: np.ndarray  # int64: the wish that gave the part (-1 none)
    cover: np.ndarray  # float64: profile coverage (essential + PROFILE_OPTIONAL optional)


def occupation_fit(
    index: OccupationIndex, credit: np.ndarray, interests: Sequence[int] = ()
) -> OccupationFit:
    """The occupation part for every occupation at once (a few arrays of ~4k)."""
    n = index.n
    ess, opt = index.coverage(credit[: len(credit)])
    n_e, n_o = index.n_essential, index.n_optional
    denom = n_e + PROFILE_OPTIONAL * n_o
    cover = np.where(denom > 0, (ess + PROFILE_OPTIONAL * opt) / np.maximum(denom, 1e-9), np.nan)
    point = np.where(n_e > 0, ess / np.maximum(n_e, 1.0), 0.0)
    top = float(point.max()) if n else 0.0
    part = np.full(n, np.nan)
    reason = np.zeros(n, dtype=np.int8)
    wished_by = np.full(n, -1, dtype=np.int64)
    skills = np.zeros(n)
    if top > 0:
        spread = index.best_in_group(point)
        skills = np.clip(
            np.maximum(point, SKILLS_SAME_GROUP * spread) / max(top, SKILLS_NORM_FLOOR), 0.0, 1.0
        )
        part = skills.copy()
        reason[:] = 1
    wishes = [o for o in dict.fromkeys(interests) if 0 <= o < n and index.is_occupation[o]]
    if wishes:
        wish = np.zeros(n)
        kind = np.zeros(n, dtype=np.int8)
        for o in wishes:
            if index.group[o] >= 0:
                _raise(
                    wish, kind, wished_by, index.group == index.group[o], INTEREST_SAME_GROUP, 3, o
                )
            nb, sim = index.neighbours(o)
            close = np.zeros(n, dtype=bool)
            close[nb] = True
            level = np.zeros(n)
            level[nb] = INTEREST_CLOSE * sim
            _raise(wish, kind, wished_by, close, level, 2, o)
            _raise(wish, kind, wished_by, np.arange(n) == o, 1.0, 4, o)
        skills = SKILLS_BESIDE_WISHES * skills
        part = np.maximum(wish, skills)
        reason = np.where(wish >= skills, kind, np.int8(1)).astype(np.int8)
        wished_by = np.where(wish >= skills, wished_by, -1)
    reason = np.where(np.nan_to_num(part) >= REASON_MIN, reason, 0).astype(np.int8)
    part = np.where(index.is_occupation, part, np.nan)
    return OccupationFit(part=part, reason=reason, wished_by=wished_by, cover=cover)


def _raise(
    wish: np.ndarray,
    kind: np.ndarray,
    wished_by: np.ndarray,
    where: np.ndarray,
    level: float | np.ndarray,
    code: int,
    occupation: int,
) -> None:
    """Raise `wish` to `level` where given, noting why and which wish."""
    value = np.broadcast_to(np.asarray(level, dtype=np.float64), wish.shape)
    up = where & (value >= wish) & (value > 0)
    wish[up] = value[up]
    kind[up] = code
    wished_by[up] = occupation


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
    # The occupation part per occupation (occupation_fit), None without a taxonomy.
    occupations: OccupationFit | None = None


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
    # The vacancy's ESCO occupation id, -1 for none; None: no column at all.
    occupation_ids: np.ndarray | None = None

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
            occupation_ids=None if self.occupation_ids is None else self.occupation_ids[rows],
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
    """Total score and each part, aligned with the batch rows.

    `fits`: the hours are within the seeker's wished range and the job type is
    one they chose (or they chose none); `weak`: the vacancy lists required
    skills and the seeker earns no credit for any of them. Neither is part of
    the total: matching.rank orders and filters by them."""

    total: np.ndarray
    parts: dict[str, np.ndarray]
    fits: np.ndarray
    weak: np.ndarray

    def take(self, rows: np.ndarray) -> Scores:
        return Scores(
            total=self.total[rows],
            parts={p: v[rows] for p, v in self.parts.items()},
            fits=self.fits[rows],
            weak=self.weak[rows],
        )


def _empty() -> Scores:
    empty = np.zeros(0)
    none = np.zeros(0, dtype=bool)
    return Scores(total=empty, parts={p: empty for p in PARTS}, fits=none, weak=none)


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
        return _empty()

    covered, total_w = _coverage(seeker.credit, batch.req_ids, batch.req_weights, batch.req_offsets)
    weak = (total_w > 0) & (covered <= 0)
    occupation, cover = _occupation_columns(seeker.occupations, batch.occupation_ids, n)
    standin = standin_weights(batch, cover)
    covered = covered + standin * np.nan_to_num(cover)
    total_w = total_w + standin
    required = np.where(total_w > 0, covered / np.maximum(total_w, 1e-9), 1.0)

    opt_cov, opt_n = _coverage(seeker.credit, batch.opt_ids, None, batch.opt_offsets)
    optional = np.where(opt_n > 0, opt_cov / np.maximum(opt_n, 1.0), NEUTRAL)

    fit = profile_fit(seeker.work_profile, batch.profiles)
    practical, fits = _practical(seeker, batch)
    distance = np.clip(1.0 - batch.distance_m / max(seeker.radius_m, 1.0), 0.0, 1.0)

    return _weighted(required, optional, occupation, fit, practical, distance, fits, weak)


def standin_weights(batch: CandidateBatch, cover: np.ndarray) -> np.ndarray:
    """Per row, the weight the occupation's profile has in the required part (0
    without an occupation or a profile), beside the listed skills' weights."""
    standin = STANDIN_WEIGHT * np.maximum(STANDIN_SLOTS - np.diff(batch.req_offsets), 0)
    return np.where(np.isnan(cover), 0.0, standin)  # type: ignore[no-any-return]


def profile_cover(seeker: SeekerContext, batch: CandidateBatch) -> np.ndarray:
    """Per row, how much of the vacancy's occupation profile the seeker covers (NaN: none)."""
    return _occupation_columns(seeker.occupations, batch.occupation_ids, len(batch))[1]


def _occupation_columns(
    occ: OccupationFit | None, ids: np.ndarray | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(occupation part, profile coverage) per row: neutral / NaN where either side
    has nothing to compare."""
    part, cover = np.full(n, NEUTRAL), np.full(n, np.nan)
    if occ is None or ids is None:
        return part, cover
    known = (ids >= 0) & (ids < len(occ.part))
    at = ids[known]
    p = occ.part[at]
    part[known] = np.where(np.isnan(p), NEUTRAL, p)
    cover[known] = occ.cover[at]
    return part, cover


def profile_fit(seeker: np.ndarray | None, profiles: np.ndarray) -> np.ndarray:
    """The work-profile part per row (see PROFILE_MIN_LEAN): 0.5 without a profile
    on either side, below 0.5 for opposite answers, above for matching ones."""
    n = len(profiles)
    if seeker is None:
        return np.full(n, NEUTRAL)
    a = profiles.astype(np.float64) - 0.5
    b = seeker.astype(np.float64)[None, :] - 0.5
    with np.errstate(invalid="ignore"):
        both = (np.abs(a) >= PROFILE_MIN_LEAN) & (np.abs(b) >= PROFILE_MIN_LEAN)
    lean = np.where(both, 4.0 * np.nan_to_num(a) * b, 0.0).sum(axis=1)
    agreement = lean / np.maximum(both.sum(axis=1), PROFILE_MIN_ANSWERS)
    missing = np.isnan(profiles).any(axis=1)
    return np.where(missing, NEUTRAL, 0.5 + 0.5 * agreement)  # type: ignore[no-any-return]


def score_for_seekers(
    seekers: Sequence[SeekerContext], batch: CandidateBatch, distance_m: np.ndarray
) -> Scores:
    """One vacancy (the batch's only row) against many seekers: `score_batch`
    transposed, row i of the result is seeker i. A new vacancy is scored for
    every connected seeker near it at once (push), not seeker by seeker."""
    n = len(seekers)
    if n == 0:
        return _empty()
    req = batch.req_ids[batch.req_offsets[0] : batch.req_offsets[1]]
    req_w = batch.req_weights[batch.req_offsets[0] : batch.req_offsets[1]].astype(np.float64)
    opt = batch.opt_ids[batch.opt_offsets[0] : batch.opt_offsets[1]]

    total_w = float(req_w.sum())
    covered = _credits(seekers, req) @ req_w if total_w > 0 else np.zeros(n)
    weak = np.full(n, total_w > 0) & (covered <= 0)
    columns = [_occupation_columns(s.occupations, batch.occupation_ids, 1) for s in seekers]
    occupation = np.array([c[0][0] for c in columns])
    cover = np.array([c[1][0] for c in columns])
    standin = np.where(np.isnan(cover), 0.0, STANDIN_WEIGHT * max(STANDIN_SLOTS - len(req), 0))
    denom = total_w + standin
    required = np.where(
        denom > 0, (covered + standin * np.nan_to_num(cover)) / np.maximum(denom, 1e-9), 1.0
    )
    optional = _credits(seekers, opt).mean(axis=1) if len(opt) else np.full(n, NEUTRAL)

    fit = np.array([float(profile_fit(s.work_profile, batch.profiles[:1])[0]) for s in seekers])

    h = float(batch.hours_per_week[0])
    lo = np.array([s.hours_min if s.hours_min is not None else 0.0 for s in seekers])
    hi = np.array([s.hours_max if s.hours_max is not None else 80.0 for s in seekers])
    outside = np.maximum(lo - h, 0.0) + np.maximum(h - hi, 0.0)
    # An offer without hours or job type (leisure, volunteering) loses nothing for them.
    hours = np.nan_to_num(np.clip(1.0 - outside / HOURS_TOLERANCE, 0.0, 1.0), nan=1.0)
    job_type = str(batch.job_types[0])
    # An offer without a job type (leisure, volunteering) is never outside the wish.
    untyped = batch.job_types[0] is None or job_type == ""
    chosen = np.array([untyped or not s.job_types or job_type in s.job_types for s in seekers])
    wished = np.where(chosen, 1.0, UNWISHED_JOB_TYPE)
    fits = (np.nan_to_num(outside, nan=0.0) <= 0) & chosen
    days = float(np.nan_to_num(batch.start_in_days[0], nan=0.0))
    start = 1.0 - 0.5 * min(
        max((days - START_SOON_DAYS) / (START_FAR_DAYS - START_SOON_DAYS), 0.0), 1.0
    )
    practical = (hours + wished + start) / 3.0

    radii = np.array([max(s.radius_m, 1.0) for s in seekers])
    distance = np.clip(1.0 - np.asarray(distance_m, dtype=np.float64) / radii, 0.0, 1.0)

    return _weighted(required, optional, occupation, fit, practical, distance, fits, weak)


def _weighted(
    required: np.ndarray,
    optional: np.ndarray,
    occupation: np.ndarray,
    profile: np.ndarray,
    practical: np.ndarray,
    distance: np.ndarray,
    fits: np.ndarray,
    weak: np.ndarray,
) -> Scores:
    parts = {
        "required": required,
        "optional": optional,
        "occupation": occupation,
        "profile": profile,
        "practical": practical,
        "distance": distance,
    }
    total = sum(WEIGHTS[p] * parts[p] for p in PARTS)
    return Scores(total=np.clip(total, 0.0, 1.0), parts=parts, fits=fits, weak=weak)


def _credits(seekers: Sequence[SeekerContext], ids: np.ndarray) -> np.ndarray:
    """Each seeker's credit for each of the skill ids (seekers x ids)."""
    out = np.zeros((len(seekers), len(ids)), dtype=np.float64)
    for i, s in enumerate(seekers):
        known = ids < len(s.credit)
        out[i, known] = s.credit[ids[known]]
    return out


def _practical(seeker: SeekerContext, batch: CandidateBatch) -> tuple[np.ndarray, np.ndarray]:
    """(practical part, fits the seeker's wished hours and job types)."""
    h = batch.hours_per_week.astype(np.float64)
    lo = seeker.hours_min if seeker.hours_min is not None else 0.0
    hi = seeker.hours_max if seeker.hours_max is not None else 80.0
    outside = np.maximum(lo - h, 0.0) + np.maximum(h - hi, 0.0)
    # An offer without hours or job type (leisure, volunteering) loses nothing for them.
    hours = np.nan_to_num(np.clip(1.0 - outside / HOURS_TOLERANCE, 0.0, 1.0), nan=1.0)

    if seeker.job_types:
        # An offer without a job type (leisure, volunteering) is never outside the wish.
        untyped = np.fromiter((not t for t in batch.job_types), dtype=bool, count=len(batch))
        wished = np.isin(batch.job_types, list(seeker.job_types)) | untyped
        job_type = np.where(wished, 1.0, UNWISHED_JOB_TYPE)
    else:
        wished = np.ones(len(batch), dtype=bool)
        job_type = np.ones(len(batch))

    days = np.nan_to_num(batch.start_in_days.astype(np.float64), nan=0.0)
    late = np.clip((days - START_SOON_DAYS) / (START_FAR_DAYS - START_SOON_DAYS), 0.0, 1.0)
    start = 1.0 - 0.5 * late

    # No hours (NaN: a leisure or volunteering offer) is within any wished range.
    return (hours + job_type + start) / 3.0, (np.nan_to_num(outside, nan=0.0) <= 0) & wished


def parts_for_row(scores: Scores, row: int) -> dict[str, float]:
    return {p: round(float(scores.parts[p][row]), 4) for p in PARTS}
