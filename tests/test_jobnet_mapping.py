"""The Jobnet feed format, record by record (pure functions, no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import pytest

from matcher import profile
from matcher.ingest.feed_client import RetryPolicy, retry_after
from matcher.ingest.jobnet_mapping import (
    AdRecord,
    BrokenPage,
    BrokenRecord,
    Tombstone,
    hours_of,
    html_to_text,
    job_type_of,
    map_ad,
    min_age_of,
    parse_page,
    parse_since,
)
from matcher.models import JobType
from tests.jobnet_samples import CPH, ad, tombstone


def test_a_recorded_ad_maps_to_a_record() -> None:
    record = map_ad(ad(0))
    assert isinstance(record, AdRecord)
    assert record.ref == "0" and record.title == "Barista til weekendvagter"
    assert record.employer_name == "Kaffe & Kage ApS" and record.employer_cvr == "38129456"
    assert record.address == "Mejlgade 24, 8000 Aarhus C"
    assert (record.lat, record.lon) == (56.1596, 10.2108)
    assert record.job_type == JobType.FRITIDSJOB and record.hours_per_week == 10.0
    assert record.min_age == 15  # "Du skal være fyldt 15 år"
    assert record.lang == "da"
    assert record.start_date is None  # 0001-01-01 means "not set"
    # Apply until 15 January inclusive: expires at the following Danish midnight.
    assert record.expires_at == dt.datetime(2027, 1, 16, tzinfo=CPH)
    assert record.text.splitlines()[1] == "- Du brygger espresso og laver kaffe"
    assert record.apply == {"url": "https://job.jobnet.dk/CV/FindWork/Details/0"}  # kept


def test_unknown_coordinates_and_english_ads() -> None:
    record = map_ad(ad(2))
    assert isinstance(record, AdRecord)
    assert record.lat is None and record.address == "Frederiks Allé 100, 8000 Aarhus C"
    assert record.min_age == 18  # an ordinary job says nothing about youth rules
    english = map_ad(ad(4))
    assert isinstance(english, AdRecord) and english.lang == "en"
    assert english.employer_cvr == "40112233" and english.hours_per_week == 20.0


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("just a string", "not_an_object"),
        ({"Title": "No id"}, "missing_id"),
        (ad(1, Title="", JobHeadline=None), "missing_title"),
        (ad(1, HiringOrgName="  "), "missing_employer"),
        (ad(1, Latitude="north"), "bad_field"),
        (ad(1, Latitude=64.18, Longitude=-51.7), "outside_denmark"),  # Nuuk
        (ad(1, Latitude=0, WorkPlaceAddress="", WorkPlacePostalCode="", WorkPlaceCity=""),
         "missing_location"),
        (ad(1, Presentation=["not", "text"]), "bad_field"),
        (ad(1, LastDateApplication="the 15th"), "bad_field"),
        (ad(1, NumberToFill=-2), "bad_field"),
        (ad(1, JoblogWorkTime="evenings"), "bad_field"),
    ],
)  # fmt: skip
def test_broken_records_name_their_reason(item: object, reason: str) -> None:
    with pytest.raises(BrokenRecord) as caught:
        map_ad(item)
    assert caught.value.reason == reason


def test_tombstones() -> None:
    assert map_ad(tombstone(7, dt.datetime.now(dt.UTC))) == Tombstone("7")


@pytest.mark.parametrize(
    ("kinds", "job_type"),
    [
        ("Fleksjob", JobType.FLEKSJOB),
        ("Job med løntilskud", JobType.LOENTILSKUD),
        ("Virksomhedspraktik", JobType.VIRKSOMHEDSPRAKTIK),
        ("IGU-forløb", JobType.IGU),
        ("Kontorelev", JobType.ELEV_LAERLING),
        ("Elevplads som tømrerlærling", JobType.ELEV_LAERLING),
        ("Relevant erfaring, elevatormontør", JobType.ORDINARY),
        ("Fritidsjob i Netto", JobType.FRITIDSJOB),
        ("Småjob", JobType.SMAAJOB),
        ("Ordinært job", JobType.ORDINARY),
    ],
)
def test_job_types(kinds: str, job_type: JobType) -> None:
    assert job_type_of(kinds) == job_type


def test_hours_and_ages() -> None:
    assert hours_of("Deltid", "(34 - 36 timer ugentligt)", JobType.ORDINARY) == 35.0
    assert hours_of("Fuldtid", "", JobType.ORDINARY) == 37.0
    assert hours_of("", "", JobType.FRITIDSJOB) == 8.0
    assert hours_of("Deltid", "(500 timer)", JobType.ORDINARY) == 20.0  # nonsense ignored
    assert min_age_of(JobType.ORDINARY, "Du skal være mindst 16 år", "") == 16
    assert min_age_of(JobType.FRITIDSJOB, "fritidsjob fra 13 år", "") == 13
    assert min_age_of(JobType.FRITIDSJOB, "", "Aften, nat, weekend") == 18  # night work
    # A spare-time job that states no age is for adults: the ad says too little.
    assert min_age_of(JobType.FRITIDSJOB, "Fritidsjob i vores butik", "") == 18
    assert min_age_of(JobType.FRITIDSJOB, "Du skal være fyldt 15 år", "Aften") == 18


def test_html_to_text() -> None:
    html = "<p>Hej&nbsp;du</p><ul><li>kaffe</li><li>kage &amp; te</li></ul><br>Tak"
    assert html_to_text(html) == "Hej du\n- kaffe\n- kage & te\nTak"
    assert html_to_text("plain &amp; simple") == "plain & simple"


def test_pages_and_since() -> None:
    page = parse_page({"JobPositionPostings": [], "NextCursor": "c", "HasMore": False})
    assert page.cursor == "c" and not page.has_more and page.remaining is None
    bodies: list[Any] = [[], {"NextCursor": "c", "HasMore": True}, {"JobPositionPostings": []}]
    for body in bodies:
        with pytest.raises(BrokenPage):
            parse_page(body)
    assert parse_since("2026-11-01") == dt.datetime(2026, 11, 1, tzinfo=CPH)
    assert parse_since("2026-11-01T10:00:00Z").utcoffset() == dt.timedelta(0)


def test_retry_timing() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after("soon") is None and retry_after(None) is None
    policy = RetryPolicy(base_s=0.5, cap_s=4.0)
    rng = random.Random(1)
    for attempt in range(10):
        assert 0 <= policy.backoff(attempt, rng) <= min(4.0, 0.5 * 2**attempt)


def test_concepts_are_chosen_relative_to_the_best_suggestion() -> None:
    from dataclasses import dataclass, field

    from matcher.esco.taxonomy import UnknownConceptError
    from matcher.ingest.concepts import vacancy_concepts

    @dataclass
    class S:
        uri: str
        confidence: float

    @dataclass
    class Found:
        occupations: list[S] = field(default_factory=list)
        skills: list[S] = field(default_factory=list)

    class Resolver:
        def resolve_skills(self, uris: Sequence[str]) -> list[int]:
            if uris[0] == "retired":
                raise UnknownConceptError("skill", uris)
            return [int(uris[0][1:])]

        def resolve_occupation(self, uri: str) -> int:
            return int(uri[1:])

    class Extractor:
        def __init__(self, found: Found) -> None:
            self.found = found

        def extract(self, title: str, text: str, lang: str) -> Found:
            return self.found

    record = map_ad(ad(0))
    assert isinstance(record, AdRecord)
    found = Found(
        occupations=[S("o2", 0.3), S("o1", 0.32)],
        skills=[S("s1", 0.4), S("retired", 0.39), S("s2", 0.36), S("s3", 0.2), S("s4", 0.05)],
    )
    got = vacancy_concepts(Extractor(found), Resolver(), record)
    assert got == (
        {
            "occupation_id": 1,
            "work_profile": None,  # this resolver knows no ISCO codes
            "required_skill_ids": [1, 2],
            "required_skill_weights": [1.0, 0.9],
            "optional_skill_ids": [3],
        },
        "extracted",
    )

    class IscoResolver(Resolver):  # type: ignore[misc, valid-type]
        def occupation_isco(self, occupation_id: int) -> str:
            return {1: "5132", 2: "2512"}[occupation_id]

    # The work profile is inferred from the occupation's ISCO group (our table).
    from matcher.esco.profile_by_occupation import infer

    inferred, _ = vacancy_concepts(Extractor(found), IscoResolver(), record)
    assert inferred["work_profile"] == infer("5132")
    assert inferred["work_profile"][profile.DIMENSIONS.index("customer_contact")] > 0.5
    weak, how = vacancy_concepts(Extractor(Found([S("o1", 0.1)], [])), Resolver(), record)
    assert weak["occupation_id"] is None and weak["required_skill_ids"] == [] and how == "none"

    class Given:
        def find(self, star_uri: str | None, label: str | None) -> tuple[str, str] | None:
            return ("o2", "label") if label == "Barista" else None

    named = dataclasses.replace(record, occupation_label="Barista")
    chosen, how = vacancy_concepts(Extractor(found), Resolver(), named, Given())
    assert (chosen["occupation_id"], how) == (2, "label")  # the ad's own, not the extractor's
    assert chosen["required_skill_ids"] == [1, 2]  # skills still come from the text
    other = dataclasses.replace(record, occupation_label="Pædagog")
    assert vacancy_concepts(Extractor(found), Resolver(), other, Given())[1] == "extracted"


# --- the search JSON (matcher/ingest/jobnet_search.py) and its helpers ----------------


def test_a_search_row_with_details_maps_to_a_record() -> None:
    from matcher.ingest.jobnet_search import map_search_ad
    from tests.jobnet_samples import details, search_row, star_uri

    record = map_search_ad(search_row(0), details(0, title="Barista til weekend"))
    assert record.title == "Barista til weekend"  # the details win over the row
    assert record.address == "Mejlgade 24, 8000 Aarhus C" and record.lat is None
    assert record.employer_cvr == "38129456" and record.openings == 2
    assert record.hours_per_week == 17.5  # "15-20 timer om ugen" in the body
    assert record.min_age == 15  # "Du skal være fyldt 15 år"
    assert record.expires_at == dt.datetime(2027, 1, 16, tzinfo=CPH)
    assert record.start_date == dt.date(2026, 12, 1)
    assert (record.occupation_label, record.occupation_star_uri) == ("Barista", star_uri(0))
    assert record.apply is not None and record.apply["url"].endswith("/ansog/0")


def test_a_search_row_alone_and_what_is_kept_of_apply() -> None:
    from matcher.ingest.jobnet_search import map_search_ad
    from tests.jobnet_samples import details, search_row

    alone = map_search_ad(search_row(4), None)  # an external ad: no details
    assert alone.apply == {"url": "https://karriere.example.dk/job/4"}  # jobAdUrl
    assert alone.hours_per_week == 20.0  # part time, no hours stated: the default
    assert alone.lang == "en" and alone.openings == 1
    odd = details(1)
    odd["application"].update(
        url="mailto:job@firma.dk",  # not http(s): dropped, jobAdUrl is not used either
        contactPersons=[{"firstNames": "Sven", "lastName": "Berg", "phoneNumber": "+46 8 123"}],
    )
    record = map_search_ad(search_row(1, jobAdUrl=None), odd)
    assert record.apply == {"contacts": [{"name": "Sven Berg"}]}  # a Swedish number dropped


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"jobAdId": None}, "missing_id"),
        ({"title": "  "}, "missing_title"),
        ({"hiringOrgName": ""}, "missing_employer"),
        ({"country": "Sverige"}, "outside_denmark"),
        ({"workPlaceAddress": "", "postalCode": None}, "missing_location"),
        ({"workHourPartTime": "maybe"}, "bad_field"),
        ({"title": ["a list"]}, "bad_field"),
    ],
)
def test_broken_search_rows(overrides: dict[str, object], reason: str) -> None:
    from matcher.ingest.jobnet_search import map_search_ad
    from tests.jobnet_samples import search_row

    with pytest.raises(BrokenRecord) as caught:
        map_search_ad(search_row(1, **overrides), None)
    assert caught.value.reason == reason


def test_job_types_from_the_announcement_type_and_title() -> None:
    from matcher.ingest.jobnet_search import map_search_ad
    from tests.jobnet_samples import search_row

    def kind(announcement: str, title: str = "Medarbejder") -> JobType:
        row = search_row(1, jobAnnouncementTypeName=announcement, title=title)
        return map_search_ad(row, None).job_type

    assert kind("Almindelige vilkår") == JobType.ORDINARY
    assert kind("Fleksjob") == JobType.FLEKSJOB
    assert kind("Job med løntilskud") == JobType.LOENTILSKUD
    assert kind("Almindelige vilkår", "Kontorelev") == JobType.ELEV_LAERLING
    assert kind("Almindelige vilkår", "Fritidsjob i Netto") == JobType.FRITIDSJOB
    assert kind("Efterløn") == JobType.ORDINARY


def test_the_row_hash_ignores_what_the_viewer_sees() -> None:
    from matcher.ingest.jobnet_search import row_hash
    from tests.jobnet_samples import search_row

    same = row_hash(search_row(1))
    assert row_hash(search_row(1, isSeen=True, isFavorite=True)) == same
    assert row_hash(search_row(1, applicationDeadlineStatus="Soon")) == same
    assert row_hash(search_row(1, title="Ny titel")) != same
    assert row_hash(search_row(1, applicationDeadline="2027-02-01T21:59:00+01:00")) != same


def test_a_search_page_that_is_not_in_shape() -> None:
    from matcher.ingest.jobnet_search import parse_search

    assert parse_search({"jobAds": [], "totalJobAdCount": 0}).total == 0
    for body, message in ((["x"], "not a JSON object"), ({"jobAds": None}, "jobAds")):
        with pytest.raises(BrokenPage, match=message):
            parse_search(body)


def test_when_a_sweep_is_due() -> None:
    from matcher.ingest.feed_client import FeedClient
    from matcher.ingest.search_source import SearchSource, SearchState

    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    source = SearchSource(FeedClient(None, "http://x"), "http://x", sweep_every_runs=3,  # type: ignore[arg-type]
                          sweep_every_hours=6, clock=lambda: now)  # fmt: skip
    recent = (now - dt.timedelta(hours=1)).isoformat()
    assert source.sweep_due(SearchState())  # never swept: the first run is a sweep
    assert not source.sweep_due(SearchState(runs_since_sweep=1, last_sweep_at=recent))
    assert source.sweep_due(SearchState(runs_since_sweep=2, last_sweep_at=recent))  # 3rd run
    old = (now - dt.timedelta(hours=7)).isoformat()
    assert source.sweep_due(SearchState(runs_since_sweep=0, last_sweep_at=old))
    assert SearchState.decode("eyJjaGFuZ2VkIjoi") == SearchState()  # a feed cursor: afresh
    state = SearchState(pass_kind="sweep", next_page=7)
    assert SearchState.decode(state.encode()) == state


def test_occupations_from_a_crosswalk_or_a_danish_label() -> None:
    from matcher.ingest.occupations import OccupationMatcher

    esco = "http://data.europa.eu/esco/occupation/"
    labels = [
        (esco + "kok", "da", "preferred", "kok"),
        (esco + "butik", "da", "preferred", "butiksassistent"),
        (esco + "lager-sko", "da", "preferred", "lagerarbejder på en skofabrik"),
        (esco + "lager-sko", "da", "alt", "lagermedarbejder"),
        (esco + "lager", "da", "preferred", "lagerarbejder"),
        (esco + "lager", "da", "alt", "lagermedarbejder"),
        (esco + "butik", "en", "preferred", "shop assistant"),
    ]
    star = "http://data.star.dk/esco/occupation/1"
    matcher = OccupationMatcher(labels, {star: esco + "kok"})
    assert matcher.find(star, "Butiksassistent") == (esco + "kok", "crosswalk")
    assert matcher.find(None, "Butiksassistent") == (esco + "butik", "label")
    assert matcher.find(None, "BUTIKSASSISTENT, deltid") == (esco + "butik", "label")
    assert matcher.find(None, "Butiksasistent") == (esco + "butik", "fuzzy_label")
    assert matcher.find(None, "Lagermedarbejder") == (esco + "lager", "label")  # the general one
    assert matcher.find(None, "Shop assistant") is None  # Danish labels only
    assert matcher.find(None, "Pædagog") is None and matcher.find(None, "") is None
    assert matcher.find(None, "Kokkeelev") is None  # shares a word, not the occupation


def test_the_crosswalk_file_is_checked_line_by_line() -> None:
    from matcher.ingest.occupations import CrosswalkError, parse_crosswalk

    star, esco = "http://data.star.dk/esco/occupation/", "http://data.europa.eu/esco/occupation/"
    ok = parse_crosswalk(f"star_uri,esco_uri\n{star}1,{esco}a\n\n{star}1,{esco}a\n")
    assert ok == [(f"{star}1", f"{esco}a")]
    with pytest.raises(CrosswalkError, match="header"):
        parse_crosswalk("star,esco\n")
    with pytest.raises(CrosswalkError, match=r"line 2: two columns.*line 4: .* mapped twice"):
        parse_crosswalk(f"star_uri,esco_uri\n{star}1\n{star}2,{esco}a\n{star}2,{esco}b\n")


async def test_the_rate_limiter_spaces_requests_evenly() -> None:
    from matcher.ingest.feed_client import RateLimiter

    clock, slept = [100.0], []

    async def sleep(s: float) -> None:
        slept.append(round(s, 6))
        clock[0] += s

    limiter = RateLimiter(2.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(4):
        await limiter.wait()
    assert slept == [0.5, 0.5, 0.5] and limiter.waited_s == 1.5
    clock[0] += 10  # idle for a while: no burst credit is saved up, the next one goes now
    await limiter.wait()
    assert len(slept) == 3
    unlimited = RateLimiter(0, clock=lambda: clock[0], sleep=sleep)
    await unlimited.wait()
    assert len(slept) == 3


def test_apply_details_are_checked() -> None:
    from matcher.posting.apply_info import BadApply, check

    assert check({"phone": "0045 12 34 56 78", "walk_in": False}) == {
        "phone": "+4512345678", "walk_in": False,
    }  # fmt: skip
    assert check({}) is None and check(None) is None
    for bad in ({"url": "https://"}, {"url": "http://a b.dk"}, {"walk_in": "yes"},
                {"how": 5}, {"contacts": [{"name": "A"}] * 6}, ["url"]):  # fmt: skip
        with pytest.raises(BadApply):
            check(bad)
