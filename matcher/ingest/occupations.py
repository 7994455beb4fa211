"""Jobnet's occupation -> an ESCO occupation: a STAR crosswalk, else the Danish label.

Jobnet ads name their occupation twice: a Danish label (`occupation`,
`preferredLabelDa`: "Kok", "Butiksassistent") and a STAR URI (`conceptUriDa`,
`http://data.star.dk/esco/occupation/<uuid>`). STAR's UUIDs are not ESCO's, so
the URI is only usable through a crosswalk that an operator supplies
(`jotr esco crosswalk load FILE`, a CSV `star_uri,esco_uri`, kept in
`esco_crosswalk`). Without one, the label is looked up among ESCO's Danish
occupation labels (preferred, alternative and hidden):

1. exact after folding (matcher.esco.autocomplete.fold: case, æøå, punctuation), also
   the part before a comma ("Softwareudvikler, backend" -> "softwareudvikler");
2. else the autocomplete index's best Danish candidates, accepted only if the
   trigram similarity (Dice) of the label and the matched label is at least
   `FUZZY_MIN` - a typo or an inflection, not merely a shared word.

Anything else returns None and the importer falls back to the extractor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.esco.autocomplete import OCCUPATION_LABELS_SQL, LabelIndex, LabelRow, fold, trigrams

FUZZY_MIN = 0.7
LANG = "da"
_RANK = {"preferred": 0, "alt": 1, "hidden": 2}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two folded texts' trigram sets."""
    x, y = set(trigrams(fold(a)).tolist()), set(trigrams(fold(b)).tolist())
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


class OccupationMatcher:
    def __init__(
        self, labels: Iterable[LabelRow], crosswalk: Mapping[str, str], fuzzy_min: float = FUZZY_MIN
    ) -> None:
        rows = [r for r in labels if r[1] == LANG]
        # A label several occupations share ("lagermedarbejder" is an alternative label
        # of a handful of factory-specific ones): the one whose own preferred label it
        # is wins, else the one with the shortest preferred label - the most general.
        preferred = {uri: label for uri, _, label_type, label in rows if label_type == "preferred"}
        exact: dict[str, tuple[int, int, str]] = {}
        for uri, _, label_type, label in rows:
            key = fold(label)
            rank = (_RANK.get(label_type, 3), len(preferred.get(uri, label)), uri)
            if key and (key not in exact or rank < exact[key]):
                exact[key] = rank
        self.exact = {k: uri for k, (_, _, uri) in exact.items()}
        self.index = LabelIndex(rows)
        self.crosswalk = dict(crosswalk)
        self.fuzzy_min = fuzzy_min

    def find(self, star_uri: str | None, label: str | None) -> tuple[str, str] | None:
        if star_uri and star_uri in self.crosswalk:
            return self.crosswalk[star_uri], "crosswalk"
        if not label or not fold(label):
            return None
        for candidate in (label, label.split(",", 1)[0], label.split("(", 1)[0]):
            uri = self.exact.get(fold(candidate))
            if uri is not None:
                return uri, "label"
        best: tuple[float, str] | None = None
        for s in self.index.search(label, LANG, limit=5):
            score = similarity(label, s.matched_label)
            if score >= self.fuzzy_min and (best is None or score > best[0]):
                best = (score, s.uri)
        return (best[1], "fuzzy_label") if best else None

    @classmethod
    async def load(cls, session: AsyncSession) -> OccupationMatcher:
        labels = [
            (r[0], r[1], r[2], r[3])
            for r in await session.execute(text(OCCUPATION_LABELS_SQL))
            if r[1] == LANG
        ]
        crosswalk = {
            r[0]: r[1]
            for r in await session.execute(text("SELECT star_uri, esco_uri FROM esco_crosswalk"))
        }
        return cls(labels, crosswalk)


# --- the crosswalk file ---------------------------------------------------------------


class CrosswalkError(ValueError):
    """The file cannot be loaded; nothing was written."""


@dataclass(frozen=True)
class CrosswalkReport:
    rows: int
    replaced: int  # rows the table held before


def parse_crosswalk(data: str) -> list[tuple[str, str]]:
    """CSV with the header `star_uri,esco_uri`; every problem, by line, in one error."""
    reader = csv.reader(io.StringIO(data))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != ["star_uri", "esco_uri"]:
        raise CrosswalkError("the first line must be the header: star_uri,esco_uri")
    pairs: dict[str, str] = {}
    problems: list[str] = []
    for n, row in enumerate(reader, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < 2:
            problems.append(f"line {n}: two columns expected")
            continue
        star, esco = row[0].strip(), row[1].strip()
        if not star.startswith(("http://", "https://")) or len(star) > 200:
            problems.append(f"line {n}: star_uri {star[:80]!r} is not a URI")
        elif not esco.startswith(("http://", "https://")) or len(esco) > 200:
            problems.append(f"line {n}: esco_uri {esco[:80]!r} is not a URI")
        elif pairs.get(star, esco) != esco:
            problems.append(f"line {n}: {star} is mapped twice, to different ESCO URIs")
        else:
            pairs[star] = esco
    if problems:
        raise CrosswalkError("; ".join(problems[:20]) + (" ..." if len(problems) > 20 else ""))
    return list(pairs.items())


async def load_crosswalk(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> CrosswalkReport:
    """Replace the crosswalk with `pairs` in the caller's transaction. Every ESCO URI
    must be an active occupation of the loaded ESCO, or nothing is written."""
    esco = sorted({e for _, e in pairs})
    known = {
        r[0]
        for r in await session.execute(
            text("SELECT uri FROM occupations WHERE active AND uri = ANY(:uris)"), {"uris": esco}
        )
    }
    unknown = [e for e in esco if e not in known]
    if unknown:
        raise CrosswalkError(
            f"{len(unknown)} ESCO URIs are not active occupations of the loaded ESCO,"
            f" e.g. {', '.join(unknown[:3])}"
        )
    before = await session.scalar(text("SELECT count(*) FROM esco_crosswalk"))
    await session.execute(text("DELETE FROM esco_crosswalk"))
    if pairs:
        await session.execute(
            text("INSERT INTO esco_crosswalk (star_uri, esco_uri) VALUES (:s, :e)"),
            [{"s": s, "e": e} for s, e in pairs],
        )
    return CrosswalkReport(rows=len(pairs), replaced=int(before or 0))
