"""ESCO import: the real English + Danish data once, and small synthetic downloads.

The full import runs once per session (conftest's `esco_loaded`). Edge cases
(a concept that disappears, a broken file, gzip) use tiny official-layout
directories written to tmp_path and imported into a scratch database of their
own, because an import marks everything it does not contain as retired.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from matcher.esco.esco_import import (
    EscoFilesMissing,
    EscoImportError,
    ImportReport,
    bundled_esco_dir,
    load_esco,
)
from matcher.esco.esco_read import discover
from tests.conftest import SHARED_DATA, _libpq, migrated_database

ESCO = "http://data.europa.eu/esco/"
HASKELL = ESCO + "skill/000f1d3d-220f-4789-9c0a-cc742521fb02"
PROGRAMMING = ESCO + "skill/21d2f96d-35f7-4e3f-9745-c533d2dd6e97"
_KSC = "KnowledgeSkillCompetence"


def query(url: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]


# --- the real data ---------------------------------------------------------------------


def test_full_import_counts(esco_loaded: ImportReport, database_url: str) -> None:
    r = esco_loaded
    # skills_en.csv has 13,401; the collections add 457 it omits.
    assert (r.skills, r.skill_groups) == (13_858, 640)
    assert (r.occupations, r.isco_groups) == (3_039, 619)
    assert r.occupation_skills == 128_422  # 129,004 rows less 564 without URI, duplicates
    assert r.skill_broader > 20_000 and r.skill_relations > 5_000
    assert r.languages == ["da", "en"]
    assert r.disappeared == []
    assert r.seconds < 60
    print(f"full ESCO import: {r.seconds:.1f} s")
    counts = query(
        database_url,
        "SELECT (SELECT count(*) FROM skills), (SELECT count(*) FROM occupations),"
        " (SELECT count(*) FROM occupation_skills),"
        " (SELECT count(*) FROM concept_labels WHERE lang = 'da' AND source = 'esco')",
    )[0]
    assert counts == (13_858 + 640, 3_039 + 619, 128_422, 10_410)


def test_real_hierarchy_types_and_labels(esco_loaded: ImportReport, database_url: str) -> None:
    broader = query(
        database_url,
        "SELECT b.uri FROM skill_broader x JOIN skills s ON s.id = x.skill_id"
        " JOIN skills b ON b.id = x.broader_id WHERE s.uri = %s",
        HASKELL,
    )
    assert {u for (u,) in broader} == {PROGRAMMING, ESCO + "isced-f/0613"}
    kinds = dict(
        query(
            database_url,
            "SELECT uri, skill_type FROM skills WHERE uri IN (%s, %s)",
            HASKELL,
            ESCO + "isced-f/0613",
        )
    )
    assert kinds == {HASKELL: "knowledge", ESCO + "isced-f/0613": "group"}
    tech_director = query(
        database_url,
        "SELECT concept_type, isco_code FROM occupations WHERE uri = %s",
        ESCO + "occupation/00030d09-2b3a-4efd-87cc-c4ea39d27c34",
    )
    assert tech_director == [("Occupation", "2654")]
    labels = query(
        database_url,
        "SELECT lang, label FROM concept_labels"
        " WHERE concept_uri = %s AND label_type = 'preferred'",
        ESCO + "isco/C0",
    )
    assert set(labels) == {("en", "Armed forces occupations"), ("da", "Militært arbejde")}


def test_reimport_is_idempotent_and_keeps_ids(esco_loaded: ImportReport, database_url: str) -> None:
    before = query(database_url, "SELECT id, uri FROM skills ORDER BY id")
    again = load_esco(database_url, [SHARED_DATA / "esco_en", SHARED_DATA / "esco_da"])
    assert set(again.inserted.values()) == {0}
    assert set(again.updated.values()) == {0} and set(again.removed.values()) == {0}
    assert again.disappeared == []
    assert query(database_url, "SELECT id, uri FROM skills ORDER BY id") == before


def test_bundle_holds_what_the_importer_needs() -> None:
    sets, label_files = discover([bundled_esco_dir()])
    assert [fs.lang for fs in sets] == ["en"]
    assert all(p.name.endswith(".gz") for p in sets[0].files.values())
    assert [lang for lang, _ in label_files] == ["da"]
    assert "European Commission" in (bundled_esco_dir() / "ATTRIBUTION.txt").read_text()


# --- synthetic official-layout downloads -------------------------------------------


@pytest.fixture(scope="module")
def scratch_url() -> Iterator[str]:
    with migrated_database("jotr_test_esco") as url:
        yield url


def _write(path: Path, header: str, rows: list[list[str]]) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header.split(","))
        w.writerows(rows)


def official(directory: Path, skills: list[str], ext: str = ".csv", lang: str = "en") -> Path:
    """An official-layout download: skills `skill/<name>` under one group, one occupation."""
    directory.mkdir(parents=True, exist_ok=True)
    s = [f"{ESCO}skill/{name}" for name in skills]
    group, occ = ESCO + "skill/g", ESCO + "occupation/o"
    files = {
        "skills": (
            "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,"
            "status,description",
            [
                [
                    _KSC,
                    u,
                    "skill/competence",
                    "cross-sector",
                    f"do {n}",
                    f"{n} alt one\n{n} alt two",
                    "",
                    "released",
                    f"Doing {n}.",
                ]
                for u, n in zip(s, skills, strict=True)
            ],
        ),
        "skillGroups": (
            "conceptType,conceptUri,preferredLabel,altLabels,code,description",
            [["SkillGroup", group, "things", "", "S9", ""]],
        ),
        "occupations": (
            "conceptType,conceptUri,iscoGroup,preferredLabel,altLabels,code",
            [["Occupation", occ, "5120", "cook", "chef", "5120.1"]],
        ),
        "ISCOGroups": (
            "conceptType,conceptUri,code,preferredLabel",
            [["ISCOGroup", ESCO + "isco/C5120", "5120", "Cooks"]],
        ),
        "broaderRelationsSkillPillar": (
            "conceptType,conceptUri,broaderType,broaderUri",
            [[_KSC, u, "SkillGroup", group] for u in s],
        ),
        "skillSkillRelations": (
            "originalSkillUri,originalSkillType,relationType,relatedSkillType,relatedSkillUri",
            [[s[0], "", "essential", "", u] for u in s[1:]],
        ),
        "occupationSkillRelations": (
            "occupationUri,relationType,skillType,skillUri",
            [[occ, "optional" if i else "essential", "", u] for i, u in enumerate(s)],
        ),
    }
    for stem, (header, rows) in files.items():
        _write(directory / f"{stem}_{lang}{ext}", header, rows)
    return directory


def test_removed_uri_is_retired_reported_and_revived(tmp_path: Path, scratch_url: str) -> None:
    first = load_esco(scratch_url, [official(tmp_path / "v1", ["a", "b", "c"])])
    assert (first.skills, first.skill_groups, first.occupations, first.isco_groups) == (3, 1, 1, 1)
    assert first.inserted["skills"] == 4 and first.occupation_skills == 3
    ids = dict(query(scratch_url, "SELECT uri, id FROM skills"))

    second = load_esco(scratch_url, [official(tmp_path / "v2", ["a", "c", "d"])])
    assert second.disappeared_skills == [ESCO + "skill/b"]
    assert second.inserted["skills"] == 1
    rows = dict(query(scratch_url, "SELECT uri, active FROM skills"))
    assert rows[ESCO + "skill/b"] is False and rows[ESCO + "skill/d"] is True
    assert (
        dict(query(scratch_url, "SELECT uri, id FROM skills WHERE uri <> %s", ESCO + "skill/d"))
        == ids
    )
    # Links of the retired skill are gone; its row (and id) stay for old profiles.
    linked = query(
        scratch_url,
        "SELECT count(*) FROM occupation_skills WHERE skill_id = %s",
        ids[ESCO + "skill/b"],
    )
    assert linked == [(0,)]
    assert second.removed["occupation_skills"] == 1 and second.removed["skill_relations"] == 1

    third = load_esco(scratch_url, [official(tmp_path / "v3", ["a", "b", "c", "d"])])
    assert third.disappeared == [] and third.updated["skills"] == 1  # b is back
    assert query(scratch_url, "SELECT id, active FROM skills WHERE uri = %s", ESCO + "skill/b") == [
        (ids[ESCO + "skill/b"], True)
    ]


def test_gzip_files_and_label_only_directory(tmp_path: Path, scratch_url: str) -> None:
    gz = official(tmp_path / "gz", ["a", "b", "c", "d"], ext=".csv.gz")
    da = tmp_path / "da"
    da.mkdir()
    _write(
        da / "occupation_labels_da.csv",
        "conceptUri,conceptType,labelType,label",
        [[ESCO + "occupation/o", "Occupation", "preferred", "kok"]],
    )
    report = load_esco(scratch_url, [gz, da])
    assert report.languages == ["da", "en"] and report.disappeared == []
    labels = query(
        scratch_url,
        "SELECT lang, label_type, label FROM concept_labels"
        " WHERE concept_uri = %s ORDER BY 1, 2, 3",
        ESCO + "skill/a",
    )
    assert labels == [
        ("en", "alt", "a alt one"),
        ("en", "alt", "a alt two"),
        ("en", "preferred", "do a"),
    ]
    assert query(scratch_url, "SELECT label FROM concept_labels WHERE lang = 'da'") == [("kok",)]


def test_missing_file_names_it_and_writes_nothing(tmp_path: Path, scratch_url: str) -> None:
    broken = official(tmp_path / "broken", ["x"], lang="fr")
    (broken / "skillSkillRelations_fr.csv").unlink()
    with pytest.raises(EscoFilesMissing, match=r"skillSkillRelations_fr\.csv") as err:
        load_esco(scratch_url, [broken])
    assert err.value.missing == ["skillSkillRelations_fr.csv"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EscoFilesMissing, match=r"skills_<lang>\.csv"):
        load_esco(scratch_url, [empty])
    with pytest.raises(EscoImportError, match="does not exist"):
        load_esco(scratch_url, [tmp_path / "nope"])
    assert query(scratch_url, "SELECT count(*) FROM skills WHERE uri = %s", ESCO + "skill/x") == [
        (0,)
    ]


def test_failure_midway_rolls_everything_back(tmp_path: Path, scratch_url: str) -> None:
    before = query(scratch_url, "SELECT uri, active FROM skills ORDER BY uri")
    bad = official(tmp_path / "bad", ["new-skill"])
    # isco_code is VARCHAR(16): the occupations step fails after skills were written.
    _write(
        bad / "occupations_en.csv",
        "conceptType,conceptUri,iscoGroup,preferredLabel",
        [["Occupation", ESCO + "occupation/o", "9" * 40, "cook"]],
    )
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        load_esco(scratch_url, [bad])
    assert query(scratch_url, "SELECT uri, active FROM skills ORDER BY uri") == before


# --- another language's official files, and our youth vocabulary -----------------------

# Real ESCO skills (UUIDs), so that our youth vocabulary has rows for them too.
CASH = "0cb013af-6dd9-4fb2-b34e-63dda1a5cf82"  # operate cash register
DISHES = "c662be22-f17a-4ba0-894f-d720b20c44cf"  # wash the dishes
HOT_DRINKS = "e4fb4f26-1c0c-45e4-9250-5be32cee2a48"  # prepare hot drinks


def test_official_danish_skills_file_adds_danish_labels(tmp_path: Path, scratch_url: str) -> None:
    """skills_da.csv / occupations_da.csv as the ESCO portal gives them (official
    columns, alt labels newline-separated), without the rest of a Danish set."""
    en = official(tmp_path / "en", [CASH, DISHES, HOT_DRINKS])
    da = tmp_path / "da"
    da.mkdir()
    _write(
        da / "skills_da.csv",
        "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,"
        "status,modifiedDate,scopeNote,definition,inScheme,description",
        [
            [_KSC, ESCO + "skill/" + CASH, "skill/competence", "sector-specific",
             "betjene kasseapparat", "anvende kasseapparat\nbetjene et kasseapparat",
             "kasseapparat betjening", "released", "", "", "", "", "Registrere og håndtere."],
            [_KSC, ESCO + "skill/" + DISHES, "skill/competence", "sector-specific",
             "vaske op", "opvask", "", "released", "", "", "", "", ""],
        ],
    )  # fmt: skip
    _write(
        da / "occupations_da.csv",
        "conceptType,conceptUri,iscoGroup,preferredLabel,altLabels,hiddenLabels,status",
        [["Occupation", ESCO + "occupation/o", "5120", "kok", "kokkeelev\nkøkkenchef", "", ""]],
    )
    report = load_esco(scratch_url, [en, da])
    assert report.languages == ["da", "en"]
    esco_da = query(
        scratch_url,
        "SELECT concept_uri, label_type, label FROM concept_labels"
        " WHERE lang = 'da' AND source = 'esco' ORDER BY 1, 2, 3",
    )
    assert esco_da == [
        (ESCO + "occupation/o", "alt", "kokkeelev"),
        (ESCO + "occupation/o", "alt", "køkkenchef"),
        (ESCO + "occupation/o", "preferred", "kok"),
        (ESCO + "skill/" + CASH, "alt", "anvende kasseapparat"),
        (ESCO + "skill/" + CASH, "alt", "betjene et kasseapparat"),
        (ESCO + "skill/" + CASH, "hidden", "kasseapparat betjening"),
        (ESCO + "skill/" + CASH, "preferred", "betjene kasseapparat"),
        (ESCO + "skill/" + DISHES, "alt", "opvask"),
        (ESCO + "skill/" + DISHES, "preferred", "vaske op"),
    ]
    # Our vocabulary sits beside ESCO's labels, marked as ours, for the skills present.
    ours = query(
        scratch_url,
        "SELECT concept_uri, label FROM concept_labels"
        " WHERE source = 'youth_da' AND label_type = 'preferred' ORDER BY 1",
    )
    assert ours == [
        (ESCO + "skill/" + CASH, "Betjene kassen"),
        (ESCO + "skill/" + DISHES, "Vaske op"),
        (ESCO + "skill/" + HOT_DRINKS, "Lave kaffe og te"),
    ]
    assert report.inserted["youth_vocabulary"] > 3
    # A re-import of the same files changes nothing, ours included.
    again = load_esco(scratch_url, [en, da])
    assert again.inserted["concept_labels"] == 0 and again.removed["concept_labels"] == 0
    assert again.inserted["youth_vocabulary"] == 0 and again.removed["youth_vocabulary"] == 0
    # An English-only re-import touches neither ESCO's Danish labels nor ours.
    count = "SELECT source, count(*) FROM concept_labels WHERE lang = 'da' GROUP BY 1 ORDER BY 1"
    before = query(scratch_url, count)
    load_esco(scratch_url, [en])
    assert query(scratch_url, count) == before
