"""Ranking tasks derived from ESCO: data nobody on this project wrote.

ESCO says which skills each occupation needs (occupation_skill_relations,
essential and optional) and files occupations under ISCO-08 unit groups. From
that alone we build ranking queries:

* a **seeker** who fits a target occupation holds part of its skills (half of the
  essential ones and one optional one), some of them substituted by a related or
  narrower ESCO skill, plus two skills of a random other occupation
  (ml/esco_data.py, `held_skills`);
* a **pool** of 100 synthetic vacancies: one of the target occupation (relevance
  2), up to 5 of other occupations in its ISCO unit group (relevance 1), up to 30
  of the same ISCO sub-major group but another unit group (relevance 0: similar,
  the hard cases), and random occupations to fill up (relevance 0, or 1 if one
  happens to share the unit group). A vacancy requires a sample of up to 8 of its
  occupation's essential skills and lists up to 4 optional ones;
* the matcher scores the pool exactly as in service (`matching.score`, feature
  vectors by `matcher.matching.ranking.feature_matrix`); the work profile is unknown and
  hours and job type fit every vacancy alike, so only skills and distance differ.

Two variants: every vacancy at the same distance (a pure skills task), and
distances spread uniformly over the seeker's radius (the relevance labels ignore
distance, so the distance part is noise for this task, as it would be for a
person who does not care how far they go).

Scorers compared on the same pools: the hand-set scorer, a learned ranker, and a
Jaccard baseline (|held ∩ listed| / |held ∪ listed| over the vacancy's required
and optional skills, no taxonomy, no distance).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.matching import matches as matching
from matcher.matching.ranking import HandSetRanker, Ranker, feature_matrix
from ml.esco_data import Esco, Occupation, batch_of, held_skills, seeker_for, vacancy_for
from ml.metrics import ranking_metrics

VARIANTS: tuple[str, ...] = ("same_distance", "spread_distance")
RADIUS_M = 5000.0


@dataclass(slots=True)
class TaskSet:
    variant: str
    X: np.ndarray  # features, FEATURE_NAMES order
    grades: np.ndarray  # 2 same occupation, 1 same ISCO unit group, 0 other
    groups: np.ndarray  # query (task) index
    jaccard: np.ndarray
    n_tasks: int
    substituted: float  # mean share of a seeker's listed occupation skills substituted


def build_tasks(
    esco: Esco,
    n_tasks: int = 500,
    variant: str = "same_distance",
    pool: int = 100,
    same_group: int = 5,
    hard_negatives: int = 30,
    seed: int = 0,
) -> TaskSet:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    rng = np.random.default_rng(seed)
    by_group: dict[str, list[Occupation]] = defaultdict(list)
    by_major: dict[str, list[Occupation]] = defaultdict(list)
    for occ in esco.occupations:
        by_group[occ.isco].append(occ)
        by_major[occ.isco[:2]].append(occ)
    # Targets from unit groups with at least two occupations, so relevance 1 exists.
    targets = [o for o in esco.occupations if len(by_group[o.isco]) > 1]
    chosen = rng.choice(len(targets), size=min(n_tasks, len(targets)), replace=False)
    xs, grades, groups, jac, subs = [], [], [], [], []
    for q, t in enumerate(chosen.tolist()):
        target = targets[t]
        held, swapped = held_skills(rng, esco, target)
        mates = [o for o in by_group[target.isco] if o.id != target.id]
        similar = [o for o in by_major[target.isco[:2]] if o.isco != target.isco]
        picked = [target]
        picked += [mates[i] for i in _some(rng, len(mates), same_group)]
        picked += [similar[i] for i in _some(rng, len(similar), hard_negatives)]
        while len(picked) < pool:
            picked.append(esco.occupations[int(rng.integers(len(esco.occupations)))])
        if variant == "same_distance":
            dist = np.full(len(picked), RADIUS_M * 0.3)
        else:
            dist = rng.uniform(0.0, RADIUS_M, size=len(picked))
        vacancies = [vacancy_for(rng, o, float(d)) for o, d in zip(picked, dist, strict=True)]
        scored = matching.score(seeker_for(esco, held, RADIUS_M), batch_of(vacancies))
        xs.append(feature_matrix(scored, np.arange(len(vacancies))))
        grades.append([2 if o.id == target.id else int(o.isco == target.isco) for o in picked])
        groups.append(np.full(len(picked), q))
        hs = set(held)
        jac.append([_jaccard(hs, set(v.required) | set(v.optional)) for v in vacancies])
        subs.append(swapped / max(1, len(held) - 2))
    return TaskSet(
        variant=variant,
        X=np.vstack(xs),
        grades=np.concatenate(grades).astype(np.int8),
        groups=np.concatenate(groups),
        jaccard=np.concatenate(jac),
        n_tasks=len(chosen),
        substituted=float(np.mean(subs)),
    )


def _some(rng: np.random.Generator, n: int, k: int) -> list[int]:
    return rng.choice(n, size=min(n, k), replace=False).tolist() if n else []


def _jaccard(a: set[int], b: set[int]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def evaluate_tasks(tasks: TaskSet, learned: Ranker | None) -> dict[str, dict[str, Any]]:
    """NDCG@10 (and P@5, AUC with relevance >= 1) of each scorer on the same pools."""
    scores: dict[str, np.ndarray] = {
        "hand_set": HandSetRanker().scores(tasks.X),
        "jaccard": tasks.jaccard,
    }
    if learned is not None:
        scores["learned"] = np.asarray(learned.scores(tasks.X), dtype=np.float64)
    out: dict[str, dict[str, Any]] = {}
    for name, s in scores.items():
        out[name] = ranking_metrics(tasks.grades, s, tasks.groups, relevant_grade=1).as_dict()
    return out
