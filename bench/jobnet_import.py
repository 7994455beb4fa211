"""Jobnet search import benchmark: a first run, an incremental run, and a full re-import.

    python -m bench.jobnet_import                     # 2,000 ads, ~2 min
    python -m bench.jobnet_import --ads 2000 --new 50 --write-docs

Builds `jotr_bench_jobnet` (Alembic `upgrade head`, the bundled ESCO), starts the
test suite's local server (tests/feed_server.py) on 127.0.0.1 serving `--ads` ads
in the search JSON of jobnet.dk's own page, and runs the real importer
(`matcher.ingest`: search source, geocoding through the server's DAWA endpoints
with the database cache, skill extraction over ESCO, PostGIS upserts) three times:

1. **first run**: the empty database reads the whole listing and every ad's details;
2. **incremental**: `--new` ads published on top, then the normal run: newest
   first, details only for the new ads, stopping at the first page of known ads;
3. **baseline, full re-import**: the same state of the listing brought up to date
   the way an importer without row hashes must do it: every page read and every
   ad's details fetched again (the ads are mapped and upserted; unchanged rows
   are not rewritten).

The request rate limit is off (a local server); with Jobnet's politeness limit
(2 requests a second) the request count decides the time, so it is printed with
the time it would take at that rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from alembic.config import Config
from sqlalchemy.engine import make_url

from alembic import command
from bench.docs_section import write_section
from matcher.db import make_engine, make_sessionmaker, sync_url
from matcher.esco.taxonomy import Taxonomy
from matcher.extraction.extract import Extractor
from matcher.ingest.feed_client import FeedClient, RateLimiter
from matcher.ingest.importer import Importer, ImportReport
from matcher.ingest.jobnet_search import HEADERS
from matcher.ingest.occupations import OccupationMatcher
from matcher.ingest.search_source import SearchSource
from matcher.ingest.source import KnownHashes, SourceBatch
from matcher.location.geocode import make_geocoder
from matcher.posting.unit_of_work import UnitOfWork
from matcher.settings import Settings
from tests.feed_server import DawaAddress, FeedServer
from tests.jobnet_samples import details, search_row

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "jotr_bench_jobnet"
DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POLITE_RATE = 2.0  # requests a second: the default of JOTR_JOBNET_REQUESTS_PER_SECOND
PER_PAGE = 100
NETTO = DawaAddress("a1b2c3d4-0000-4000-8000-000000000001", "Frederiks Allé", "100", "8000",
                    "Aarhus C", 56.1497, 10.2003)  # fmt: skip


class FullReimport(SearchSource):
    """The baseline: a sweep that trusts no stored hash, so every ad's details are fetched."""

    async def batches(
        self, state_text: str | None, known: KnownHashes
    ) -> AsyncIterator[SourceBatch]:
        async def nothing_known(refs: object) -> dict[str, str | None]:
            return {}

        self.force_sweep = True
        async for batch in super().batches(state_text, nothing_known):
            yield batch


@dataclass
class Run:
    name: str
    seconds: float
    listed: int  # ads in the listing
    new: int  # ads that were new to the database
    report: ImportReport
    requests: int
    detail_requests: int

    @property
    def ads_per_s(self) -> float:
        return self.listed / self.seconds


def prepare(admin_url: str) -> str:
    url = sync_url(make_url(admin_url).set(database=DB_NAME).render_as_string(hide_password=False))
    libpq = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")
    from matcher.esco.esco_import import bundled_esco_dir, load_esco

    load_esco(url, [bundled_esco_dir()])
    return url


def drop(admin_url: str) -> None:
    libpq = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


async def measure(url: str, ads: int, new: int) -> list[Run]:
    server = FeedServer().start()
    server.add_address("Frederiks Allé 100, 8000 Aarhus C", NETTO)
    for i in range(ads):
        server.publish(search_row(i), details(i))
    engine = make_engine(url, Settings(database_url=url))
    sessionmaker = make_sessionmaker(engine)
    runs: list[Run] = []
    try:
        async with sessionmaker() as session:
            taxonomy = await Taxonomy.load(session)
            extractor = await Extractor.from_database(session)
            occupations = await OccupationMatcher.load(session)
        async with httpx.AsyncClient(timeout=30.0) as http:
            base = f"{server.base_url}/bff"

            async def run(
                name: str, source_class: type[SearchSource], listed: int, fresh: int
            ) -> None:
                client = FeedClient(http, base, headers=HEADERS, limiter=RateLimiter(0))
                source = source_class(client, base, per_page=PER_PAGE,
                                      sweep_every_runs=10_000, sweep_every_hours=1e6)  # fmt: skip
                geocoder = make_geocoder(server.base_url, http, sessionmaker)
                importer = Importer(UnitOfWork(sessionmaker), source, geocoder, extractor,
                                    taxonomy, occupations=occupations)  # fmt: skip
                t = time.perf_counter()
                report = await importer.run()
                seconds = time.perf_counter() - t
                runs.append(Run(name, seconds, listed, fresh, report, client.requests,
                                source.detail_requests))  # fmt: skip
                print(f"{name}: {seconds:.1f} s, {report.lines()[1]}", file=sys.stderr)

            await run("first run", SearchSource, ads, ads)
            for i in range(ads, ads + new):
                server.publish(search_row(i), details(i))
            await run("incremental", SearchSource, ads + new, new)
            for i in range(ads + new, ads + 2 * new):
                server.publish(search_row(i), details(i))
            await run("baseline: full re-import", FullReimport, ads + 2 * new, new)
    finally:
        await engine.dispose()
        server.stop()
    return runs


def render(runs: list[Run], load: tuple[float, float]) -> str:
    lines = [
        f"`python -m bench.jobnet_import --ads {runs[0].listed} --new {runs[1].new}` on"
        f" {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" load average {load[0]:.2f} before, {load[1]:.2f} after. Local server, no rate"
        f" limit, {PER_PAGE} ads per search page.",
        "",
        "| run | ads listed | new | created / updated / unchanged | requests (details)"
        " | time | listed ads/s | time at 2 req/s |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        rep = r.report
        lines.append(
            f"| {r.name} | {r.listed:,} | {r.new:,} | {rep.created} / {rep.updated} /"
            f" {rep.unchanged} | {r.requests:,} ({r.detail_requests:,}) | {r.seconds:.1f} s"
            f" | {r.ads_per_s:,.0f} | {r.requests / POLITE_RATE / 60:.1f} min |"
        )
    inc, base = runs[1], runs[2]
    lines += [
        "",
        f"The incremental run brings the database up to date {base.seconds / inc.seconds:.0f}x"
        f" faster than the full re-import here, and with {base.requests / inc.requests:.0f}x"
        " fewer requests, which is what counts against Jobnet at 2 requests a second.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ads", type=int, default=2000)
    ap.add_argument("--new", type=int, default=50)
    ap.add_argument("--keep", action="store_true", help=f"keep {DB_NAME} afterwards")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", DEFAULT_ADMIN)
    url = prepare(admin)
    before = os.getloadavg()[0]
    try:
        runs = asyncio.run(measure(url, args.ads, args.new))
    finally:
        if not args.keep:
            drop(admin)
    section = render(runs, (before, os.getloadavg()[0]))
    print(section)
    if args.write_docs:
        write_section("jobnet_import", "Jobnet import", section)


if __name__ == "__main__":
    main()
