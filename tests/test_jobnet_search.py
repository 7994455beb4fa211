"""The Jobnet search-JSON import against a real local HTTP server, real ESCO and PostGIS.

The server (tests/feed_server.py) serves `FindJob/Search` and `FindJob/JobAdDetails`
in the shape jobnet.dk's own page gets, records every request with its headers,
and refuses requests without `x-csrf: 1` as the site does. Every test has its own
source name, so its own state, `import_ads` rows, employers and `source_ref`s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.jobnet_import import user_agent
from matcher.esco.autocomplete import OCCUPATION_LABELS_SQL, LabelRow
from matcher.esco.taxonomy import Taxonomy
from matcher.extraction.extract import Extractor
from matcher.ingest.feed_client import FeedClient, RateLimiter, RetryPolicy
from matcher.ingest.importer import Importer, ImportFailed
from matcher.ingest.jobnet_search import HEADERS
from matcher.ingest.occupations import OccupationMatcher, load_crosswalk
from matcher.ingest.search_source import SearchSource
from matcher.location.geocode import ChainGeocoder, DawaGeocoder, PostcodeGeocoder
from matcher.posting.events import VacancyEvent
from matcher.posting.unit_of_work import UnitOfWork, WriteHooks
from push import write_side
from tests.feed_server import DawaAddress, Fault, FeedServer
from tests.jobnet_samples import details, search_id, search_row

NETTO = DawaAddress("a1b2c3d4-0000-4000-8000-000000000001", "Frederiks Allé", "100", "8000",
                    "Aarhus C", 56.1497, 10.2003)  # fmt: skip
CONTACT = "https://jotr.example.dk/om-importen"
ESCO = "http://data.europa.eu/esco/occupation/"
RENGOERING = ESCO + "303a1e34-cb16-4054-b323-81e5eec17397"  # "rengøringsassistent"
BUTIK = ESCO + "0b15375e-dfdd-4047-9efb-096e0aaee7d2"  # "butiksassistent"


@pytest.fixture(scope="module")
async def esco(esco_loaded: object, engine: AsyncEngine) -> tuple[Extractor, Taxonomy]:
    async with AsyncSession(engine) as session:
        return await Extractor.from_database(session), await Taxonomy.load(session)


@pytest.fixture(scope="module")
async def da_labels(esco_loaded: object, engine: AsyncEngine) -> list[LabelRow]:
    async with AsyncSession(engine) as session:
        rows = await session.execute(text(OCCUPATION_LABELS_SQL))
        return [(r[0], r[1], r[2], r[3]) for r in rows if r[1] == "da"]


@pytest.fixture
def jobnet() -> Iterator[FeedServer]:
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
            raise RuntimeError("power cut")  # after the batch's writes, before its commit
        self.closed += closed

    async def after_commit(self, events: list[VacancyEvent]) -> None:
        self.events += events


def search_import(
    jobnet: FeedServer,
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
    name: str,
    hooks: Sequence[WriteHooks] = (),
    occupations: OccupationMatcher | None = None,
    per_page: int = 5,
    attempts: int = 4,
    sweep: bool = False,
    rate: float = 0.0,
    sweep_every_runs: int = 1000,
) -> tuple[Importer, SearchSource]:
    geocoder = ChainGeocoder([DawaGeocoder(jobnet.base_url, http), PostcodeGeocoder()])
    base = f"{jobnet.base_url}/bff"
    client = FeedClient(
        http,
        base,
        RetryPolicy(attempts=attempts, base_s=0.01),
        headers={"User-Agent": user_agent(CONTACT), **HEADERS},
        limiter=RateLimiter(rate),
    )
    source = SearchSource(client, base, per_page=per_page, sweep=sweep, name=name,
                          sweep_every_runs=sweep_every_runs, sweep_every_hours=1000)  # fmt: skip
    importer = Importer(UnitOfWork(sessionmaker, hooks), source, geocoder, esco[0], esco[1],
                        occupations=occupations)  # fmt: skip
    return importer, source


def new_name() -> str:
    return f"s{uuid.uuid4().hex[:10]}"


async def rows(sessionmaker: async_sessionmaker[AsyncSession], name: str) -> dict[str, Any]:
    async with sessionmaker() as s:
        result = await s.execute(
            text(
                "SELECT v.source_ref, v.id, v.title, v.status::text AS status, v.apply,"
                " v.location_precision, v.occupation_id, v.openings, v.hours_per_week,"
                " v.job_type::text AS job_type, v.expires_at, v.description"
                " FROM vacancies v WHERE v.source = 'import' AND v.source_ref LIKE :prefix"
            ),
            {"prefix": f"{name}:%"},
        )
        return {r.source_ref.split(":", 1)[1]: r for r in result}


async def stored_state(sessionmaker: async_sessionmaker[AsyncSession], name: str) -> Any:
    async with sessionmaker() as s:
        state = await s.scalar(
            text("SELECT cursor FROM import_state WHERE source = :s"), {"s": name}
        )
        seen = await s.scalar(
            text("SELECT count(*) FROM import_ads WHERE source = :s"), {"s": name}
        )
        return state, seen


async def test_first_run_then_only_new_and_changed_ads_fetch_details(
    jobnet: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy], da_labels: list[LabelRow],
) -> None:  # fmt: skip
    for i in range(1, 13):
        jobnet.publish(search_row(i), details(i))
    external = search_row(13, isExternal=True, jobAdUrl="https://other.example.dk/j/13")
    jobnet.publish(external)  # no details: Jobnet answers 404 for ads hosted elsewhere
    name, matcher = new_name(), OccupationMatcher(da_labels, {})

    first, source = search_import(jobnet, http, sessionmaker, esco, name, occupations=matcher)
    report = await first.run()
    assert (report.created, report.updated, report.skipped) == (13, 0, 0), report
    assert source.passes == ["sweep"]  # a first run reads everything
    assert sorted(jobnet.detail_ids()) == sorted(search_id(i) for i in range(1, 14))
    assert len(jobnet.state.search_requests) == 3  # 13 ads in pages of 5
    for seen in jobnet.state.search_requests + jobnet.state.details_requests:
        assert seen.headers["x-csrf"] == "1"
        assert seen.headers["user-agent"].startswith("JobOnTheRun/")
        assert CONTACT in seen.headers["user-agent"]
    assert jobnet.state.search_requests[0].params == {
        "resultsPerPage": "5", "pageNumber": "1", "orderType": "PublicationDate",
        "searchString": "",
    }  # fmt: skip

    got = await rows(sessionmaker, name)
    ad5 = got[search_id(5)]
    assert ad5.apply == {
        "url": "https://karriere.example.dk/ansog/5",  # application.url beats jobAdUrl
        "contacts": [{"name": "Mette Hansen", "phone": "+4586123456",
                      "email": "mette@firma.example.dk"}],
    }  # fmt: skip
    assert ad5.openings == 2 and ad5.hours_per_week == 17.5  # "15-20 timer om ugen"
    assert "<" not in ad5.description and "Vi tilbyder 15-20 timer" in ad5.description
    assert got[search_id(13)].apply == {"url": "https://other.example.dk/j/13"}
    assert got[search_id(2)].location_precision == "address"  # DAWA knew Frederiks Allé 100
    taxonomy = esco[1]
    assert got[search_id(4)].occupation_id == taxonomy.resolve_occupation(RENGOERING)
    assert got[search_id(7)].occupation_id == taxonomy.resolve_occupation(BUTIK)  # a typo
    assert report.occupation_by["label"] >= 5 and report.occupation_by["fuzzy_label"] >= 2

    # Second run: three new ads on top; only they are fetched in detail.
    asked = len(jobnet.state.details_requests)
    for i in (14, 15, 16):
        jobnet.publish(search_row(i), details(i))
    again, source = search_import(jobnet, http, sessionmaker, esco, name, occupations=matcher)
    report = await again.run()
    assert source.passes == ["incremental"]
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    # Only the three new ads' details are fetched (in whatever order they finish).
    assert sorted(jobnet.detail_ids()[asked:]) == sorted(search_id(i) for i in (16, 15, 14))
    assert report.pages == 2  # page 1 had new ads; page 2 had none: caught up

    # A changed ad: its row hash differs, so it alone is fetched and updated.
    asked = len(jobnet.state.details_requests)
    jobnet.publish(search_row(15, title="Barista, også hverdage"),
                   details(15, title="Barista, også hverdage"))  # fmt: skip
    changed, _ = search_import(jobnet, http, sessionmaker, esco, name, occupations=matcher)
    report = await changed.run()
    assert (report.created, report.updated) == (0, 1)
    assert jobnet.detail_ids()[asked:] == [search_id(15)]
    assert (await rows(sessionmaker, name))[search_id(15)].title == "Barista, også hverdage"

    # Nothing new: one search request, no details, nothing written.
    asked, searched = len(jobnet.state.details_requests), len(jobnet.state.search_requests)
    quiet, _ = search_import(jobnet, http, sessionmaker, esco, name, occupations=matcher)
    report = await quiet.run()
    assert (report.created, report.updated, report.pages) == (0, 0, 1)
    assert len(jobnet.state.details_requests) == asked
    assert len(jobnet.state.search_requests) == searched + 1


async def test_sweep_closes_ads_gone_from_the_listing_with_withdrawn_pushes(
    jobnet: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 7):
        jobnet.publish(search_row(i), details(i))
    name = new_name()
    first, _ = search_import(jobnet, http, sessionmaker, esco, name)
    assert (await first.run()).created == 6
    before = await rows(sessionmaker, name)

    seeker = uuid.uuid4()  # someone was pushed ad 2
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
            {"s": seeker, "v": before[search_id(2)].id},
        )  # fmt: skip
    jobnet.unlist(search_id(2))

    # An incremental run cannot tell that an older ad left: it stops at known ads.
    incremental, source = search_import(jobnet, http, sessionmaker, esco, name)
    report = await incremental.run()
    assert source.passes == ["incremental"] and report.closed == 0

    push, recorder = write_side.over_bus(None), Recorder()

    sweep, source = search_import(
        jobnet, http, sessionmaker, esco, name, [push, recorder], sweep=True
    )
    report = await sweep.run()
    assert source.passes == ["sweep"] and report.closed == 1
    got = await rows(sessionmaker, name)
    assert got[search_id(2)].status == "closed"
    assert [r.status for k, r in got.items() if k != search_id(2)] == ["open"] * 5
    assert recorder.closed == [got[search_id(2)].id]
    assert VacancyEvent(got[search_id(2)].id, "closed") in recorder.events
    assert push.withdrawals == 1
    async with sessionmaker() as s:
        kinds = (await s.execute(
            text("SELECT kind, seq FROM push_deliveries WHERE jobseeker_id = :s ORDER BY seq"),
            {"s": seeker},
        )).all()  # fmt: skip
    assert [tuple(k) for k in kinds] == [("match", 1), ("withdrawn", 2)]

    # A second sweep finds it closed already: no one is told twice.
    again, source = search_import(jobnet, http, sessionmaker, esco, name, [push], sweep=True)
    report = await again.run()
    assert (source.passes, report.closed, push.withdrawals) == (["sweep"], 0, 1)
    async with sessionmaker() as s:
        count = await s.scalar(
            text("SELECT count(*) FROM push_deliveries WHERE jobseeker_id = :s"), {"s": seeker}
        )
    assert count == 2

    # Listed again (or missed by a sweep while the listing shifted): the next pass that
    # sees it treats it as changed, and it opens again.
    jobnet.publish(search_row(2), details(2))
    back, _ = search_import(jobnet, http, sessionmaker, esco, name)
    report = await back.run()
    assert (report.updated, report.created) == (1, 0)
    assert (await rows(sessionmaker, name))[search_id(2)].status == "open"

    # A listing that comes back (nearly) empty is broken, not a mass withdrawal.
    for i in range(1, 7):
        jobnet.unlist(search_id(i))
    empty, _ = search_import(jobnet, http, sessionmaker, esco, name, sweep=True)
    report = await empty.run()
    assert report.closed == 0 and any("sweep closed nothing" in n for n in report.notes)
    assert [r.status for r in (await rows(sessionmaker, name)).values()].count("open") == 6


async def test_a_sweep_comes_by_itself_every_n_runs(
    jobnet: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 4):
        jobnet.publish(search_row(i), details(i))
    name, passes = new_name(), []
    for _ in range(5):
        importer, source = search_import(jobnet, http, sessionmaker, esco, name,
                                         sweep_every_runs=2)  # fmt: skip
        await importer.run()
        passes += source.passes
    assert passes == ["sweep", "incremental", "sweep", "incremental", "sweep"]


async def test_politeness_retry_after_rate_limit_and_retries(
    jobnet: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 4):
        jobnet.publish(search_row(i), details(i))
    jobnet.fail_search(Fault(status=429, retry_after="1"), Fault(status=500))
    jobnet.fail_details(Fault(status=503, retry_after="0"))
    name = new_name()
    importer, _ = search_import(jobnet, http, sessionmaker, esco, name, rate=20.0)
    report = await importer.run()
    assert report.created == 3 and report.retries == 3
    searches = jobnet.state.search_requests
    # Retry-After: 1 on the 429 was waited out (the backoff alone is ~10 ms here).
    assert searches[1].at - searches[0].at >= 0.95
    # 20 requests a second at most: after the wait, requests ~50 ms apart on average
    # (each is sent on its slot; arrival at the server jitters by a few ms).
    times = sorted(r.at for r in searches + jobnet.state.details_requests)
    assert len(times) == 7 and (times[-1] - times[1]) / 5 >= 0.045


async def test_a_broken_listing_stops_before_writing_and_a_rerun_resumes(
    jobnet: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy],
) -> None:  # fmt: skip
    for i in range(1, 16):
        jobnet.publish(search_row(i), details(i))
    name = new_name()

    jobnet.fail_search(Fault(garbage=True), Fault(garbage=True))
    broken, _ = search_import(jobnet, http, sessionmaker, esco, name, attempts=2)
    with pytest.raises(ImportFailed, match="not valid JSON"):
        await broken.run()
    jobnet.fail_search(Fault(payload={"jobAds": "nope", "totalJobAdCount": 3}))
    wrong, _ = search_import(jobnet, http, sessionmaker, esco, name)
    with pytest.raises(ImportFailed, match="search page 1: jobAds is missing or not a list"):
        await wrong.run()
    assert await rows(sessionmaker, name) == {}
    assert await stored_state(sessionmaker, name) == (None, 0)
    assert jobnet.state.details_requests == []
    same = {"jobAds": [search_row(1)], "totalJobAdCount": 99}  # pageNumber ignored
    jobnet.fail_search(Fault(payload=same), Fault(payload=same))
    looping, _ = search_import(jobnet, http, sessionmaker, esco, new_name())
    with pytest.raises(ImportFailed, match="search page 2 repeats page 1"):
        await looping.run()
    jobnet.state.details_requests.clear()  # the loop's first page fetched one

    # A power cut while the second page is written: the first page stands.
    cut, _ = search_import(jobnet, http, sessionmaker, esco, name, [Recorder(fail_on_batch=2)])
    with pytest.raises(RuntimeError, match="power cut"):
        await cut.run()
    got = await rows(sessionmaker, name)
    page1 = {search_id(i) for i in (15, 14, 13, 12, 11)}
    assert set(got) == page1
    fetched = len(jobnet.state.details_requests)
    assert fetched == 10

    resumed, source = search_import(jobnet, http, sessionmaker, esco, name)
    report = await resumed.run()
    assert report.resumed and source.passes == ["sweep", "incremental"]
    assert report.created == 10 and report.unchanged == 0
    again = set(jobnet.detail_ids()[fetched:])
    assert again == {search_id(i) for i in range(1, 11)} and not again & page1
    assert len(await rows(sessionmaker, name)) == 15
    state, seen = await stored_state(sessionmaker, name)
    assert seen == 15 and '"pass_kind": null' in state


async def test_a_loaded_crosswalk_beats_the_label(
    jobnet: FeedServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    esco: tuple[Extractor, Taxonomy], da_labels: list[LabelRow],
) -> None:  # fmt: skip
    star = f"http://data.star.dk/esco/occupation/{uuid.uuid4()}"
    jobnet.publish(search_row(4, conceptUriDa=star), details(4, job={"conceptUriDa": star,
                   "preferredLabelDa": "Rengøringsassistent"}))  # fmt: skip
    jobnet.publish(search_row(9), details(9))  # the same label, STAR URI not in the crosswalk
    name = new_name()
    async with sessionmaker() as s, s.begin():
        await load_crosswalk(s, [(star, BUTIK)])
    try:
        async with sessionmaker() as s:
            matcher = await OccupationMatcher.load(s)
    finally:
        async with sessionmaker() as s, s.begin():
            await s.execute(text("DELETE FROM esco_crosswalk WHERE star_uri = :s"), {"s": star})
    assert len(matcher.index) == len(OccupationMatcher(da_labels, {}).index)
    importer, _ = search_import(jobnet, http, sessionmaker, esco, name, occupations=matcher)
    report = await importer.run()
    got = await rows(sessionmaker, name)
    taxonomy = esco[1]
    assert got[search_id(4)].occupation_id == taxonomy.resolve_occupation(BUTIK)
    assert got[search_id(9)].occupation_id == taxonomy.resolve_occupation(RENGOERING)
    assert report.occupation_by == {"crosswalk": 1, "label": 1}


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


def test_the_jotr_import_jobnet_search_and_crosswalk_commands(
    database_url: str, esco_loaded: object, jobnet: FeedServer, tmp_path: Any
) -> None:
    for i in range(1, 5):
        jobnet.publish(search_row(i), details(i))
    env = {"DATABASE_URL": database_url, "JOTR_GEOCODER_URL": jobnet.base_url,
           "JOTR_JOBNET_REQUESTS_PER_SECOND": "0", "JOTR_JOBNET_CONTACT_URL": CONTACT}  # fmt: skip
    args = ("import", "jobnet", "--source", "search", "--base-url", f"{jobnet.base_url}/bff",
            "--page-size", "3")  # fmt: skip

    first = jotr_env(env, *args)
    assert first.exit_code == 0, first.stderr
    assert "passes: sweep; detail requests 4" in first.stdout
    assert "created 4, updated 0, unchanged 0" in first.stdout
    assert "sweep: every page of the listing was read" in first.stdout
    assert CONTACT in jobnet.state.search_requests[0].headers["user-agent"]

    for bad, message in (
        (("import", "jobnet", "--source", "search", "--base-url", "ftp://x"), "not an http(s)"),
        ((*args, "--since", "2026-11-01"), "belong to --source feed"),
        (("import", "jobnet", "--source", "rss"), "use search or feed"),
    ):
        out = jotr_env(env, *bad)
        assert out.exit_code == 1 and message in out.stderr, out.stderr
    crosswalk = tmp_path / "star_esco.csv"
    crosswalk.write_text(
        "star_uri,esco_uri\nhttp://data.star.dk/esco/occupation/x1,not a uri\n"
        "http://data.star.dk/esco/occupation/x2,http://data.europa.eu/esco/occupation/nope\n"
    )
    bad = jotr_env(env, "esco", "crosswalk", "load", str(crosswalk))
    assert bad.exit_code == 1 and "line 2: esco_uri 'not a uri' is not a URI" in bad.stderr
    crosswalk.write_text(f"star_uri,esco_uri\nhttp://data.star.dk/esco/occupation/x1,{BUTIK}\n")
    good = jotr_env(env, "esco", "crosswalk", "load", str(crosswalk))
    assert good.exit_code == 0 and "crosswalk loaded: 1 STAR occupations" in good.stdout
    crosswalk.write_text("star_uri,esco_uri\n")  # an empty crosswalk: the label rules again
    empty = jotr_env(env, "esco", "crosswalk", "load", str(crosswalk))
    assert empty.exit_code == 0 and "loaded: 0 STAR occupations (replacing 1)" in empty.stdout
