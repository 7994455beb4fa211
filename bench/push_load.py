"""Push load benchmark: N phones connected and moving, new vacancies posted steadily.

    python -m bench.push_load                      # 5,000 phones; builds jotr_push_bench
    python -m bench.push_load --reuse --keep --write-docs

The real server (`uvicorn api.app:create_app --factory --workers 2`, as `jotr serve`
runs it) is a subprocess on loopback with its own database: schema by Alembic,
ESCO, 20k vacancies and N jobseekers placed like the population (bench/datagen.py),
each standing at their place and connected. The phones are `websockets` clients
in a separate process (bench/phones.py), so their CPU is measured apart. Phases:

1. connect every phone; memory per connection is the workers' RSS growth / N;
2. a ramp of location-update rates, open loop, each step for a while: `rate x
   period` phones move, one update each per period; per step: updates handled/s,
   handled and update→push latency, and the cores used by server, PostgreSQL,
   phones and anything else. The ramp stops at the first step the server cannot
   keep up with;
3. the phones stand still while vacancies are POSTed 50-300 m from random phones
   at a steady rate; the time from the POST starting to each `match` arriving,
   and per vacancy to its last eligible phone. Eligible is what the server decided
   and recorded in `push_deliveries`; every recorded delivery must arrive;
4. with the server stopped: the bare candidate query (matcher.matching.geo.CANDIDATES_SQL
   on asyncpg) for the same points and radius, alone and at the server's database
   concurrency (workers x pool size), for the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import multiprocessing as mp
import os
import shlex
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import psycopg
import uvloop
from sqlalchemy.engine import make_url

from bench import datagen, nearby_match, phones
from bench.docs_section import write_section
from matcher import profile
from matcher.db import sync_url
from matcher.matching import matches as matching
from matcher.matching.eligibility import age_on
from matcher.matching.geo import CANDIDATES_SQL
from matcher.people.tokens import Principal, new_secret
from matcher.settings import Settings
from push.rules import haversine_m

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
DB_NAME = "jotr_push_bench"
BENCH_NAME = "Push bench"  # the employer and vacancies this benchmark posts
SPAWN = mp.get_context("spawn")
RATES = "10,20,40,80,160,320,640,1280,2560"
SEED = 20240601


def _p(xs: Any, q: float) -> float:
    """The q-th percentile; with values that are infinite (never arrived), the next
    value up rather than an interpolation."""
    a = np.asarray(xs, dtype=np.float64)
    if not len(a):
        return math.nan
    return float(np.percentile(a, q, method="higher" if np.isinf(a).any() else "linear"))


def _pp(xs: list[float], unit: str = " ms") -> str:
    """p50 / p99; a delivery that never arrived counts as infinitely late."""
    if not xs:
        return "–"
    p50, p99 = _p(xs, 50), _p(xs, 99)
    if math.isinf(p99):
        return ("never" if math.isinf(p50) else f"{p50:,.1f}{unit}") + " / never"
    return f"{p50:,.1f} / {p99:,.1f}{unit}"


# --- database ---------------------------------------------------------------------------


def _clean(url: str) -> None:
    """Remove what a run leaves: its seekers, employer and posted vacancies."""
    with psycopg.connect(nearby_match._libpq(url), autocommit=True) as conn:
        ours = "(SELECT id FROM employers WHERE name LIKE %s)"
        conn.execute(f"DELETE FROM vacancies WHERE employer_id IN {ours}", (BENCH_NAME + "%",))
        conn.execute("DELETE FROM employers WHERE name LIKE %s", (BENCH_NAME + "%",))
        conn.execute("DELETE FROM jobseekers")


def add_seekers(
    url: str, n: int, radius: float, seed: int
) -> tuple[list[datagen.SyntheticSeeker], list[str], np.ndarray, np.ndarray, dict[int, str]]:
    """N seekers where people are, each with a real token; also skill id -> URI."""
    with psycopg.connect(nearby_match._libpq(url)) as conn:
        seekers = datagen.make_seekers(n, seed + 2, datagen.load_occupations(conn), radius)
        lat, lon = datagen.sample_points(np.random.default_rng(seed + 3), datagen.load_places(), n)
        datagen.insert_seekers(conn, seekers, (lat, lon))
        tokens, hashes = zip(*(new_secret(Principal.JOBSEEKER) for _ in seekers), strict=True)
        conn.execute(
            "INSERT INTO seeker_devices (id, jobseeker_id, token_hash) SELECT gen_random_uuid(),"
            " t.id, t.h FROM unnest(%s::uuid[], %s::bytea[]) AS t(id, h)",
            ([s.id for s in seekers], list(hashes)),
        )  # fmt: skip
        uris: dict[int, str] = dict(conn.execute("SELECT id, uri FROM skills").fetchall())
        conn.commit()
    _vacuum(url)
    return seekers, list(tokens), lat, lon, uris


# Tables each run churns. This machine's PostgreSQL runs with autovacuum off, so dead
# rows of earlier runs would pile up (100k dead seeker rows slowed every position
# write and seq update); production has autovacuum on (docs/operations.md).
CHURNED = ("jobseekers", "seeker_devices", "push_deliveries", "match_events", "vacancies")


def _vacuum(url: str) -> None:
    with psycopg.connect(nearby_match._libpq(url), autocommit=True) as conn:
        for table in CHURNED:
            conn.execute(f"VACUUM (ANALYZE) {table}")


# --- the run ----------------------------------------------------------------------------------


class Run:
    """Drives the phases and keeps what they measured."""

    def __init__(self, args: argparse.Namespace, server: phones.Server, fleet: phones.FleetProcs,
                 seekers: list[datagen.SyntheticSeeker], uris: dict[int, str]) -> None:  # fmt: skip
        self.args, self.server, self.fleet = args, server, fleet
        self.seekers, self.uris = seekers, uris
        self.facts: dict[str, Any] = {}
        self.steps: list[dict[str, Any]] = []
        self.vacancy: list[dict[str, Any]] = []

    async def _timed(self, coro: Any) -> tuple[Any, dict[str, float]]:
        """Run a phase; also return the cores each group used meanwhile."""
        assert self.server.proc is not None
        groups = {"server": [self.server.proc.pid, *self.server.worker_pids()],
                  "phones": self.fleet.pids, "bench": [os.getpid()]}  # fmt: skip
        c0, t0, n0 = phones.cpu_snapshot(groups, DB_NAME), time.monotonic(), self._sessions()
        out = await coro
        used = phones.cores(c0, phones.cpu_snapshot(groups, DB_NAME), time.monotonic() - t0)
        return out, used | {"sessions": self._sessions() - n0 - 1}  # less our own

    def _sessions(self) -> int:
        """Connections PostgreSQL has accepted to our database so far: a pool that
        keeps opening new ones pays a backend fork and cold caches for each."""
        with psycopg.connect(nearby_match._libpq(self.args.url)) as conn:
            row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s",
                               (DB_NAME,)).fetchone()  # fmt: skip
        return int(row[0]) if row else 0

    async def all(self) -> None:
        await self.connect()
        await self.ramp()
        await self.vacancies()
        await self.fleet.ask("close")

    async def connect(self) -> None:
        workers = self.server.worker_pids()
        before = phones.rss_kib(workers)
        res = await self.fleet.ask("connect", self.args.connect_concurrency)
        await asyncio.sleep(2.0)
        f = self.facts
        f.update(connected=sum(r["connected"] for r in res), rss_before=before,
                 rss_after=phones.rss_kib(workers), connect_s=max(r["seconds"] for r in res),
                 failed=phones.merge([r["failed"] for r in res]))  # fmt: skip
        print(f"connected {f['connected']:,} phones in {f['connect_s']:.1f} s, failed: "
              f"{f['failed'] or 'none'}; workers' RSS {f['rss_before'] / 1024:.0f} -> "
              f"{f['rss_after'] / 1024:.0f} MiB", file=sys.stderr)  # fmt: skip

    async def ramp(self) -> None:
        a, n = self.args, len(self.fleet.procs)
        for rate in a.rates:
            ask = self.fleet.ask("walk", rate / n, a.step_seconds, a.small, a.period, a.drain)
            parts, cpu = await self._timed(ask)
            r = phones.merge(parts) | {"target": rate, "cpu": cpu}
            # From the first send to the last reply: at a rate the server keeps up with,
            # the step's length plus one latency; past it, the server's own pace.
            r["handled_per_s"] = r["completed"] / r["busy_s"]
            self.steps.append(r)
            moved = r["handled_ms"]["first"] + r["handled_ms"]["full"]
            print(f"  {rate:,.0f}/s: {r['handled_per_s']:,.0f} handled/s, {r['moving']} phones;"
                  f" handled {_pp(moved)}; pushes {len(r['push_ms'])}, {_pp(r['push_ms'])}; "
                  f"unfinished {r['unfinished']}; {_cores(cpu)}", file=sys.stderr)  # fmt: skip
            if r["handled_per_s"] < 0.9 * rate or r["unfinished"]:
                print("  saturated: the ramp stops here", file=sys.stderr)
                return

    async def vacancies(self) -> None:
        """At each rate in turn: POST for a while, then wait for the deliveries."""
        a = self.args
        positions = [p for part in await self.fleet.ask("positions") for p in part]
        rng = np.random.default_rng(a.seed + 5)
        idx = {s.id: i for i, s in enumerate(self.seekers)}
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=60,
                                     limits=limits) as client:  # fmt: skip
            r = await client.post("/v1/employers", json={"name": f"{BENCH_NAME} employer"})
            auth = {"Authorization": f"Bearer {r.raise_for_status().json()['api_key']}"}
            for rate in a.vacancy_rates:
                picks = rng.integers(0, len(positions), int(rate * a.vacancy_seconds))
                anchors = [positions[int(i)] for i in picks]
                posted, cpu = await self._timed(self._post(client, auth, rate, anchors, rng))
                await asyncio.sleep(a.settle)
                got = [d for part in await self.fleet.ask("deliveries") for d in part]
                ok = {p["id"]: p for p in posted if p["id"]}
                with psycopg.connect(nearby_match._libpq(a.url)) as conn:
                    rows = conn.execute("SELECT vacancy_id, jobseeker_id FROM push_deliveries "
                                        "WHERE kind = 'match' AND vacancy_id = ANY(%s)",
                                        ([uuid.UUID(v) for v in ok],)).fetchall()  # fmt: skip
                recorded = {(str(v), idx[j]) for v, j in rows}
                seen = {(v, i): (t - ok[v]["t0"]) * 1e3 for v, i, t in got if v in ok}
                late = {k: seen.get(k, math.inf) for k in recorded | set(seen)}
                last: dict[str, float] = {}
                for (v, _), ms in late.items():
                    last[v] = max(last.get(v, 0.0), ms)
                in_range = [sum(haversine_m(p["lat"], p["lon"], la, lo) <= self.seekers[i].radius_m
                                for i, la, lo in positions) for p in posted]  # fmt: skip
                res = {
                    "rate": rate, "posted": len(ok), "cpu": cpu, "in_range": in_range,
                    "failed": Counter(p["status"] for p in posted if not p["id"]),
                    "post_ms": [p["ms"] for p in posted], "recorded": len(recorded),
                    "missing": len(recorded - set(seen)), "unrecorded": len(set(seen) - recorded),
                    "delivery_ms": list(late.values()), "last_ms": list(last.values()),
                }  # fmt: skip
                self.vacancy.append(res)
                print(f"  {rate:g} vacancies/s: {len(ok)} posted ({dict(res['failed'])} failed), "
                      f"{len(recorded)} deliveries recorded, {res['missing']} missing; "
                      f"to each {_pp(res['delivery_ms'])}, to the last {_pp(res['last_ms'])}; "
                      f"{_cores(cpu)}", file=sys.stderr)  # fmt: skip

    async def _post(self, client: httpx.AsyncClient, auth: dict[str, str], rate: float,
                    anchors: list[tuple[int, float, float]], rng: Any) -> list[dict]:  # fmt: skip
        out: list[dict[str, Any]] = []

        async def one(n: int, i: int, lat: float, lon: float, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            d, bearing = rng.uniform(50, 300), rng.uniform(0, 2 * math.pi)
            la = lat + d * math.cos(bearing) / phones.METRES_PER_DEGREE
            lo = lon + d * math.sin(bearing) / (phones.METRES_PER_DEGREE *
                                                math.cos(math.radians(lat)))  # fmt: skip
            body = self._vacancy_body(n, self.seekers[i], la, lo)
            t0 = time.monotonic()
            try:
                resp = await client.post("/v1/vacancies", json=body, headers=auth)
                status = str(resp.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            vid = resp.json()["id"] if status == "201" else None
            ms = (time.monotonic() - t0) * 1e3
            out.append({"id": vid, "status": status, "t0": t0, "lat": la, "lon": lo, "ms": ms})

        t = time.monotonic() + 0.1
        await asyncio.gather(*(one(n, i, la, lo, t + n / rate)
                               for n, (i, la, lo) in enumerate(anchors)))  # fmt: skip
        return out

    def _vacancy_body(self, n: int, s: datagen.SyntheticSeeker, lat: float, lon: float) -> dict:
        """A job for the phone it is posted next to (its skills, job type, hours and
        work profile); neighbours with similar skills may want it too."""
        hours = 10.0 if s.hours_min is None else (s.hours_min + (s.hours_max or s.hours_min)) / 2
        body: dict[str, Any] = {
            "title": f"{BENCH_NAME} vacancy {n}", "description": "Posted by bench/push_load.py.",
            "location": {"lat": lat, "lon": lon}, "walk_in": False, "min_age": 15,
            "required_skills": [{"uri": self.uris[k]} for k in s.skill_ids[:5] if k in self.uris],
            "job_type": s.job_types[0] if s.job_types else "fritidsjob", "hours_per_week": hours,
        }  # fmt: skip
        if s.work_profile is not None:
            body["work_profile"] = profile.to_mapping(s.work_profile)
        return body


def _cores(c: dict[str, float]) -> str:
    return (f"cores: server {c['server']:.2f}, PostgreSQL {c['postgres']:.2f}, phones "
            f"{c['phones'] + c['bench']:.2f}, other {c['other']:.2f}; PostgreSQL sessions "
            f"opened {c['sessions']:.0f}")  # fmt: skip


# --- the baseline: the bare candidate query ----------------------------------------------------


def baseline_worker(url: str, points: list[tuple[Any, ...]], start_at: float, seconds: float,
                    conns: int, once: bool) -> tuple[list[float], float, float]:  # fmt: skip
    """CANDIDATES_SQL alone as the server's asyncpg connections run it (a prepared
    statement past its first five custom plans); `once`: each point once, in turn.
    Returns the latencies and the CPU seconds of its PostgreSQL backends and its own."""

    async def main() -> tuple[list[float], float, float]:
        pool = [await asyncpg.connect(nearby_match._libpq(url)) for _ in range(conns)]
        for c in pool:
            for args in points[:8]:
                await c.fetch(CANDIDATES_SQL, *args)
        backends = [c.get_server_pid() for c in pool]
        ms: list[float] = []
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        pg0, own0 = sum(map(phones.ticks, backends)), time.process_time()
        end = time.monotonic() + seconds

        async def run(c: asyncpg.Connection, k: int) -> None:
            for i in range(k, len(points) if once else 10**9, conns):
                if time.monotonic() >= end:
                    return
                t = time.perf_counter()
                await c.fetch(CANDIDATES_SQL, *points[i % len(points)])
                ms.append((time.perf_counter() - t) * 1e3)

        await asyncio.gather(*(run(c, k) for k, c in enumerate(pool)))
        pg = (sum(map(phones.ticks, backends)) - pg0) / os.sysconf("SC_CLK_TCK")
        own = time.process_time() - own0
        for c in pool:
            await c.close()
        return ms, pg, own

    return uvloop.run(main())


def baseline(url: str, points: list[tuple[Any, ...]], conns: int, procs: int, seconds: float
             ) -> dict[str, Any]:  # fmt: skip
    with ProcessPoolExecutor(procs, mp_context=SPAWN) as pool:
        alone, _, _ = pool.submit(baseline_worker, url, points, 0.0, seconds, 1, True).result()
        start = time.monotonic() + 5.0  # once the processes are up and warm
        futs = [pool.submit(baseline_worker, url, points[k::procs], start, seconds,
                            max(1, conns // procs), False) for k in range(procs)]  # fmt: skip
        busy = [f.result() for f in futs]
    return {"alone_ms": alone, "busy_ms": [x for ms, _, _ in busy for x in ms], "conns": conns,
            "per_s": sum(len(ms) for ms, _, _ in busy) / seconds,
            "pg_cores": sum(pg for _, pg, _ in busy) / seconds,
            "client_cores": sum(own for _, _, own in busy) / seconds}  # fmt: skip


# --- reporting ------------------------------------------------------------------------------


def render(run: Run, base: dict[str, Any]) -> str:
    lines = ["| target /s | phones moving | handled /s | first / moved / still "
             "| handled p50 / p99 | still p50 / p99 | updates that pushed | update→push p50 / p99 "
             "| cores: server / PostgreSQL / phones / other |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in run.steps:
        h, push, c = r["handled_ms"], r["push_ms"], r["cpu"]
        lines.append(
            f"| {r['target']:,.0f} | {r['moving']:,} | **{r['handled_per_s']:,.0f}** "
            f"| {len(h['first']):,} / {len(h['full']):,} / {len(h['skip']):,} "
            f"| {_pp(h['first'] + h['full'])} | {_pp(h['skip'])} "
            f"| {len(push):,} ({len(push) / max(1, r['sent']):.0%}) | **{_pp(push)}** "
            f"| {c['server']:.2f} / {c['postgres']:.2f} / {c['phones'] + c['bench']:.2f} / "
            f"{c['other']:.2f} |"
        )
    kept = [r for r in run.steps if r["handled_per_s"] >= 0.95 * r["target"]
            and not r["unfinished"]]  # fmt: skip
    best = kept[-1] if kept else max(run.steps, key=lambda r: r["handled_per_s"])
    fast = [f"{r['target']:,.0f} /s" for r in kept if _p(r["push_ms"], 99) < 50.0]
    f, s = run.facts, run.args

    last = run.steps[-1]
    closed = f"{last['closed']} {last['close_codes'] or ''}".strip()

    def opened(phases: list[dict[str, Any]]) -> str:
        return ", ".join(f"{r['cpu']['sessions']:.0f}" for r in phases)

    u50 = _p(best["handled_ms"]["first"] + best["handled_ms"]["full"], 50)
    vac = ["", "| vacancies /s | posted (failed) | POST p50 / p99 | phones in range p50 / max "
           "| deliveries (not received) | → each eligible p50 / p99 "
           "| → last eligible p50 / p99 | cores: server / PostgreSQL / phones / other |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for v in run.vacancy:
        c, failed = v["cpu"], ", ".join(f"{n} × {k}" for k, n in v["failed"].items())
        vac.append(
            f"| {v['rate']:g} | {v['posted']} ({failed or 0}) | {_pp(v['post_ms'])} "
            f"| {_p(v['in_range'], 50):,.0f} / {max(v['in_range'], default=0):,} "
            f"| {v['recorded']:,} ({v['missing']:,}) | {_pp(v['delivery_ms'])} "
            f"| **{_pp(v['last_ms'])}** | {c['server']:.2f} / {c['postgres']:.2f} / "
            f"{c['phones'] + c['bench']:.2f} / {c['other']:.2f} |"
        )
    last99 = "; ".join(f"{v['rate']:g}/s: {_pp(v['last_ms']).split(' / ')[-1]}"
                       for v in run.vacancy)  # fmt: skip
    return "\n".join([
        *lines, *vac, "", "| | measured | aim |", "|---|---:|---:|",
        f"| location updates handled /s, sustained | **{best['handled_per_s']:,.0f}** "
        f"| ≥ 2,000 |",
        f"| update→push p50 / p99 at that rate | **{_pp(best['push_ms'])}** | p99 < 50 ms |",
        f"| highest rate sustained with update→push p99 < 50 ms | {fast[-1] if fast else 'none'}"
        f" | ≥ 2,000 /s |",
        f"| new vacancy → its last eligible phone, p99 | **{last99}** | ≤ 100 ms |",
        f"| memory per connection (workers' RSS) "
        f"| {(f['rss_after'] - f['rss_before']) / max(1, f['connected']):.0f} KiB | |",
        f"| bare candidate query alone, p50 / p99 | {_pp(base['alone_ms'])} | |",
        f"| bare candidate query, {base['conns']} at once: p50 / p99; per second "
        f"| {_pp(base['busy_ms'])}; {base['per_s']:,.0f} /s | |",
        f"| update handled p50 / bare query p50 | {u50 / _p(base['alone_ms'], 50):.1f}x | |",
        f"| updates handled /s / bare queries /s | {best['handled_per_s'] / base['per_s']:.2f}"
        f" | |",
        "",
        f"Connections: {f['connected']:,} in {f['connect_s']:.1f} s (failed: "
        f"{f['failed'] or 'none'}; closed by the server during the ramp: {closed}), phones "
        f"offering {'no compression' if s.no_deflate else 'permessage-deflate'}; workers' RSS "
        f"{f['rss_before'] / 1024:.0f} → {f['rss_after'] / 1024:.0f} MiB. Bare query, "
        f"{base['conns']} at once: PostgreSQL {base['pg_cores']:.2f} cores, client (asyncpg) "
        f"{base['client_cores']:.2f}. Vacancy deliveries count as not received when they "
        f"had not arrived {s.settle:g} s after the last POST at that rate. PostgreSQL "
        f"sessions opened per step: {opened(run.steps)} (location ramp), "
        f"{opened(run.vacancy)} (vacancies).",
    ])  # fmt: skip


def write_docs(section: str) -> None:
    write_section("push_load", "Push under load", section)


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = ap.add_argument
    add("--phones", type=int, default=5000)
    add("--vacancies", type=int, default=20_000, help="open vacancies in the data")
    add("--radius", type=float, default=5000.0, help="the seekers' radius, metres")
    add("--rates", default=RATES, help="location updates/s, the ramp's steps")
    add("--step-seconds", type=float, default=15.0)
    add("--period", type=float, default=2.5, help="seconds between a moving phone's updates")
    add("--drain", type=float, default=30.0, help="longest wait for a step's last updates")
    add("--small", type=float, default=0.1, help="share of moves under the threshold")
    add("--vacancy-rates", default="1,5", help="vacancies POSTed per second, in turn")
    add("--vacancy-seconds", type=float, default=15.0, help="at each rate")
    add("--settle", type=float, default=10.0, help="wait for deliveries after the last POST")
    add("--per-minute", type=int, default=1000, help="JOTR_PUSH_PER_MINUTE for the server")
    add("--workers", type=int, default=2)
    add("--app", default="api.app:create_app", help="app factory (to measure a variant)")
    add("--fleet-procs", type=int, default=1, help="processes for the phones")
    add("--connect-concurrency", type=int, default=100)
    add("--no-deflate", action="store_true", help="phones offer no compression")
    add("--baseline-seconds", type=float, default=10.0)
    add("--seed", type=int, default=SEED)
    add("--reuse", action="store_true", help="reuse the database if it holds this data")
    add("--keep", action="store_true", help="keep the database afterwards")
    add("--write-docs", action="store_true", help=f"update {DOCS.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",")]
    args.vacancy_rates = [float(r) for r in args.vacancy_rates.split(",")]
    args.threshold_m = Settings().push_move_threshold_m
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", nearby_match.DEFAULT_ADMIN)
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    if args.reuse:  # what a broken run left would fail the reuse check
        with contextlib.suppress(psycopg.Error):
            _clean(sync_url(make_url(admin).set(database=DB_NAME).render_as_string(False)))
    data = nearby_match.prepare_database(admin, args.vacancies, args.seed, args.reuse, DB_NAME)
    args.url = data.url
    _clean(data.url)
    seekers, tokens, lat, lon, uris = add_seekers(data.url, args.phones, args.radius, args.seed)
    print(f"data ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    # The throttle would hide work; probes are "bad" frames that must not close phones.
    env = {"JOTR_PUSH_PER_MINUTE": str(args.per_minute), "JOTR_PUSH_BAD_MESSAGES": "10000000"}
    server, fleet = phones.Server(data.url, args.workers, env, args.app), None
    try:
        server.start()
        fleet = phones.FleetProcs(
            args.fleet_procs, server.base_url,
            [(i, tokens[i], float(lat[i]), float(lon[i])) for i in range(args.phones)],
            args.threshold_m, not args.no_deflate,
        )  # fmt: skip
        run = Run(args, server, fleet, seekers, uris)
        asyncio.run(run.all())
    finally:
        if fleet is not None:
            fleet.stop()
        server.stop()
    today = matching.today_in_denmark()
    points = [(lo, la, sorted(seekers[i].certificates), seekers[i].radius_m,
               age_on(seekers[i].birth_date, today), matching.CANDIDATE_CAP)
              for r in run.steps for i, la, lo in r["points"]]  # fmt: skip
    order = np.random.default_rng(args.seed).permutation(len(points))[:2000]
    base = baseline(data.url, [points[k] for k in order], Settings().db_pool_size * args.workers,
                    args.workers, args.baseline_seconds)  # fmt: skip
    load = f"1-minute load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after"
    table = render(run, base)
    print(table)
    print(load, file=sys.stderr)
    if args.write_docs:
        cmd = "python -m bench.push_load " + shlex.join(argv if argv is not None else sys.argv[1:])
        write_docs(
            f"Measured {dt.date.today().isoformat()} with `{cmd.strip()}`: {args.phones:,} "
            f"phones (radius {args.radius:g} m) on `uvicorn --workers {args.workers}`, "
            f"{data.vacancies:,} open vacancies, candidate cap {matching.CANDIDATE_CAP:,}; "
            f"`JOTR_PUSH_PER_MINUTE={args.per_minute}`, so the throttle hides no work.\n"
            f"Machine: {nearby_match.machine(data.url)}; {load}.\n\n{table}"
        )
    _clean(data.url)
    if not args.keep:
        nearby_match.drop_database(admin, DB_NAME)
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
