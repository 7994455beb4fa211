"""Skills and occupation from ad text: the Extractor on real ESCO rows, and POST /v1/extract."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from matcher.extraction.extract import ConceptText, Extraction, Extractor, split_text

BARISTA = "http://data.europa.eu/esco/occupation/bf7d8b16-4e2c-48ef-b44e-dc25b2d0ab61"
BARISTA_AD = (
    "We are looking for a friendly barista for our coffee shop in Aarhus.\n"
    "- You will prepare espresso and other coffee drinks\n"
    "- serve customers and keep the counter clean\n"
    "Experience with a cash register is a plus."
)
BAKERY_AD = (
    "Vi søger en glad medarbejder til vores bageri i Aarhus C. Du skal betjene kunder, "
    "stå ved kassen og hjælpe med at bage brød om morgenen. Vi forventer, at du er "
    "mødestabil og har godt humør."
)


def ordered(found: Extraction) -> None:
    for part in (found.occupations, found.skills):
        conf = [s.confidence for s in part]
        assert conf == sorted(conf, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in conf)
        assert len({s.uri for s in part}) == len(part)


# --- unit: plain rows -------------------------------------------------------------


def toy() -> Extractor:
    def rows(kind: str, uri: str, lang: str, *labels: str) -> list[ConceptText]:
        types = ["preferred"] + ["alt"] * (len(labels) - 1)
        return [ConceptText(kind, uri, lang, t, x) for t, x in zip(types, labels, strict=True)]  # type: ignore[arg-type]

    concepts = [
        *rows("occupation", "o:baker", "en", "baker", "bread baker"),
        *rows("occupation", "o:baker", "da", "bager", "bagersvend"),
        *rows("occupation", "o:cashier", "en", "cashier", "checkout operator"),
        *rows("occupation", "o:cashier", "da", "kassemedarbejder", "kassedame"),
        *rows("skill", "s:bake", "en", "bake bread"),
        *rows("skill", "s:till", "en", "operate cash register", "use a till"),
        *rows("skill", "s:sql", "en", "SQL"),
    ]
    return Extractor.build(
        concepts, [("o:baker", "s:bake", "essential"), ("o:cashier", "s:till", "optional")]
    )


def test_toy_english_ranks_title_and_sentences() -> None:
    found = toy().extract("Bread baker", "You bake bread.\nYou also use a till.", "en")
    assert found.occupations[0].uri == "o:baker"
    assert {s.uri for s in found.skills[:2]} == {"s:bake", "s:till"}
    ordered(found)


def test_toy_danish_labels_and_profile_skills() -> None:
    found = toy().extract("Bagersvende søges", "Du skal bage brød.", "da", top_skills=3)
    assert found.occupations[0].uri == "o:baker"
    assert found.occupations[0].label == "bager"  # the Danish preferred label
    # No Danish skill labels: the occupation's profile proposes them.
    assert found.skills[0].uri == "s:bake"
    ordered(found)


def test_empty_input_gives_nothing() -> None:
    assert toy().extract("  ", "\n\n", "en") == Extraction()


def test_split_text_lines_bullets_sentences() -> None:
    text = "Om jobbet:\n• Kassen. Kunder!\n- rengøring\n\n" + "ord " * 200
    pieces = split_text(text)
    assert pieces[:4] == ["Om jobbet:", "Kassen.", "Kunder!", "rengøring"]
    assert all(len(p) <= 300 for p in pieces)


# --- unit: real ESCO ---------------------------------------------------------------


@pytest.fixture(scope="module")
async def extractor(engine: AsyncEngine, esco_loaded: object) -> Extractor:
    async with AsyncSession(engine) as session:
        return await Extractor.from_database(session)


async def test_esco_english_barista(extractor: Extractor) -> None:
    found = extractor.extract("Barista", BARISTA_AD, "en")
    assert BARISTA in [s.uri for s in found.occupations[:3]]
    labels = " ".join(s.label for s in found.skills)
    assert re.search(r"coffee|espresso|hot drinks|cash register", labels), labels
    ordered(found)


async def test_esco_danish_bakery(extractor: Extractor) -> None:
    found = extractor.extract("", BAKERY_AD, "da")
    top = [s.label for s in found.occupations[:3]]
    assert any(re.search(r"bager|konditor|ekspedient|butik|kasse", t) for t in top), top
    assert found.skills, "profile skills of the proposed occupation"
    ordered(found)


# --- API -------------------------------------------------------------------------


async def test_api_extract_barista(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/extract", json={"title": "Barista", "text": BARISTA_AD, "lang": "en"}, timeout=60
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert BARISTA in [o["uri"] for o in body["occupations"][:3]]
    assert body["skills"] and len(body["occupations"]) == 5
    for part in (body["occupations"], body["skills"]):
        conf = [s["confidence"] for s in part]
        assert conf == sorted(conf, reverse=True) and all(0 <= c <= 1 for c in conf)


async def test_api_extract_danish(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/extract",
        json={"title": "Medarbejder til bageri", "text": BAKERY_AD, "lang": "da", "top_skills": 3},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert any("bager" in o["label"] for o in body["occupations"][:3]), body["occupations"]
    assert len(body["skills"]) == 3


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"title": "", "text": "  ", "lang": "da"}, "both empty"),
        ({"lang": "en"}, "both empty"),
        ({"title": "Kok", "lang": "de"}, "lang"),
        ({"title": "Kok", "text": "x" * 20_001}, "text"),
        ({"title": "Kok", "top_skills": 500}, "top_skills"),
        ({"title": "Kok", "language": "da"}, "language"),
    ],
)
async def test_api_extract_bad_input(
    client: httpx.AsyncClient, payload: dict[str, object], reason: str
) -> None:
    r = await client.post("/v1/extract", json=payload, timeout=60)
    assert r.status_code == 422, r.text
    assert reason in r.json()["error"]["message"]
