"""The Jobnet feed format, record by record (pure functions, no database)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

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


def test_html_to_text() -> None:
    html = "<p>Hej&nbsp;du</p><ul><li>kaffe</li><li>kage &amp; te</li></ul><br>Tak"
    assert html_to_text(html) == "Hej du\n- kaffe\n- kage & te\nTak"
    assert html_to_text("plain &amp; simple") == "plain & simple"


def test_pages_and_since() -> None:
    page = parse_page({"JobPositionPostings": [], "NextCursor": "c", "HasMore": False})
    assert page.cursor == "c" and not page.has_more and page.remaining is None
    for body in ([], {"NextCursor": "c", "HasMore": True}, {"JobPositionPostings": []}):
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

    from matcher.ingest.concepts import vacancy_concepts
    from matcher.taxonomy import UnknownConceptError

    @dataclass
    class S:
        uri: str
        confidence: float

    @dataclass
    class Found:
        occupations: list[S] = field(default_factory=list)
        skills: list[S] = field(default_factory=list)

    class Resolver:
        def resolve_skills(self, uris: list[str]) -> list[int]:
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
    assert got == {
        "occupation_id": 1,
        "required_skill_ids": [1, 2],
        "required_skill_weights": [1.0, 0.9],
        "optional_skill_ids": [3],
    }
    weak = vacancy_concepts(Extractor(Found([S("o1", 0.1)], [])), Resolver(), record)
    assert weak["occupation_id"] is None and weak["required_skill_ids"] == []
