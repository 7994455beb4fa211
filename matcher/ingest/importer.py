"""Import job ads from a `Source` (matcher/ingest/source.py) into vacancies.

The importer does not know where ads come from: a source yields batches of
internal records (`AdRecord`, `Tombstone`) with its position after each. One
batch is one transaction: its vacancies are upserted by the source's ad id,
withdrawn ads are closed, a finished sweep closes the ads that left the listing,
and the source's position is saved in `import_state` - all committed together
or not at all. So a crash anywhere resumes at exactly the first uncommitted
batch, and no batch is ever half written. Each transaction is the same unit of
work the API's requests use (matcher/posting/unit_of_work.py): the vacancies it closed
get their withdrawals in it (push's hook, registered by the CLI), and its
changes are announced only after it commits. Everything slow and fallible that
is not the database (fetching with retries, mapping, geocoding, skill
extraction) happens before the transaction opens.

Per record: a record that cannot be mapped, located or stored is skipped and
counted by reason (`ImportReport.broken`), never failing its batch. Every
vacancy the import creates, changes or closes (withdrawn at the source, gone
from the listing, or expired) is an event on the batch's session
(matcher/posting/events.py); the caller (api/) owns the hooks and the bus.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from matcher.ingest import store
from matcher.ingest.concepts import (
    ConceptResolver,
    OccupationFinder,
    SkillExtractor,
    vacancy_concepts,
)
from matcher.ingest.feed_client import FeedError
from matcher.ingest.jobnet_mapping import COPENHAGEN, AdRecord, Tombstone
from matcher.ingest.source import ImportFailed, Source, SourceBatch
from matcher.integrations import integration_events
from matcher.location.geocode import Geocoder
from matcher.posting import events as vacancy_events
from matcher.posting.events import VacancyEvent
from matcher.posting.unit_of_work import UnitOfWork
from matcher.posting.vacancies import EXPIRY_FUTURE_YEARS, start_date_problem, years_from

__all__ = ["ImportFailed", "ImportReport", "Importer"]

log = logging.getLogger("jotr.ingest")

GEOCODE_CONCURRENCY = 8  # addresses looked up at once (be kind to the address API)


class _Refused(Exception):
    """The database refused one row (isolate mode)."""


@dataclass
class ImportReport:
    pages: int = 0
    ads: int = 0  # feed items read, tombstones and broken ones included
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0  # withdrawn at the source, or gone from the listing (sweep)
    expired: int = 0  # past the application deadline
    duplicates: int = 0  # earlier copies of an ad on the same page (the last one won)
    broken: Counter[str] = field(default_factory=Counter)
    precision: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    resumed: bool = False
    cursor: str | None = None
    occupation_by: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

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
        if self.occupation_by:
            out.append(
                "  occupation by: " + ", ".join(f"{k} {v}" for k, v in self.occupation_by.items())
            )
        return out + self.notes


Progress = Callable[[ImportReport, int | None], None]


@dataclass
class _Batch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    employers: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    tombstones: list[str] = field(default_factory=list)
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    close_unseen_since: dt.datetime | None = None
    min_seen_share: float = 0.0


class Importer:
    def __init__(
        self,
        uow: UnitOfWork,
        source: Source,
        geocoder: Geocoder,
        extractor: SkillExtractor,
        resolver: ConceptResolver,
        progress: Progress | None = None,
        occupations: OccupationFinder | None = None,
    ) -> None:
        self.uow = uow
        self.sessionmaker = uow.sessionmaker  # reads outside the batches
        self.source = source
        self.geocoder = geocoder
        self.extractor = extractor
        self.resolver = resolver
        self.progress = progress
        self.occupations = occupations

    async def run(self, reset: bool = False) -> ImportReport:
        """Import from the source's stored position (or from its start with `reset`)."""
        report = ImportReport()
        name = self.source.name
        async with self.sessionmaker() as session, session.begin():
            state = await store.ensure_state(await store.connection(session), name, reset)
        try:
            async for batch in self.source.batches(state, self._known):
                prepared = await self._prepare(batch, report)
                await self._commit(prepared, state, batch.state, report)
                state = report.cursor = batch.state
                report.pages += 1
                if self.progress is not None:
                    self.progress(report, batch.remaining)
        except FeedError as exc:
            raise ImportFailed(str(exc)) from exc
        finally:
            report.retries = self.source.retries
            report.resumed = self.source.resumed
        await self.expire_due(report)
        return report

    async def _known(self, refs: Sequence[str]) -> dict[str, str | None]:
        async with self.sessionmaker() as session:
            conn = await store.connection(session)
            return await store.known_hashes(conn, self.source.name, refs)

    # --- outside the transaction: map, locate, extract --------------------------------

    async def _prepare(self, source_batch: SourceBatch, report: ImportReport) -> _Batch:
        report.ads += source_batch.ads
        report.duplicates += source_batch.duplicates
        report.broken.update(source_batch.broken)
        name = self.source.name
        ads = [r for r in source_batch.records if isinstance(r, AdRecord)]
        points = await self._locate(ads)
        batch = _Batch(
            tombstones=[
                f"{name}:{r.ref}" for r in source_batch.records if isinstance(r, Tombstone)
            ],
            close_unseen_since=source_batch.close_unseen_since,
            min_seen_share=source_batch.min_seen_share,
        )
        retry: set[str] = set()  # refs to fetch again next time
        now = dt.datetime.now(dt.UTC)
        today = now.astimezone(COPENHAGEN).date()
        for ad, point in zip(ads, points, strict=True):
            if point is None:
                report.broken["not_located"] += 1
                retry.add(ad.ref)
                continue
            try:
                concepts, occupation_by = vacancy_concepts(
                    self.extractor, self.resolver, ad, self.occupations
                )
            except Exception:  # the extractor's bug must not stop the import
                log.exception("extraction failed for ad %s", ad.ref)
                report.broken["extraction_failed"] += 1
                retry.add(ad.ref)
                continue
            report.occupation_by[occupation_by] += 1
            key = store.employer_key(name, ad.employer_name, ad.employer_cvr)
            batch.employers[key] = (ad.employer_name, ad.employer_cvr)
            expired = ad.expires_at is not None and ad.expires_at <= now
            batch.rows.append(
                {
                    "ref": ad.ref,
                    "employer_key": key,
                    "source_ref": f"{name}:{ad.ref}",
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
                    "start_date": sane_start_date(ad.start_date, today),
                    "expires_at": sane_expiry(ad.expires_at, now),
                    "status": "expired" if expired else store.OPEN,
                    "apply": json.dumps(ad.apply, ensure_ascii=False) if ad.apply else None,
                    **concepts,
                }
            )
        batch.seen = [(ref, None if ref in retry else h) for ref, h in source_batch.seen]
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
        if batch.close_unseen_since is not None:
            report.notes.append("sweep: every page of the listing was read")
        try:
            counts = await self._write(batch, expected, cursor, isolate=False)
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
            # One row the database refuses must not sink its page: redo the page
            # with a savepoint per row and skip the refused ones.
            log.warning("page write failed (%s); retrying row by row", exc)
            counts = await self._write(batch, expected, cursor, isolate=True)
        tally = counts
        for name, n in tally.items():
            if name in ("created", "updated", "unchanged", "closed", "expired"):
                setattr(report, name, getattr(report, name) + n)
            elif name == "sweep_refused":
                pass
            else:
                report.broken[name] += n
        for row in batch.rows:
            report.precision[row["location_precision"]] += 1
        if tally.get("sweep_refused"):
            report.notes.append(
                "sweep closed nothing: it saw fewer ads than"
                f" {batch.min_seen_share:.0%} of the open ones (a broken listing?)"
            )

    async def _write(
        self, batch: _Batch, expected: str | None, cursor: str, isolate: bool
    ) -> Counter[str]:
        tally: Counter[str] = Counter()
        events: list[VacancyEvent] = []
        closed: list[uuid.UUID] = []
        refused: set[str] = set()  # refs the database refused: fetched again next time
        name = self.source.name
        async with self.uow.transaction() as session:
            conn = await store.connection(session)
            if await store.lock_cursor(conn, name) != expected:
                raise ImportFailed(f"another {name} import moved the cursor; stopped")
            employer_ids = await store.employer_ids(conn, batch.employers)
            before = await store.lock_existing(conn, [r["source_ref"] for r in batch.rows])
            for row in batch.rows:
                row["employer_id"] = employer_ids[row["employer_key"]]
                try:
                    written = await self._upsert(conn, row, isolate)
                except _Refused:
                    tally["rejected_by_database"] += 1
                    refused.add(row["ref"])
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
            await store.record_seen(
                conn, name, [(ref, None if ref in refused else h) for ref, h in batch.seen]
            )
            if batch.close_unseen_since is not None:
                withdrawn += await self._sweep(conn, batch, tally)
            tally["closed"] += len(withdrawn)
            closed += withdrawn
            await _emit_for_case_systems(conn, events, closed)
            await store.save_cursor(conn, name, cursor)
            # The unit of work records the withdrawals before it commits and
            # announces these after (a rolled-back batch announces nothing).
            for event in [*events, *(VacancyEvent(vid, "closed") for vid in closed)]:
                vacancy_events.emit(session, event)
        return tally

    async def _sweep(
        self, conn: asyncpg.Connection, batch: _Batch, tally: Counter[str]
    ) -> list[uuid.UUID]:
        """Close the ads that left the listing, unless the listing looked broken."""
        since = batch.close_unseen_since
        name = self.source.name
        open_now = await store.open_count(conn, name)
        if open_now and await store.seen_count(conn, name, since) < batch.min_seen_share * open_now:
            tally["sweep_refused"] += 1
            log.warning("sweep of %s saw too few ads; closing nothing", name)
            return []
        return await store.close_unseen(conn, name, since)

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
            async with self.uow.transaction() as session:
                expired = await store.expire_due(await store.connection(session))
                for vid in expired:
                    vacancy_events.emit(session, VacancyEvent(vid, "closed"))
            report.expired += len(expired)
            if len(expired) < 1000:
                return


def sane_start_date(start: dt.date | None, today: dt.date) -> dt.date | None:
    """The feed's start date if within the range the API accepts, else unknown:
    an ad is worth importing without its start date, not with a wrong one."""
    if start is None or start_date_problem(start, today):
        return None
    return start


def sane_expiry(expires_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """The feed's deadline, at most EXPIRY_FUTURE_YEARS ahead (a later one is
    brought forward to that bound, so the ad still expires some day). A past one
    stays: the ad is stored as expired."""
    if expires_at is None:
        return None
    latest = now + (years_from(now.date(), EXPIRY_FUTURE_YEARS) - now.date())
    return min(expires_at, latest)


async def _emit_for_case_systems(
    conn: asyncpg.Connection, events: Sequence[VacancyEvent], closed: Sequence[uuid.UUID]
) -> None:
    """`vacancy.created` / `vacancy.closed` in the import's transaction, as for ads
    posted through the API (matcher/integrations/integration_events.py)."""
    created = [e.vacancy_id for e in events if e.kind == "created"]
    if created:
        rows = await conn.fetch(
            "SELECT id, employer_id, title, job_type::text AS job_type, hours_per_week,"
            " min_age, start_date FROM vacancies WHERE id = ANY($1::uuid[]) ORDER BY id",
            created,
        )
        await integration_events.emit_many(
            conn,
            "vacancy.created",
            [
                (
                    f"vacancies/{r['id']}",
                    {
                        "vacancy_id": str(r["id"]),
                        "employer_id": str(r["employer_id"]),
                        "source": "import",
                        "title": r["title"],
                        "job_type": r["job_type"],
                        "hours_per_week": r["hours_per_week"],
                        "min_age": r["min_age"],
                        "start_date": r["start_date"].isoformat() if r["start_date"] else None,
                    },
                )
                for r in rows
            ],
        )
    await integration_events.emit_many(
        conn,
        "vacancy.closed",
        [(f"vacancies/{v}", {"vacancy_id": str(v), "status": "closed"}) for v in closed],
    )
