"""Nearby-match benchmark: p50/p99 of a seeker's matches around a point, 100k vacancies.

    python -m bench.nearby_match                 # build jotr_bench, measure, drop it
    python -m bench.nearby_match --keep          # keep the database for re-runs
    python -m bench.nearby_match --reuse --keep --write-docs

What is timed is `matcher.matching.matches.find_matches` in-process, on the API's own engine
(`matcher.db.make_engine`: asyncpg pool, pre-ping; uvloop as under uvicorn), each
query in a fresh session as a request gets one: pool checkout, the indexed candidate
query, decoding, eligibility, scoring, top 20 and explanations. A warm-up takes the
prepared statement past PostgreSQL's first five custom plans (see bench/README.md).
A second pass over the same points times each step; `EXPLAIN ANALYZE` on a sample
gives PostgreSQL's share. The baseline, in the same run, is the same work with index
and bitmap scans off (`SET LOCAL`), so PostgreSQL scans every open vacancy, and with
JIT off, which would only add compile time; its session is open before the clock
starts. Data and query points: bench/datagen.py (spread like postcodes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import uvloop
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from alembic import command
from bench import datagen
from bench.docs_section import write_section
from matcher.db import make_engine, make_sessionmaker, sync_url
from matcher.matching import matches as matching
from matcher.matching.geo import CANDIDATES_SQL, batch_from_rows, raw_connection, vacancy_cards

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
DB_NAME = "jotr_bench"
DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED_ESCO = ROOT.parent / "shared" / "data" / "esco_en"
LIMIT = 20
SEEKERS = 200
WARMUP = 20
EXPLAIN_EVERY = 8  # EXPLAIN ANALYZE on every 8th point: enough for a p50, cheap
NO_INDEX = ("SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- the database ---------------------------------------------------------------------


@dataclass
class Dataset:
    url: str
    vacancies: int
    employers: int
    seconds: dict[str, float] = field(default_factory=dict)  # empty when reused


def _esco_dirs() -> list[Path]:
    from matcher.esco.esco_import import bundled_esco_dir

    bundled = bundled_esco_dir()
    return [bundled] if bundled.is_dir() and any(bundled.iterdir()) else [SHARED_ESCO]


def _alembic(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _marker(n: int, seed: int) -> str:
    # The schema head is part of it: a new migration means the data must be rebuilt.
    head = ScriptDirectory.from_config(_alembic("")).get_current_head()
    return f"jotr-bench vacancies={n} seed={seed} schema={head}"


def _reusable(url: str, n: int, seed: int) -> int | None:
    """The employer count if the database holds this data set, else None."""
    try:
        with psycopg.connect(_libpq(url)) as conn:
            row = conn.execute(
                "SELECT shobj_description(d.oid, 'pg_database'), "
                "(SELECT count(*) FROM vacancies WHERE status = 'open'), "
                "(SELECT count(*) FROM employers) "
                "FROM pg_database d WHERE d.datname = current_database()"
            ).fetchone()
    except psycopg.Error:
        return None
    return int(row[2]) if row and row[0] == _marker(n, seed) and row[1] == n else None


def prepare_database(
    admin_url: str, n: int, seed: int, reuse: bool, name: str = DB_NAME
) -> Dataset:
    """A fresh database `name` with the schema (Alembic), ESCO and n vacancies; or, with
    `reuse`, the existing one if it was built for the same n and seed. The push
    benchmark can build its own with another name."""
    url = sync_url(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    if reuse:
        employers = _reusable(url, n, seed)
        if employers is not None:
            return Dataset(url=url, vacancies=n, employers=employers)
        print(f"--reuse: {name} is not {_marker(n, seed)!r}; rebuilding", file=sys.stderr)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    drop_database(admin_url, name)
    with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    command.upgrade(_alembic(url), "head")
    seconds["schema"] = time.perf_counter() - t

    from matcher.esco.esco_import import load_esco

    t = time.perf_counter()
    load_esco(url, _esco_dirs())
    seconds["esco"] = time.perf_counter() - t
    t = time.perf_counter()
    with psycopg.connect(_libpq(url)) as conn:
        employers = datagen.insert_vacancies(conn, n, seed)
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{_marker(n, seed)}'")
    seconds["vacancies"] = time.perf_counter() - t
    t = time.perf_counter()
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        # As autovacuum would leave a settled table: statistics and visibility map.
        conn.execute("VACUUM (ANALYZE) employers, vacancies")
    seconds["vacuum_analyze"] = time.perf_counter() - t
    return Dataset(url=url, vacancies=n, employers=employers, seconds=seconds)


def drop_database(admin_url: str, name: str = DB_NAME) -> None:
    with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- measuring ------------------------------------------------------------------------

# The baseline's own statement text: asyncpg caches a prepared statement per text and
# PostgreSQL caches its generic plan, which a later `SET enable_indexscan` does not
# invalidate; a separate text makes sure the no-index plan is really the one that runs.
BASELINE_SQL = CANDIDATES_SQL + "-- baseline: planned with index and bitmap scans off\n"
PARTS = ("checkout", "context", "sql", "decode", "rank", "explain", "cards", "pg_exec")
# What the cap costs in quality: the top 20 found with the nearest `cap` candidates,
# against the top 20 of a larger reference read (on every other point, untimed).
REFERENCE_CAP = max(5000, 2 * matching.CANDIDATE_CAP)
CAPS = tuple(sorted({1000, matching.CANDIDATE_CAP}))


@dataclass
class RadiusResult:
    radius_m: float
    total: list[float] = field(default_factory=list)  # find_matches end to end, ms
    parts: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in PARTS})
    candidates: list[int] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    plans: Counter[str] = field(default_factory=Counter)
    baseline_plan: str = ""
    # cap -> per query: share of the reference top 20 still found with that cap
    cap_overlap: dict[int, list[float]] = field(default_factory=lambda: {c: [] for c in CAPS})


def _ms(t0: float, t1: float) -> float:
    return (t1 - t0) * 1000.0


def _scan(node: dict[str, Any]) -> str:
    """The scan node(s) of a JSON plan, e.g. 'Index Scan ix_vacancies_open_location'."""
    own = node.get("Plan", node)
    here = [f"{own['Node Type']} {own.get('Index Name', own.get('Relation Name'))}"]
    kids = [_scan(child) for child in own.get("Plans", [])]
    return ", ".join([*(here if "Scan" in own["Node Type"] else []), *filter(None, kids)])


def _literal_args(args: tuple[Any, ...]) -> str:
    lon, lat, certs, radius, age, cap = args
    # Certificate codes are our own identifiers (matcher.certificates), safe as literals.
    return f"{lon!r}, {lat!r}, '{{{','.join(certs)}}}', {radius!r}, {age:d}, {cap:d}"


async def _server_time(conn: Any, args: tuple[Any, ...], warm: list[tuple[Any, ...]]) -> dict:
    """EXPLAIN ANALYZE of the candidate query as a prepared statement, so PostgreSQL picks
    custom or generic plans the way it does for asyncpg's own prepared statement."""
    if not await conn.fetchval("SELECT count(*) FROM pg_prepared_statements WHERE name = 'c'"):
        types = "float8, float8, varchar[], float8, int, int"
        await conn.execute(f"PREPARE c({types}) AS {CANDIDATES_SQL}")
        for w in warm:  # the same five custom plans the real statement started with
            await conn.execute(f"EXECUTE c({_literal_args(w)})")
    sql = f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) EXECUTE c({_literal_args(args)})"
    out = await conn.fetchval(sql)
    return dict((json.loads(out) if isinstance(out, str) else out)[0])


async def _match_unrolled(
    conn: Any, sql: str, taxonomy: Any, seeker: Any, lat: float, lon: float, radius: float
) -> tuple[list[float], list[Any], tuple[Any, ...], list[Any], Any]:
    """The body of matching.find_matches, with a timestamp after each step."""
    stamps = [time.perf_counter()]
    ctx = matching.seeker_context(seeker, taxonomy, radius)
    stamps.append(time.perf_counter())
    args = (lon, lat, sorted(ctx.certificates), radius, ctx.age, matching.CANDIDATE_CAP)
    rows = await conn.fetch(sql, *args)
    stamps.append(time.perf_counter())
    batch = batch_from_rows(rows)
    stamps.append(time.perf_counter())
    scored = matching.score(ctx, batch)
    top = matching.rank(scored, LIMIT)
    stamps.append(time.perf_counter())
    for r in top:
        scored.match(taxonomy, int(r))
    stamps.append(time.perf_counter())
    return stamps, rows, args, [batch.ids[int(r)] for r in top], ctx


async def _cap_overlap(conn: Any, args: tuple[Any, ...], ctx: Any) -> dict[int, float]:
    """Share of the top 20 among the REFERENCE_CAP nearest that each cap still finds."""
    rows = await conn.fetch(CANDIDATES_SQL, *args[:-1], REFERENCE_CAP)

    def top(cap: int) -> set[Any]:
        batch = batch_from_rows(rows[:cap])  # nearest first, as a smaller LIMIT would give
        return {batch.ids[int(r)] for r in matching.rank(matching.score(ctx, batch), LIMIT)}

    best = top(REFERENCE_CAP)
    return {cap: len(top(cap) & best) / len(best) if best else 1.0 for cap in CAPS}


async def measure_radius(
    sessions: Any,
    taxonomy: Any,
    seekers: list[datagen.SyntheticSeeker],
    points: tuple[np.ndarray, np.ndarray],
    radius: float,
    baseline_queries: int,
) -> RadiusResult:
    res = RadiusResult(radius_m=radius)
    lat, lon = points
    n = len(lat)

    def where(i: int) -> tuple[datagen.SyntheticSeeker, float, float]:
        return seekers[i % len(seekers)], float(lat[i]), float(lon[i])

    # 1. End to end, as the route calls it, after a warm-up that also takes PostgreSQL
    # past the first five (custom-planned) executions of the prepared statement.
    warm_args: list[tuple[Any, ...]] = []
    for i in range(-WARMUP, n):
        seeker, la, lo = where(i)
        async with sessions() as s:
            t0 = time.perf_counter()
            await matching.find_matches(s, taxonomy, seeker, la, lo, radius, LIMIT)
            if i >= 0:
                res.total.append(_ms(t0, time.perf_counter()))
            elif len(warm_args) < 5:
                age = matching.seeker_context(seeker, taxonomy, radius).age
                warm_args.append((lo, la, sorted(seeker.certificates), radius, age,
                                  matching.CANDIDATE_CAP))  # fmt: skip

    # 2. The same points, step by step.
    for i in range(n):
        seeker, la, lo = where(i)
        async with sessions() as s:
            t0 = time.perf_counter()
            conn = await raw_connection(s)  # pool checkout and pre-ping (no BEGIN: see README)
            stamps, rows, args, best, ctx = await _match_unrolled(
                conn, CANDIDATES_SQL, taxonomy, seeker, la, lo, radius
            )
            for key, a, b in zip(PARTS, [t0, *stamps], stamps, strict=False):
                res.parts[key].append(_ms(a, b))
            t0 = time.perf_counter()
            await vacancy_cards(s, best, la, lo)  # the route's second query, for the record
            res.parts["cards"].append(_ms(t0, time.perf_counter()))
            res.candidates.append(len(rows))
            if i % 2 == 0:
                for cap, kept in (await _cap_overlap(conn, args, ctx)).items():
                    res.cap_overlap[cap].append(kept)
            if i % EXPLAIN_EVERY == 0:
                plan = await _server_time(conn, args, warm_args)
                res.parts["pg_exec"].append(float(plan["Execution Time"]))
                res.plans[_scan(plan)] += 1

    # 3. Baseline: the same work, with the spatial index switched off. JIT is off too:
    # it would add 0.2-3 s of compilation to every scan and flatter our ratio.
    for i in range(-2, baseline_queries):
        seeker, la, lo = where(i)
        async with sessions() as s:
            # Through the session, so the settings live in its transaction (SET LOCAL
            # outside one is ignored), then the same raw connection the code uses.
            for stmt in (*NO_INDEX, "SET LOCAL jit = off"):
                await s.execute(text(stmt))
            conn = await raw_connection(s)
            if not res.baseline_plan:
                out = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {BASELINE_SQL}", *warm_args[0])
                res.baseline_plan = _scan(json.loads(out)[0] if isinstance(out, str) else out[0])
            stamps, *_ = await _match_unrolled(conn, BASELINE_SQL, taxonomy, seeker, la, lo, radius)
            if i >= 0:
                res.baseline.append(_ms(stamps[0], stamps[-1]))
    return res


async def measure(
    url: str, radii: list[float], queries: int, baseline_queries: int, seed: int
) -> list[RadiusResult]:
    from matcher.esco.taxonomy import Taxonomy

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s:
            taxonomy = await Taxonomy.load(s)
        with psycopg.connect(_libpq(url)) as conn:
            occupations = datagen.load_occupations(conn)
        seekers = datagen.make_seekers(SEEKERS, seed + 2, occupations)
        # People live where the jobs are: query points are sampled like vacancies.
        points = datagen.sample_points(
            np.random.default_rng(seed + 1), datagen.load_places(), queries
        )
        out = []
        for radius in radii:
            t = time.perf_counter()
            out.append(
                await measure_radius(sessions, taxonomy, seekers, points, radius, baseline_queries)
            )
            print(f"  {radius:g} m: {time.perf_counter() - t:.1f} s", file=sys.stderr)
        return out
    finally:
        await engine.dispose()


# --- reporting ------------------------------------------------------------------------


def _p(x: list[float] | list[int], q: float) -> float:
    return float(np.percentile(np.asarray(x, dtype=np.float64), q)) if len(x) else float("nan")


def render(results: list[RadiusResult]) -> str:
    lines = [
        "| radius | candidates mean (p99) | at cap | find_matches p50 | p99 | geo query p50 "
        "| scoring p50 | no-index p50 | p99 | speed-up p50 | p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        geo = np.add(r.parts["sql"], r.parts["decode"]).tolist()
        score = np.add(r.parts["rank"], r.parts["explain"]).tolist()
        capped = np.mean(np.asarray(r.candidates) >= matching.CANDIDATE_CAP) * 100
        t50, t99, b50, b99 = (_p(r.total, 50), _p(r.total, 99), _p(r.baseline, 50),
                              _p(r.baseline, 99))  # fmt: skip
        lines.append(
            f"| {r.radius_m / 1000:g} km | {np.mean(r.candidates):,.0f} "
            f"({_p(r.candidates, 99):,.0f}) | {capped:.0f} % | **{t50:.1f} ms** | **{t99:.1f} ms**"
            f" | {_p(geo, 50):.1f} ms | {_p(score, 50):.1f} ms | {b50:.1f} ms | {b99:.1f} ms"
            f" | {b50 / t50:.1f}x | {b99 / t99:.1f}x |"
        )
    names = {
        "checkout": "pool checkout (pre-ping)", "context": "seeker context (credit vector)",
        "sql": "candidate query round trip", "pg_exec": "  of which PostgreSQL execution ¹",
        "decode": "rows -> columnar batch", "rank": "eligibility + score + top-k",
        "explain": "explanations (top 20)", "cards": "(route) display cards, top 20",
    }  # fmt: skip
    lines += ["", "Where the time goes, p50 / p99 in ms (second pass over the same points):", ""]
    lines.append("| step | " + " | ".join(f"{r.radius_m / 1000:g} km" for r in results) + " |")
    lines.append("|---|" + "---:|" * len(results))
    for key, label in names.items():
        cells = [f"{_p(r.parts[key], 50):.2f} / {_p(r.parts[key], 99):.2f}" for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for cap in CAPS:
        kept = [np.asarray(r.cap_overlap[cap]) for r in results]
        now = " (current)" if cap == matching.CANDIDATE_CAP else ""
        cells = [f"{k.mean() * 100:.1f} % / {np.mean(k < 1) * 100:.0f} %" for k in kept]
        lines.append(f"| cap {cap:,}{now}: top 20 kept / changed ² | " + " | ".join(cells) + " |")
    plans = "; ".join(
        f"{r.radius_m / 1000:g} km: "
        + ", ".join(f"`{p}` ×{c}" for p, c in r.plans.most_common())
        + f", baseline `{r.baseline_plan}`"
        for r in results
    )
    lines += [
        "",
        f"¹ `EXPLAIN (ANALYZE, TIMING OFF)` of a prepared statement on every {EXPLAIN_EVERY}th "
        f"point. Plans: {plans}.",
        f"² Against the top 20 among the nearest {REFERENCE_CAP:,} candidates (every other "
        "point): share of it still found with the nearest `cap`, and share of queries whose "
        "top 20 changes.",
    ]
    return "\n".join(lines)


def machine(url: str) -> str:
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
         if ln.startswith("model name")), platform.processor())  # fmt: skip
    with psycopg.connect(_libpq(url)) as conn:
        pg = conn.execute("SHOW server_version").fetchone()
        gis = conn.execute("SELECT postgis_lib_version()").fetchone()
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem) / 1024**2:.0f} GiB RAM; "
        f"PostgreSQL {pg[0] if pg else '?'} with PostGIS {gis[0] if gis else '?'} on the same "
        f"machine; Python {platform.python_version()}, uvloop"
    )


def write_docs(section: str) -> None:
    write_section("nearby_match", "Nearby match", section)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vacancies", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=400, help="timed queries per radius")
    ap.add_argument("--baseline-queries", type=int, default=30, help="no-index queries per radius")
    ap.add_argument("--radii", default="1000,5000,20000", help="metres, comma-separated")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--reuse", action="store_true", help="reuse jotr_bench if it holds this data")
    ap.add_argument("--keep", action="store_true", help="keep jotr_bench afterwards")
    ap.add_argument("--write-docs", action="store_true", help=f"update {DOCS.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", DEFAULT_ADMIN)
    radii = [float(r) for r in args.radii.split(",")]

    started = time.perf_counter()
    data = prepare_database(admin, args.vacancies, args.seed, args.reuse)
    setup = ", ".join(f"{k} {v:.1f} s" for k, v in data.seconds.items()) or "reused"
    print(f"dataset: {data.vacancies:,} vacancies, {data.employers:,} employers ({setup})",
          file=sys.stderr)  # fmt: skip
    try:
        # The machine may be shared: the load average says how much else was running.
        load = os.getloadavg()[0]
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(
                measure(data.url, radii, args.queries, args.baseline_queries, args.seed)
            )
        load_note = f"1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
        print(load_note, file=sys.stderr)
        table = render(results)
        print(table)
        if args.write_docs:
            cmd = "python -m bench.nearby_match " + shlex.join(
                argv if argv is not None else sys.argv[1:]
            )
            write_docs(
                f"Measured {dt.date.today().isoformat()} with `{cmd.strip()}`: "
                f"{data.vacancies:,} open vacancies on {data.employers:,} employers, "
                f"{args.queries} queries per radius ({args.baseline_queries} without the index), "
                f"one at a time, limit {LIMIT}, candidate cap {matching.CANDIDATE_CAP:,}.\n"
                f"Machine: {machine(data.url)}; {load_note}.\n\n{table}"
            )
    finally:
        if not args.keep:
            drop_database(admin)
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
