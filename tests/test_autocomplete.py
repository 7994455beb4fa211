"""Autocomplete contract: typos, inflections, prefixes, both languages, occupation skills.

Against the real server with the full English + Danish ESCO import (conftest).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from matcher.esco.autocomplete import LabelIndex, fold, stem

ESCO = "http://data.europa.eu/esco/"
BARISTA = ESCO + "occupation/bf7d8b16-4e2c-48ef-b44e-dc25b2d0ab61"
CASHIER = ESCO + "occupation/2b871272-bd61-4206-bd1a-0b96d7023098"  # da: kasseassistent
BAKER = ESCO + "occupation/1aadb308-432a-4d01-b54b-b4f7f76dd419"  # da: bager


async def suggest(client: httpx.AsyncClient, kind: str, q: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"/v1/{kind}", params={"q": q, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["query"] == q
    return body


def labels(body: dict[str, Any]) -> list[str]:
    return [item["label"] for item in body["items"]]


# --- unit: folding and inflection ---------------------------------------------------


def test_fold_spells_out_danish_letters_and_drops_accents() -> None:
    assert fold("Rengøringsassistent") == "rengoeringsassistent"
    assert fold("Ærø / Århus  café-ejer!") == "aeroe aarhus cafe ejer"
    assert fold("   ") == "" and fold("\x00") == ""


def test_stem_strips_one_ending_and_a_doubled_consonant() -> None:
    assert stem("bagere") == "bag" and stem("kokke") == "kok" and stem("cleaners") == "clean"
    assert stem("kok") == "kok" and stem("rengoering") == "rengoering"


def test_index_dedupes_by_concept_and_prefers_label_prefix() -> None:
    index = LabelIndex(
        [
            ("u:1", "da", "preferred", "kasseassistent"),
            ("u:1", "da", "alt", "kassemedarbejder"),
            ("u:1", "en", "preferred", "cashier"),
            ("u:2", "da", "preferred", "bankassistent"),
        ]
    )
    got = index.search("kas", "da", 10)
    assert [s.uri for s in got] == ["u:1"]  # one row per concept; "bankassistent" lacks "kas"
    assert got[0].label == "kasseassistent" and got[0].lang == "da"
    assert {s.uri for s in index.search("assistent", "da", 10)} == {"u:1", "u:2"}
    assert index.search("cashier", "en", 1)[0].label == "cashier"
    assert index.search("!!!", "da", 10) == []


def test_an_empty_index_finds_nothing() -> None:
    # A database without ESCO loaded yet must not stop the service from starting.
    assert LabelIndex([]).search("kasse", "da", 10) == []


# --- the API --------------------------------------------------------------------------


async def test_typos_find_the_concept(client: httpx.AsyncClient) -> None:
    body = await suggest(client, "occupations", "baarista", lang="en")
    assert body["items"][0]["uri"] == BARISTA and body["items"][0]["label"] == "barista"
    body = await suggest(client, "skills", "cofee", lang="en", limit=10)
    assert any("coffee" in label for label in labels(body)), labels(body)


async def test_danish_inflections_and_letters(client: httpx.AsyncClient) -> None:
    body = await suggest(client, "occupations", "bagere", lang="da", limit=5)
    assert BAKER in [i["uri"] for i in body["items"]], labels(body)
    top = labels(await suggest(client, "occupations", "rengøring", lang="da", limit=5))
    assert all(label.lower().startswith("rengøring") for label in top[:3]), top
    # Without the Danish letters, as typed on a foreign keyboard.
    for typed in ("rengoering", "rengoring"):
        got = labels(await suggest(client, "occupations", typed, lang="da", limit=5))
        assert any(label.startswith("rengøring") for label in got), (typed, got)


async def test_a_few_letters_are_a_prefix(client: httpx.AsyncClient) -> None:
    body = await suggest(client, "occupations", "kas", lang="da", limit=5)
    assert body["items"][0]["uri"] == CASHIER and body["items"][0]["label"] == "kasseassistent"
    # An alternative label finds the concept, shown by its preferred label.
    body = await suggest(client, "occupations", "kassemedarb", lang="da", limit=3)
    first = body["items"][0]
    assert first["uri"] == CASHIER and first["matched_label"] == "kassemedarbejder"
    assert first["label"] == "kasseassistent" and first["lang"] == "da"
    body = await suggest(client, "occupations", "k", lang="da", limit=5)
    assert len(body["items"]) == 5 and all(
        i["label"].lower().startswith("k") for i in body["items"]
    )


async def test_english_and_danish_labels(client: httpx.AsyncClient) -> None:
    en = await suggest(client, "occupations", "sales assistant", lang="en", limit=3)
    top = en["items"][0]
    assert en["lang"] == "en" and top["label"] == "sales assistant" and top["lang"] == "en"
    # A Danish user typing the English title gets the Danish label.
    da = await suggest(client, "occupations", "sales assistant", lang="da", limit=3)
    assert da["items"][0]["uri"] == top["uri"]
    assert da["items"][0]["label"] == "salgsassistent" and da["items"][0]["lang"] == "da"
    assert da["items"][0]["matched_lang"] == "en"
    # Danish words are not searched in English.
    en = await suggest(client, "occupations", "kasseassistent", lang="en", limit=3)
    assert CASHIER not in [i["uri"] for i in en["items"]]


async def test_skills_in_danish_fall_back_to_english_and_say_so(
    client: httpx.AsyncClient,
) -> None:
    # Skills outside our easy-Danish vocabulary have English labels only.
    body = await suggest(client, "skills", "haskel", lang="da", limit=5)
    assert body["lang"] == "da" and body["items"]
    haskell = [i for i in body["items"] if "Haskell" in i["label"]]
    assert haskell and haskell[0]["lang"] == "en", labels(body)
    # Those inside it answer in Danish, even to an English query.
    body = await suggest(client, "skills", "custmer serv", lang="da", limit=5)
    assert any(i["lang"] == "da" for i in body["items"]), body


async def test_limit_and_unique_concepts(client: httpx.AsyncClient) -> None:
    for limit in (1, 7, 50):
        body = await suggest(client, "skills", "manage", lang="en", limit=limit)
        uris = [i["uri"] for i in body["items"]]
        assert len(uris) == limit and len(set(uris)) == limit
    body = await suggest(client, "occupations", "zzzzqqqxxx", lang="en")
    assert body["items"] == []


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("skills", {}),
        ("skills", {"q": ""}),
        ("skills", {"q": "   "}),
        ("skills", {"q": "x" * 101}),
        ("occupations", {"q": "kok", "lang": "de"}),
        ("occupations", {"q": "kok", "limit": 0}),
        ("occupations", {"q": "kok", "limit": 51}),
        ("occupations", {"q": "kok", "limit": "many"}),
    ],
)
async def test_bad_input_is_422(
    client: httpx.AsyncClient, kind: str, params: dict[str, Any]
) -> None:
    r = await client.get(f"/v1/{kind}", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] in {"validation_error", "invalid"}


async def test_punctuation_only_finds_nothing(client: httpx.AsyncClient) -> None:
    assert (await suggest(client, "skills", "!?-"))["items"] == []


async def test_an_occupation_suggests_its_skills(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/occupations/skills", params={"uri": BARISTA, "lang": "da"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["occupation"] == {"uri": BARISTA, "label": "barista", "lang": "da"}
    assert len(body["essential"]) >= 5 and body["optional"]
    essential = {s["label"] for s in body["essential"]}
    # In Danish: our easy-Danish labels (matcher/data/youth_skills_da.csv).
    assert "Byde gæster velkommen" in essential, essential
    assert any("kaffe" in label for label in essential), essential
    assert all(
        s["lang"] == "da" and s["uri"].startswith(ESCO + "skill/") for s in body["essential"]
    )
    assert not {s["uri"] for s in body["essential"]} & {s["uri"] for s in body["optional"]}
    r = await client.get("/v1/occupations/skills", params={"uri": CASHIER, "lang": "en"})
    assert r.json()["occupation"]["label"] == "cashier"


async def test_unknown_occupation_is_404(client: httpx.AsyncClient) -> None:
    for uri in (ESCO + "occupation/00000000-0000-0000-0000-000000000000", "not a uri"):
        r = await client.get("/v1/occupations/skills", params={"uri": uri})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.get("/v1/occupations/skills")
    assert r.status_code == 422
