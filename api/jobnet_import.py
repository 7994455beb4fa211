"""`jotr import jobnet`: wire the domain's importer to push, the bus and the terminal.

The importer (matcher/ingest) may not import push/. It writes through a unit of
work (matcher/posting/unit_of_work.py), the same the API's requests use, and this
module registers push's hooks on it (push/write_side.py):

- in each batch's transaction: for every vacancy the batch closed (withdrawn
  at the source, gone from the listing, expired), a `withdrawn` delivery for
  everyone who was pushed its match: the vacancy closes and the withdrawals
  exist together, or neither does.
- after each commit: ring the bus (push/bus.py) with the batch's
  created/updated/closed events, so connected phones get pushes for new ads
  nearby and withdrawals for closed ones.
"""

from __future__ import annotations

from typing import Any

import httpx
import typer

from api.cli_common import CliError
from matcher.ingest.importer import ImportReport
from matcher.settings import Settings

FEED_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
GEOCODER_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def user_agent(contact_url: str) -> str:
    """Name the service and how to reach its operators, as polite crawlers do."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("job-on-the-run")
    except PackageNotFoundError:
        ours = "dev"
    contact = f"; +{contact_url}" if contact_url else ""
    return f"JobOnTheRun/{ours} (Jobnet import{contact})"


async def run_import(
    settings: Settings,
    database_url: str,
    source_kind: str,
    url: str,
    since: str | None,
    page_size: int,
    reset: bool,
    sweep: bool = False,
) -> tuple[ImportReport, list[str]]:
    from tqdm import tqdm

    from api.app import make_bus
    from matcher.db import make_engine, make_sessionmaker
    from matcher.esco.taxonomy import Taxonomy
    from matcher.extraction.extract import Extractor
    from matcher.ingest.feed_client import FeedClient, RateLimiter
    from matcher.ingest.importer import Importer, ImportFailed
    from matcher.ingest.jobnet_mapping import parse_since
    from matcher.ingest.jobnet_search import HEADERS
    from matcher.ingest.occupations import OccupationMatcher
    from matcher.ingest.search_source import SearchSource
    from matcher.ingest.source import FeedSource, Source
    from matcher.location.geocode import make_geocoder
    from matcher.posting.unit_of_work import UnitOfWork
    from push import write_side

    try:
        start = parse_since(since) if since else None
    except ValueError:
        raise CliError(f"--since {since!r} is not an ISO date or date-time") from None
    engine = make_engine(database_url, settings)
    sessionmaker = make_sessionmaker(engine)
    bus = make_bus(settings)
    bars: list[tqdm[Any]] = []

    def progress(report: ImportReport, remaining: int | None) -> None:
        if not bars:  # to stderr, and off when stderr is not a terminal (disable=None)
            bars.append(tqdm(unit="ad", desc="jobnet", leave=False, disable=None))
        bar = bars[0]
        if remaining is not None:
            bar.total = report.ads + remaining
        bar.n = report.ads
        bar.set_postfix(created=report.created, updated=report.updated, broken=report.skipped)

    try:
        async with sessionmaker() as session:
            taxonomy = await Taxonomy.load(session)
            extractor = await Extractor.from_database(session)
            occupations = await OccupationMatcher.load(session)
        if extractor.n_occupations == 0:
            raise CliError("ESCO is not loaded: run `jotr esco load` first")
        headers = {"User-Agent": user_agent(settings.jobnet_contact_url)}
        async with (
            httpx.AsyncClient(timeout=FEED_TIMEOUT) as feed_http,
            httpx.AsyncClient(timeout=GEOCODER_TIMEOUT) as geo_http,
        ):
            geocoder = make_geocoder(
                settings.geocoder_url, geo_http, sessionmaker, settings.geocode_cache_ttl_days
            )
            limiter = RateLimiter(settings.jobnet_requests_per_second)
            source: Source
            if source_kind == "search":
                client = FeedClient(feed_http, url, headers={**headers, **HEADERS}, limiter=limiter)
                source = SearchSource(
                    client,
                    url,
                    per_page=page_size,
                    sweep=sweep,
                    sweep_every_runs=settings.jobnet_sweep_every_runs,
                    sweep_every_hours=settings.jobnet_sweep_every_hours,
                )
            else:
                client = FeedClient(feed_http, url, headers=headers, limiter=limiter)
                source = FeedSource(client, start, page_size)
            hooks = write_side.over_bus(bus)
            uow = UnitOfWork(sessionmaker, [hooks])
            importer = Importer(uow, source, geocoder, extractor, taxonomy,
                                progress=progress, occupations=occupations)  # fmt: skip
            try:
                report = await importer.run(reset=reset)
            except ImportFailed as exc:
                raise CliError(f"jobnet import stopped: {exc} (rerun to resume)") from None
        stats = geocoder.stats
        notes = [
            f"requests {client.requests}, waited {limiter.waited_s:.1f} s for the rate limit",
            f"geocoding: {stats.cache_hits} cached, {stats.lookups} looked up,"
            f" {stats.unavailable} geocoder failures, {stats.not_found} not found",
            f"withdrawn pushes recorded: {hooks.withdrawals}",
        ]
        if isinstance(source, SearchSource):
            notes.insert(0, f"passes: {', '.join(source.passes)};"
                            f" detail requests {source.detail_requests}")  # fmt: skip
        return report, notes
    finally:
        for bar in bars:
            bar.close()
        await bus.close()
        await engine.dispose()


async def load_crosswalk_file(database_url: str, settings: Settings, data: str) -> str:
    from matcher.db import make_engine, make_sessionmaker
    from matcher.ingest.occupations import CrosswalkError, load_crosswalk, parse_crosswalk

    engine = make_engine(database_url, settings)
    try:
        pairs = parse_crosswalk(data)
        async with make_sessionmaker(engine)() as session, session.begin():
            report = await load_crosswalk(session, pairs)
    except CrosswalkError as exc:
        raise CliError(f"crosswalk not loaded: {exc}") from None
    finally:
        await engine.dispose()
    return f"crosswalk loaded: {report.rows} STAR occupations (replacing {report.replaced})"


def echo_report(report: ImportReport, notes: list[str]) -> None:
    if report.resumed:
        typer.echo("resumed from the stored position (--reset starts again from the beginning)")
    typer.echo("jobnet import done:")
    for line in [*report.lines(), *notes]:
        typer.echo(f"  {line}")
