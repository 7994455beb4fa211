"""The occupation ranking task (issue #12): does the score find a seeker's occupation?

Built from ESCO alone (ml/esco_data.py reads ESCO v1.2.0's CSVs; nothing here is
hand-written), with a fixed seed:

* a **seeker** of a target occupation holds a share of its essential skills (30-60 %),
  each replaced with probability 0.4 by a broader, narrower or related ESCO skill,
  plus one optional skill and 3 skills of a random other occupation (noise);
  `interests` is the target occupation when the variant has interests;
* **200 candidate vacancies** per seeker: 1 of the target occupation (relevance 2),
  up to 10 of other occupations of its ISCO-08 unit group (relevance 1), up to 40 of
  its ISCO sub-major group but another unit group (relevance 0, the hard cases), and
  random occupations to fill up (relevance 0, or 1 if one shares the unit group).
  Each lists only a few of its occupation's skills (1-3 essential as required, 0-2
  optional), as a small business's ad does, and carries its `occupation_uri`;
* every vacancy at the same distance, same hours and job type, no work profile: only
  skills and occupation differ.

Scorers on the same candidates: Jaccard overlap of the seeker's skills and the
vacancy's listed skills; the scorer before issue #12 (`hand-v1`: the five old parts
and weights, listed skills only); the current scorer without and with interests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from matcher.matching import scoring
from ml.esco_data import Esco, Occupation, SyntheticVacancy, batch_of, sample, seeker_for
from ml.metrics import ranking_metrics

POOL = 200
TARGET_VACANCIES = 1
SAME_GROUP = 10
HARD_NEGATIVES = 40
RADIUS_M = 5000.0
SUBSTITUTE = 0.4
NOISE = 3
# The scorer before this task (issue #12): five parts, listed skills only.
HAND_V1_WEIGHTS = {
    "required": 0.40,
    "optional": 0.10,
    "profile": 0.20,
    "practical": 0.15,
    "distance": 0.15,
}
SCORERS = ("jaccard", "hand_v1", "current_no_interests", "current_with_interests")


@dataclass(slots=True)
class Result:
    n_seekers: int
    pool: int
    ndcg10: dict[str, float]
    p5: dict[str, float]


def _substitutes(esco: Esco) -> dict[int, tuple[int, ...]]:
    """Broader, narrower or related skills of each skill (ESCO's own links)."""
    subs: dict[int, set[int]] = {k: set(v) for k, v in esco.substitutes.items()}
    tax = esco.taxonomy
    # esco.substitutes has related and narrower; add broader from the credit rows:
    # a skill earns 0.8 credit toward its direct broader skill (taxonomy.py).
    for s in list(subs):
        start, end = tax._indptr[s], tax._indptr[s + 1]
        cols, credit = tax._cols[start:end], tax._credit[start:end]
        subs[s].update(int(c) for c in cols[credit == np.float32(0.8)])
    return {k: tuple(sorted(v)) for k, v in subs.items()}


def _held(
    rng: np.random.Generator, esco: Esco, subs: dict[int, tuple[int, ...]], occ: Occupation
) -> list[int]:
    keep = rng.uniform(0.3, 0.6)
    base = sample(rng, occ.essential, max(2, round(keep * len(occ.essential))))
    base += sample(rng, occ.optional, 1)
    held = []
    for s in base:
        alt = subs.get(s, ())
        held.append(int(rng.choice(np.asarray(alt))) if alt and rng.random() < SUBSTITUTE else s)
    other = esco.occupations[int(rng.integers(len(esco.occupations)))]
    held += sample(rng, other.essential + other.optional, NOISE)
    return sorted(set(held))


def _vacancy(rng: np.random.Generator, occ: Occupation) -> SyntheticVacancy:
    req = sample(rng, occ.essential, int(rng.integers(1, 4)))
    opt = sample(rng, occ.optional, int(rng.integers(0, 3)))
    return SyntheticVacancy(occ, tuple(req), tuple(opt), RADIUS_M * 0.3)


def evaluate(esco: Esco, n_seekers: int = 500, seed: int = 12, pool: int = POOL) -> Result:
    rng = np.random.default_rng(seed)
    subs = _substitutes(esco)
    by_group: dict[str, list[Occupation]] = defaultdict(list)
    by_major: dict[str, list[Occupation]] = defaultdict(list)
    for o in esco.occupations:
        by_group[o.isco].append(o)
        by_major[o.isco[:2]].append(o)
    targets = [o for o in esco.occupations if len(by_group[o.isco]) > 1]
    chosen = rng.choice(len(targets), size=min(n_seekers, len(targets)), replace=False)
    scores: dict[str, list[np.ndarray]] = {k: [] for k in SCORERS}
    grades, groups = [], []
    for q, t in enumerate(chosen.tolist()):
        target = targets[t]
        held = _held(rng, esco, subs, target)
        mates = [o for o in by_group[target.isco] if o.id != target.id]
        similar = [o for o in by_major[target.isco[:2]] if o.isco != target.isco]
        picked = [target] * TARGET_VACANCIES
        picked += [mates[i] for i in _some(rng, len(mates), SAME_GROUP)]
        picked += [similar[i] for i in _some(rng, len(similar), HARD_NEGATIVES)]
        while len(picked) < pool:
            picked.append(esco.occupations[int(rng.integers(len(esco.occupations)))])
        vacancies = [_vacancy(rng, o) for o in picked]
        batch = batch_of(vacancies)
        hs = set(held)
        scores["jaccard"].append(
            np.array([_jaccard(hs, set(v.required) | set(v.optional)) for v in vacancies])
        )
        bare = seeker_for(esco, held, RADIUS_M)
        old = scoring.score_batch(_without_occupations(bare), _without_occupation_ids(batch))
        v1 = np.zeros(len(vacancies))
        for p, w in HAND_V1_WEIGHTS.items():
            v1 += w * old.parts[p]
        scores["hand_v1"].append(v1)
        scores["current_no_interests"].append(scoring.score_batch(bare, batch).total)
        wishing = seeker_for(esco, held, RADIUS_M, interests=[target.id])
        scores["current_with_interests"].append(scoring.score_batch(wishing, batch).total)
        grades.append([2 if o.id == target.id else int(o.isco == target.isco) for o in picked])
        groups.append(np.full(len(picked), q))
    g = np.concatenate(grades).astype(np.int8)
    grp = np.concatenate(groups)
    ndcg, p5 = {}, {}
    for name, s in scores.items():
        m = ranking_metrics(g, np.concatenate(s), grp, relevant_grade=1)
        ndcg[name], p5[name] = round(m.ndcg10, 3), round(m.as_dict()["p@5"], 3)
    return Result(n_seekers=len(chosen), pool=pool, ndcg10=ndcg, p5=p5)


def _without_occupations(ctx: scoring.SeekerContext) -> scoring.SeekerContext:
    import dataclasses

    return dataclasses.replace(ctx, occupations=None)


def _without_occupation_ids(batch: scoring.CandidateBatch) -> scoring.CandidateBatch:
    import dataclasses

    return dataclasses.replace(batch, occupation_ids=None)


def _some(rng: np.random.Generator, n: int, k: int) -> list[int]:
    return rng.choice(n, size=min(n, k), replace=False).tolist() if n else []


def _jaccard(a: set[int], b: set[int]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def render(r: Result) -> str:
    base = r.ndcg10["jaccard"]
    lines = [
        f"{r.n_seekers} seekers x {r.pool} candidate vacancies (seed fixed).",
        "",
        "| scorer | NDCG@10 | P@5 | x Jaccard |",
        "| --- | ---: | ---: | ---: |",
    ]
    names = {
        "jaccard": "Jaccard overlap of skill sets (baseline)",
        "hand_v1": "scorer before #12 (hand-v1)",
        "current_no_interests": "current scorer, no interests",
        "current_with_interests": "current scorer, interests = wished occupation",
    }
    for k in SCORERS:
        lines.append(
            f"| {names[k]} | {r.ndcg10[k]:.3f} | {r.p5[k]:.3f} | {r.ndcg10[k] / base:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    import argparse

    from ml.esco_data import load_esco

    ap = argparse.ArgumentParser(description="Occupation ranking task (issue #12)")
    ap.add_argument("--seekers", type=int, default=500)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    print(render(evaluate(load_esco(), args.seekers, args.seed)))


if __name__ == "__main__":
    main()
