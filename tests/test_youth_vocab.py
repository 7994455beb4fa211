"""The easy-Danish youth skill vocabulary (matcher/data/youth_skills_da.csv).

The file itself (real, active ESCO URIs; short labels; coverage of the chosen
youth occupations' essential skills), then what a Danish user sees through the
real server: everyday words find the skills in autocomplete, match
explanations, vacancies and the share page say them in Danish, and Danish ad
text is read for them. English users keep ESCO's English labels.
"""

from __future__ import annotations

import csv
import gzip
import re
from typing import Any

import httpx
import psycopg
import pytest

from matcher.esco.youth_vocab import MAX_LABEL_WORDS, VOCAB_PATH, label_rows, read_vocabulary
from tests.builders import auth, new_employer, new_seeker, new_vacancy, next_spot
from tests.conftest import SHARED_DATA, _libpq
from tests.test_api_vacancies import offset

SKILL = "http://data.europa.eu/esco/skill/"
DATA = VOCAB_PATH.parent
COVERAGE_TARGET = 0.90

# Everyday Danish a young person types -> the skill they mean (first 8 hex of its UUID).
# Each must come back in the top 5 of GET /v1/skills?lang=da.
EVERYDAY_QUERIES: dict[str, str] = {
    "kasse": "0cb013af",  # operate cash register
    "kase": "0cb013af",  # typo
    "kasseapparat": "0cb013af",
    "rengøring": "4f1b6304",  # perform cleaning duties
    "rengoring": "4f1b6304",  # ø typed as o
    "rengoering": "4f1b6304",  # ø typed as oe
    "gøre rent": "4f1b6304",
    "støvsuge": "644617c8",  # vacuum surfaces
    "kaffe": "e4fb4f26",  # prepare hot drinks
    "espresso": "a37afd64",  # prepare specialised coffee
    "opvask": "c662be22",  # wash the dishes
    "opvasker": "c662be22",
    "opvaskemaskine": "f20aedf0",  # operate dishwashing machine
    "lager": "e883d55a",  # store warehouse goods
    "truck": "28cb374e",  # operate forklift
    "gaffeltruck": "28cb374e",
    "børn": "a6354281",  # babysitting
    "passe børn": "a6354281",
    "babysitter": "a6354281",
    "fylde hylder": "7e9daad3",  # stock shelves
    "hylder": "7e9daad3",
    "pluk": "ee5e2297",  # pick orders for dispatching
    "pakke": "667cbbaf",  # pack goods
    "bage": "5626b3b1",  # bake goods
    "brød": "50db2b5e",  # prepare bakery products
    "servering": "42a6eff0",  # serve food in table service
    "tjener": "704bed2c",  # take food and beverage orders
    "fadøl": "eae7d1fd",  # serve beers
    "lave mad": "f3934441",  # use cooking techniques
    "madlavning": "f3934441",
    "vaske tøj": "04838ae5",  # wash the laundry
    "stryge": "562b1180",  # iron textiles
    "rede senge": "e0c6fdd1",  # make the beds
    "vinduespudsning": "d05ae693",  # clean glass surfaces
    "affald": "110d7aa3",  # sort waste
    "betaling": "bdcac0c8",  # process payments
    "mobilepay": "bdcac0c8",
    "hygiejne": "0ff99f51",  # comply with food safety and hygiene
    "førstehjælp": "0dcea846",  # apply first response
    "ældre": "261e740b",  # tend to elderly people
    "køre bil": "2a82241a",  # drive vehicles
    "kørekort": "2a82241a",
    "knallert": "e7f63440",  # drive two-wheeled vehicles
    "sandwich": "493a1805",  # prepare sandwiches
    "pizza": "298ead56",  # prepare pizza
    "flyers": "9323960d",  # hand out flyers
    "billetter": "2d823e3d",  # sell tickets
    "svømme": "eb0d83b2",  # swim
    "slå græs": "351122a2",  # maintain turf and grass
    "høste": "2e4e8114",  # harvest crop
    "fodre dyr": "3ab0d7fc",  # provide nutrition to animals
    "tage imod varer": "2cae39d6",  # receive goods
    "lektiehjælp": "12efe5f2",  # assist children with homework
    "bilvask": "d283f0ad",  # wash vehicles
    "sælge tøj": "99010eb3",  # sell clothing items
}


def _uri(prefix: str) -> str:
    found = [e.skill_uri for e in read_vocabulary() if e.skill_uri.startswith(SKILL + prefix)]
    assert len(found) == 1, prefix
    return found[0]


def _csv(path: Any) -> list[dict[str, str]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- the file -------------------------------------------------------------------------


def test_every_entry_is_an_active_esco_skill_in_the_loaded_taxonomy(
    esco_loaded: object, database_url: str
) -> None:
    entries = read_vocabulary()
    assert len(entries) >= 800
    esco_file = {r["conceptUri"] for r in _csv(SHARED_DATA / "esco_en" / "skills_en.csv")}
    with psycopg.connect(_libpq(database_url)) as conn:
        active = {
            r[0]
            for r in conn.execute(
                "SELECT uri FROM skills WHERE active AND skill_type <> 'group'"
            ).fetchall()
        }
        ours = conn.execute(
            "SELECT count(*) FROM concept_labels WHERE source = 'youth_da'"
        ).fetchone()
    uris = [e.skill_uri for e in entries]
    assert set(uris) <= esco_file, set(uris) - esco_file
    assert set(uris) <= active, set(uris) - active
    # All of it is in the database, marked as ours.
    assert ours is not None and ours[0] == len(label_rows())


def test_labels_are_short_everyday_and_unique() -> None:
    entries = read_vocabulary()
    for e in entries:
        assert 1 <= len(e.label_da.split()) <= MAX_LABEL_WORDS, e.label_da
        assert e.label_da[0].isupper() and e.label_en and e.icon, e
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", e.reviewed), e
        assert all(s == s.strip() and s for s in e.synonyms_da), e
    labels = [e.label_da.lower() for e in entries]
    assert len(set(labels)) == len(labels), "two skills share a Danish label"
    readme = (DATA / "youth_skills_da.README.md").read_text(encoding="utf-8")
    assert "not official ESCO translations" in readme and "ESCO v1.2.0" in readme


def test_covers_the_essential_skills_of_the_youth_occupations() -> None:
    chosen = {r["occupation_uri"] for r in _csv(DATA / "youth_occupations.csv")}
    assert len(chosen) >= 100
    relations = SHARED_DATA / "esco_en" / "occupation_skill_relations_v1.2.0.csv.gz"
    essential = {
        r["skillUri"]
        for r in _csv(relations)
        if r["occupationUri"] in chosen and r["relationType"] == "essential" and r["skillUri"]
    }
    labelled = {e.skill_uri for e in read_vocabulary()}
    excluded = {r["skill_uri"]: r["reason"] for r in _csv(DATA / "youth_skills_da_excluded.csv")}
    assert all(excluded.values()), "every exclusion says why"
    assert not labelled & excluded.keys()
    # Every essential skill is either labelled or a documented exclusion ...
    assert essential <= labelled | excluded.keys(), essential - labelled - excluded.keys()
    # ... and the labelled share meets the target.
    coverage = len(essential & labelled) / len(essential)
    print(f"youth vocabulary covers {coverage:.1%} of {len(essential)} essential skills")
    assert coverage >= COVERAGE_TARGET


# --- search -----------------------------------------------------------------------------


async def test_everyday_danish_finds_the_skill_in_the_top_five(client: httpx.AsyncClient) -> None:
    assert len(EVERYDAY_QUERIES) >= 40
    labels = {e.skill_uri: e.label_da for e in read_vocabulary()}
    misses, first = [], 0
    for q, prefix in EVERYDAY_QUERIES.items():
        r = await client.get("/v1/skills", params={"q": q, "lang": "da", "limit": 5})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        uri = _uri(prefix)
        hit = [i for i in items if i["uri"] == uri]
        if not hit:
            misses.append((q, [i["label"] for i in items]))
            continue
        assert hit[0]["label"] == labels[uri] and hit[0]["lang"] == "da", hit
        first += items[0]["uri"] == uri
    n = len(EVERYDAY_QUERIES)
    print(f"everyday Danish: top-5 {n - len(misses)}/{n}, top-1 {first}/{n}")  # docs/quality.md
    assert misses == []


async def test_danish_label_wins_for_da_and_english_stays_for_en(
    client: httpx.AsyncClient,
) -> None:
    cash = _uri("0cb013af")
    r = await client.get("/v1/skills", params={"q": "cash register", "lang": "da", "limit": 3})
    top = r.json()["items"][0]
    assert (top["uri"], top["label"], top["lang"]) == (cash, "Betjene kassen", "da")
    r = await client.get("/v1/skills", params={"q": "cash register", "lang": "en", "limit": 3})
    top = r.json()["items"][0]
    assert (top["uri"], top["label"], top["lang"]) == (cash, "operate cash register", "en")
    # Danish words are not searched for English users.
    r = await client.get("/v1/skills", params={"q": "opvask", "lang": "en", "limit": 5})
    assert _uri("c662be22") not in [i["uri"] for i in r.json()["items"]]


async def test_nonsense_finds_nothing_and_says_so_with_an_empty_list(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/v1/skills", params={"q": "xqzxqzxqz", "lang": "da"})
    assert r.status_code == 200 and r.json()["items"] == []


async def test_occupation_skills_are_labelled_in_danish(client: httpx.AsyncClient) -> None:
    cashier = "http://data.europa.eu/esco/occupation/2b871272-bd61-4206-bd1a-0b96d7023098"
    r = await client.get("/v1/occupations/skills", params={"uri": cashier, "lang": "da"})
    assert r.status_code == 200, r.text
    essential = {s["uri"]: s for s in r.json()["essential"]}
    cash = essential[_uri("0cb013af")]
    assert (cash["label"], cash["lang"]) == ("Betjene kassen", "da")
    # Every essential skill of a youth occupation has a Danish label.
    assert all(s["lang"] == "da" for s in essential.values()), essential
    r = await client.get("/v1/occupations/skills", params={"uri": cashier, "lang": "en"})
    cash = {s["uri"]: s for s in r.json()["essential"]}[_uri("0cb013af")]
    assert (cash["label"], cash["lang"]) == ("operate cash register", "en")


# --- where skills are shown ----------------------------------------------------------------


async def test_match_explanation_speaks_the_seekers_language(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    cash, dishes = _uri("0cb013af"), _uri("c662be22")
    vacancy = await new_vacancy(
        client,
        emp["api_key"],
        *offset(lat, lon, 300),
        title="Kasse og opvask",
        required_skills=[{"uri": cash}, {"uri": dishes}],
        optional_skills=[],
    )
    labels: dict[str, dict[str, str]] = {}
    for language in ("da", "en"):
        s = await new_seeker(client, skills=[cash], language=language)
        r = await client.get(
            "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=auth(s["token"])
        )
        assert r.status_code == 200, r.text
        match = next(m for m in r.json()["matches"] if m["vacancy"]["id"] == vacancy["id"])
        req = match["explanation"]["required_skills"]
        labels[language] = {
            "matched": req["matched"][0]["label"],
            "missing": req["missing"][0]["label"],
        }
        me = await client.get("/v1/jobseekers/me", headers=auth(s["token"]))
        labels[language]["profile"] = me.json()["skills"][0]["label"]
    assert labels["da"] == {
        "matched": "Betjene kassen",
        "missing": "Vaske op",
        "profile": "Betjene kassen",
    }
    assert labels["en"] == {
        "matched": "operate cash register",
        "missing": "wash the dishes",
        "profile": "operate cash register",
    }


async def test_vacancy_and_share_page_use_the_readers_language(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    cash = _uri("0cb013af")
    vacancy = await new_vacancy(
        client, emp["api_key"], lat, lon, required_skills=[{"uri": cash}], optional_skills=[]
    )
    path = f"/v1/vacancies/{vacancy['id']}"
    da = await client.get(path, headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.5"})
    assert da.json()["required_skills"][0]["label"] == "Betjene kassen"
    en = await client.get(path, params={"lang": "en"}, headers={"Accept-Language": "da"})
    assert en.json()["required_skills"][0]["label"] == "operate cash register"
    plain = await client.get(path)  # an API client asking for nothing gets ESCO's English
    assert plain.json()["required_skills"][0]["label"] == "operate cash register"
    owner = await client.get(path, headers={**auth(emp["api_key"]), "Accept-Language": "da"})
    assert owner.json()["required_skills"][0]["label"] == "Betjene kassen"
    page = await client.get(f"/v/{vacancy['id']}")
    assert page.status_code == 200 and "Du skal kunne: Betjene kassen" in page.text
    page = await client.get(f"/v/{vacancy['id']}", params={"lang": "en"})
    assert "You should be able to: operate cash register" in page.text


# --- Danish ad text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("", "Du skal betjene kassen og fylde varer på hylderne.", ["0cb013af", "7e9daad3"]),
        ("Opvasker", "Vi søger en opvasker til vores køkken.", ["c662be22"]),
        (
            "Lagermedarbejder",
            "Du skal plukke ordrer og køre gaffeltruck.",
            ["ee5e2297", "28cb374e"],
        ),
        ("Barista", "Du laver kaffe og te og tager imod betaling.", ["e4fb4f26", "bdcac0c8"]),
        ("", "Du gør rent og støvsuger på kontoret om morgenen.", ["4f1b6304", "644617c8"]),
    ],
)
async def test_danish_ad_text_finds_the_vocabulary_skills(
    client: httpx.AsyncClient, title: str, text: str, expected: list[str]
) -> None:
    r = await client.post(
        "/v1/extract", json={"title": title, "text": text, "lang": "da"}, timeout=60
    )
    assert r.status_code == 200, r.text
    skills = r.json()["skills"]
    found = {s["uri"]: s for s in skills}
    for prefix in expected:
        uri = _uri(prefix)
        assert uri in found, (text, [s["label"] for s in skills])
        # Labelled in the ad's language, and among the first suggestions.
        assert found[uri]["label"] == next(
            e.label_da for e in read_vocabulary() if e.skill_uri == uri
        )
        assert [s["uri"] for s in skills].index(uri) < 5, [s["label"] for s in skills]
