"""Competence-guidance benchmark: p50/p99 of `GET /v1/jobseekers/me/guidance`'s work.

    python -m bench.guidance --keep                  # builds jotr_bench_guidance (~1 min)
    python -m bench.guidance --reuse --write-docs

Data: the nearby-match data set (bench/datagen.py: 100k vacancies spread like the
postcodes, ESCO, built by `bench.nearby_match.prepare_database` under its own name),
plus the sample course catalogue. Seekers: `datagen.make_seekers` (15-28, skills of
one real occupation, radius 5 km, threshold 0.5), placed around Aarhus: points
jittered around the postcodes within 8 km of Aarhus city hall. A second row puts
them within 3 km of Copenhagen city hall, where 5 km holds tens of thousands of
vacancies and the candidate cap (2,000) is always reached: the worst case.

Timed, in-process on the API's own engine (asyncpg pool, uvloop), a fresh session
per query as a request gets one: `matcher.competence.guidance.guidance_for`, the whole work of
the route (the nearby candidate query and scoring, the vectorised counterfactual,
cards for the examples, courses).

Baseline, in the same run: the naive way, which re-runs the full matcher
(`matching.score_nearby`: the geo query, hard rules and scoring) once per candidate
skill with that skill added, and counts what newly passes. It runs on fewer seekers
(it takes seconds each); its answers are compared with ours (same unlock count for
every skill).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import uvloop

from bench import datagen
from bench.docs_section import write_section
from bench.nearby_match import (
    DEFAULT_ADMIN,
    _libpq,
    _p,
    drop_database,
    machine,
    prepare_database,
)
from matcher.competence import guidance
from matcher.competence.courses import SAMPLE_CSV, load_courses
from matcher.db import make_engine, make_sessionmaker
from matcher.matching import matches as matching

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
DB_NAME = "jotr_bench_guidance"
THRESHOLD = 0.5
LIMIT = 5
WARMUP = 20
RADIUS_M = 5000.0
# (name, centre, how far from it the seekers are)
PLACES = [
    ("Aarhus, within 8 km of city hall", (56.1535, 10.2039), 8_000.0),
    ("Copenhagen centre (stress: candidate cap)", (55.6759, 12.5700), 3_000.0),
]


@dataclass
class Result:
    name: str
    total: list[float] = field(default_factory=list)
    nearby: list[float] = field(default_factory=list)  # score_nearby alone, ms
    counterfactual: list[float] = field(default_factory=list)  # skill_unlocks alone, ms
    candidates: list[int] = field(default_factory=list)
    tried: list[int] = field(default_factory=list)
    unlocking: list[int] = field(default_factory=list)  # skills that unlock >= 1
    baseline: list[float] = field(default_factory=list)
    agree: list[bool] = field(default_factory=list)


def points_near(
    rng: np.random.Generator, centre: tuple[float, float], within_m: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n points jittered around the postcode centroids within `within_m` of `centre`."""
    places = datagen.load_places()
    dy = (places.lat - centre[0]) * datagen.METRES_PER_DEGREE_LAT
    dx = (places.lon - centre[1]) * datagen.METRES_PER_DEGREE_LAT * np.cos(np.radians(centre[0]))
    near = np.hypot(dx, dy) <= within_m
    local = datagen.Places(lat=places.lat[near], lon=places.lon[near], source=places.source)
    return datagen.sample_points(rng, local, n, jitter_m=within_m / 8)


async def naive(
    session: Any, taxonomy: Any, seeker: Any, lat: float, lon: float, skills: np.ndarray
) -> dict[int, int]:
    """Unlocks per skill the plain way: the full matcher again, once per skill."""
    before = await matching.score_nearby(session, taxonomy, seeker, lat, lon, RADIUS_M)
    was = before.eligible & (before.scores.total >= THRESHOLD)
    ids_before = {vid: bool(w) for vid, w in zip(before.batch.ids, was, strict=True)}
    out = {}
    for s in skills.tolist():
        plus = dataclasses.replace(seeker, skill_ids=[*seeker.skill_ids, s])
        after = await matching.score_nearby(session, taxonomy, plus, lat, lon, RADIUS_M)
        now = after.eligible & (after.scores.total >= THRESHOLD)
        n = sum(1 for vid, ok in zip(after.batch.ids, now, strict=True)
                if ok and not ids_before.get(vid, False))  # fmt: skip
        if n:
            out[s] = n
    return out


async def measure_place(
    sessions: Any,
    taxonomy: Any,
    seekers: list[datagen.SyntheticSeeker],
    points: tuple[np.ndarray, np.ndarray],
    name: str,
    baseline_queries: int,
) -> Result:
    res = Result(name)
    lat, lon = points

    def where(i: int) -> tuple[datagen.SyntheticSeeker, float, float]:
        return seekers[i % len(seekers)], float(lat[i % len(lat)]), float(lon[i % len(lon)])

    # 1. End to end, as the route calls it (after a warm-up past the first five
    # custom plans of the candidate query's prepared statement).
    for i in range(-WARMUP, len(lat)):
        seeker, la, lo = where(i)
        async with sessions() as s:
            t0 = time.perf_counter()
            await guidance.guidance_for(
                s, taxonomy, seeker, THRESHOLD, la, lo, RADIUS_M, "da", LIMIT
            )
            if i >= 0:
                res.total.append((time.perf_counter() - t0) * 1000)

    # 2. The same points: the matcher's part and the counterfactual's part.
    for i in range(len(lat)):
        seeker, la, lo = where(i)
        async with sessions() as s:
            t0 = time.perf_counter()
            scored = await matching.score_nearby(s, taxonomy, seeker, la, lo, RADIUS_M)
            t1 = time.perf_counter()
            _, unlocks, tried = guidance.skill_unlocks(scored, taxonomy, THRESHOLD)
            t2 = time.perf_counter()
        res.nearby.append((t1 - t0) * 1000)
        res.counterfactual.append((t2 - t1) * 1000)
        res.candidates.append(len(scored.batch))
        res.tried.append(tried)
        res.unlocking.append(len(unlocks))

    # 3. Baseline: the full matcher once per candidate skill; and whether it agrees.
    for i in range(baseline_queries):
        seeker, la, lo = where(i)
        async with sessions() as s:
            scored = await matching.score_nearby(s, taxonomy, seeker, la, lo, RADIUS_M)
            skills = guidance.candidate_skills(scored, THRESHOLD)
            ours = {u.skill_id: u.unlocks for u in guidance.skill_unlocks(scored, taxonomy,
                                                                         THRESHOLD)[1]}  # fmt: skip
            t0 = time.perf_counter()
            theirs = await naive(s, taxonomy, seeker, la, lo, skills)
            res.baseline.append((time.perf_counter() - t0) * 1000)
        res.agree.append(ours == theirs)
    return res


async def measure(
    url: str, queries: tuple[int, int], baseline_queries: tuple[int, int], seed: int
) -> list[Result]:
    from matcher.esco.taxonomy import Taxonomy

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s:
            taxonomy = await Taxonomy.load(s)
        with psycopg.connect(_libpq(url)) as conn:
            occupations = datagen.load_occupations(conn)
        seekers = datagen.make_seekers(200, seed + 3, occupations, radius_m=RADIUS_M)
        rng = np.random.default_rng(seed + 4)
        out = []
        for (name, centre, within), n, nb in zip(PLACES, queries, baseline_queries, strict=True):
            t = time.perf_counter()
            points = points_near(rng, centre, within, n)
            out.append(await measure_place(sessions, taxonomy, seekers, points, name, nb))
            print(f"  {name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
        return out
    finally:
        await engine.dispose()


def render(results: list[Result]) -> str:
    lines = [
        "| seekers | queries | candidates p50 (p99) | skills tried p50 (p99) "
        "| guidance p50 | **p99** | of which matcher p50 / p99 | counterfactual p50 / p99 "
        "| naive p50 | p99 | speed-up p50 | p99 | same answer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        t50, t99, b50, b99 = (
            _p(r.total, 50),
            _p(r.total, 99),
            _p(r.baseline, 50),
            _p(r.baseline, 99),
        )
        lines.append(
            f"| {r.name} | {len(r.total)} ({len(r.baseline)} naive) "
            f"| {_p(r.candidates, 50):,.0f} ({_p(r.candidates, 99):,.0f}) "
            f"| {_p(r.tried, 50):,.0f} ({_p(r.tried, 99):,.0f}) "
            f"| {t50:.1f} ms | **{t99:.1f} ms** "
            f"| {_p(r.nearby, 50):.1f} / {_p(r.nearby, 99):.1f} ms "
            f"| {_p(r.counterfactual, 50):.1f} / {_p(r.counterfactual, 99):.1f} ms "
            + (
                f"| {b50:,.0f} ms | {b99:,.0f} ms | {b50 / t50:,.0f}x | {b99 / t99:,.0f}x "
                if r.baseline
                else "| – | – | – | – "
            )
            + f"| {sum(r.agree)}/{len(r.agree)} |"
        )
    return "\n".join(lines)


def write_docs(section: str) -> None:
    write_section("guidance", "Competence guidance", section)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vacancies", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300, help="timed Aarhus queries")
    ap.add_argument("--stress-queries", type=int, default=100, help="timed Copenhagen queries")
    ap.add_argument("--baseline-queries", type=int, default=6, help="naive runs, Aarhus")
    ap.add_argument(
        "--stress-baseline-queries",
        type=int,
        default=1,
        help="naive runs, Copenhagen (~5 min each)",
    )
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--reuse", action="store_true", help=f"reuse {DB_NAME} if it holds this data")
    ap.add_argument("--keep", action="store_true", help=f"keep {DB_NAME} afterwards")
    ap.add_argument("--write-docs", action="store_true", help=f"update {DOCS.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", DEFAULT_ADMIN)

    started = time.perf_counter()
    data = prepare_database(admin, args.vacancies, args.seed, args.reuse, name=DB_NAME)
    load_courses(data.url, SAMPLE_CSV)  # an upsert: cheap on reuse
    setup = ", ".join(f"{k} {v:.1f} s" for k, v in data.seconds.items()) or "reused"
    print(f"dataset: {data.vacancies:,} vacancies ({setup})", file=sys.stderr)
    try:
        load = os.getloadavg()[0]
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(
                measure(data.url, (args.queries, args.stress_queries),
                        (args.baseline_queries, args.stress_baseline_queries), args.seed)
            )  # fmt: skip
        load_note = f"1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
        table = render(results)
        cmd = "python -m bench.guidance " + shlex.join(argv if argv is not None else sys.argv[1:])
        section = (
            f"Measured {dt.date.today().isoformat()} with `{cmd.strip()}`: "
            f"{data.vacancies:,} open vacancies, seekers from `datagen.make_seekers` (radius "
            f"{RADIUS_M / 1000:g} km, threshold {THRESHOLD}), top {LIMIT} skills, one query at a "
            f"time, candidate cap {matching.CANDIDATE_CAP:,}.\n"
            f"Machine: {machine(data.url)}; {load_note}.\n\n{table}"
        )
        print(section)
        if args.write_docs:
            write_docs(section)
    finally:
        if not args.keep:
            drop_database(admin, DB_NAME)
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
