"""SIMULATED feedback, for the offline evaluation and demos only. Not product code.

We have no real feedback yet. To exercise the whole pipeline (events -> labels ->
grouped CV -> artifact) on data of a realistic shape, this module invents
seekers, shows them matches the way the product would, and lets made-up people
react. It never writes to a database; `jotr ml train --simulated` marks its
artifact `"source": "simulated"` and `jotr ml promote` refuses such an artifact
unless told `--allow-simulated`.

What is simulated, and what follows from it:

* Seekers fit an ESCO occupation (part of its skills, some substituted, see
  ml/esco_data.py); each gets a random work profile (or none), wished job types
  and hours, and a radius of 3-8 km. Each sees 120 synthetic vacancies spread
  over their radius: some of their own occupation's unit group, some of its
  sub-major group, most random.
* The matcher scores them as in service; a seeker is *shown* the hand-set top 12
  plus 4 picked at random from ranks 13-60 (a little exploration, without which
  nothing outside the hand-set's taste could ever be learned).
* A made-up person's hidden utility is NOT the hand-set weighting: distance
  weighs almost as much as skills, the skill fit counts for more when the job is
  near (a product term), the work profile and practical fit more than the
  hand-set weights say, walk-in helps a little; plus logistic noise. Opens,
  saves, applications, hires, dismissals and occasional consultant verdicts
  follow from it.

So a learned ranker *can* beat the hand-set scorer on this data, by
construction: that the pipeline recovers a preference that differs from the
hand-set weights shows the machinery works; it says nothing about what real
young people in Aarhus want. Real feedback decides that (docs/ml.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from matcher import profile
from matcher.analytics.feedback import FEATURE_NAMES
from matcher.matching import matches as matching
from matcher.matching.ranking import feature_matrix
from matcher.models import JobType
from ml.dataset import PairEvents
from ml.esco_data import Esco, Occupation, SyntheticVacancy, batch_of, held_skills, seeker_for

JOB_TYPES: tuple[str, ...] = tuple(j.value for j in JobType)
HOURS: tuple[float, ...] = (5.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 37.0)
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Preferences:
    """The made-up people's hidden utility (a logit) over a match's features."""

    required: float = 3.0
    optional: float = 0.5
    profile: float = 1.5
    practical: float = 1.5
    distance: float = 2.5
    required_x_distance: float = 2.0
    walk_in: float = 0.4
    bias: float = -4.6

    def utility(self, X: np.ndarray) -> np.ndarray:
        col = {n: X[:, i] for i, n in enumerate(FEATURE_NAMES)}
        dist = np.nan_to_num(col["part_distance"], nan=0.5)
        req = col["part_required"]
        return (  # type: ignore[no-any-return]
            self.required * req
            + self.optional * col["part_optional"]
            + self.profile * col["part_profile"]
            + self.practical * col["part_practical"]
            + self.distance * dist
            + self.required_x_distance * req * dist
            + self.walk_in * col["walk_in"]
            + self.bias
        )


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _vacancies(
    rng: np.random.Generator, esco: Esco, target: Occupation, radius_m: float, n: int = 120
) -> list[SyntheticVacancy]:
    group = [o for o in esco.occupations if o.isco == target.isco]
    major = [o for o in esco.occupations if o.isco[:2] == target.isco[:2]]
    occs = [group[int(rng.integers(len(group)))] for _ in range(5)]
    occs += [major[int(rng.integers(len(major)))] for _ in range(15)]
    occs += [esco.occupations[int(rng.integers(len(esco.occupations)))] for _ in range(n - 20)]
    out = []
    for occ in occs:
        start = float(rng.uniform(0, 120)) if rng.random() < 0.5 else float("nan")
        out.append(SyntheticVacancy(
            occupation=occ,
            required=tuple(int(s) for s in rng.permutation(occ.essential)[:8]),
            optional=tuple(int(s) for s in rng.permutation(occ.optional)[:4]),
            # Uniform over the disc's area, not its radius: most places are far.
            distance_m=float(radius_m * np.sqrt(rng.random())),
            hours=float(rng.choice(HOURS)),
            job_type=str(rng.choice(JOB_TYPES)),
            start_in_days=start,
            walk_in=bool(rng.random() < 0.3),
            profile=rng.random(profile.SIZE).astype(np.float32) if rng.random() < 0.7 else None,
        ))  # fmt: skip
    return out


def simulate_feedback(
    esco: Esco,
    n_seekers: int = 400,
    seed: int = 0,
    preferences: Preferences | None = None,
    shown: int = 12,
    explore: int = 4,
) -> PairEvents:
    """Pairs with the kinds of their events and the features as pushed (see module doc)."""
    prefs = preferences or Preferences()
    rng = np.random.default_rng(seed)
    seekers, vacancies, kinds, feats, times = [], [], [], [], []
    n_events = 0
    for s in range(n_seekers):
        target = esco.occupations[int(rng.integers(len(esco.occupations)))]
        held, _ = held_skills(rng, esco, target)
        radius = float(rng.uniform(3000, 8000))
        wished = frozenset(str(j) for j in rng.choice(JOB_TYPES, size=2, replace=False))
        lo = float(rng.choice([5.0, 10.0, 15.0]))
        wp = rng.random(profile.SIZE).astype(np.float32) if rng.random() < 0.7 else None
        hours = (lo, lo + float(rng.choice([5.0, 10.0, 20.0])))
        ctx = seeker_for(esco, held, radius, work_profile=wp, job_types=wished, hours=hours)
        pool = _vacancies(rng, esco, target, radius)
        scored = matching.score(ctx, batch_of(pool))
        order = np.argsort(-scored.scores.total, kind="stable")
        extra = rng.choice(order[shown:60], size=explore, replace=False)
        rows = np.concatenate([order[:shown], extra])
        X = feature_matrix(scored, rows)
        u = prefs.utility(X) + rng.logistic(size=len(rows))
        day = START + dt.timedelta(days=float(rng.uniform(0, 90)))
        for i, row in enumerate(rows.tolist()):
            k = ["pushed"]
            opened = rng.random() < _sigmoid(u[i] + 1.5)
            if opened:
                k.append("opened")
                saved = rng.random() < _sigmoid(u[i])
                applied = rng.random() < _sigmoid(u[i] - 0.8)
                if saved:
                    k.append("saved")
                if applied:
                    k.append("applied")
                    if rng.random() < 0.35 * _sigmoid(u[i]):
                        k.append("hired")
                if not (saved or applied) and rng.random() < 0.4:
                    k.append("dismissed")
            elif rng.random() < 0.3:
                k.append("dismissed")
            if rng.random() < 0.08:  # a consultant looked at it
                k.append("verdict_good" if u[i] > 0 else "verdict_bad")
            seekers.append(f"sim-seeker-{s}")
            vacancies.append(f"sim-vacancy-{s}-{row}")
            kinds.append(tuple(k))
            feats.append(X[i].tolist())
            times.append(day + dt.timedelta(minutes=i))
            n_events += len(k)
    return PairEvents(seekers, vacancies, kinds, feats, times, n_events)
