"""The course catalogue loader and `jotr courses load`, against the real database."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from matcher.competence.courses import SAMPLE_CSV, CourseLoadError, parse
from matcher.settings import get_settings
from tests.conftest import _libpq

HEADER = "source_ref,title,provider,url,language,duration_hours,skill_uris\n"
FORKLIFT = "http://data.europa.eu/esco/skill/28cb374e-6261-4133-8371-f9a5470145da"
FIRST_AID = "http://data.europa.eu/esco/skill/1d21f6ad-340f-45da-a0a3-4e83867f47a6"
UNKNOWN = "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000"


def jotr(database_url: str, *args: str) -> Result:
    get_settings.cache_clear()  # settings are read once per process
    try:
        result = CliRunner().invoke(app, list(args), env={"DATABASE_URL": database_url})
    finally:
        get_settings.cache_clear()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def courses(database_url: str, prefix: str) -> dict[str, tuple[str, float | None, list[str]]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT c.source_ref, c.title, c.duration_hours,"
            " coalesce(array_agg(s.uri ORDER BY s.uri) FILTER (WHERE s.uri IS NOT NULL), '{}')"
            " FROM courses c LEFT JOIN course_skills cs ON cs.course_id = c.id"
            " LEFT JOIN skills s ON s.id = cs.skill_id"
            " WHERE c.source_ref LIKE %s GROUP BY c.id",
            (prefix + "%",),
        ).fetchall()
    return {r[0]: (r[1], r[2], list(r[3])) for r in rows}


def write(tmp_path: Path, body: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_sample_loads_and_reloads(database_url: str, esco_loaded: object) -> None:
    first = jotr(database_url, "courses", "load", str(SAMPLE_CSV))
    assert first.exit_code == 0, first.output
    loaded = courses(database_url, "sample-")
    assert len(loaded) == 10
    assert all(title.startswith("[FORMAT SAMPLE]") for title, _, _ in loaded.values())
    assert loaded["sample-005"][2] == sorted(
        [
            "http://data.europa.eu/esco/skill/0cb013af-6dd9-4fb2-b34e-63dda1a5cf82",
            "http://data.europa.eu/esco/skill/bdcac0c8-b77a-4640-9eaf-c0cf3efd1e23",
        ]
    )
    assert loaded["sample-008"][1] is None  # no duration given
    again = jotr(database_url, "courses", "load", str(SAMPLE_CSV))
    assert again.exit_code == 0 and "0 new, 10 updated" in again.output
    assert courses(database_url, "sample-") == loaded


def test_upsert_replaces_skills_and_reports_unknown_uris(
    database_url: str, esco_loaded: object, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"t1-a,Forklift,School,https://example.org/a,da,20,{FORKLIFT}|{UNKNOWN}\n"
        f"t1-b,No skills,School,https://example.org/b,EN,,\n",
    )
    r = jotr(database_url, "courses", "load", str(path))
    assert r.exit_code == 0, r.output
    assert "2 new" in r.output and UNKNOWN in r.output and "t1-a" in r.output
    assert courses(database_url, "t1-") == {
        "t1-a": ("Forklift", 20.0, [FORKLIFT]),
        "t1-b": ("No skills", None, []),
    }
    path = write(tmp_path, f"t1-a,Forklift 2,School,https://example.org/a,da,8,{FIRST_AID}\n")
    r = jotr(database_url, "courses", "load", str(path))
    assert r.exit_code == 0 and "1 updated" in r.output
    got = courses(database_url, "t1-")
    assert got["t1-a"] == ("Forklift 2", 8.0, [FIRST_AID])
    assert "t1-b" in got  # courses not in a later file are kept


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("t2-a,T,P,https://example.org,da,1,\nt2-a,T,P,https://example.org,da,1,\n", "repeats"),
        ("t2-a,T,P,ftp://example.org,da,1,\n", "url"),
        ("t2-a,T,P,https://example.org,danish,1,\n", "language"),
        ("t2-a,T,P,https://example.org,da,-3,\n", "duration_hours"),
        ("t2-a,T,P,https://example.org,da,nan,\n", "duration_hours"),
        ("t2-a,T,P,https://example.org,da,lots,\n", "duration_hours"),
        ("t2-a,,P,https://example.org,da,1,\n", "title"),
        (",T,P,https://example.org,da,1,\n", "source_ref"),
    ],
)
def test_a_bad_row_stops_the_load_with_nothing_written(
    database_url: str, esco_loaded: object, tmp_path: Path, body: str, message: str
) -> None:
    good = f"t2-ok,Fine,School,https://example.org/ok,da,2,{FORKLIFT}\n"
    path = write(tmp_path, good + body)
    r = jotr(database_url, "courses", "load", str(path))
    assert r.exit_code == 1
    assert message in r.output and "nothing was loaded" in r.output
    assert "line " in r.output
    assert courses(database_url, "t2-") == {}


def test_a_bom_is_fine(database_url: str, esco_loaded: object, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text(HEADER + "t3-a,Kørekort,P,https://e.org,da,1,\n", encoding="utf-8-sig")
    r = jotr(database_url, "courses", "load", str(path))
    assert r.exit_code == 0, r.output
    assert courses(database_url, "t3-") == {"t3-a": ("Kørekort", 1.0, [])}


def test_bad_files(database_url: str, tmp_path: Path) -> None:
    missing_col = tmp_path / "m.csv"
    missing_col.write_text("source_ref,title,url\nx,y,https://e.org\n", encoding="utf-8")
    latin1 = tmp_path / "l.csv"
    latin1.write_bytes((HEADER + "x,Kørekort,P,https://e.org,da,1,\n").encode("latin-1"))
    for path, message in (
        (missing_col, "missing column(s): provider, language"),
        (latin1, "not UTF-8"),
        (tmp_path / "absent.csv", "absent.csv"),
    ):
        r = jotr(database_url, "courses", "load", str(path))
        assert r.exit_code == 1 and message in r.output, r.output


def test_parse_accepts_a_spreadsheet_export() -> None:
    rows = parse(
        [
            HEADER.replace(",", " ,"),
            f" x , Title , P , https://e.org , DA , 1.5 , {FORKLIFT} | {FORKLIFT} \n",
        ]
    )
    assert rows[0].language == "da" and rows[0].duration_hours == 1.5
    assert rows[0].skill_uris == (FORKLIFT,)
    with pytest.raises(CourseLoadError, match="missing column"):
        parse(["a,b\n"])
