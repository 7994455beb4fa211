"""The replica of open vacancies (matcher/matching/replica.py) against PostGIS, in one run.

    python -m bench.replica                       # on jotr_bench (100k): reused if it holds
                                                  # this data, else built and dropped after
    python -m bench.replica --keep --write-docs   # keep what it built; update the docs
    python -m bench.replica --vacancies 1000000 --db jotr_bench_1m --keep

Nearby matches, p50/p99 at each radius over the same points and seekers, the
three paths interleaved query by query (so a busy moment hits all three):

- (a) replica: `matching.find_matches(..., replica=...)`: candidates from memory,
  every one within the radius (no cap), those the seeker has no required skill for
  set aside, the rest scored in order of their ceiling until none left can enter
  the top 20 (`matches.best_in_circle`); "of which the circle" is the spatial part
  alone (`VacancyReplica.circle`: the rows within the radius, unordered);
- (b) the bare indexed PostGIS candidate query without a cap (CANDIDATES_SQL,
  LIMIT far above any count): one round trip, rows decoded by asyncpg, nothing
  else: what any SQL path pays before it has scored anything;
- (c) today's path: `find_matches` on SQL, capped at CANDIDATE_CAP.

Also: the load (seconds, and MiB by the process's RSS and by the arrays'
own count) per this many vacancies, and "a committed vacancy is matchable in
every worker": N worker processes each load a replica, listen on the bus as the
server does (push/bus.py PgBus, sync on every doorbell) and sync on the timer;
this process commits vacancies one at a time (a copy of an open one) and rings
the bus after each commit, as the API does. Time from the commit's return to
the end of the first sync in each worker that applied it (one clock: the
machine's). A second series commits without ringing (a lost NOTIFY): those are
found by the timer alone. Data: bench/datagen.py via bench/nearby_match.py, so a
`jotr_bench` that bench/nearby_match.py left (`--keep`, same --vacancies and --seed)
is reused as it is and not dropped afterwards; `--rebuild` builds it afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import os
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import uvloop
from sqlalchemy.engine import make_url

from bench import datagen
from bench.docs_section import write_section
from bench.nearby_match import DEFAULT_ADMIN, _libpq, drop_database, machine, prepare_database
from matcher.db import make_engine, make_sessionmaker, sync_url
from matcher.matching import matches as matching
from matcher.matching.geo import CANDIDATES_SQL, raw_connection
from matcher.matching.replica import VacancyReplica

LIMIT = 20
SEEKERS = 200
WARMUP = 20
UNCAPPED = 100_000_000
PROBE = "latency probe"  # the title of the vacancies `visibility` commits


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _p(x: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(x, dtype=np.float64), q)) if x else float("nan")


@dataclass
class Radius:
    radius_m: float
    replica: list[float] = field(default_factory=list)
    within: list[float] = field(default_factory=list)  # of which: the circle (spatial part)
    bare_sql: list[float] = field(default_factory=list)
    today: list[float] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)


async def measure(url: str, radii: list[float], queries: int, seed: int) -> dict[str, Any]:
    from matcher.esco.taxonomy import Taxonomy

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    out: dict[str, Any] = {}
    try:
        async with sessions() as s:
            taxonomy = await Taxonomy.load(s)
        with psycopg.connect(_libpq(url)) as conn:
            occupations = datagen.load_occupations(conn)
        seekers = datagen.make_seekers(SEEKERS, seed + 2, occupations)
        lat, lon = datagen.sample_points(
            np.random.default_rng(seed + 1), datagen.load_places(), queries
        )
        gc.collect()
        rss0 = _rss_mib()
        replica = VacancyReplica(sessions)
        await replica.load()
        gc.collect()
        out["load_s"] = replica.load_seconds
        out["rows"] = len(replica)
        out["rss_mib"] = _rss_mib() - rss0
        out["arrays_mib"] = replica.mib()
        gc.freeze()  # as api/app.py does after loading
        results = []
        for radius in radii:
            res = Radius(radius)
            for i in range(-WARMUP, queries):
                seeker = seekers[i % len(seekers)]
                la, lo = float(lat[i % queries]), float(lon[i % queries])  # warm-up: any points
                async with sessions() as s:
                    t0 = time.perf_counter()
                    await matching.find_matches(
                        s, taxonomy, seeker, la, lo, radius, LIMIT, replica=replica
                    )
                    t1 = time.perf_counter()
                async with sessions() as s:
                    t2 = time.perf_counter()
                    ctx = matching.seeker_context(seeker, taxonomy, radius)
                    conn = await raw_connection(s)
                    rows = await conn.fetch(
                        CANDIDATES_SQL, lo, la, sorted(ctx.certificates), radius, ctx.age, UNCAPPED
                    )
                    t3 = time.perf_counter()
                async with sessions() as s:
                    t4 = time.perf_counter()
                    await matching.find_matches(s, taxonomy, seeker, la, lo, radius, LIMIT)
                    t5 = time.perf_counter()
                ctx = matching.seeker_context(seeker, taxonomy, radius)
                t6 = time.perf_counter()
                replica.circle(la, lo, radius, age=ctx.age)
                t7 = time.perf_counter()
                if i >= 0:
                    res.within.append((t7 - t6) * 1000)
                    res.replica.append((t1 - t0) * 1000)
                    res.bare_sql.append((t3 - t2) * 1000)
                    res.today.append((t5 - t4) * 1000)
                    res.candidates.append(len(rows))
            results.append(res)
            print(f"  {radius:g} m done", file=sys.stderr)
        out["radii"] = results
        return out
    finally:
        await engine.dispose()


# --- commit -> visible in every worker ------------------------------------------------


async def worker(url: str, sync_s: float) -> None:
    """One worker: a replica, the bus doorbell and the timer; prints after each
    sync `SYNC <wall clock> <highest change number applied>`."""
    from push.bus import PgBus

    engine = make_engine(url)
    replica = VacancyReplica(make_sessionmaker(engine))
    await replica.load()
    lock = asyncio.Lock()

    async def sync() -> None:
        async with lock:
            await replica.sync()
            applied = replica.changes._applied
            high = max(max(applied, default=0), replica.changes.floor or 0)
            print(f"SYNC {time.time():.6f} {high}", flush=True)

    def ring(_payload: str) -> None:
        asyncio.get_running_loop().create_task(sync())

    bus = PgBus(_libpq(url))
    await bus.start(ring)
    print("READY", flush=True)
    while True:
        await asyncio.sleep(sync_s)
        await sync()


@dataclass
class Visibility:
    notified: list[float] = field(default_factory=list)  # ms, per commit and worker
    silent: list[float] = field(default_factory=list)


ROOT = Path(__file__).resolve().parents[1]


def _spawn(url: str, workers: int, sync_s: float) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "bench.replica", "--worker", url, "--sync-s", str(sync_s)]
    return [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for _ in range(workers)
    ]


async def visibility(url: str, workers: int, commits: int, sync_s: float) -> Visibility:
    from push.bus import PgBus

    procs = _spawn(url, workers, sync_s)
    syncs: list[list[tuple[float, int]]] = [[] for _ in procs]
    ready = [threading.Event() for _ in procs]

    def read(k: int, p: subprocess.Popen[str]) -> None:
        assert p.stdout is not None
        for line in p.stdout:
            if line.startswith("READY"):
                ready[k].set()
            elif line.startswith("SYNC"):
                _, at, no = line.split()
                syncs[k].append((float(at), int(no)))

    for k, p in enumerate(procs):
        threading.Thread(target=read, args=(k, p), daemon=True).start()
    for e in ready:
        if not e.wait(600):
            raise RuntimeError("a worker did not load")
    bus = PgBus(_libpq(url))
    committed: list[tuple[float, int, bool]] = []
    try:
        with psycopg.connect(_libpq(url), autocommit=True) as db:
            template = db.execute(
                "SELECT id FROM vacancies WHERE status = 'open' AND expires_at IS NULL LIMIT 1"
            ).fetchone()
            assert template is not None
            for i in range(commits):
                # First half with the doorbell, then the second without (a lost
                # NOTIFY), so no doorbell of the first series helps the second.
                ring = i < commits // 2
                row = db.execute(
                    """INSERT INTO vacancies (id, employer_id, title, location, occupation_id,
                           required_skill_ids, required_skill_weights, job_type, hours_per_week,
                           min_age)
                       SELECT gen_random_uuid(), employer_id, %s, location,
                              occupation_id, required_skill_ids, required_skill_weights,
                              job_type, hours_per_week, min_age
                       FROM vacancies WHERE id = %s RETURNING id, change_no""",
                    (PROBE, template[0]),
                ).fetchone()
                assert row is not None
                at = time.time()
                if ring:
                    await bus.publish([f"created:{row[0]}"])
                committed.append((at, int(row[1]), ring))
                await asyncio.sleep(0.05 if ring else sync_s / 3)
            await asyncio.sleep(sync_s * 2 + 0.5)
            db.execute("DELETE FROM vacancies WHERE title = %s", (PROBE,))
    finally:
        await bus.close()
        for p in procs:
            p.terminate()
    out = Visibility()
    for at, no, ring in committed:
        for seen in syncs:
            first = next((t for t, applied in seen if applied >= no and t >= at), None)
            if first is None:
                raise RuntimeError(f"change {no} never became visible in a worker")
            (out.notified if ring else out.silent).append((first - at) * 1000)
    return out


def render(m: dict[str, Any], vis: Visibility | None, workers: int, sync_s: float) -> str:
    per100k = 100_000 / max(m["rows"], 1)
    lines = [
        f"Replica load: {m['rows']:,} open vacancies in {m['load_s']:.2f} s "
        f"({m['load_s'] * per100k:.2f} s per 100k); memory {m['rss_mib']:.0f} MiB by RSS "
        f"({m['rss_mib'] * per100k:.0f} MiB per 100k), {m['arrays_mib']:.0f} MiB by the arrays.",
        "",
        "| radius | candidates mean (p99) | (a) replica p50 | p99 | of which the circle p50 | p99"
        " | (b) bare PostGIS, no cap p50 | p99 | (c) today (SQL, cap) p50 | p99"
        " | (a) vs (b) p99 | (a) vs (c) p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in m["radii"]:
        a50, a99 = _p(r.replica, 50), _p(r.replica, 99)
        b50, b99 = _p(r.bare_sql, 50), _p(r.bare_sql, 99)
        c50, c99 = _p(r.today, 50), _p(r.today, 99)
        lines.append(
            f"| {r.radius_m / 1000:g} km | {np.mean(r.candidates):,.0f} "
            f"({_p(r.candidates, 99):,.0f}) | **{a50:.1f} ms** | **{a99:.1f} ms**"
            f" | {_p(r.within, 50):.1f} ms | {_p(r.within, 99):.1f} ms | {b50:.1f} ms"
            f" | {b99:.1f} ms | {c50:.1f} ms | {c99:.1f} ms | {b99 / a99:.1f}x | {c99 / a99:.1f}x |"
        )
    if vis is not None:
        lines += [
            "",
            f"Commit -> visible in the replica of each of {workers} workers (sync timer "
            f"{sync_s:g} s): with the doorbell p50 {_p(vis.notified, 50):.1f} ms, p99 "
            f"**{_p(vis.notified, 99):.1f} ms** (n={len(vis.notified)}); without it (lost "
            f"NOTIFY) p50 {_p(vis.silent, 50):.0f} ms, p99 {_p(vis.silent, 99):.0f} ms "
            f"(n={len(vis.silent)}).",
        ]
    return "\n".join(lines)


def _clean(url: str) -> None:
    """Delete the probes a broken run left: they are open vacancies, and the reuse
    check (the open count) would otherwise rebuild a database that is fine."""
    with psycopg.connect(_libpq(url), autocommit=True) as db:
        db.execute("DELETE FROM vacancies WHERE title = %s", (PROBE,))


def write_docs(section: str) -> None:
    write_section("replica", "Nearby match from the replica", section)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vacancies", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300, help="timed queries per radius and path")
    ap.add_argument("--radii", default="1000,5000,10000", help="metres, comma-separated")
    ap.add_argument("--seed", type=int, default=20240601)
    # Reusing is the default: the 100k data takes minutes to build and is the same
    # as bench/nearby_match.py's. --reuse stays accepted for older commands.
    ap.add_argument("--reuse", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--rebuild", action="store_true", help="build --db even if it holds this data")
    ap.add_argument("--keep", action="store_true", help="keep the database if this run built it")
    ap.add_argument("--workers", type=int, default=2, help="worker processes for visibility")
    ap.add_argument("--commits", type=int, default=200, help="commits timed for visibility")
    ap.add_argument("--sync-s", type=float, default=1.0, help="the replica's sync timer")
    ap.add_argument("--no-visibility", action="store_true", help="skip commit -> visible")
    ap.add_argument("--db", default="jotr_bench", help="database name (built if not reusable)")
    ap.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(worker(args.worker, args.sync_s))
        return
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", DEFAULT_ADMIN)
    radii = [float(r) for r in args.radii.split(",")]
    started = time.perf_counter()
    reuse = not args.rebuild
    if reuse:  # the database may not exist yet
        with contextlib.suppress(psycopg.Error):
            _clean(sync_url(make_url(admin).set(database=args.db).render_as_string(False)))
    data = prepare_database(admin, args.vacancies, args.seed, reuse, name=args.db)
    built = bool(data.seconds)  # empty when reused
    setup = ", ".join(f"{k} {v:.1f} s" for k, v in data.seconds.items()) or "reused"
    print(f"dataset: {data.vacancies:,} vacancies in {args.db} ({setup})", file=sys.stderr)
    try:
        load = os.getloadavg()[0]
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            m = runner.run(measure(data.url, radii, args.queries, args.seed))
            vis = None
            if not args.no_visibility:
                vis = runner.run(visibility(data.url, args.workers, args.commits, args.sync_s))
        # The machine may be shared: the load average says how much else was running.
        load_note = f"1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
        table = render(m, vis, args.workers, args.sync_s)
        print(table)
        print(load_note, file=sys.stderr)
        if args.write_docs:
            cmd = "python -m bench.replica " + shlex.join(
                argv if argv is not None else sys.argv[1:]
            )
            visible = (
                f"; {args.commits} commits timed in {args.workers} worker processes"
                if vis is not None
                else ""
            )
            write_docs(
                f"Measured {dt.date.today().isoformat()} with `{cmd.strip()}`: "
                f"{data.vacancies:,} open vacancies on {data.employers:,} employers, "
                f"{args.queries} queries per radius and path, the three interleaved, one at a "
                f"time, limit {LIMIT}; (c) capped at {matching.CANDIDATE_CAP:,}{visible}.\n"
                f"Machine: {machine(data.url)}; {load_note}.\n\n{table}"
            )
    finally:
        # A database this run did not build (another benchmark's) is left as found.
        if built and not args.keep:
            drop_database(admin, args.db)
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
