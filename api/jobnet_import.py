"""`jotr import jobnet`: wire the domain's importer to push, the bus and the terminal.

The importer (matcher/ingest) may not import push/, so it takes `ImportHooks`;
this module supplies them:

- `in_transaction(session, closed)`: for every vacancy the batch closed, record
  a `withdrawn` delivery for everyone who was pushed its match
  (push.delivery.record_withdrawals), in the batch's own transaction: the
  vacancy closes and the withdrawals exist together, or neither does.
- `after_commit(events)`: ring the bus (push/bus.py) with the batch's
  created/updated/closed events after it committed, so connected phones get
  pushes for new ads nearby and withdrawals for closed ones.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import typer
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli_common import CliError
from matcher.events import VacancyEvent
from matcher.ingest.importer import ImportReport
from matcher.settings import Settings
from push.bus import Bus

FEED_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
GEOCODER_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class PushHooks:
    def __init__(self, bus: Bus | None) -> None:
        self.bus = bus
        self.withdrawals = 0

    async def in_transaction(self, session: AsyncSession, closed: list[uuid.UUID]) -> None:
        from matcher.geo import raw_connection
        from push.delivery import record_withdrawals

        if not closed:
            return
        conn = await raw_connection(session)
        for vacancy_id in closed:
            self.withdrawals += await record_withdrawals(conn, vacancy_id)

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        if self.bus is not None:
            await self.bus.publish([e.encode() for e in events])


async def run_import(
    settings: Settings,
    database_url: str,
    feed_url: str,
    since: str | None,
    page_size: int,
    reset: bool,
) -> tuple[ImportReport, list[str]]:
    from tqdm import tqdm

    from api.app import make_bus
    from matcher.db import make_engine, make_sessionmaker
    from matcher.extract import Extractor
    from matcher.geocode import make_geocoder
    from matcher.ingest.feed_client import FeedClient
    from matcher.ingest.importer import Importer, ImportFailed
    from matcher.ingest.jobnet_mapping import parse_since
    from matcher.taxonomy import Taxonomy

    try:
        start = parse_since(since) if since else None
    except ValueError:
        raise CliError(f"--since {since!r} is not an ISO date or date-time") from None
    engine = make_engine(database_url, settings)
    sessionmaker = make_sessionmaker(engine)
    bus = make_bus(settings)
    bars: list[tqdm[Any]] = []

    def progress(report: ImportReport, remaining: int | None) -> None:
        if not bars:
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
        if extractor.n_occupations == 0:
            raise CliError("ESCO is not loaded: run `jotr esco load` first")
        async with (
            httpx.AsyncClient(timeout=FEED_TIMEOUT) as feed_http,
            httpx.AsyncClient(timeout=GEOCODER_TIMEOUT) as geo_http,
        ):
            geocoder = make_geocoder(
                settings.geocoder_url, geo_http, sessionmaker, settings.geocode_cache_ttl_days
            )
            hooks = PushHooks(bus)
            importer = Importer(
                sessionmaker,
                FeedClient(feed_http, feed_url),
                geocoder,
                extractor,
                taxonomy,
                hooks,
                page_size=page_size,
                progress=progress,
            )
            try:
                report = await importer.run(start, reset=reset)
            except ImportFailed as exc:
                raise CliError(f"jobnet import stopped: {exc} (rerun to resume)") from None
        stats = geocoder.stats
        notes = [
            f"geocoding: {stats.cache_hits} cached, {stats.lookups} looked up,"
            f" {stats.unavailable} geocoder failures, {stats.not_found} not found",
            f"withdrawn pushes recorded: {hooks.withdrawals}",
        ]
        return report, notes
    finally:
        for bar in bars:
            bar.close()
        await bus.close()
        await engine.dispose()


def echo_report(report: ImportReport, notes: list[str]) -> None:
    if report.resumed:
        typer.echo("resumed from the stored feed position (--reset starts again at --since)")
    typer.echo("jobnet import done:")
    for line in [*report.lines(), *notes]:
        typer.echo(f"  {line}")
