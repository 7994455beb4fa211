"""Import a paginated "changed since" feed of job ads into vacancies.

One page is one transaction: its vacancies are upserted by the source's ad id,
withdrawn ads are closed, the `ImportHooks.in_transaction` hook runs (the CLI
records withdrawn pushes there), and the feed's cursor after the page is saved
in `import_state` - all committed together or not at all. So a crash anywhere
resumes at exactly the first uncommitted page, and no page is ever half written.
Everything slow and fallible that is not the database (fetching with retries,
mapping, geocoding, skill extraction) happens before the transaction opens.

Per record: a record that cannot be mapped, located or stored is skipped and
counted by reason (`ImportReport.broken`), never failing its page; duplicates
within a page: the last one wins. Vacancies closed by the import (withdrawn at
the source, or expired) are passed to `in_transaction`, and after each commit
`after_commit` receives the page's vacancy events (created, updated, closed):
the domain announces, the caller (api/) owns the bus, as matcher/events.py says.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.events import VacancyEvent
from matcher.geocode import Geocoder
from matcher.ingest import jobnet_mapping as feed_format
from matcher.ingest import store
from matcher.ingest.concepts import ConceptResolver, SkillExtractor, vacancy_concepts
from matcher.ingest.feed_client import FeedClient, FeedError
from matcher.ingest.jobnet_mapping import AdRecord, BrokenRecord, Tombstone

log = logging.getLogger("jotr.ingest")

GEOCODE_CONCURRENCY = 8  # addresses looked up at once (be kind to the address API)


# --- what the importer needs from the outside ----------------------------------------


class ImportHooks(Protocol):
    async def in_transaction(self, session: AsyncSession, closed: list[uuid.UUID]) -> None:
        """Inside each batch's transaction, after its writes; raising rolls the batch back."""

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        """After each batch commits. Errors are logged and the import goes on."""


class NoHooks:
    async def in_transaction(self, session: AsyncSession, closed: list[uuid.UUID]) -> None:
        return None

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        return None


class _Refused(Exception):
    """The database refused one row (isolate mode)."""


class ImportFailed(Exception):
    """The import stopped; everything before the failing page is committed."""


@dataclass
class ImportReport:
    pages: int = 0
    ads: int = 0  # feed items read, tombstones and broken ones included
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0  # withdrawn at the source
    expired: int = 0  # past the application deadline
    duplicates: int = 0  # earlier copies of an ad on the same page (the last one won)
    broken: Counter[str] = field(default_factory=Counter)
    precision: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    resumed: bool = False
    cursor: str | None = None

    @property
    def skipped(self) -> int:
        return sum(self.broken.values())

    def lines(self) -> list[str]:
        out = [
            f"pages {self.pages}, ads read {self.ads}, retries {self.retries}",
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}",
            f"closed {self.closed} (withdrawn), expired {self.expired}",
            f"skipped broken {self.skipped}, duplicates {self.duplicates}",
        ]
        if self.broken:
            out.append("  broken: " + ", ".join(f"{k} {v}" for k, v in self.broken.most_common()))
        if self.precision:
            out.append("  located by: " + ", ".join(f"{k} {v}" for k, v in self.precision.items()))
        return out


Progress = Callable[[ImportReport, int | None], None]


@dataclass
class _Batch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    employers: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    tombstones: list[str] = field(default_factory=list)


class Importer:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        feed: FeedClient,
        geocoder: Geocoder,
        extractor: SkillExtractor,
        resolver: ConceptResolver,
        hooks: ImportHooks | None = None,
        page_size: int = 100,
        progress: Progress | None = None,
        source: str = feed_format.SOURCE,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.feed = feed
        self.geocoder = geocoder
        self.extractor = extractor
        self.resolver = resolver
        self.hooks: ImportHooks = hooks or NoHooks()
        self.page_size = page_size
        self.progress = progress
        self.source = source

    async def run(self, since: dt.datetime | None, reset: bool = False) -> ImportReport:
        """Import from the stored cursor, or from `since` when there is none (or `reset`)."""
        report = ImportReport()
        async with self.sessionmaker() as session, session.begin():
            cursor = await store.ensure_state(await store.connection(session), self.source, reset)
        report.resumed = cursor is not None
        if cursor is None and since is None:
            raise ImportFailed(f"no stored position for {self.source}: say where to start (since)")
        params = (
            feed_format.next_request(cursor, self.page_size)
            if cursor is not None
            else feed_format.first_request(since, self.page_size)  # type: ignore[arg-type]
        )
        try:
            while True:
                body = await self.feed.get_json(params)
                try:
                    page = feed_format.parse_page(body)
                except feed_format.BrokenPage as exc:
                    raise ImportFailed(f"page {report.pages + 1}: {exc}") from None
                batch = await self._prepare(page.items, report)
                await self._commit(batch, cursor, page.cursor, report)
                cursor = report.cursor = page.cursor
                report.pages += 1
                if self.progress is not None:
                    self.progress(report, page.remaining)
                if not page.has_more:
                    break
                params = feed_format.next_request(cursor, self.page_size)
        except FeedError as exc:
            raise ImportFailed(str(exc)) from exc
        finally:
            report.retries = self.feed.retries
        await self.expire_due(report)
        return report

    # --- outside the transaction: map, locate, extract --------------------------------

    async def _prepare(self, items: list[Any], report: ImportReport) -> _Batch:
        report.ads += len(items)
        latest: dict[str, AdRecord | Tombstone] = {}
        for raw in items:
            try:
                record = feed_format.map_ad(raw)
            except BrokenRecord as exc:
                report.broken[exc.reason] += 1
                log.info("skipped ad: %s", exc)
                continue
            if record.ref in latest:
                report.duplicates += 1
                del latest[record.ref]  # re-insert: the last copy keeps its feed position
            latest[record.ref] = record
        ads = [r for r in latest.values() if isinstance(r, AdRecord)]
        points = await self._locate(ads)
        batch = _Batch(tombstones=[r.ref for r in latest.values() if isinstance(r, Tombstone)])
        now = dt.datetime.now(dt.UTC)
        for ad, point in zip(ads, points, strict=True):
            if point is None:
                report.broken["not_located"] += 1
                continue
            try:
                concepts = vacancy_concepts(self.extractor, self.resolver, ad)
            except Exception:  # the extractor's bug must not stop the import
                log.exception("extraction failed for ad %s", ad.ref)
                report.broken["extraction_failed"] += 1
                continue
            key = store.employer_key(self.source, ad.employer_name, ad.employer_cvr)
            batch.employers[key] = (ad.employer_name, ad.employer_cvr)
            expired = ad.expires_at is not None and ad.expires_at <= now
            batch.rows.append(
                {
                    "employer_key": key,
                    "source_ref": f"{self.source}:{ad.ref}",
                    "title": ad.title,
                    "description": ad.text,
                    "lat": point[0],
                    "lon": point[1],
                    "location_precision": point[2],
                    "address": ad.address,
                    "job_type": ad.job_type.value,
                    "hours_per_week": ad.hours_per_week,
                    "min_age": ad.min_age,
                    "openings": ad.openings,
                    "start_date": ad.start_date,
                    "expires_at": ad.expires_at,
                    "status": "expired" if expired else store.OPEN,
                    **concepts,
                }
            )
        batch.tombstones = [f"{self.source}:{ref}" for ref in batch.tombstones]
        return batch

    async def _locate(self, ads: list[AdRecord]) -> list[tuple[float, float, str] | None]:
        limit = asyncio.Semaphore(GEOCODE_CONCURRENCY)

        async def one(ad: AdRecord) -> tuple[float, float, str] | None:
            if ad.lat is not None and ad.lon is not None:
                return ad.lat, ad.lon, "given"
            async with limit:
                found = await self.geocoder.geocode(ad.address or "")
            return (found.lat, found.lon, found.precision) if found else None

        return list(await asyncio.gather(*(one(ad) for ad in ads)))

    # --- the transaction ------------------------------------------------------------

    async def _commit(
        self, batch: _Batch, expected: str | None, cursor: str, report: ImportReport
    ) -> None:
        try:
            counts = await self._write(batch, expected, cursor, isolate=False)
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
            # One row the database refuses must not sink its page: redo the page
            # with a savepoint per row and skip the refused ones.
            log.warning("page write failed (%s); retrying row by row", exc)
            counts = await self._write(batch, expected, cursor, isolate=True)
        events, tally = counts
        for name, n in tally.items():
            if name in ("created", "updated", "unchanged", "closed", "expired"):
                setattr(report, name, getattr(report, name) + n)
            else:
                report.broken[name] += n
        for row in batch.rows:
            report.precision[row["location_precision"]] += 1
        await self._announce(events)

    async def _write(
        self, batch: _Batch, expected: str | None, cursor: str, isolate: bool
    ) -> tuple[list[VacancyEvent], Counter[str]]:
        tally: Counter[str] = Counter()
        events: list[VacancyEvent] = []
        closed: list[uuid.UUID] = []
        async with self.sessionmaker() as session, session.begin():
            conn = await store.connection(session)
            if await store.lock_cursor(conn, self.source) != expected:
                raise ImportFailed(f"another {self.source} import moved the cursor; stopped")
            employer_ids = await store.employer_ids(conn, batch.employers)
            before = await store.lock_existing(conn, [r["source_ref"] for r in batch.rows])
            for row in batch.rows:
                row["employer_id"] = employer_ids[row["employer_key"]]
                try:
                    written = await self._upsert(conn, row, isolate)
                except _Refused:
                    tally["rejected_by_database"] += 1
                    continue
                old = before.get(row["source_ref"])
                now_open = row["status"] == store.OPEN
                if written is None:
                    tally["unchanged"] += 1
                elif old is None:
                    tally["created" if now_open else "expired"] += 1
                    if now_open:
                        events.append(VacancyEvent(written, "created"))
                elif old[1] == store.OPEN and not now_open:
                    tally["expired"] += 1
                    closed.append(written)
                else:
                    tally["updated"] += 1
                    if now_open:
                        events.append(VacancyEvent(written, "updated"))
            withdrawn = await store.close(conn, batch.tombstones)
            tally["closed"] += len(withdrawn)
            closed += withdrawn
            await self.hooks.in_transaction(session, closed)
            await store.save_cursor(conn, self.source, cursor)
        events += [VacancyEvent(vid, "closed") for vid in closed]
        return events, tally

    @staticmethod
    async def _upsert(
        conn: asyncpg.Connection, row: dict[str, Any], isolate: bool
    ) -> uuid.UUID | None:
        """The id written, None if unchanged; in isolate mode a refused row raises _Refused."""
        if not isolate:
            return await store.upsert(conn, row)
        await conn.execute("SAVEPOINT import_row")
        try:
            written = await store.upsert(conn, row)
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
            await conn.execute("ROLLBACK TO SAVEPOINT import_row")
            log.info("database refused ad %s: %s", row["source_ref"], exc)
            raise _Refused from exc
        await conn.execute("RELEASE SAVEPOINT import_row")
        return written

    async def expire_due(self, report: ImportReport) -> None:
        """Expire imported vacancies whose deadline passed (no feed change announces that)."""
        while True:
            async with self.sessionmaker() as session, session.begin():
                expired = await store.expire_due(await store.connection(session))
                if expired:
                    await self.hooks.in_transaction(session, expired)
            report.expired += len(expired)
            await self._announce([VacancyEvent(vid, "closed") for vid in expired])
            if len(expired) < 1000:
                return

    async def _announce(self, events: list[VacancyEvent]) -> None:
        if not events:
            return
        try:
            await self.hooks.after_commit(events)
        except Exception:  # the rows stand; push catches up on the next location update
            log.exception("announcing %d vacancy events failed", len(events))
