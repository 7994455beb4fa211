"""The course catalogue: courses that teach ESCO skills, for competence guidance.

Loaded from a CSV file (`jotr courses load FILE.csv`), UTF-8, with a header row:

    source_ref,title,provider,url,language,duration_hours,skill_uris
    amu-45021,Hygiejnebevis,AMU Aarhus,https://…,da,7.5,http://data.europa.eu/esco/skill/…|http://…

- `source_ref`: the catalogue's own id, unique in the file; a re-load updates the
  course with that id (upsert), so loading is rerunnable.
- `title`, `provider`: text, required. `url`: http(s), required.
- `language`: a two-letter code (`da`, `en`). `duration_hours`: empty or > 0.
- `skill_uris`: ESCO skill URIs separated by `|`; may be empty.

The whole file is one transaction. A row that breaks the format stops the load
with its line number and nothing is written. A skill URI that is not (or no
longer) an active ESCO skill is not an error: the course is loaded with its other
skills and the report lists the unknown URIs, since catalogues and ESCO versions
drift apart. Courses missing from a later file are kept (a catalogue may be
loaded in parts); each loaded course's skills are replaced by the file's.

`matcher/data/courses_sample.csv` is a *format sample*, not real course data.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.db import sync_url

COLUMNS = ("source_ref", "title", "provider", "url", "language", "duration_hours", "skill_uris")
SAMPLE_CSV = Path(__file__).resolve().parents[1] / "data" / "courses_sample.csv"
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class CourseLoadError(Exception):
    """The file cannot be loaded as it is; the message says where and why."""


@dataclass(frozen=True, slots=True)
class CourseRow:
    source_ref: str
    title: str
    provider: str
    url: str
    language: str
    duration_hours: float | None
    skill_uris: tuple[str, ...]


@dataclass
class LoadReport:
    courses: int = 0
    inserted: int = 0
    updated: int = 0
    links: int = 0
    unknown_uris: dict[str, list[str]] = field(default_factory=dict)  # uri -> source_refs

    def lines(self) -> list[str]:
        out = [
            f"{self.courses} courses ({self.inserted} new, {self.updated} updated), "
            f"{self.links} course-skill links"
        ]
        if self.unknown_uris:
            out.append(f"{len(self.unknown_uris)} unknown or retired ESCO skill URIs (skipped):")
            out += [
                f"  {u} (in {', '.join(refs)})" for u, refs in sorted(self.unknown_uris.items())
            ]
        return out


def parse(lines: Iterable[str]) -> list[CourseRow]:
    """Validate the whole file before anything is written."""
    reader = csv.DictReader(lines)
    header = tuple(h.strip() for h in (reader.fieldnames or ()))
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CourseLoadError(f"missing column(s): {', '.join(missing)} (need {','.join(COLUMNS)})")
    rows: list[CourseRow] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        get = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        ref = get["source_ref"]
        if not ref or len(ref) > 200:
            raise CourseLoadError(f"line {line}: source_ref must be 1-200 characters")
        if ref in seen:
            raise CourseLoadError(f"line {line}: source_ref {ref!r} repeats line {seen[ref]}")
        seen[ref] = line
        for col in ("title", "provider"):
            if not get[col]:
                raise CourseLoadError(f"line {line}: {col} is empty")
        if not _URL.match(get["url"]):
            raise CourseLoadError(f"line {line}: url {get['url']!r} is not an http(s) URL")
        language = get["language"].lower()
        if not _LANGUAGE.match(language):
            raise CourseLoadError(f"line {line}: language {get['language']!r} is not 2 letters")
        uris = (u.strip() for u in get["skill_uris"].split("|"))
        rows.append(
            CourseRow(
                source_ref=ref,
                title=get["title"],
                provider=get["provider"],
                url=get["url"],
                language=language,
                duration_hours=_hours(get["duration_hours"], line),
                skill_uris=tuple(dict.fromkeys(u for u in uris if u)),
            )
        )
    return rows


def _hours(value: str, line: int) -> float | None:
    if not value:
        return None
    try:
        hours = float(value)
    except ValueError:
        raise CourseLoadError(f"line {line}: duration_hours {value!r} is not a number") from None
    if not math.isfinite(hours) or hours <= 0:
        raise CourseLoadError(f"line {line}: duration_hours must be > 0")
    return hours


def read_file(path: Path) -> list[CourseRow]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CourseLoadError(f"{path}: {exc.strerror or exc}") from exc
    try:
        content = raw.decode("utf-8-sig")  # spreadsheets like to add a BOM
    except UnicodeDecodeError as exc:
        raise CourseLoadError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if "\x00" in content:
        raise CourseLoadError(f"{path}: contains NUL characters; not a CSV text file")
    return parse(io.StringIO(content, newline=""))


_UPSERT_SQL = """
INSERT INTO courses (source_ref, title, provider, url, language, duration_hours)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (source_ref) DO UPDATE SET
    title = EXCLUDED.title, provider = EXCLUDED.provider, url = EXCLUDED.url,
    language = EXCLUDED.language, duration_hours = EXCLUDED.duration_hours
RETURNING id, (xmax = 0) AS inserted
"""


def load_rows(conn: psycopg.Connection[Any], rows: Sequence[CourseRow]) -> LoadReport:
    """Upsert the courses and replace their skill links, in the caller's transaction."""
    report = LoadReport(courses=len(rows))
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM skills)").fetchone() == (True,):
        raise CourseLoadError("ESCO is not loaded: run `jotr esco load` first")
    uris = sorted({u for r in rows for u in r.skill_uris})
    known = dict(
        conn.execute(
            "SELECT uri, id FROM skills WHERE uri = ANY(%s) AND active",
            (uris,),
        ).fetchall()
    )
    for r in rows:
        found = conn.execute(
            _UPSERT_SQL,
            (r.source_ref, r.title, r.provider, r.url, r.language, r.duration_hours),
        ).fetchone()
        assert found is not None
        course_id, inserted = found
        report.inserted += int(inserted)
        report.updated += int(not inserted)
        conn.execute("DELETE FROM course_skills WHERE course_id = %s", (course_id,))
        skill_ids = [known[u] for u in r.skill_uris if u in known]
        for u in r.skill_uris:
            if u not in known:
                report.unknown_uris.setdefault(u, []).append(r.source_ref)
        if skill_ids:
            conn.execute(
                "INSERT INTO course_skills (course_id, skill_id)"
                " SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING",
                (course_id, skill_ids),
            )
            report.links += len(set(skill_ids))
    return report


def load_courses(database_url: str, path: Path) -> LoadReport:
    """Validate `path`, then load it in one transaction."""
    rows = read_file(path)
    conninfo = make_url(sync_url(database_url)).set(drivername="postgresql")
    # The connection's context commits on success and rolls back on any error.
    with psycopg.connect(conninfo.render_as_string(hide_password=False)) as conn:
        return load_rows(conn, rows)


# --- reading, for guidance ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CourseRef:
    title: str
    provider: str
    url: str


# Per skill, the first `per_skill` courses: the seeker's language first, then
# the shortest (a short course is a smaller step), then by title.
_FOR_SKILLS_SQL = text(
    """
    SELECT skill_id, title, provider, url FROM (
        SELECT cs.skill_id, c.title, c.provider, c.url,
               row_number() OVER (
                   PARTITION BY cs.skill_id
                   ORDER BY (c.language = :language) DESC, c.duration_hours NULLS LAST,
                            c.title, c.id
               ) AS n
        FROM course_skills cs JOIN courses c ON c.id = cs.course_id
        WHERE cs.skill_id = ANY(:skill_ids)
    ) ranked
    WHERE n <= :per_skill
    ORDER BY skill_id, n
    """
)


async def courses_for_skills(
    session: AsyncSession, skill_ids: list[int], language: str, per_skill: int
) -> dict[int, list[CourseRef]]:
    if not skill_ids:
        return {}
    result = await session.execute(
        _FOR_SKILLS_SQL, {"skill_ids": skill_ids, "language": language, "per_skill": per_skill}
    )
    out: dict[int, list[CourseRef]] = {}
    for skill_id, title, provider, url in result:
        out.setdefault(skill_id, []).append(CourseRef(title, provider, url))
    return out
