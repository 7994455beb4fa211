"""The Jobnet import against a real local HTTP feed, real ESCO extraction and PostGIS.

Every test has its own feed server and its own source name (so its own cursor,
employers and `source_ref` prefix) in the session's database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from matcher.esco.taxonomy import Taxonomy
from matcher.extraction.extract import Extractor
from matcher.ingest.feed_client import FeedClient, RetryPolicy
from matcher.ingest.importer import Importer, ImportFailed, ImportReport
from matcher.ingest.source import FeedSource, SourceBatch
from matcher.location.geocode import ChainGeocoder, DawaGeocoder, PostcodeGeocoder
from matcher.posting.events import VacancyEvent
from matcher.posting.unit_of_work import UnitOfWork, WriteHooks
from push import write_side
from tests.feed_server import DawaAddress, Fault, FeedServer, decode_cursor
from tests.jobnet_samples import ad, changed, tombstone

NETTO = DawaAddress("a1b2c3d4-0000-4000-8000-000000000001", "Frederiks Allé", "100", "8000",
                    "Aarhus C", 56.1497, 10.2003)  # fmt: skip


@pytest.fixture(scope="module")
async def esco(esco_loaded: object, engine: AsyncEngine) -> tuple[Extractor, Taxonomy]:
    async with AsyncSession(engine) as session:
        return await Extractor.from_database(session), await Taxonomy.load(session)


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.add_address("Frederiks Allé 100, 8000 Aarhus C", NETTO)
    yield server
    server.stop()


class Recorder:
    """Hooks that remember what they were given; can fail on the n-th batch."""

    def __init__(self, fail_on_batch: int | None = None) -> None:
        self.batches = 0
        self.fail_on_batch = fail_on_batch
        self.closed: list[uuid.UUID] = []
        self.events: list[VacancyEvent] = []

    async def in_transaction(self, session: AsyncSession, closed: list[uuid.UUID]) -> None:
        self.batches += 1
        if self.batches == self.fail_on_batch:
            raise RuntimeError("power cut")  # after the page's writes, before its commit
        self.closed += closed

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        self.events += events


class FeedImport:
    """An importer over the feed source; `run(since, reset)` sets where the feed starts."""

    def __init__(self, importer: Importer, source: FeedSource) -> None:
        self.importer, self.source = importer, source
        self.feed = source.client

    async def run(self, since: dt.datetime | None, reset: bool = False) -> ImportReport:
        self.source.since = since
        return await self.importer.run(reset=reset)


def importer(
    feed: FeedServer,
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
    source: str,
    hooks: Sequence[WriteHooks] = (),
    page_size: int = 5,
    attempts: int = 4,
    url: str | None = None,
    progress: Any = None,
) -> FeedImport:
    geocoder = ChainGeocoder([DawaGeocoder(feed.base_url, http), PostcodeGeocoder()])
    client = FeedClient(http, url or feed.feed_url, RetryPolicy(attempts=attempts, base_s=0.01))
    feed_source = FeedSource(client, page_size=page_size, name=source)
    return FeedImport(Importer(UnitOfWork(sessionmaker, hooks), feed_source, geocoder, esco[0],
                               esco[1], progress=progress), feed_source)  # fmt: skip


def new_source() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


async def rows(sessionmaker: async_sessionmaker[AsyncSession], source: str) -> dict[str, Any]:
    async with sessionmaker() as s:
        result = await s.execute(
            text(
                "SELECT v.source_ref, v.id, v.title, v.status::text AS status,"
                " v.location_precision, ST_Y(v.location::geometry) AS lat,"
                " ST_X(v.location::geometry) AS lon, v.occupation_id, v.required_skill_ids,"
                " v.optional_skill_ids, v.job_type::text AS job_type, v.min_age, v.updated_at,"
                " e.name AS employer, e.import_key, e.id AS employer_id"
                " FROM vacancies v JOIN employers e ON e.id = v.employer_id"
                " WHERE v.source = 'import' AND v.source_ref LIKE :prefix"
            ),
            {"prefix": f"{source}:%"},
        )
        return {r.source_ref.split(":", 1)[1]: r for r in result}


async def stored_cursor(sessionmaker: async_sessionmaker[AsyncSession], source: str) -> str | None:
    async with sessionmaker() as s:
        cursor: str | None = await s.scalar(
            text("SELECT cursor FROM import_state WHERE source = :s"), {"s": source}
        )
        return cursor


async def test_pages_with_broken_records_duplicates_and_faults(
    feed: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 13):
        feed.put(ad(i), changed(i))
    later = changed(7) + dt.timedelta(seconds=1)  # the same ad again, on the same page
    feed.put(ad(7, Title="Barista, hverdage", Changed=later.isoformat()), later, key="7-again")
    broken: list[Any] = [
        "garbage",
        {"Title": "no id"},
        ad(101, Title="", JobHeadline=None),
        ad(102, Latitude="north", Longitude=10.2),
        ad(103, Latitude=64.18, Longitude=-51.7),
        ad(104, Latitude=0, WorkPlaceAddress="", WorkPlacePostalCode="", WorkPlaceCity=""),
    ]
    for n, item in enumerate(broken):
        feed.put(item, changed(n * 2) + dt.timedelta(seconds=30), key=f"broken-{n}")
    feed.fail_feed(Fault(status=503, retry_after="0"), Fault(delay_s=1.5))  # 503, then a timeout
    source, recorder = new_source(), Recorder()
    seen: list[tuple[int, int | None]] = []

    report = await importer(
        feed, http, sessionmaker, esco, source, [recorder],
        progress=lambda r, remaining: seen.append((r.ads, remaining)),
    ).run(changed(0))  # fmt: skip

    assert report.retries == 2, report
    assert (report.created, report.updated, report.closed, report.duplicates) == (12, 0, 0, 1)
    assert report.broken == {
        "not_an_object": 1, "missing_id": 1, "missing_title": 1, "bad_field": 1,
        "outside_denmark": 1, "missing_location": 1,
    }  # fmt: skip
    assert report.pages == 4 and report.ads == 19  # 19 items in pages of 5
    assert seen[-1] == (19, 0) and len(seen) == 4
    assert {e.kind for e in recorder.events} == {"created"} and len(recorder.events) == 12

    got = await rows(sessionmaker, source)
    assert sorted(got, key=int) == [str(i) for i in range(1, 13)]
    assert got["7"].title == "Barista, hverdage"  # the last copy won
    assert got["1"].location_precision == "given"
    netto = got["2"]  # no coordinates in the feed: DAWA found the address
    assert netto.location_precision == "address"
    assert (round(netto.lat, 4), round(netto.lon, 4)) == (NETTO.lat, NETTO.lon)
    assert got["3"].location_precision == "postcode"  # DAWA did not know it
    assert report.precision == {"given": 7, "address": 3, "postcode": 2}
    # One employer row per hiring organisation, made by the import, unable to log in.
    assert got["5"].employer_id == got["10"].employer_id
    assert got["5"].import_key == f"{source}:38129456:kaffe & kage aps"
    assert got["5"].job_type == "fritidsjob" and got["5"].min_age == 15
    assert got["1"].job_type == "ordinary" and got["1"].min_age == 18


async def test_extraction_uses_real_esco(
    feed: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    feed.put(ad(5), changed(5))  # the barista
    feed.put(ad(9), changed(9))  # English: cleaning assistant
    source = new_source()
    await importer(feed, http, sessionmaker, esco, source).run(changed(0))
    got = await rows(sessionmaker, source)
    taxonomy = esco[1]
    barista = got["5"]
    assert barista.occupation_id is not None
    assert "barista" in taxonomy.occupation_label(barista.occupation_id).lower()
    assert barista.required_skill_ids or barista.optional_skill_ids
    cleaner = got["9"]
    labels = [
        taxonomy.skill_label(s) for s in cleaner.required_skill_ids + cleaner.optional_skill_ids
    ]
    assert cleaner.occupation_id is not None and labels, labels


async def test_crash_mid_import_resumes_exactly(
    feed: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 21):
        feed.put(ad(i), changed(i))
    source = new_source()

    with pytest.raises(RuntimeError, match="power cut"):
        await importer(feed, http, sessionmaker, esco, source, [Recorder(fail_on_batch=3)]).run(
            changed(0)
        )
    got = await rows(sessionmaker, source)
    assert sorted(got, key=int) == [str(i) for i in range(1, 11)]  # pages 1 and 2, not 3
    cursor = await stored_cursor(sessionmaker, source)
    assert cursor is not None and decode_cursor(cursor)[1] == "10"

    asked = len(feed.state.feed_requests)
    report = await importer(feed, http, sessionmaker, esco, source).run(None)
    assert report.resumed and feed.state.feed_requests[asked] == {"cursor": cursor, "pageSize": "5"}
    assert (report.created, report.updated, report.unchanged, report.pages) == (10, 0, 0, 2)
    got = await rows(sessionmaker, source)
    assert sorted(got, key=int) == [str(i) for i in range(1, 21)]


async def test_rerun_is_idempotent_and_changes_close_and_withdraw(
    feed: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 7):
        feed.put(ad(i), changed(i))
    source = new_source()
    first = await importer(feed, http, sessionmaker, esco, source).run(changed(0))
    assert first.created == 6
    before = await rows(sessionmaker, source)

    resumed = await importer(feed, http, sessionmaker, esco, source).run(None)
    assert (resumed.pages, resumed.ads, resumed.created, resumed.updated) == (1, 0, 0, 0)
    again = await importer(feed, http, sessionmaker, esco, source).run(changed(0), reset=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert {k: r.updated_at for k, r in (await rows(sessionmaker, source)).items()} == {
        k: r.updated_at for k, r in before.items()
    }

    # Someone was pushed ad 2; then ad 2 is withdrawn, ad 3 expires, ad 1 changes title.
    seeker = uuid.uuid4()
    async with sessionmaker() as s, s.begin():
        await s.execute(
            text("INSERT INTO jobseekers (id, birth_date) VALUES (:id, '2008-01-01')"),
            {"id": seeker},
        )  # fmt: skip
        await s.execute(
            text("INSERT INTO push_streams (jobseeker_id, push_seq) VALUES (:id, 1)"),
            {"id": seeker},
        )
        await s.execute(
            text("INSERT INTO push_deliveries (jobseeker_id, seq, kind, vacancy_id, payload)"
                 " VALUES (:s, 1, 'match', :v, '{}')"),
            {"s": seeker, "v": before["2"].id},
        )  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    feed.put(ad(1, Title="Barista, også hverdage", Changed=now.isoformat()), now)
    feed.put(tombstone(2, now), now)
    feed.put(ad(3, LastDateApplication="2026-01-01T00:00:00", Changed=now.isoformat()), now)
    feed.put(tombstone(99, now), now)  # an ad we never had: nothing to close

    push, recorder = write_side.over_bus(None), Recorder()

    changes = await importer(feed, http, sessionmaker, esco, source, [push, recorder]).run(None)
    assert (changes.updated, changes.closed, changes.expired, changes.created) == (1, 1, 1, 0)
    got = await rows(sessionmaker, source)
    assert got["1"].title == "Barista, også hverdage" and got["1"].status == "open"
    assert (got["2"].status, got["3"].status) == ("closed", "expired")
    assert set(recorder.closed) == {got["2"].id, got["3"].id}
    assert set(recorder.events) == {
        VacancyEvent(got["1"].id, "updated"),
        VacancyEvent(got["2"].id, "closed"),
        VacancyEvent(got["3"].id, "closed"),
    }
    assert push.withdrawals == 1
    async with sessionmaker() as s:
        kinds = (await s.execute(
            text("SELECT kind, seq FROM push_deliveries WHERE jobseeker_id = :s ORDER BY seq"),
            {"s": seeker},
        )).all()  # fmt: skip
    assert [tuple(k) for k in kinds] == [("match", 1), ("withdrawn", 2)]

    # A deadline that passes with no change in the feed: the sweep after a run expires it.
    async with sessionmaker() as s, s.begin():
        await s.execute(
            text("UPDATE vacancies SET expires_at = now() - interval '1 minute' WHERE id = :id"),
            {"id": got["4"].id},
        )
    swept = await importer(feed, http, sessionmaker, esco, source, [recorder]).run(None)
    assert swept.expired == 1 and recorder.events[-1] == VacancyEvent(got["4"].id, "closed")
    assert (await rows(sessionmaker, source))["4"].status == "expired"


async def test_feed_failures_stop_before_writing(
    feed: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 4):
        feed.put(ad(i), changed(i))
    source = new_source()

    feed.fail_feed(*[Fault(status=503)] * 3)
    with pytest.raises(ImportFailed, match="HTTP 503, still failing after 3 tries"):
        await importer(feed, http, sessionmaker, esco, source, attempts=3).run(changed(0))
    feed.fail_feed(Fault(garbage=True), Fault(garbage=True))
    with pytest.raises(ImportFailed, match="not valid JSON"):
        await importer(feed, http, sessionmaker, esco, source, attempts=2).run(changed(0))
    feed.fail_feed(Fault(payload={"JobPositionPostings": "nope", "HasMore": False}))
    with pytest.raises(ImportFailed, match="page 1: JobPositionPostings"):
        await importer(feed, http, sessionmaker, esco, source).run(changed(0))
    wrong = importer(feed, http, sessionmaker, esco, source, url=f"{feed.base_url}/no-such-feed")
    with pytest.raises(ImportFailed, match="HTTP 404"):
        await wrong.run(changed(0))
    assert wrong.feed.retries == 0  # a 4xx is not retried
    with pytest.raises(ImportFailed, match="say where to start"):
        await importer(feed, http, sessionmaker, esco, source).run(None)
    assert await rows(sessionmaker, source) == {}
    assert await stored_cursor(sessionmaker, source) is None

    report = await importer(feed, http, sessionmaker, esco, source).run(changed(0))
    assert report.created == 3


async def test_a_row_the_database_refuses_is_skipped_alone(
    feed: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    feed.put(ad(1), changed(1))
    feed.put(ad(2), changed(2))
    source = new_source()
    imp = importer(feed, http, sessionmaker, esco, source)
    real_prepare = imp.importer._prepare

    async def prepare_with_a_bad_row(batch: SourceBatch, report: ImportReport) -> Any:
        prepared = await real_prepare(batch, report)
        prepared.rows[0]["min_age"] = 5  # violates ck_vacancies_min_age
        return prepared

    imp.importer._prepare = prepare_with_a_bad_row  # type: ignore[method-assign,assignment]
    report = await imp.run(changed(0))
    assert report.broken == {"rejected_by_database": 1} and report.created == 1
    assert list(await rows(sessionmaker, source)) == ["2"]
    assert await stored_cursor(sessionmaker, source) is not None


def jotr_env(env: dict[str, str], *args: str) -> Any:
    from typer.testing import CliRunner

    from api.cli import app
    from matcher.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_the_jotr_import_jobnet_command(
    database_url: str, esco_loaded: object, feed: FeedServer
) -> None:
    for i in range(1, 5):
        feed.put(ad(i), changed(i))
    env = {"DATABASE_URL": database_url, "JOTR_GEOCODER_URL": feed.base_url,
           "JOTR_JOBNET_FEED_URL": ""}  # fmt: skip
    args = ("import", "jobnet", "--source", "feed", "--feed-url", feed.feed_url,
            "--page-size", "3")  # fmt: skip

    first = jotr_env(env, *args, "--since", "2026-11-02T08:00:00")
    assert first.exit_code == 0, first.stderr
    assert "pages 2, ads read 4, retries 0" in first.stdout
    assert "created 4, updated 0, unchanged 0" in first.stdout
    assert "located by: given 2, address 1, postcode 1" in first.stdout

    feed.put(ad(5), changed(5))
    second = jotr_env(env, *args)  # no --since: resumes from the stored cursor
    assert second.exit_code == 0, second.stderr
    assert "resumed" in second.stdout and "created 1, updated 0" in second.stdout

    for bad, message in (
        (("import", "jobnet", "--source", "feed", "--since", "2026-11-01"), "no feed URL"),
        ((*args, "--reset"), "--reset needs --since"),
        ((*args, "--since", "last tuesday"), "not an ISO date"),
    ):
        out = jotr_env(env, *bad)
        assert out.exit_code == 1 and message in out.stderr, out.stderr
    feed.fail_feed(*[Fault(status=500)] * 6)
    down = jotr_env(env, *args)
    assert down.exit_code == 1 and "rerun to resume" in down.stderr
