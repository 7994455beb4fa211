"""Location updates through one worker's push hub, in process: the server's own
cost per update, apart from websockets and whatever else shares the machine.

    python -m bench.push_hub                  # needs the push bench database
    python -m bench.push_hub --phones 1000 --steps 12 --write-docs

`bench/push_load.py` measures the whole system over real sockets, but on a
shared 2-core machine its figures move with the neighbours' load. This one
drives `PushHub.on_location` directly (a real PostGIS database, the real
PostgreSQL bus, the real taxonomy, the worker's replica of open vacancies as
the server loads it) for N phones walking in random directions,
CONCURRENCY at a time, and reports per update the wall time and the CPU time
of this process (the worker) and of PostgreSQL (from /proc, its backends);
next to a baseline measured in the same run: the same walk where every
update runs the indexed candidate query and scores afresh (what the hub did
before its candidate cache).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
import uuid
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

from bench import datagen, nearby_match, phones, push_load
from bench.docs_section import write_section
from matcher.db import make_engine, make_sessionmaker, sync_url
from matcher.esco.taxonomy import Taxonomy
from matcher.matching import geo
from matcher.matching import matches as matching
from matcher.matching.replica import VacancyReplica
from matcher.models import Jobseeker
from matcher.settings import Settings
from push import metrics as push_metrics
from push import protocol as p
from push.bus import PgBus
from push.hub import SET_POSITION_SQL, PushHub

DB_NAME = "jotr_push_bench"
EARTH_M_PER_DEG = 111_195.0


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, q)) if xs else float("nan")


def _walk(
    rng: np.random.Generator, lat: float, lon: float, steps: int
) -> list[tuple[float, float]]:
    """A phone's route: steps of 40-150 m (a brisk cyclist at one update per 5 s)."""
    out = []
    bearing = rng.uniform(0, 2 * math.pi)
    for _ in range(steps):
        bearing += rng.normal(0, 0.4)
        d = rng.uniform(*phones.BIG_STEP_M)
        lat += d * math.cos(bearing) / EARTH_M_PER_DEG
        lon += d * math.sin(bearing) / (EARTH_M_PER_DEG * math.cos(math.radians(lat)))
        out.append((lat, lon))
    return out


class Baseline:
    """The hub's location path before the cache: read the seeker, store the
    position, run the candidate query and score, every update."""

    def __init__(self, hub: PushHub) -> None:
        self.hub = hub

    async def on_location(self, seeker_id: uuid.UUID, lat: float, lon: float) -> int:
        async with self.hub.sessionmaker() as session, session.begin():
            seeker = await session.get(Jobseeker, seeker_id, populate_existing=True)
            assert seeker is not None
            raw = await geo.raw_connection(session)
            await raw.execute(SET_POSITION_SQL, seeker_id, lon, lat)
            scored = await matching.score_nearby(
                session, self.hub.taxonomy, seeker, lat, lon, seeker.radius_m
            )
            rows = matching.rank(scored, 50, seeker.push_min_score)
            return len(rows)


def _pg_ticks() -> dict[int, int]:
    return phones.cpu_snapshot({}, DB_NAME)["postgres"]


def _pg_cpu_s(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds of this database's backends in between (a backend that
    exits in between is not counted: the pool keeps them open)."""
    ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
    return ticks / os.sysconf("SC_CLK_TCK")


async def run_variant(
    name: str,
    handle: Any,
    routes: list[tuple[uuid.UUID, list[tuple[float, float]]]],
    concurrency: int,
) -> dict[str, Any]:
    lat_s: list[float] = []
    queue: asyncio.Queue[tuple[uuid.UUID, list[tuple[float, float]]]] = asyncio.Queue()
    for r in routes:
        queue.put_nowait(r)

    async def worker() -> None:
        while not queue.empty():
            seeker_id, route = queue.get_nowait()
            for lat, lon in route:
                t0 = time.perf_counter()
                await handle(seeker_id, lat, lon)
                lat_s.append(time.perf_counter() - t0)

    cpu0, pg0, t0 = time.process_time(), _pg_ticks(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    cpu, pg = time.process_time() - cpu0, _pg_cpu_s(pg0, _pg_ticks())
    n = len(lat_s)
    res: dict[str, Any] = {
        "name": name, "updates": n, "per_s": n / wall, "p50": _pct(lat_s, 50),
        "p99": _pct(lat_s, 99), "cpu_ms": 1000 * cpu / n, "pg_ms": 1000 * pg / n,
    }  # fmt: skip
    res["capacity"] = 2000.0 / max(res["cpu_ms"] + res["pg_ms"], 1e-9)  # updates/s on 2 cores
    print(
        f"  {name}: {n:,} updates, {res['per_s']:,.0f}/s at concurrency {concurrency}; "
        f"p50 {res['p50']:.2f} ms, p99 {res['p99']:.2f} ms; CPU per update: worker "
        f"{res['cpu_ms']:.2f} ms, PostgreSQL {res['pg_ms']:.2f} ms",
        file=sys.stderr,
    )
    return res


async def main_async(args: argparse.Namespace, url: str) -> dict[str, Any]:
    settings = Settings(push_per_minute=100_000, database_url=url)
    engine = make_engine(url, settings)
    sm = make_sessionmaker(engine)
    async with sm() as session:
        taxonomy = await Taxonomy.load(session)
        ids = list(
            (await session.execute(
                Jobseeker.__table__.select().with_only_columns(Jobseeker.id)
                .order_by(Jobseeker.id).limit(args.phones)
            )).scalars()
        )  # fmt: skip
    if len(ids) < args.phones:
        raise SystemExit(f"{DB_NAME} has {len(ids)} seekers: add_seekers did not run")
    rng = np.random.default_rng(args.seed)
    lat, lon = datagen.sample_points(rng, datagen.load_places(), len(ids))
    routes = [
        (sid, _walk(rng, float(a), float(b), args.steps))
        for sid, a, b in zip(ids, lat, lon, strict=True)
    ]
    bus = PgBus(make_url(sync_url(url)).set(drivername="postgresql").render_as_string(False))
    hub = PushHub(sm, taxonomy, settings, bus)
    # The worker's replica of open vacancies, as api/app.py gives the hub one:
    # areas are rebuilt from memory, uncapped.
    replica = VacancyReplica(sm)
    await replica.load()
    hub.replica = hub.areas.replica = replica
    await bus.start(hub.ring, hub.on_bus_connect)
    consumer = asyncio.create_task(hub.consume())
    writer = asyncio.create_task(hub.write_positions())
    conns = {sid: hub.open(sid) for sid in ids}
    for conn in conns.values():  # hello (and the device's start point), as a real connect
        await hub.start(conn)
    pushed = 0

    async def cached(seeker_id: uuid.UUID, la: float, lo: float) -> None:
        nonlocal pushed
        conn = conns[seeker_id]
        pushed += await hub.on_location(conn, p.Location(la, lo, None))
        while not conn.outbox.empty():  # the phone reads everything
            conn.outbox.get_nowait()

    base = Baseline(hub)
    try:
        await _reset(url, ids)
        b = await run_variant(
            "baseline (query every update)",
            lambda s, a, o: base.on_location(s, a, o),
            routes,
            args.concurrency,
        )
        await _reset(url, ids)
        c = await run_variant("candidate cache", cached, routes, args.concurrency)
    finally:
        writer.cancel()
        consumer.cancel()
        for conn in conns.values():
            await hub.close(conn)
        await bus.close()
        await engine.dispose()
    c["area_fetches"] = hub.areas.fetches
    c["rebuilds"] = int(push_metrics.CACHE_REBUILDS._value.get())
    print(f"  cache: {c['rebuilds']:,} rebuilds from {c['area_fetches']:,} area queries",
          file=sys.stderr)  # fmt: skip
    return {"baseline": b, "cached": c, "pushed": pushed}


async def _reset(url: str, ids: list[uuid.UUID]) -> None:
    """Both variants start from nothing pushed."""
    with psycopg.connect(nearby_match._libpq(url)) as conn:
        conn.execute("DELETE FROM push_deliveries WHERE jobseeker_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM push_streams WHERE jobseeker_id = ANY(%s)", (ids,))
    push_load._vacuum(url)


def write_docs(args: argparse.Namespace, r: dict[str, Any], load: tuple[float, float]) -> None:
    b, c = r["baseline"], r["cached"]
    lines = [
        f"Command: `python -m bench.push_hub --phones {args.phones} --steps {args.steps} "
        f"--concurrency {args.concurrency} --write-docs` (one worker process, in process; "
        f"1-minute load {load[0]:.1f} before, {load[1]:.1f} after).",
        "",
        "| path | updates | p50 | p99 | worker CPU / update | PostgreSQL CPU / update "
        "| 2-core capacity |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for x in (b, c):
        lines.append(
            f"| {x['name']} | {x['updates']:,} | {x['p50']:.2f} ms | {x['p99']:.2f} ms "
            f"| {x['cpu_ms']:.2f} ms | {x['pg_ms']:.2f} ms | {x['capacity']:,.0f}/s |"
        )
    lines += [
        "",
        f"CPU per update, baseline / cache: "
        f"{(b['cpu_ms'] + b['pg_ms']) / max(c['cpu_ms'] + c['pg_ms'], 1e-9):.1f}x. "
        "Capacity = 2,000 ms of CPU a second / (worker + PostgreSQL CPU per update), the "
        "ceiling for both cores with nothing else running.",
    ]
    write_section("push_hub", "Push hub, in process", "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phones", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=12, help="location updates per phone")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", nearby_match.DEFAULT_ADMIN)
    url = sync_url(make_url(admin).set(database=DB_NAME).render_as_string(False))
    load0 = os.getloadavg()[0]
    # The push load benchmark's database (20k vacancies), with this run's seekers.
    data = nearby_match.prepare_database(admin, 20_000, push_load.SEED, True, DB_NAME)
    push_load._clean(data.url)
    push_load.add_seekers(data.url, args.phones, 5000.0, args.seed)
    r = asyncio.run(main_async(args, url))
    ratio = (r["baseline"]["cpu_ms"] + r["baseline"]["pg_ms"]) / max(
        r["cached"]["cpu_ms"] + r["cached"]["pg_ms"], 1e-9
    )
    print(f"CPU per update, baseline / cache: {ratio:.1f}x; pushed {r['pushed']}")
    if args.write_docs:
        write_docs(args, r, (load0, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
