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

This module is the one scorer: nothing outside it knows the weights or how the
parts combine. `score` broadcasts over seekers x rows (one seeker x many
vacancies for matches, many seekers x one vacancy for push and reach), with or
without a position; `static_total` / `with_distance` / `best_with_distance`
split off the distance part (the push cache), `combine` sums given parts (the
hand-set ranker), `skill_ceiling` / `skill_entry_scales` give the guidance
counterfactual its gains, `ceiling` bounds a score from the cheap columns
(`Outline`) so a dense circle is scored in full only where it can matter, and
`features_from_match` is the feature vector the feedback log and the learned
ranker share.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from matcher.esco.occupations import OccupationIndex
from matcher.matching.eligibility import EligibilityColumns

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
# occupations close by shared essential skills (matcher/esco/occupations.py).
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


@dataclass(frozen=True, slots=True, eq=False)
class SkillCredit:
    """A seeker's credit per skill id (taxonomy.credit_vector), kept sparse.

    A push connection keeps its seeker's context for as long as the phone is
    connected, idle or not; the dense vector over every ESCO skill slot is
    ~57 KiB (14.5k float32) where a seeker earns credit on ~50-200 skills. So
    the context keeps the skills with credit (sorted ids) and their credit, and
    the scorer gathers from them (`at`). The values are the dense vector's own
    float32 numbers, so every score is the same, bit for bit.

    `n`: the slots of the taxonomy it was computed over; ids beyond it (a skill
    imported after this process loaded ESCO) earn nothing, as ids without credit."""

    ids: np.ndarray  # int32, sorted, unique: the skills with credit
    values: np.ndarray  # float32, aligned with ids (> 0)
    n: int

    @classmethod
    def from_dense(cls, credit: np.ndarray) -> SkillCredit:
        dense = np.asarray(credit, dtype=np.float32)
        ids = np.flatnonzero(dense)
        return cls(ids=ids.astype(np.int32), values=dense[ids], n=len(dense))

    def __len__(self) -> int:
        return self.n

    def dense(self) -> np.ndarray:
        """float32[n], built afresh on every call (never kept: that is the point)."""
        out = np.zeros(self.n, dtype=np.float32)
        out[self.ids] = self.values
        return out

    def at(self, skill_ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """float32 per id: the credit, 0 for ids without any (or outside [0, n))."""
        ids = np.asarray(skill_ids)
        if len(ids) >= _DENSE_GATHER and len(ids) * 4 >= self.n > 0:
            # Many entries (one seeker against thousands of rows): building the
            # dense vector once and indexing it is cheaper than a binary search each.
            known = (ids >= 0) & (ids < self.n)
            return np.where(known, self.dense()[np.where(known, ids, 0)], np.float32(0.0))
        return _sparse_gather(self.ids, self.values, ids)


# From this many ids on, `SkillCredit.at` gathers from a dense vector built for the call.
_DENSE_GATHER = 2048


def _sparse_gather(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[k] where keys[k] == q for each q of `query` (keys sorted), else 0."""
    if len(keys) == 0 or len(query) == 0:
        return np.zeros(len(query), dtype=np.float32)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[pos] == query, values[pos], np.float32(0.0))


@dataclass(frozen=True, slots=True)
class OccupationFit:
    """Per occupation id: the occupation part (NaN: nothing to compare), why, and
    the share of its ESCO profile the seeker covers. One per request."""

    part: np.ndarray  # float64[n_occupations]
    reason: np.ndarray  # int8, index into REASONS
    wished_by: np.ndarray  # int16 (int32 past 32k occupations): the wish behind the part, or -1
    cover: np.ndarray  # float64: profile coverage (essential + PROFILE_OPTIONAL optional)


@dataclass(eq=False, slots=True)
class SheddableFit:
    """A seeker's occupation fit that can be let go and computed again.

    The fit is ~57 KiB of arrays at full ESCO (four per occupation), and a push
    connection keeps its seeker's context as long as the phone is connected.
    An idle phone needs the fit only when a new vacancy near it is scored, so
    its session drops the arrays (`shed`) and keeps how to get them (`compute`,
    which holds the skills and wishes, not the arrays): the next use computes
    them again (~150 us at full ESCO), the same numbers."""

    compute: Callable[[], OccupationFit]
    fit: OccupationFit | None = None
    used: bool = True  # read since the last `shed(idle_only=True)`

    def get(self) -> OccupationFit:
        self.used = True
        if self.fit is None:
            self.fit = self.compute()
        return self.fit

    def shed(self, idle_only: bool = False) -> bool:
        """Let the arrays go; whether there were any. `idle_only`: only if they
        were not read since the last such call (a sweep keeps an active
        seeker's fit, and lets it go one sweep after its last use)."""
        if idle_only and self.used:
            self.used = False
            return False
        held, self.fit = self.fit is not None, None
        return held


def fit_of(ctx: SeekerContext) -> OccupationFit | None:
    """The seeker's occupation fit (computed again if it was shed), None without one."""
    occ = ctx.occupations
    return occ.get() if isinstance(occ, SheddableFit) else occ


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
    # An occupation id fits in 16 bits (ESCO has ~3k): a fit is kept per connection by push.
    wished_by = np.full(n, -1, dtype=np.int16 if n < 2**15 else np.int32)
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
        wished_by = np.where(wish >= skills, wished_by, -1).astype(wished_by.dtype, copy=False)
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
    credit: SkillCredit  # credit per skill id (taxonomy.credit_vector), sparse
    certificates: frozenset[str]
    work_profile: np.ndarray | None  # float32[profile.SIZE]
    radius_m: float
    job_types: frozenset[str] = frozenset()
    hours_min: float | None = None
    hours_max: float | None = None
    walk_in_interest: bool = True
    today: dt.date = field(default_factory=dt.date.today)
    lang: str = "en"  # the seeker's language: what the explanation's labels are in
    # The hard rules (matcher/matching/eligibility.py): do the school rules bind (under
    # 18, not known to be past 9th grade), and the subsidised job types the
    # person's consultant marked them eligible for.
    in_school: bool = True
    subsidy_types: frozenset[str] = frozenset()
    # The kinds of offer the person opted in to (matcher/offers.py); a hard rule.
    offer_kinds: frozenset[str] = frozenset({"job"})
    # The occupation part per occupation (occupation_fit), None without a taxonomy;
    # read it with `fit_of` (a sheddable fit is computed again when it was let go).
    occupations: OccupationFit | SheddableFit | None = None


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


def concat(batches: Sequence[CandidateBatch]) -> CandidateBatch:
    """The batches' rows as one batch, in order (a batch of changed vacancies is
    scored for every connection in one call)."""
    if len(batches) == 1:
        return batches[0]

    def offsets(name: str) -> np.ndarray:
        parts, base = [np.zeros(1, dtype=np.int64)], 0
        for b in batches:
            o = getattr(b, name)
            parts.append(o[1:] - o[0] + base)
            base += int(o[-1] - o[0])
        return np.concatenate(parts)

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(b, name) for b in batches])

    e = batches[0].eligibility
    rules = {f.name: np.concatenate([getattr(b.eligibility, f.name) for b in batches])
             for f in fields(e)}  # fmt: skip
    occupations = [b.occupation_ids for b in batches]
    return CandidateBatch(
        ids=[i for b in batches for i in b.ids],
        distance_m=cat("distance_m"),
        req_ids=np.concatenate([b.req_ids[b.req_offsets[0] : b.req_offsets[-1]] for b in batches]),
        req_weights=np.concatenate(
            [b.req_weights[b.req_offsets[0] : b.req_offsets[-1]] for b in batches]
        ),
        req_offsets=offsets("req_offsets"),
        opt_ids=np.concatenate([b.opt_ids[b.opt_offsets[0] : b.opt_offsets[-1]] for b in batches]),
        opt_offsets=offsets("opt_offsets"),
        profiles=cat("profiles"),
        eligibility=type(e)(**rules),
        job_types=cat("job_types"),
        hours_per_week=cat("hours_per_week"),
        start_in_days=cat("start_in_days"),
        walk_in=cat("walk_in"),
        occupation_ids=None if any(o is None for o in occupations) else np.concatenate(occupations),  # type: ignore[arg-type]
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
    """Total score and each part, aligned with the batch rows (one seeker), with the
    seekers (`column` of a grid), or seekers x rows (`score` given a sequence).

    `static`: the total without its distance part, which changes as one walks;
    `with_distance` adds it for a point. Without a position the distance part is
    NaN (unknown) and `total` counts it as neutral.

    `fits`: the hours are within the seeker's wished range and the job type is
    one they chose (or they chose none); `weak`: the vacancy lists required
    skills and the seeker earns no credit for any of them. Neither is part of
    the total: matching.rank orders and filters by them."""

    total: np.ndarray
    parts: dict[str, np.ndarray]
    fits: np.ndarray
    weak: np.ndarray
    static: np.ndarray | None = None  # None: summed from `parts` when asked

    def take(self, rows: np.ndarray | int) -> Scores:
        """These rows (of a grid: these seekers)."""
        return Scores(
            total=self.total[rows],
            parts={p: v[rows] for p, v in self.parts.items()},
            fits=self.fits[rows],
            weak=self.weak[rows],
            static=None if self.static is None else self.static[rows],
        )

    def column(self, j: int) -> Scores:
        """Vacancy j of a seekers x vacancies grid: one score per seeker."""
        return Scores(
            total=self.total[:, j],
            parts={p: v[:, j] for p, v in self.parts.items()},
            fits=self.fits[:, j],
            weak=self.weak[:, j],
            static=None if self.static is None else self.static[:, j],
        )


# --- How the parts combine: nothing outside this module knows -------------------
# The distance part comes last in PARTS, so the total is the static sum plus the
# distance term in exactly the order of PARTS: `with_distance(static, d, r)` is
# the same number, bit for bit, as scoring afresh at distance d.
_STATIC_PARTS: tuple[str, ...] = PARTS[:-1]
assert PARTS[-1] == "distance"
_W_DISTANCE = WEIGHTS["distance"]


def weights() -> dict[str, float]:
    """The weight of each part, for showing them (the explanation); a copy."""
    return dict(WEIGHTS)


def _static_sum(parts: Mapping[str, np.ndarray]) -> np.ndarray:
    return sum(WEIGHTS[p] * parts[p] for p in _STATIC_PARTS)  # type: ignore[return-value]


def distance_part(distance_m: np.ndarray | float, radius_m: np.ndarray | float) -> np.ndarray:
    """The distance part: 1 at the door, 0 at the radius and beyond."""
    return np.clip(1.0 - distance_m / np.maximum(radius_m, 1.0), 0.0, 1.0)  # type: ignore[no-any-return]


def _total(static: np.ndarray | float, distance: np.ndarray | float) -> np.ndarray:
    """The total from the static sum and the distance part: the one place they meet."""
    return np.clip(static + _W_DISTANCE * distance, 0.0, 1.0)  # type: ignore[no-any-return]


def with_distance(
    static: np.ndarray | float,
    distance_m: np.ndarray | float | None,
    radius_m: np.ndarray | float = 1.0,
) -> np.ndarray:
    """The total at a distance, from the static total (`Scores.static`).
    `distance_m` None: no position, so the distance part counts as neutral."""
    return _total(static, NEUTRAL if distance_m is None else distance_part(distance_m, radius_m))


def best_with_distance(static: np.ndarray | float) -> np.ndarray:
    """The most a candidate can score anywhere: its total at the door."""
    return with_distance(static, 0.0)


def static_total(scores: Scores) -> np.ndarray:
    """The score without its distance part: what does not change as one walks."""
    return scores.static if scores.static is not None else _static_sum(scores.parts)


def combine(parts: Mapping[str, np.ndarray]) -> np.ndarray:
    """The total from given parts (aligned arrays); an unknown (NaN) part counts as
    neutral, as in `score`. The learned ranker's hand-set baseline is this."""
    known = {p: np.where(np.isnan(parts[p]), NEUTRAL, parts[p]) for p in PARTS}
    return _total(_static_sum(known), known["distance"])


def skill_ceiling(scores: Scores, has_required: np.ndarray, has_optional: np.ndarray) -> np.ndarray:
    """The total if the seeker held every required and optional skill of each row
    (where it lists any): the most new skills could lift it (guidance)."""
    return (  # type: ignore[no-any-return]
        scores.total
        + WEIGHTS["required"] * (1.0 - scores.parts["required"]) * has_required
        + WEIGHTS["optional"] * (1.0 - scores.parts["optional"]) * has_optional
    )


def skill_entry_scales(
    req_weights: np.ndarray, req_sums: np.ndarray, opt_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What one unit of credit on a listed skill adds to the total: a required
    entry of weight w in a row of weight sum W (stand-in included), an optional
    entry in a row of n optional skills. The total is linear in the credits."""
    return (
        WEIGHTS["required"] * req_weights / np.maximum(req_sums, 1e-9),
        WEIGHTS["optional"] / np.maximum(opt_counts, 1.0),
    )


# --- The broadcasting scorer --------------------------------------------------


def score(
    seekers: SeekerContext | Sequence[SeekerContext],
    batch: CandidateBatch,
    distance_m: np.ndarray | None = None,
    *,
    positioned: bool = True,
) -> Scores:
    """Score seekers against the batch's vacancies, broadcasting like NumPy.

    One `SeekerContext`: arrays of one score per row. A sequence of seekers:
    arrays of seekers x rows (`Scores.column(0)` for a one-row batch: one score
    per seeker, the push fan-out of a new vacancy).

    `distance_m` broadcasts to the result (one seeker: per row; a grid: e.g.
    (seekers, 1) for one vacancy); None takes `batch.distance_m` for everyone.
    `positioned=False`: no position is known, so the distance part is NaN and
    counts as neutral in `total` (`with_distance` adds it later for a point).

    Cheap where one side is small: the per-seeker work is a few gathers of the
    batch's skill entries, the rest is array arithmetic over the whole grid
    (the work-profile part holds seekers x rows x dimensions at once)."""
    if isinstance(seekers, SeekerContext):
        return _grid([seekers], batch, distance_m, positioned).take(0)
    return _grid(list(seekers), batch, distance_m, positioned)


def score_batch(seeker: SeekerContext, batch: CandidateBatch) -> Scores:
    """One seeker against every row, at the batch's distances (`score`)."""
    return score(seeker, batch)


def score_for_seekers(
    seekers: Sequence[SeekerContext], batch: CandidateBatch, distance_m: np.ndarray
) -> Scores:
    """One vacancy (the batch's only row) against many seekers, each at their
    distance: row i of the result is seeker i (`score`)."""
    d = np.asarray(distance_m, dtype=np.float64).reshape(-1, 1)
    return score(seekers, batch, d).column(0)


def _grid(
    seekers: list[SeekerContext],
    batch: CandidateBatch,
    distance_m: np.ndarray | None,
    positioned: bool,
) -> Scores:
    """seekers x rows. Every operation is the one-seeker operation broadcast over
    seekers, in the same order, so one seeker's row equals scoring it alone."""
    n_s, n_v = len(seekers), len(batch)
    if n_s == 0 or n_v == 0:
        return _empty((n_s, n_v))

    req_seg, opt_seg = _segment_ids(batch.req_offsets), _segment_ids(batch.opt_offsets)
    # One gather per seeker for both skill columns (push scores thousands of seekers).
    got = _credits([s.credit for s in seekers], np.concatenate([batch.req_ids, batch.opt_ids]))
    n_req = len(batch.req_ids)
    covered, total_w = _coverage(got[:, :n_req], batch.req_weights, req_seg, n_v)
    weak = _weak(covered, total_w)
    occupation, cover = _occupation_grid(seekers, batch.occupation_ids, n_v)
    required = _required_part(covered, total_w, batch.req_offsets, cover)

    opt_cov, opt_n = _coverage(got[:, n_req:], None, opt_seg, n_v)
    optional = _optional_part(opt_cov, opt_n)

    fit = _profile_grid([s.work_profile for s in seekers], batch.profiles)
    practical, fits = _practical(seekers, batch)
    if positioned:
        d = batch.distance_m if distance_m is None else np.asarray(distance_m, dtype=np.float64)
        radii = np.array([[s.radius_m] for s in seekers], dtype=np.float64)
        distance = distance_part(d, radii)
        if distance.shape != (n_s, n_v):  # one distance for all: an array of its own
            distance = np.broadcast_to(distance, (n_s, n_v)).copy()
    else:
        distance = np.full((n_s, n_v), np.nan)
    parts = {
        "required": required,
        "optional": optional,
        "occupation": occupation,
        "profile": fit,
        "practical": practical,
        "distance": distance,
    }
    static = _static_sum(parts)
    # Without a position the distance part is unknown and counts as neutral.
    total = _total(static, distance if positioned else NEUTRAL)
    return Scores(total=total, parts=parts, fits=fits, weak=weak, static=static)


def _segment_ids(offsets: np.ndarray) -> np.ndarray:
    """The row of every entry of a flattened column."""
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _empty(shape: tuple[int, int]) -> Scores:
    empty = np.zeros(shape)
    none = np.zeros(shape, dtype=bool)
    return Scores(total=empty, parts={p: empty for p in PARTS}, fits=none, weak=none, static=empty)


def _credits(credits: list[SkillCredit], ids: np.ndarray) -> np.ndarray:
    """float32[seekers, entries]: each seeker's credit for each skill entry.

    Many seekers (a new vacancy's fan-out over the phones near it) are looked up
    in one binary search over all their credited skills at once, keyed (seeker,
    skill), for the batch's distinct skills (sorted keys, sorted queries): the
    same values `SkillCredit.at` gives one by one."""
    n_s = len(credits)
    if n_s == 0 or len(ids) == 0:
        return np.zeros((n_s, len(ids)), dtype=np.float32)
    if n_s == 1:
        return credits[0].at(ids)[None, :]
    skills, back = np.unique(ids.astype(np.int64), return_inverse=True)
    sizes = np.fromiter((len(c.ids) for c in credits), dtype=np.int64, count=n_s)
    who = np.arange(n_s, dtype=np.int64) << 32
    keys = np.concatenate([c.ids for c in credits]).astype(np.int64) + np.repeat(who, sizes)
    values = np.concatenate([c.values for c in credits])
    # A negative id (none in a sound batch) can match no stored skill: ids are < 2**31.
    skills = np.where(skills >= 0, skills, 2**32 - 1)
    query = (who[:, None] + skills[None, :]).ravel()
    got = _sparse_gather(keys, values, query).reshape(n_s, len(skills))
    return got[:, back.reshape(-1)]


def _coverage(
    got: np.ndarray, weights: np.ndarray | None, seg: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per seeker and row, the weighted credit sum over a flattened skill column
    (`got`: seekers x entries), and per row the weight sum. One bincount over the
    grid adds each cell's entries in entry order, as a one-seeker bincount would."""
    n_s = len(got)
    w = weights if weights is not None else np.ones(got.shape[1], dtype=np.float32)
    cells = seg if n_s == 1 else (seg[None, :] + n * np.arange(n_s)[:, None]).ravel()
    covered = np.bincount(cells, weights=(got * w).ravel(), minlength=n_s * n)
    total = np.bincount(seg, weights=w, minlength=n)
    return covered.reshape(n_s, n), total


def _by_length(
    arrays: Sequence[np.ndarray | None], ids: np.ndarray
) -> list[tuple[list[int], np.ndarray | None, np.ndarray]]:
    """Seekers grouped by the length of a per-seeker lookup array (one taxonomy:
    one group): (their indices, which of `ids` it covers (None: all), `ids` safe
    to index it with). A group gathers with one index array per seeker."""
    groups: dict[int, list[int]] = {}
    for i, a in enumerate(arrays):
        if a is not None:
            groups.setdefault(len(a), []).append(i)
    out: list[tuple[list[int], np.ndarray | None, np.ndarray]] = []
    for length, members in groups.items():
        known = (ids >= 0) & (ids < length)
        if known.all():
            out.append((members, None, ids))
        else:
            out.append((members, known, np.where(known, ids, 0)))
    return out


def _occupation_grid(
    seekers: list[SeekerContext], ids: np.ndarray | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(occupation part, profile coverage), seekers x rows: neutral / NaN where
    either side has nothing to compare (as `_occupation_columns`)."""
    part, cover = np.full((len(seekers), n), NEUTRAL), np.full((len(seekers), n), np.nan)
    if ids is None or n == 0 or not (ids >= 0).any():
        # No occupation to look up: no fit is read (nor computed again, if shed).
        return part, cover
    fits = [fit_of(s) for s in seekers]
    for members, known, safe in _by_length([f.part if f is not None else None for f in fits], ids):
        p = np.stack([fits[i].part[safe] for i in members])  # type: ignore[union-attr]
        c = np.stack([fits[i].cover[safe] for i in members])  # type: ignore[union-attr]
        p = np.where(np.isnan(p), NEUTRAL, p)
        if known is not None:
            p, c = np.where(known, p, NEUTRAL), np.where(known, c, np.nan)
        if len(members) == len(seekers):
            part, cover = p, c
        else:
            part[members], cover[members] = p, c
    return part, cover


def standin_weights(batch: CandidateBatch, cover: np.ndarray) -> np.ndarray:
    """Per row, the weight the occupation's profile has in the required part (0
    without an occupation or a profile), beside the listed skills' weights."""
    return _standin(batch.req_offsets, cover)


def _standin(req_offsets: np.ndarray, cover: np.ndarray) -> np.ndarray:
    standin = STANDIN_WEIGHT * np.maximum(STANDIN_SLOTS - np.diff(req_offsets), 0)
    return np.where(np.isnan(cover), 0.0, standin)  # type: ignore[no-any-return]


def _weak(covered: np.ndarray, total_w: np.ndarray) -> np.ndarray:
    """Lists required skills, and the seeker earns no credit for any of them."""
    return (total_w > 0) & (covered <= 0)  # type: ignore[no-any-return]


def _required_part(
    covered: np.ndarray, total_w: np.ndarray, req_offsets: np.ndarray, cover: np.ndarray
) -> np.ndarray:
    """The required part from the listed skills' credit and weight sums and the
    occupation profile's coverage, its stand-in."""
    standin = _standin(req_offsets, cover)
    covered = covered + standin * np.nan_to_num(cover)
    total_w = total_w + standin
    return np.where(total_w > 0, covered / np.maximum(total_w, 1e-9), 1.0)  # type: ignore[no-any-return]


def _optional_part(covered: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """The optional part: the share of the listed optional skills covered
    (neutral when none are listed)."""
    return np.where(listed > 0, covered / np.maximum(listed, 1.0), NEUTRAL)  # type: ignore[no-any-return]


def profile_cover(seeker: SeekerContext, batch: CandidateBatch) -> np.ndarray:
    """Per row, how much of the vacancy's occupation profile the seeker covers (NaN: none)."""
    return _occupation_columns(fit_of(seeker), batch.occupation_ids, len(batch))[1]


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
    return _profile_grid([seeker], profiles)[0]


def _profile_grid(seekers: list[np.ndarray | None], profiles: np.ndarray) -> np.ndarray:
    """`profile_fit`, seekers x rows; seekers without a profile are neutral."""
    out = np.full((len(seekers), len(profiles)), NEUTRAL)
    having = [i for i, s in enumerate(seekers) if s is not None]
    if not having:
        return out
    a = profiles.astype(np.float64)[None, :, :] - 0.5
    b = np.stack([seekers[i] for i in having]).astype(np.float64)[:, None, :] - 0.5  # type: ignore[misc]
    with np.errstate(invalid="ignore"):
        both = (np.abs(a) >= PROFILE_MIN_LEAN) & (np.abs(b) >= PROFILE_MIN_LEAN)
    lean = np.where(both, 4.0 * np.nan_to_num(a) * b, 0.0).sum(axis=2)
    agreement = lean / np.maximum(both.sum(axis=2), PROFILE_MIN_ANSWERS)
    missing = np.isnan(profiles).any(axis=1)
    fit = np.where(missing[None, :], NEUTRAL, 0.5 + 0.5 * agreement)
    if len(having) == len(seekers):
        return fit  # type: ignore[no-any-return]
    out[having] = fit
    return out


def _practical(
    seekers: list[SeekerContext], batch: CandidateBatch
) -> tuple[np.ndarray, np.ndarray]:
    """(practical part, fits the seeker's wished hours and job types), seekers x rows."""
    n_s, n_v = len(seekers), len(batch)
    wished = np.ones((n_s, n_v), dtype=bool)
    if any(s.job_types for s in seekers):
        # An offer without a job type (leisure, volunteering) is never outside the wish.
        untyped = np.fromiter((not t for t in batch.job_types), dtype=bool, count=n_v)
        by_wish: dict[frozenset[str], np.ndarray] = {}
        for i, s in enumerate(seekers):
            if not s.job_types:
                continue
            if s.job_types not in by_wish:
                by_wish[s.job_types] = np.isin(batch.job_types, list(s.job_types)) | untyped
            wished[i] = by_wish[s.job_types]
    return _practical_parts(seekers, batch.hours_per_week, batch.start_in_days, wished)


def _practical_parts(
    seekers: list[SeekerContext], hours_per_week: np.ndarray, start_in_days: np.ndarray,
    wished: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """`_practical` from the columns and whether each row's job type is wished
    (seekers x rows; all True for a seeker who wished for none)."""
    h = hours_per_week.astype(np.float64)
    lo = np.array([[s.hours_min if s.hours_min is not None else 0.0] for s in seekers])
    hi = np.array([[s.hours_max if s.hours_max is not None else 80.0] for s in seekers])
    outside = np.maximum(lo - h, 0.0) + np.maximum(h - hi, 0.0)
    # An offer without hours or job type (leisure, volunteering) loses nothing for them.
    hours = np.nan_to_num(np.clip(1.0 - outside / HOURS_TOLERANCE, 0.0, 1.0), nan=1.0)
    job_type = np.where(wished, 1.0, UNWISHED_JOB_TYPE)

    days = np.nan_to_num(start_in_days.astype(np.float64), nan=0.0)
    late = np.clip((days - START_SOON_DAYS) / (START_FAR_DAYS - START_SOON_DAYS), 0.0, 1.0)
    start = 1.0 - 0.5 * late

    # No hours (NaN: a leisure or volunteering offer) is within any wished range.
    return (hours + job_type + start) / 3.0, (np.nan_to_num(outside, nan=0.0) <= 0) & wished


# --- A bound before the skills: pruning a dense circle ------------------------


@dataclass(frozen=True, slots=True)
class Outline:
    """The cheap columns of many candidates: what `ceiling` bounds their scores
    from (a dense circle holds tens of thousands; the replica gathers these few
    columns for them, and the rest only for the rows that can matter)."""

    distance_m: np.ndarray  # float64
    req_ids: np.ndarray  # int32, flattened as in CandidateBatch
    req_weights: np.ndarray  # float32
    req_offsets: np.ndarray  # int64, len n+1
    opt_ids: np.ndarray  # int32, flattened as in CandidateBatch
    opt_offsets: np.ndarray  # int64, len n+1
    occupation_ids: np.ndarray | None
    hours_per_week: np.ndarray  # float32, NaN: none
    start_in_days: np.ndarray  # float32, NaN: none
    job_type_codes: np.ndarray  # int, an index into job_type_names
    job_type_names: Sequence[str]  # "" for an offer without a job type
    profiles: np.ndarray  # float32[n, profile.SIZE]

    def __len__(self) -> int:
        return len(self.distance_m)


def weak_rows(
    seeker: SeekerContext, req_ids: np.ndarray, req_weights: np.ndarray, req_offsets: np.ndarray
) -> np.ndarray:
    """`Scores.weak` for rows given only their required skills (flattened):
    the cheapest way to set aside the many rows a seeker has no skill for."""
    # `_weak` without summing: weights are positive (a row with another is a
    # poison row, geo.sound_rows) and credits are not negative, so a row's
    # credit sum is positive exactly when one of its entries earns credit.
    earns = (_credits([seeker.credit], req_ids)[0] * req_weights) > 0
    counts = np.zeros(len(earns) + 1, dtype=np.int64)
    np.cumsum(earns, out=counts[1:])
    listed = req_offsets[1:] > req_offsets[:-1]
    return listed & (counts[req_offsets[1:]] == counts[req_offsets[:-1]])  # type: ignore[no-any-return]


def head_earns(seeker: SeekerContext, head: np.ndarray, id_bound: int) -> np.ndarray:
    """Per row of a (rows x k) block of required skill ids padded with -1, all
    below `id_bound`: whether one of them earns credit. For a row whose block
    holds all its required skills, `weak_rows` is "lists one and none earns"
    (the same test on a fixed-width block: one gather for a dense circle)."""
    credit = seeker.credit
    # One slot per id, and a last one (False) that the padding -1 reads.
    table = np.zeros(max(id_bound, credit.n) + 1, dtype=bool)
    table[credit.ids[credit.values > 0]] = True
    got = np.take(table, head)  # np.take: several times faster than table[head] here
    if got.shape[1] == 8:  # a row's 8 flags are one 8-byte word: nonzero when one is set
        return got.view(np.uint64)[:, 0] != 0  # type: ignore[no-any-return]
    return np.asarray(got.any(axis=1))


# Added to every ceiling, so a rounding difference in the last bit can never put
# a row's ceiling under its score.
_CEILING_SLACK = 1e-9


def ceiling(seeker: SeekerContext, outline: Outline) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the most it can score for this seeker (never below `score`'s
    total at the same distance), and whether it fits the seeker's wished hours
    and job types (`Scores.fits`, exactly).

    Every part is computed as `score` computes it, so the ceiling is the
    total itself plus a hair (`_CEILING_SLACK`): a pruning round that scores
    the rows with the highest ceilings has scored the rows that can win. What
    it leaves to `score` is the rest of a candidate (eligibility, explanation)."""
    n = len(outline)
    got = _credits([seeker.credit], np.concatenate([outline.req_ids, outline.opt_ids]))
    n_req = len(outline.req_ids)
    covered, total_w = _coverage(
        got[:, :n_req], outline.req_weights, _segment_ids(outline.req_offsets), n
    )
    occupation, cover = _occupation_grid([seeker], outline.occupation_ids, n)
    required = _required_part(covered, total_w, outline.req_offsets, cover)
    opt_cov, opt_n = _coverage(got[:, n_req:], None, _segment_ids(outline.opt_offsets), n)
    optional = _optional_part(opt_cov, opt_n)
    fit = _profile_grid([seeker.work_profile], outline.profiles)
    if seeker.job_types:
        ok = [c for c, name in enumerate(outline.job_type_names)
              if not name or name in seeker.job_types]  # fmt: skip
        wished = np.isin(outline.job_type_codes, ok)[None, :]
    else:
        wished = np.ones((1, n), dtype=bool)
    practical, fits = _practical_parts(
        [seeker], outline.hours_per_week, outline.start_in_days, wished
    )
    parts = {"required": required, "optional": optional, "occupation": occupation,
             "profile": fit, "practical": practical}  # fmt: skip
    distance = distance_part(outline.distance_m, seeker.radius_m)
    return (_total(_static_sum(parts), distance) + _CEILING_SLACK)[0], fits[0]


def parts_for_row(scores: Scores, row: int) -> dict[str, float]:
    return {p: round(float(scores.parts[p][row]), 4) for p in PARTS}


# --- Features: the vector the feedback log stores and the learned ranker reads ---

# In this order (docs/matching.md, "Feedback features"). Append only: stored
# rows (match_events.features) keep their meaning by position.
FEATURE_NAMES: tuple[str, ...] = (
    "part_required",  # the scoring parts, as in the explanation
    "part_optional",
    "part_profile",
    "part_practical",
    "part_distance",
    "distance_km",
    "n_required",  # required skills on the vacancy
    "n_matched_required",  # of which the seeker earns any credit for
    "n_optional",
    "n_matched_optional",
    "walk_in",  # 1 if the vacancy welcomes walk-ins
    "hours_per_week",
    "starts_in_days",  # 0 when no start date (scoring treats it as "now")
    "eligible",  # 1 if the hard rules allow it (always 1 for pushed)
    "part_occupation",  # the occupation part (scorer hand-v2; NaN in older rows)
)


def features_from_match(
    explanation: Mapping[str, Any], distance_m: float | None, eligible: bool
) -> list[float]:
    """The feature vector of a match, read off the matcher's explanation (what a
    REST match and a push frame both carry), so training data and serving agree
    by construction.

    Missing pieces are NaN, so a partial explanation (an old payload) still
    gives a vector of the right length; so is a part without a value (the
    distance part without a position)."""
    parts = explanation.get("parts") or {}
    req = explanation.get("required_skills") or {}
    opt = explanation.get("optional_skills") or {}
    practical = explanation.get("practical") or {}
    n_req_matched, n_opt_matched = len(req.get("matched", ())), len(opt.get("matched", ()))
    starts = practical.get("starts_in_days")
    values: dict[str, float] = {
        **{f"part_{p}": _num(parts.get(p)) for p in PARTS},
        "distance_km": _num(distance_m) / 1000.0,
        "n_required": float(n_req_matched + len(req.get("missing", ()))),
        "n_matched_required": float(n_req_matched),
        "n_optional": float(n_opt_matched + len(opt.get("missing", ()))),
        "n_matched_optional": float(n_opt_matched),
        "walk_in": _num(explanation.get("walk_in")),
        "hours_per_week": _num(practical.get("hours_per_week")),
        "starts_in_days": 0.0 if starts is None else _num(starts),
        "eligible": 1.0 if eligible else 0.0,
    }
    return [values[n] for n in FEATURE_NAMES]


def _num(value: Any) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)


def part_columns(feature_names: Sequence[str] = FEATURE_NAMES) -> dict[str, int]:
    """Where each part sits in feature vectors of these names (ValueError if one
    is missing)."""
    names = list(feature_names)
    return {p: names.index(f"part_{p}") for p in PARTS}


def hand_set_scores(features: np.ndarray, columns: Mapping[str, int] | None = None) -> np.ndarray:
    """The hand-set total over rows of feature vectors (`combine` of their part
    columns, `part_columns`): the learned ranker's baseline and its fallback."""
    x = np.asarray(features, dtype=np.float64)
    return combine({p: x[:, c] for p, c in (columns or part_columns()).items()})
