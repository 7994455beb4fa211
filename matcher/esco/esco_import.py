"""Import the ESCO classification (official CSV download, any language) into PostGIS.

What is read, per directory (each file may also be gzip-compressed, `.csv.gz`):

    skills_<lang>.csv                 skills; the official columns (conceptType, conceptUri,
                                      skillType, reuseLevel, preferredLabel, altLabels,
                                      hiddenLabels, description ...) or the reduced
                                      layout (conceptUri, preferredLabel, text)
    skillGroups_<lang>.csv            skill groups (stored as skills with skill_type 'group')
    occupations_<lang>.csv            occupations (iscoGroup gives the ISCO-08 code)
    ISCOGroups_<lang>.csv             ISCO groups (stored as occupations, concept_type ISCOGroup)
    broaderRelationsSkillPillar_<lang>.csv   skill -> broader skill or group
    skillSkillRelations_<lang>.csv    skill -> related skill (essential|optional)
    occupationSkillRelations_<lang>.csv, or our occupation_skill_relations*.csv.gz
    <name>SkillsCollection_<lang>.csv optional: fills skill type, reuse level, description
                                      and alt labels the reduced skills file lacks, and
                                      adds the collection skills it omits
    *_labels_<lang>.csv               optional: extra labels (conceptUri, conceptType,
                                      labelType preferred|alt|hidden, label), e.g. the
                                      Danish occupation labels

A directory may also hold only some files of another language than the primary
set's, e.g. just skills_da.csv and occupations_da.csv from the ESCO portal: their
labels (preferred, alt, hidden) are added with that language.

Every import also writes our easy-Danish youth vocabulary (matcher/esco/youth_vocab.py)
as labels with source 'youth_da'. ESCO labels carry source 'esco'; an import
replaces only those, so neither kind of label can delete the other.

The first directory holding a complete set of the seven pillar files is the
*primary* set: it defines the concepts, their hierarchy and relations, and the
preferred labels stored on `skills`/`occupations`. Every other set (another
language's download) and every label file only adds rows to `concept_labels`.

A re-import updates rows in place by URI, so `skills.id` stays stable and the id
arrays on vacancies and jobseekers keep meaning the same skill; concepts missing
from the new version are kept but marked `active = false` and reported. The
whole import is one transaction (COPY into temp tables, then set-based SQL), so
a failure leaves the previous version untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from matcher.db import sync_url
from matcher.esco.esco_read import (
    PILLAR_FILES,
    Dataset,
    EscoFilesMissing,
    EscoImportError,
    discover,
    read,
)
from matcher.esco.youth_vocab import sync_psycopg

__all__ = [
    "PILLAR_FILES",
    "EscoFilesMissing",
    "EscoImportError",
    "ImportReport",
    "bundled_esco_dir",
    "load_esco",
]

Progress = Callable[[str, int, int], None]
_ADVISORY_LOCK = 7_316_001  # serialises concurrent imports


@dataclass
class ImportReport:
    """What an import found and changed.

    The counts (skills ... labels) describe the imported version. `inserted`,
    `updated` and `removed` say what changed in each table (a re-import of the
    same version is all zeros); `skipped` counts file rows pointing at concepts
    the version lacks. `disappeared_*` lists URIs a previous import had and this
    one does not: they stay, with `active = false`, so old profiles still resolve.
    """

    skills: int = 0  # skill concepts in this version (skill groups excluded)
    skill_groups: int = 0
    occupations: int = 0
    isco_groups: int = 0
    skill_broader: int = 0
    skill_relations: int = 0
    occupation_skills: int = 0
    labels: int = 0
    languages: list[str] = field(default_factory=list)
    inserted: dict[str, int] = field(default_factory=dict)  # new rows per table
    updated: dict[str, int] = field(default_factory=dict)  # changed (or revived) concepts
    removed: dict[str, int] = field(default_factory=dict)  # links and labels now gone
    skipped: dict[str, int] = field(default_factory=dict)  # rows that could not be used
    disappeared_skills: list[str] = field(default_factory=list)
    disappeared_occupations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def disappeared(self) -> list[str]:
        return self.disappeared_skills + self.disappeared_occupations


def bundled_esco_dir() -> Path:
    """The ESCO subset shipped with the package (English + Danish occupation labels)."""
    return Path(__file__).resolve().parents[1] / "data" / "esco"


def load_esco(
    database_url: str,
    directories: Sequence[Path] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ESCO from `directories` (default: the bundled subset) in one transaction."""
    started = time.perf_counter()
    sets, label_files = discover(directories or [bundled_esco_dir()])
    step = _stepper(progress, 5)  # read, skills, occupations, relations, labels; then "done"
    step("read")
    data = read(sets, label_files)
    conninfo = make_url(sync_url(database_url)).set(drivername="postgresql")
    # The connection's context commits on success and rolls back on any error.
    with psycopg.connect(conninfo.render_as_string(hide_password=False)) as conn:
        report = _write(conn, data, step)
    step("done")
    report.languages = sorted({lang for (_, lang, _, _) in data.labels})
    report.seconds = round(time.perf_counter() - started, 3)
    return report


# --- writing ------------------------------------------------------------------


def _stepper(progress: Progress | None, total: int) -> Callable[[str], None]:
    done = [0]

    def step(name: str) -> None:
        if progress is not None:
            progress(name, done[0], total)
        done[0] += 1

    return step


def _copy(
    cur: psycopg.Cursor[Any], table: str, columns: str, rows: Iterable[Sequence[Any]]
) -> None:
    defs = ", ".join(f"{c} {'int' if c == 'ord' else 'text'}" for c in columns.split(", "))
    cur.execute(f"CREATE TEMP TABLE {table} ({defs}) ON COMMIT DROP")
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    # Temp tables are never auto-analysed; without statistics the anti-joins
    # below get nested-loop plans that take minutes instead of milliseconds.
    cur.execute(f"ANALYZE {table}")


def _sync_concepts(
    cur: psycopg.Cursor[Any],
    table: str,
    columns: list[str],
    rows: Iterable[Sequence[Any]],
    report: ImportReport,
) -> list[str]:
    """Upsert concepts by URI; return the URIs that were active and are now gone."""
    tmp = f"t_{table}"
    _copy(cur, tmp, ", ".join(["ord", "uri", *columns]), rows)
    cols, new = ", ".join(columns), ", ".join(f"t.{c}" for c in columns)
    cur.execute(
        f"UPDATE {table} x SET ({cols}, active) = ({new}, true) FROM {tmp} t "
        f"WHERE x.uri = t.uri AND ({', '.join(f'x.{c}' for c in columns)}, x.active) "
        f"IS DISTINCT FROM ({new}, true)"
    )
    report.updated[table] = cur.rowcount
    # Only genuinely new URIs reach INSERT: an ON CONFLICT upsert would burn a
    # sequence value per existing row and make ids (and n_slots) creep up.
    cur.execute(
        f"INSERT INTO {table} (uri, {cols}) SELECT t.uri, {new} FROM {tmp} t "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE x.uri = t.uri) ORDER BY t.ord"
    )
    report.inserted[table] = cur.rowcount
    cur.execute(
        f"UPDATE {table} x SET active = false WHERE x.active "
        f"AND NOT EXISTS (SELECT 1 FROM {tmp} t WHERE t.uri = x.uri) RETURNING x.uri"
    )
    return sorted(r[0] for r in cur.fetchall())


def _sync_links(
    cur: psycopg.Cursor[Any],
    table: str,
    cols: tuple[str, str],
    targets: tuple[str, str],
    rows: Iterable[Sequence[Any]],
    typed: bool,
    report: ImportReport,
) -> None:
    """Make a link table equal to `rows` (URI pairs), touching only what changed."""
    a, b = cols
    extra = ", relation_type" if typed else ""
    _copy(cur, f"t_{table}", f"a_uri, b_uri{extra}", rows)
    cur.execute(
        f"CREATE TEMP TABLE t_{table}_ids ON COMMIT DROP AS "
        f"SELECT l.id AS {a}, r.id AS {b}{extra} FROM t_{table} t "
        f"JOIN {targets[0]} l ON l.uri = t.a_uri JOIN {targets[1]} r ON r.uri = t.b_uri"
    )
    cur.execute(f"ANALYZE t_{table}_ids")
    cur.execute(
        f"DELETE FROM {table} x WHERE NOT EXISTS (SELECT 1 FROM t_{table}_ids t "
        f"WHERE t.{a} = x.{a} AND t.{b} = x.{b})"
    )
    removed = cur.rowcount
    if typed:
        cur.execute(
            f"UPDATE {table} x SET relation_type = t.relation_type FROM t_{table}_ids t "
            f"WHERE t.{a} = x.{a} AND t.{b} = x.{b} AND x.relation_type <> t.relation_type"
        )
        report.updated[table] = cur.rowcount
    # Anti-join rather than ON CONFLICT: a conflicting upsert locks (writes) every
    # existing row, which made a no-change re-import rewrite all 128k links.
    cur.execute(
        f"INSERT INTO {table} ({a}, {b}{extra}) SELECT {a}, {b}{extra} FROM t_{table}_ids t "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE x.{a} = t.{a} AND x.{b} = t.{b})"
    )
    report.inserted[table] = cur.rowcount
    report.removed[table] = removed


def _write(
    conn: psycopg.Connection[Any], data: Dataset, step: Callable[[str], None]
) -> ImportReport:
    report = ImportReport(skipped=dict(data.skipped))
    groups = sum(1 for v in data.skills.values() if v[0] == "group")
    report.skills, report.skill_groups = len(data.skills) - groups, groups
    report.isco_groups = sum(1 for v in data.occupations.values() if v[0] == "ISCOGroup")
    report.occupations = len(data.occupations) - report.isco_groups
    report.skill_broader, report.skill_relations = len(data.broader), len(data.related)
    report.occupation_skills, report.labels = len(data.occupation_skills), len(data.labels)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
        step("skills")
        report.disappeared_skills = _sync_concepts(
            cur,
            "skills",
            ["skill_type", "reuse_level", "preferred_label", "description"],
            ((i, uri, *v) for i, (uri, v) in enumerate(data.skills.items())),
            report,
        )
        step("occupations")
        report.disappeared_occupations = _sync_concepts(
            cur,
            "occupations",
            ["concept_type", "isco_code", "preferred_label", "description"],
            ((i, uri, *v) for i, (uri, v) in enumerate(data.occupations.items())),
            report,
        )
        step("relations")
        _sync_links(
            cur,
            "skill_broader",
            ("skill_id", "broader_id"),
            ("skills", "skills"),
            data.broader,
            False,
            report,
        )
        _sync_links(
            cur,
            "skill_relations",
            ("skill_id", "related_id"),
            ("skills", "skills"),
            ((a, b, t) for (a, b), t in data.related.items()),
            True,
            report,
        )
        _sync_links(
            cur,
            "occupation_skills",
            ("occupation_id", "skill_id"),
            ("occupations", "skills"),
            ((a, b, t) for (a, b), t in data.occupation_skills.items()),
            True,
            report,
        )
        step("labels")
        _sync_labels(cur, data, report)
        inserted, removed = sync_psycopg(cur)
        report.inserted["youth_vocabulary"], report.removed["youth_vocabulary"] = inserted, removed
    return report


def _sync_labels(cur: psycopg.Cursor[Any], data: Dataset, report: ImportReport) -> None:
    _copy(
        cur,
        "t_labels",
        "uri, lang, label_type, label, concept_type",
        ((*k, v) for k, v in data.labels.items()),
    )
    langs = sorted({k[1] for k in data.labels})
    # Set-based anti-joins of ~85k labels each way want hash joins. With stale
    # statistics on concept_labels (a new database, the `source` column just
    # added) the planner expects one matching row and picks a nested loop that
    # compares every label with every label: minutes instead of a second.
    cur.execute("SET LOCAL enable_nestloop = off")
    # Only ESCO's labels in the languages of this import are replaced; other
    # languages, and our own vocabulary (source 'youth_da'), stay as they were.
    cur.execute(
        "DELETE FROM concept_labels c WHERE c.source = 'esco' AND c.lang = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM t_labels t WHERE t.uri = c.concept_uri "
        "AND t.lang = c.lang AND t.label_type = c.label_type AND t.label = c.label)",
        (langs,),
    )
    report.removed["concept_labels"] = cur.rowcount
    cur.execute(
        "INSERT INTO concept_labels (concept_uri, concept_type, lang, label_type, label, source) "
        "SELECT t.uri, t.concept_type, t.lang, t.label_type, t.label, 'esco' FROM t_labels t "
        "WHERE NOT EXISTS (SELECT 1 FROM concept_labels c WHERE c.concept_uri = t.uri "
        "AND c.lang = t.lang AND c.label_type = t.label_type AND c.label = t.label "
        "AND c.source = 'esco') "
        "ON CONFLICT ON CONSTRAINT uq_concept_labels DO NOTHING"
    )
    report.inserted["concept_labels"] = cur.rowcount
