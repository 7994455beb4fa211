"""The easy-Danish youth skill vocabulary: our own Danish labels for ESCO skills.

ESCO's Danish skill labels (when an operator loads them at all) are written for
professionals ("sikre kundeorientering"). Young people type "kasse", "opvask",
"truck". `matcher/data/youth_skills_da.csv` (README beside it) gives the skills
that young people's first jobs need a short everyday Danish label ("Betjene
kassen") and the words people type for them ("kasse|kasseapparat|betale").

It becomes rows of `concept_labels` with `source = 'youth_da'`, never 'esco':

    label_da     -> lang 'da', label_type 'preferred'  (what a Danish user sees)
    synonyms_da  -> lang 'da', label_type 'hidden'     (found by search, never shown)

Hidden, as ESCO uses hidden labels: search terms that are not names of the
skill. Readers that pick one Danish label per skill (autocomplete, the
taxonomy) prefer ours over an official ESCO Danish label, which is the point.

The vocabulary is written into the database by every ESCO import (inside its
transaction) and at every server start-up (`sync_async`), so a deployment that
loaded ESCO before the vocabulary existed, or before it was last edited, gets it
without a re-import. Both write only what differs, so a start-up with an
unchanged file writes nothing, and only labels of skills the database has (a
database without ESCO, or with another version, gets no orphan labels).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SOURCE = "youth_da"
LANG = "da"
MAX_LABEL_WORDS = 4
SKILL_CONCEPT = "KnowledgeSkillCompetence"
VOCAB_PATH = Path(__file__).resolve().parents[1] / "data" / "youth_skills_da.csv"
# The ESCO importer's lock (matcher/esco/esco_import.py): a start-up sync and an
# import must not interleave their deletes and inserts.
ADVISORY_LOCK = 7_316_001

LabelRow = tuple[str, str, str, str]  # (concept_uri, lang, label_type, label)


class VocabularyError(ValueError):
    """The vocabulary file is malformed (a row says which and why)."""


@dataclass(frozen=True, slots=True)
class Entry:
    skill_uri: str
    label_da: str
    synonyms_da: tuple[str, ...]
    label_en: str
    icon: str
    reviewed: str


def read_vocabulary(path: Path = VOCAB_PATH) -> list[Entry]:
    """The vocabulary's rows, checked for shape (URIs are checked against ESCO by tests)."""
    return list(_read(path))


@functools.cache
def _read(path: Path) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as f:
        for n, r in enumerate(csv.DictReader(f), start=2):
            uri, label = r.get("skill_uri", "").strip(), r.get("label_da", "").strip()
            if not uri.startswith("http://data.europa.eu/esco/skill/") or not label:
                raise VocabularyError(f"{path.name} line {n}: needs an ESCO skill URI and label_da")
            if len(label.split()) > MAX_LABEL_WORDS:
                raise VocabularyError(f"{path.name} line {n}: label_da over 4 words: {label!r}")
            if uri in seen:
                raise VocabularyError(f"{path.name} line {n}: {uri} listed twice")
            seen.add(uri)
            synonyms = (s.strip() for s in (r.get("synonyms_da") or "").split("|"))
            entries.append(
                Entry(
                    skill_uri=uri,
                    label_da=label,
                    synonyms_da=tuple(dict.fromkeys(s for s in synonyms if s)),
                    label_en=(r.get("label_en") or "").strip(),
                    icon=(r.get("icon") or "").strip(),
                    reviewed=(r.get("reviewed") or "").strip(),
                )
            )
    return tuple(entries)


def label_rows(entries: list[Entry] | None = None) -> list[LabelRow]:
    """The vocabulary as concept_labels rows (without concept_type and source)."""
    rows: dict[LabelRow, None] = {}
    for e in read_vocabulary() if entries is None else entries:
        rows[(e.skill_uri, LANG, "preferred", e.label_da)] = None
        for s in e.synonyms_da:
            rows[(e.skill_uri, LANG, "hidden", s)] = None
    return list(rows)


# One statement pair for both drivers: the rows arrive as four parallel arrays.
_DELETE = """
DELETE FROM concept_labels c WHERE c.source = 'youth_da' AND NOT EXISTS (
  SELECT 1 FROM unnest(CAST(:uris AS text[]), CAST(:langs AS text[]),
                       CAST(:types AS text[]), CAST(:labels AS text[])) AS t(uri, lang, typ, label)
  WHERE t.uri = c.concept_uri AND t.lang = c.lang AND t.typ = c.label_type AND t.label = c.label)
"""
_INSERT = """
INSERT INTO concept_labels (concept_uri, concept_type, lang, label_type, label, source)
SELECT t.uri, 'KnowledgeSkillCompetence', t.lang, t.typ, t.label, 'youth_da'
FROM unnest(CAST(:uris AS text[]), CAST(:langs AS text[]),
            CAST(:types AS text[]), CAST(:labels AS text[])) AS t(uri, lang, typ, label)
WHERE EXISTS (SELECT 1 FROM skills s WHERE s.uri = t.uri)
ON CONFLICT ON CONSTRAINT uq_concept_labels DO NOTHING
"""


def _params(rows: list[LabelRow]) -> dict[str, list[str]]:
    return {
        "uris": [r[0] for r in rows],
        "langs": [r[1] for r in rows],
        "types": [r[2] for r in rows],
        "labels": [r[3] for r in rows],
    }


def sync_psycopg(cur: Any, rows: list[LabelRow] | None = None) -> tuple[int, int]:
    """Make the youth_da labels equal the vocabulary on a psycopg cursor (the
    importer's transaction, which holds the lock). Returns (inserted, removed)."""
    params = _params(label_rows() if rows is None else rows)
    # psycopg uses %(name)s placeholders; the SQL is shared with SQLAlchemy's :name.
    delete, insert = (
        q.replace(":uris", "%(uris)s")
        .replace(":langs", "%(langs)s")
        .replace(":types", "%(types)s")
        .replace(":labels", "%(labels)s")
        for q in (_DELETE, _INSERT)
    )
    cur.execute(delete, params)
    removed = cur.rowcount
    cur.execute(insert, params)
    return cur.rowcount, removed


async def sync_async(session: AsyncSession, rows: list[LabelRow] | None = None) -> tuple[int, int]:
    """The same at server start-up, committed. Returns (inserted, removed)."""
    params = _params(label_rows() if rows is None else rows)
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
    removed = (await session.execute(text(_DELETE), params)).rowcount  # type: ignore[attr-defined]
    inserted = (await session.execute(text(_INSERT), params)).rowcount  # type: ignore[attr-defined]
    await session.commit()
    return inserted, removed
