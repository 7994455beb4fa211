"""Scorer benchmark: the broadcasting `score` against a per-seeker loop, in one run.

    python -m bench.scoring                       # sizes 100, 1000, 5000
    python -m bench.scoring --sizes 200,2000 --repeat 7

No database: ESCO (the bundled subset or `../shared/data/esco_en`, ml/esco_data.py)
gives seekers holding part of a real occupation's skills (with their occupation
fit, as in service) and vacancies listing a few of their occupation's skills, at
random distances within 5 km; a third of the seekers and vacancies carry a work
profile, a third of the seekers wished hours and job types.

Two shapes, each timed as the median of `--repeat` runs:

* **N seekers x 1 vacancy** (push: a new vacancy scored for every connected seeker
  near it). Broadcast: `score(seekers, one_row_batch, distances)`, one call.
  Baseline: `score(seeker, one_row_batch)` once per seeker.
* **1 seeker x N vacancies** (matches near a point). Broadcast:
  `score(seeker, batch)`, one call. Baseline: `score(seeker, one_row_batch)` once
  per vacancy, the per-pair loop.
* **N seekers x 20 vacancies** (a batch of vacancy changes scored for the
  connections near them). Broadcast: `score(seekers, batch, distances)`, one
  call. Baseline: `score(seeker, batch)` once per seeker.

Both sides are checked to give the same totals (bit for bit) before timing.
Prints a markdown table with the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from matcher import profile
from matcher.matching.scoring import CandidateBatch, SeekerContext, score
from ml.esco_data import Esco, batch_of, held_skills, load_esco, seeker_for, vacancy_for

RADIUS_M = 5000.0


def make_seekers(esco: Esco, rng: np.random.Generator, n: int) -> list[SeekerContext]:
    out = []
    for i in range(n):
        occ = esco.occupations[int(rng.integers(len(esco.occupations)))]
        held, _ = held_skills(rng, esco, occ)
        wp = rng.random(profile.SIZE).astype(np.float32) if i % 3 == 0 else None
        wishes = i % 3 == 1
        out.append(
            seeker_for(
                esco,
                held,
                float(rng.integers(1000, 8000)),
                work_profile=wp,
                job_types=frozenset({"fritidsjob"}) if wishes else frozenset(),
                hours=(5.0, 20.0) if wishes else (None, None),
            )
        )
    return out


def make_batch(esco: Esco, rng: np.random.Generator, n: int) -> CandidateBatch:
    picked = rng.integers(len(esco.occupations), size=n)
    vacancies = [
        vacancy_for(rng, esco.occupations[int(o)], float(rng.uniform(0, RADIUS_M))) for o in picked
    ]
    batch = batch_of(vacancies)
    with_profile = rng.random(n) < 1 / 3
    batch.profiles[with_profile] = rng.random((int(with_profile.sum()), profile.SIZE))
    return batch


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def seekers_x_one(esco: Esco, n: int, repeat: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    people = make_seekers(esco, rng, n)
    one = make_batch(esco, rng, 1)
    dist = rng.uniform(0, RADIUS_M, n)
    rows = [one.take(np.array([0])) for _ in range(n)]  # each seeker's own distance
    for r, d in zip(rows, dist, strict=True):
        r.distance_m = np.array([d])

    def broadcast() -> np.ndarray:
        return score(people, one, dist[:, None]).column(0).total

    def loop() -> np.ndarray:
        return np.array([score(s, r).total[0] for s, r in zip(people, rows, strict=True)])

    assert np.array_equal(broadcast(), loop())
    return _median_ms(broadcast, repeat), _median_ms(loop, repeat)


def one_x_vacancies(esco: Esco, n: int, repeat: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed + 1)
    me = make_seekers(esco, rng, 1)[0]
    batch = make_batch(esco, rng, n)
    rows = [batch.take(np.array([i])) for i in range(n)]

    def broadcast() -> np.ndarray:
        return score(me, batch).total

    def loop() -> np.ndarray:
        return np.array([score(me, r).total[0] for r in rows])

    assert np.array_equal(broadcast(), loop())
    return _median_ms(broadcast, repeat), _median_ms(loop, repeat)


def seekers_x_some(esco: Esco, n: int, repeat: int, seed: int, k: int = 20) -> tuple[float, float]:
    rng = np.random.default_rng(seed + 2)
    people = make_seekers(esco, rng, n)
    batch = make_batch(esco, rng, k)
    dist = rng.uniform(0, RADIUS_M, (n, k))
    own = []  # each seeker's rows at their own distances
    for i in range(n):
        b = batch.take(np.arange(k))
        b.distance_m = dist[i]
        own.append(b)

    def broadcast() -> np.ndarray:
        return score(people, batch, dist).total

    def loop() -> np.ndarray:
        return np.stack([score(s, b).total for s, b in zip(people, own, strict=True)])

    assert np.array_equal(broadcast(), loop())
    return _median_ms(broadcast, repeat), _median_ms(loop, repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    esco = load_esco()
    load_before = os.getloadavg()
    lines = [
        "| shape | N | broadcast ms | per-seeker/per-pair loop ms | loop / broadcast |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for n in sizes:
        for name, fn in (
            ("N seekers x 1 vacancy", seekers_x_one),
            ("1 seeker x N vacancies", one_x_vacancies),
            ("N seekers x 20 vacancies", seekers_x_some),
        ):
            b, loop = fn(esco, n, args.repeat, args.seed)
            lines.append(f"| {name} | {n:,} | {b:.2f} | {loop:.2f} | {loop / b:.0f}x |")
    load_after = os.getloadavg()
    print("\n".join(lines))
    print(
        f"\nmedian of {args.repeat} runs; load average before "
        f"{load_before[0]:.2f}, after {load_after[0]:.2f}"
    )


if __name__ == "__main__":
    main()
